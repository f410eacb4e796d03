"""Bronze: load one ElGoose response into ``raw_data.<method>``, deduplicated by content.

One endpoint is one transaction: the new and changed records are COPYed into the
bronze table, the current-version index and the pull's key set are updated, and only
then is it committed. A failed pull or load therefore leaves that endpoint's bronze
exactly as it was.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from typing import IO

import ijson
import orjson
import psycopg
from psycopg import sql

from elgoose import settings
from elgoose.api_client import ElGooseClient, ElGooseError
from elgoose.endpoints import ENDPOINTS, Endpoint
from elgoose.warehouse import advisory_xact_lock, track_step

log = logging.getLogger(__name__)

_ENVELOPE_SNIFF_BYTES = 4096


@dataclass
class BronzeResult:
    method: str
    source_url: str
    fetched: int
    new: int
    unchanged: int
    duplicates_in_response: int
    missing_key: int
    bytes: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def _table(method: str) -> sql.Identifier:
    if method not in ENDPOINTS:
        raise ValueError(f"unknown ElGoose method {method!r}")
    return sql.Identifier("raw_data", method)


def canonical_json(record: dict) -> bytes:
    """Sorted-key compact JSON: equal content gives equal bytes, whatever the key order."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # orjson refuses lone surrogates; the stdlib escapes them instead of failing.
        import json

        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def content_hash(canonical: bytes) -> str:
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def _check_envelope_head(body: IO[bytes], url: str) -> None:
    """Reject HTML and error envelopes before streaming the records."""
    head = body.read(_ENVELOPE_SNIFF_BYTES)
    body.seek(0)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"{"):
        preview = stripped[:80].decode("utf-8", "replace")
        raise ElGooseError(f"{url} did not return JSON (body starts {preview!r}); not loading it")


def _envelope_error(body: IO[bytes]) -> tuple[bool, str]:
    body.seek(0)
    error, message = False, ""
    for prefix, event, value in ijson.parse(body):
        if prefix == "error" and event in ("boolean", "number", "string"):
            error = bool(value) and value not in ("0", "false")
        elif prefix == "error_message" and event == "string":
            message = value
        elif prefix == "data" and event == "start_array":
            break
    return error, message


def _iter_records(body: IO[bytes], url: str):
    body.seek(0)
    head = body.read(3)
    if head != b"\xef\xbb\xbf":
        body.seek(0)
    try:
        yield from ijson.items(body, "data.item", use_float=True)
    except ijson.JSONError as exc:
        raise ElGooseError(f"{url} returned malformed JSON: {exc}") from exc


def _load_current_hashes(conn: psycopg.Connection, method: str) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("select content_hash from raw_data.current_versions where method = %s", (method,))
        return {row[0] for row in cur}


def load_download(
    conn: psycopg.Connection,
    endpoint: Endpoint,
    body: IO[bytes],
    source_url: str,
    *,
    size: int = 0,
    run_id: str | None = None,
    limit: int = settings.REQUEST_LIMIT,
) -> BronzeResult:
    """Load a downloaded envelope into bronze in one transaction. ``conn`` must be in autocommit mode."""
    started = time.monotonic()
    method = endpoint.method
    _check_envelope_head(body, source_url)
    error, message = _envelope_error(body)
    if error:
        raise ElGooseError(f"{source_url} answered with an error envelope: {message or '(no message)'}")

    fetched = new = unchanged = duplicates = missing_key = 0
    with conn.transaction():
        # Two loads of the same endpoint never interleave: the second waits here.
        advisory_xact_lock(conn, f"bronze:{method}")
        current = _load_current_hashes(conn, method)
        seen: set[str] = set()
        keys: set[str] = set()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("select coalesce(max(id), 0) from {}").format(_table(method)))
            last_id_before = cur.fetchone()[0]
            with cur.copy(
                sql.SQL("copy {} (external_id, data, content_hash, source_url, run_id) from stdin").format(
                    _table(method)
                )
            ) as copy:
                for record in _iter_records(body, source_url):
                    fetched += 1
                    if not isinstance(record, dict):
                        raise ElGooseError(f"{source_url}: data item {fetched} is not an object")
                    canonical = canonical_json(record)
                    digest = content_hash(canonical)
                    external_id = endpoint.external_id(record)
                    if external_id is None:
                        missing_key += 1
                    keys.add(external_id if external_id is not None else f"hash:{digest}")
                    if digest in seen:
                        duplicates += 1
                        continue
                    seen.add(digest)
                    if digest in current:
                        unchanged += 1
                        continue
                    new += 1
                    copy.write_row((external_id, _jsonb_text(canonical), digest, source_url, run_id))
        if fetched == settings.SILENT_CAP_ROWS or (limit and fetched >= limit):
            raise ElGooseError(
                f"{source_url} returned exactly {fetched} rows: the response was truncated "
                f"(ElGoose silently caps list calls); refusing a partial load"
            )
        if fetched == 0:
            previous = _previous_fetch_count(conn, method)
            if previous:
                raise ElGooseError(
                    f"{source_url} returned no rows where the last complete pull had {previous}: "
                    "an empty answer is an upstream fault, not a mass deletion; not loading it"
                )
        if new:
            _record_versions(conn, method, last_id_before)
        pull_id = _record_pull(conn, method, run_id, source_url, fetched, new, unchanged, keys)
    seconds = time.monotonic() - started
    log.info(
        "bronze %s: fetched %d, new %d, unchanged %d, duplicates %d, missing key %d, %.1f MB in %.2fs (pull %d)",
        method,
        fetched,
        new,
        unchanged,
        duplicates,
        missing_key,
        size / 1e6,
        seconds,
        pull_id,
    )
    return BronzeResult(method, source_url, fetched, new, unchanged, duplicates, missing_key, size, seconds)


