"""Loading one ElGoose response into ``raw_data.<method>``, deduplicated by content.

One endpoint is one transaction: the new and changed records are COPYed into the
bronze table, the current-version index and the pull's key set are updated, and only
then is it committed. A failed pull or load therefore leaves that endpoint's bronze
exactly as it was.

How a response is read (bench/README.md has the measurements behind it): memory stays bounded
whatever the response size, and work grows with what changed, not with what was served.

1. The spooled body is cut into its records' raw bytes a window at a time (msgspec, in C), never
   parsed whole. Each record's raw bytes are hashed (blake2b) and the (position, raw hash) pairs are
   COPYed to a temporary table. (An endpoint's first load, with no current version to match, skips this
   pass: step 3 parses every record and spools the raw hashes as it goes.)
2. ``raw_data.current_versions`` remembers the raw hash each current version was last served with.
   A record whose raw bytes match is the current version of its key: nothing more to do. On a pull
   of unchanged data that is every record, so nothing is parsed and no bronze row is written.
3. The other records are parsed, put in canonical form (sorted keys: the content hash does not
   depend on key order) and COPYed straight into bronze. The database then keeps only the new ones:
   a record is new when its content is the first of its kind in the response and is not already its
   key's current version; the rest (a key-order change, a duplicate inside the response) are removed
   again in the same transaction.
4. Counts, the current-version index, the pull and its key set are computed in SQL over the
   temporary tables: Python never holds a set of keys or hashes. ``raw_data.pull_keys`` is brought
   to the new key set by removing the keys it lost and adding the ones it gained.

jsonb cannot hold U+0000 or a lone surrogate: a record with one keeps U+FFFD in ``data`` and its served bytes
in ``raw_json`` (V005); every other record's ``raw_json`` is NULL.

Rows COPYed and removed again in step 3 leave gaps in the bronze ids. That happens when upstream serves
known content in new bytes: once per record after V004 (versions loaded before it have no raw hash), or
if upstream changes how it serializes records.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import IO

import psycopg
from psycopg import sql

from elgoose.api_client import ElGooseClient, ElGooseError
from elgoose.bronze import reading
from elgoose.connections import advisory_xact_lock
from elgoose.endpoints import ENDPOINTS, Endpoint
from elgoose.settings import SILENT_CAP_ROWS, get_settings
from elgoose.status import track_step

log = logging.getLogger(__name__)

_COPY_BATCH = 10_000
# A first load's (position, raw hash) lines stay in memory up to this size, then go to a temporary file.
_HASH_SPOOL_BYTES = 8 << 20


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


def load_download(
    conn: psycopg.Connection,
    endpoint: Endpoint,
    body: IO[bytes],
    source_url: str,
    *,
    size: int = 0,
    run_id: str | None = None,
    limit: int | None = None,
) -> BronzeResult:
    """Load a downloaded envelope into bronze in one transaction. ``conn`` must be in autocommit mode.

    ``limit``: the ``limit`` the request asked for (default: the setting); a response that reaches it is cut.
    """
    started = time.monotonic()
    limit = get_settings().request_limit if limit is None else limit
    method = endpoint.method
    table = _table(method)
    reading.check_envelope_head(body, source_url)
    error, message = reading.envelope_error(body)
    if error:
        raise ElGooseError(f"{source_url} answered with an error envelope: {message or '(no message)'}")

    with conn.transaction():
        # Two loads of the same endpoint never interleave: the second waits here.
        advisory_xact_lock(conn, f"bronze:{method}")
        with conn.cursor() as cur:
            cur.execute("set local jit = off")
            cur.execute("set local work_mem = '64MB'")
            cur.execute("create temporary table _pull (ord integer not null, raw_hash text not null) on commit drop")
        last_id_before, had_versions = _bronze_state(conn, method, table)
        if had_versions:
            with conn.cursor() as cur:
                fetched = _copy_raw_hashes(cur, body, source_url)
            _check_complete(conn, method, source_url, fetched, limit)
            _classify(conn, method)
            unknown, n_unknown = _unknown_positions(conn, fetched)
            if n_unknown:
                copied = _copy_records(conn, endpoint, table, body, source_url, run_id, unknown=unknown)
                if copied != n_unknown:
                    raise RuntimeError(f"bronze {method}: copied {copied} records, expected {n_unknown}")
        else:
            # nothing to match a record against: every record is parsed and copied in one pass
            fetched = n_unknown = _copy_first_load(conn, endpoint, table, body, source_url, run_id)
            _check_complete(conn, method, source_url, fetched, limit)
            _classify(conn, method)
        new, unchanged, duplicates, missing_key = _settle(conn, method, table, last_id_before, n_unknown, had_versions)
        pull_id = _record_pull(conn, method, run_id, source_url, fetched, new, unchanged)
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


def _check_complete(conn: psycopg.Connection, method: str, url: str, fetched: int, limit: int) -> None:
    """Refuse a response cut at ElGoose's silent cap, and an empty one where the last pull had rows."""
    if fetched == SILENT_CAP_ROWS or (limit and fetched >= limit):
        raise ElGooseError(
            f"{url} returned exactly {fetched} rows: the response was truncated "
            f"(ElGoose silently caps list calls); refusing a partial load"
        )
    if fetched == 0:
        previous = _previous_fetch_count(conn, method)
        if previous:
            raise ElGooseError(
                f"{url} returned no rows where the last complete pull had {previous}: "
                "an empty answer is an upstream fault, not a mass deletion; not loading it"
            )