def _jsonb_text(canonical: bytes) -> str:
    # PostgreSQL's jsonb cannot hold U+0000; keep the record, mark the character.
    text = canonical.decode("utf-8")
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text


def _previous_fetch_count(conn: psycopg.Connection, method: str) -> int:
    with conn.cursor() as cur:
        cur.execute("select records_fetched from raw_data.pulls where method = %s order by id desc limit 1", (method,))
        row = cur.fetchone()
    return row[0] if row else 0


def _record_versions(conn: psycopg.Connection, method: str, after_id: int) -> None:
    """Point ``current_versions`` at the versions this load appended (ids above ``after_id``)."""
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("""
            insert into raw_data.current_versions as cv (method, record_key, content_hash, bronze_id)
            select distinct on (record_key) %(method)s, record_key, content_hash, id
            from (
                select coalesce(external_id, 'hash:' || content_hash) as record_key, content_hash, id
                from {table}
                where id > %(after_id)s
            ) appended
            order by record_key, id desc
            on conflict (method, record_key) do update
               set content_hash = excluded.content_hash, bronze_id = excluded.bronze_id
            """).format(table=_table(method)),
            {"method": method, "after_id": after_id},
        )


def _record_pull(conn, method, run_id, source_url, fetched, new, unchanged, keys: set[str]) -> int:
    keyset_hash = hashlib.blake2b("\n".join(sorted(keys)).encode(), digest_size=16).hexdigest()
    with conn.cursor() as cur:
        cur.execute(
            "select keyset_hash from raw_data.pulls where method = %s order by id desc limit 1",
            (method,),
        )
        previous = cur.fetchone()
        cur.execute(
            """insert into raw_data.pulls (method, run_id, source_url, completed_at, records_fetched,
                                           records_new, records_unchanged, keyset_hash)
               values (%s, %s, %s, now(), %s, %s, %s, %s) returning id""",
            (method, run_id, source_url, fetched, new, unchanged, keyset_hash),
        )
        pull_id = cur.fetchone()[0]
        if previous is None or previous[0] != keyset_hash:
            cur.execute("delete from raw_data.pull_keys where method = %s", (method,))
            with cur.copy("copy raw_data.pull_keys (method, external_id, pull_id) from stdin") as copy:
                for key in keys:
                    copy.write_row((method, key, pull_id))
    return pull_id


def pull_endpoint(
    conn: psycopg.Connection,
    method: str,
    client: ElGooseClient,
    *,
    run_id: str | None = None,
) -> BronzeResult:
    """Download one endpoint and load it, recording the step in ``processing_status``."""
    endpoint = ENDPOINTS[method]
    with track_step(conn, "bronze", method, run_id) as step:
        download = client.download(endpoint.path)
        with download.body:
            result = load_download(
                conn, endpoint, download.body, download.url, size=download.size, run_id=run_id, limit=client.limit
            )
        step.update(
            records_processed=result.fetched,
            records_inserted=result.new,
            records_unchanged=result.unchanged,
            details={
                "source_url": result.source_url,
                "duplicates_in_response": result.duplicates_in_response,
                "missing_key": result.missing_key,
                "bytes": result.bytes,
                "attempts": download.attempts,
            },
        )
        return result


def finish_bronze_run(conn: psycopg.Connection, run_id: str) -> dict:
    """Summarise this run's pulls; fail when nothing arrived or the isolation policy forbids going on."""
    with conn.cursor() as cur:
        cur.execute(
            """select distinct on (table_name) table_name, status, records_processed, records_inserted,
                      records_unchanged, duration_seconds, error_message
                 from public.processing_status
                where layer = 'bronze' and run_id = %s
                order by table_name, id desc""",
            (run_id,),
        )
        steps = cur.fetchall()
    completed = [s[0] for s in steps if s[1] == "completed"]
    failed = {s[0]: s[6] for s in steps if s[1] != "completed"}
    for name, status, fetched, new, unchanged, seconds, error in steps:
        log.info(
            "bronze %-12s %-9s fetched=%s new=%s unchanged=%s %.2fs%s",
            name,
            status,
            fetched,
            new,
            unchanged,
            float(seconds or 0),
            f" error={error}" if error else "",
        )
    summary = {"completed": completed, "failed": failed}
    with track_step(conn, "bronze", "bronze_finished", run_id) as step:
        step.update(records_processed=len(completed), details=summary)
        if failed and not completed:
            raise ElGooseError(f"no endpoint loaded in run {run_id}; failed: {sorted(failed)}")
        if failed and not settings.SILVER_AFTER_PARTIAL_BRONZE:
            raise ElGooseError(
                f"endpoints failed: {sorted(failed)}; silver waits for a complete bronze run "
                "(ELGOOSE_SILVER_AFTER_PARTIAL_BRONZE=false)"
            )
        if failed:
            log.warning("bronze finished with failed endpoints %s; silver will process what arrived", sorted(failed))
    return summary