def _pull_line(ord_: int, raw) -> bytes:
    """One record's line of ``_pull`` in COPY text format: its position and the hash of its raw bytes."""
    return b"%d\t%s\n" % (ord_, reading.raw_hash(raw).encode())


def _copy_raw_hashes(cur: psycopg.Cursor, body: IO[bytes], url: str) -> int:
    """Pass 1: COPY (position, raw hash) of every record to _pull; return how many records were served."""
    fetched = 0
    lines: list[bytes] = []
    with cur.copy("copy _pull (ord, raw_hash) from stdin") as copy:
        for raw in reading.iter_raw_records(body, url):
            fetched += 1
            if memoryview(raw)[:1] != b"{":
                raise ElGooseError(f"{url}: data item {fetched} is not an object")
            lines.append(_pull_line(fetched, raw))
            if len(lines) >= _COPY_BATCH:
                copy.write(b"".join(lines))
                lines.clear()
        if lines:
            copy.write(b"".join(lines))
    return fetched


def _bronze_state(conn: psycopg.Connection, method: str, table) -> tuple[int, bool]:
    """The highest bronze id before this load, and whether the endpoint has any current version."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("select coalesce(max(id), 0) from {}").format(table))
        last_id = cur.fetchone()[0]
        cur.execute("select exists (select 1 from raw_data.current_versions where method = %s)", (method,))
        return last_id, cur.fetchone()[0]


def _classify(conn: psycopg.Connection, method: str) -> None:
    """_classified: each record with its key and content hash when its raw bytes are a current version's."""
    with conn.cursor() as cur:
        # a record served byte for byte as its key's current version was last served is that version
        cur.execute(
            """create temporary table _classified on commit drop as
               select p.ord, p.raw_hash, cv.record_key, cv.content_hash
                 from _pull p
                 left join raw_data.current_versions cv on cv.method = %s and cv.raw_hash = p.raw_hash""",
            (method,),
        )


def _unknown_positions(conn: psycopg.Connection, fetched: int) -> tuple[bytearray, int]:
    """A bitmap (one bit per record) of the records whose raw bytes match no current version."""
    bits = bytearray(fetched // 8 + 1)
    count = 0
    with conn.cursor(name="elgoose_bronze_unknown") as cur:
        cur.itersize = 50_000
        cur.execute("select ord from _classified where record_key is null")
        for (ord_,) in cur:
            bits[ord_ >> 3] |= 1 << (ord_ & 7)
            count += 1
    return bits, count


def _copy_first_load(conn: psycopg.Connection, endpoint: Endpoint, table, body, url: str, run_id) -> int:
    """An endpoint's first load: COPY every record into bronze, then their (position, raw hash) into _pull."""
    with tempfile.SpooledTemporaryFile(max_size=_HASH_SPOOL_BYTES) as raw_hashes:
        copied = _copy_records(conn, endpoint, table, body, url, run_id, raw_hashes=raw_hashes)
        raw_hashes.seek(0)
        with conn.cursor() as cur, cur.copy("copy _pull (ord, raw_hash) from stdin") as copy:
            while chunk := raw_hashes.read(1 << 20):
                copy.write(chunk)
    return copied


def _copy_records(
    conn, endpoint: Endpoint, table, body, url: str, run_id, *, unknown: bytearray | None = None, raw_hashes=None
) -> int:
    """Pass 2: parse the records (those set in ``unknown``; all without it) and COPY them into bronze, in
    response order; return how many. ``raw_hashes``: a file that gets each copied record's _pull line."""
    copied = 0
    with (
        conn.cursor() as cur,
        cur.copy(
            sql.SQL("copy {} (external_id, data, content_hash, source_url, run_id, raw_json) from stdin").format(table)
        ) as copy,
    ):
        for ord_, raw in enumerate(reading.iter_raw_records(body, url), start=1):
            if unknown is not None and not unknown[ord_ >> 3] & (1 << (ord_ & 7)):
                continue
            if raw_hashes is not None:
                raw_hashes.write(_pull_line(ord_, raw))
            record = reading.parse_record(raw, url)
            if not isinstance(record, dict):
                raise ElGooseError(f"{url}: data item {ord_} is not an object")
            canonical = reading.canonical(record, raw, url)
            copy.write_row(
                (
                    endpoint.external_id(record),
                    reading.jsonb_text(canonical),
                    reading.content_hash(canonical),
                    url,
                    run_id,
                    reading.verbatim(raw, canonical),
                )
            )
            copied += 1
    return copied


def _settle(
    conn: psycopg.Connection, method: str, table, last_id: int, n_unknown: int, had_versions: bool
) -> tuple[int, int, int, int]:
    """Keep only the new appended rows, update current_versions; return new, unchanged, duplicates, missing key.

    A record is a duplicate when an earlier record of the response has the same content, unchanged when
    its content is its key's current version, new otherwise (exactly the rules of a set-based pass).
    """
    params = {"method": method, "last_id": last_id}
    with conn.cursor() as cur:
        # every served record: known ones from current_versions, the appended ones from bronze (the k-th
        # appended row, by id, is the k-th unknown record, by position: they were COPYed in that order)
        cur.execute(
            sql.SQL("""
            create temporary table _records on commit drop as
            select ord, raw_hash, record_key, content_hash, null::bigint as bronze_id
              from _classified
             where record_key is not null
            union all
            select u.ord, u.raw_hash, coalesce(a.external_id, 'hash:' || a.content_hash), a.content_hash, a.id
              from (select ord, raw_hash, row_number() over (order by ord) as n
                      from _classified where record_key is null) u
              join (select id, external_id, content_hash, row_number() over (order by id) as n
                      from {table} where id > %(last_id)s) a using (n)
            """).format(table=table),
            params,
        )
        cur.execute(
            """select count(*), count(*) filter (where record_key = 'hash:' || content_hash),
                      (select count(*) from (select 1 from _records group by content_hash) d)
                 from _records"""
        )
        fetched, missing_key, distinct = cur.fetchone()
        new = 0
        if n_unknown and not had_versions and distinct == fetched:
            # the first load of an endpoint without duplicates (the usual bulk case): every record is new
            new = n_unknown
            cur.execute(
                """insert into raw_data.current_versions (method, record_key, content_hash, bronze_id, raw_hash)
                   select distinct on (record_key) %(method)s, record_key, content_hash, bronze_id, raw_hash
                     from _records
                    order by record_key, bronze_id desc""",
                params,
            )
        elif n_unknown:
            cur.execute(
                """create temporary table _new on commit drop as
                   select r.bronze_id, r.record_key, r.content_hash, r.raw_hash
                     from _records r
                     join (select content_hash, min(ord) as first_ord from _records group by content_hash) f
                       using (content_hash)
                    where r.bronze_id is not null
                      and r.ord = f.first_ord
                      and not exists (select 1 from raw_data.current_versions cv
                                       where cv.method = %(method)s and cv.record_key = r.record_key
                                         and cv.content_hash = r.content_hash)""",
                params,
            )
            new = cur.rowcount
            if new < n_unknown:
                # a duplicate inside the response, or a known content served in new bytes: not a version
                cur.execute(
                    sql.SQL("""delete from {table} b
                                where b.id > %(last_id)s
                                  and not exists (select 1 from _new n where n.bronze_id = b.id)""").format(
                        table=table
                    ),
                    params,
                )
            if new:
                _record_versions(conn, method)
            if new < n_unknown:
                # remember the new bytes of a current version, so that they are known next time
                cur.execute(
                    """update raw_data.current_versions cv
                          set raw_hash = r.raw_hash
                         from (select distinct on (record_key) record_key, content_hash, raw_hash
                                 from _records where bronze_id is not null
                                order by record_key, ord desc) r
                        where cv.method = %(method)s and cv.record_key = r.record_key
                          and cv.content_hash = r.content_hash and cv.raw_hash is distinct from r.raw_hash""",
                    params,
                )
    return new, distinct - new, fetched - distinct, missing_key


def _previous_fetch_count(conn: psycopg.Connection, method: str) -> int:
    with conn.cursor() as cur:
        cur.execute("select records_fetched from raw_data.pulls where method = %s order by id desc limit 1", (method,))
        row = cur.fetchone()
    return row[0] if row else 0


def _record_versions(conn: psycopg.Connection, method: str) -> None:
    """Point ``current_versions`` at the versions this load appended (the latest one of each key)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            with latest as (
                select distinct on (record_key) record_key, content_hash, bronze_id, raw_hash
                  from _new
                 order by record_key, bronze_id desc
            ),
            changed as (
                update raw_data.current_versions cv
                   set content_hash = l.content_hash, bronze_id = l.bronze_id, raw_hash = l.raw_hash
                  from latest l
                 where cv.method = %(method)s and cv.record_key = l.record_key
                returning 1
            )
            insert into raw_data.current_versions (method, record_key, content_hash, bronze_id, raw_hash)
            select %(method)s, l.record_key, l.content_hash, l.bronze_id, l.raw_hash
              from latest l
             where not exists (select 1 from raw_data.current_versions cv
                                where cv.method = %(method)s and cv.record_key = l.record_key)
            """,
            {"method": method},
        )


def _keyset_hash(conn: psycopg.Connection) -> str:
    """md5 of the response's record keys, sorted (bytewise) and joined by newlines, computed in the database."""
    with conn.cursor() as cur:
        cur.execute(
            """select md5(coalesce(string_agg(record_key, e'\\n' order by record_key collate "C"), ''))
                 from (select record_key from _records group by record_key) k"""
        )
        return cur.fetchone()[0]


def _record_pull(conn, method, run_id, source_url, fetched, new, unchanged) -> int:
    keyset_hash = _keyset_hash(conn)
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
            # bring the stored key set to this pull's: remove the keys it lost, add the ones it gained (a
            # key keeps the id of the pull that added it, so that a one-show change writes one show's keys)
            params = {"method": method, "pull_id": pull_id}
            cur.execute(
                """delete from raw_data.pull_keys k
                    where k.method = %(method)s
                      and not exists (select 1 from _records r where r.record_key = k.external_id)""",
                params,
            )
            cur.execute(
                """insert into raw_data.pull_keys (method, external_id, pull_id)
                   select %(method)s, r.record_key, %(pull_id)s
                     from _records r
                    where not exists (select 1 from raw_data.pull_keys k
                                       where k.method = %(method)s and k.external_id = r.record_key)
                    group by r.record_key
                    order by r.record_key""",
                params,
            )
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
