"""The two baselines every layer is compared with, on the same records and the same database.

floor   ``COPY`` of the raw records (one JSON object per line, pre-split, streamed from disk as is)
        into bare ``jsonb`` tables, then ONE set-based ``INSERT ... SELECT`` of setlists into an
        unindexed typed table (a subset of silver.setlists' columns, plain casts). Loading the same
        records into PostgreSQL and typing them cannot take less.
naive   the replaced system's way, both layers: bronze per record ``SELECT`` by key, then ``INSERT`` or
        ``UPDATE`` (one round trip each, psycopg, autocommit: every write is its own transaction, as
        the Edge Function's calls were); silver a plpgsql loop that does the same per row and marks
        each bronze row processed (the replaced ``silver.process_setlists()``; setlists only, like the
        floor). Slow, so above ``max_full`` records it runs on a deterministic sample (every k-th
        record) and the time is extrapolated linearly.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from elgoose.endpoints import ENDPOINTS, METHODS

# CSV with a quote and delimiter that JSON text never contains raw: each line arrives verbatim.
_COPY_JSONL = "copy {} (data) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')"

# The typed columns of the floor and of the naive silver (a subset of silver.setlists', plain casts):
# (column, type, the setlists key it is read from, the cast of that key's text).
TYPED_COLUMNS = (
    ("unique_id", "bigint", "uniqueid", "({v})::bigint"),
    ("show_id", "bigint", "show_id", "({v})::bigint"),
    ("show_date", "date", "showdate", "({v})::date"),
    ("show_order", "integer", "showorder", "({v})::integer"),
    ("show_year", "integer", "showyear", "({v})::integer"),
    ("artist_id", "integer", "artist_id", "({v})::integer"),
    ("venue_id", "integer", "venue_id", "({v})::integer"),
    ("song_id", "integer", "song_id", "({v})::integer"),
    ("song_name", "text", "songname", "{v}"),
    ("set_number", "text", "setnumber", "{v}"),
    ("position", "integer", "position", "({v})::integer"),
    ("transition_id", "integer", "transition_id", "({v})::integer"),
    ("transition", "text", "transition", "{v}"),
    ("footnote", "text", "footnote", "{v}"),
    ("is_jamchart", "boolean", "isjamchart", "({v})::integer = 1"),
    ("tour_name", "text", "tourname", "{v}"),
)


def _typed(record: str) -> dict[str, str]:
    """Each typed column's expression over the jsonb ``record``."""
    return {column: cast.format(v=f"{record} ->> '{key}'") for column, _, key, cast in TYPED_COLUMNS}


def _typed_table(name: str, key: str = "") -> str:
    columns = ", ".join(
        f"{column} {kind}{key if column == 'unique_id' else ''}" for column, kind, _, _ in TYPED_COLUMNS
    )
    return f"create table {name} ({columns})"


FLOOR_TYPED_TABLE = _typed_table("bench_floor.setlists_typed")
FLOOR_TYPED = (
    f"insert into bench_floor.setlists_typed select {', '.join(_typed('data').values())} from bench_floor.setlists"
)

_ROW = _typed("r.data")
NAIVE_SILVER = f"""
{_typed_table("bench_naive.setlists_typed", " primary key")};

-- the replaced system's silver.process_setlists(): one call, a loop over the unprocessed bronze rows
create function bench_naive.process_setlists() returns integer language plpgsql as $$
declare
    r record;
    n integer := 0;
begin
    for r in select record_key, data from bench_naive.setlists where not is_processed order by loaded_at loop
        perform 1 from bench_naive.setlists_typed where unique_id = {_ROW["unique_id"]};
        if found then
            update bench_naive.setlists_typed
               set {", ".join(f"{column} = {value}" for column, value in _ROW.items() if column != "unique_id")}
             where unique_id = {_ROW["unique_id"]};
        else
            insert into bench_naive.setlists_typed values ({", ".join(_ROW.values())});
        end if;
        update bench_naive.setlists set is_processed = true, processed_at = now() where record_key = r.record_key;
        n := n + 1;
    end loop;
    return n;
end
$$;
"""


def _stream_file(copy, path: Path) -> None:
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            copy.write(block)


def floor(conn: psycopg.Connection, folder: Path, records: dict[str, int]) -> dict:
    """Time the floor; returns seconds of the COPY and of the INSERT ... SELECT, and sizes."""
    conn.execute("drop schema if exists bench_floor cascade")
    conn.execute("create schema bench_floor")
    for method in METHODS:
        conn.execute(sql.SQL("create table {} (data jsonb not null)").format(sql.Identifier("bench_floor", method)))
    conn.execute(FLOOR_TYPED_TABLE)
    checkpoint(conn)
    started = time.perf_counter()
    with conn.cursor() as cur:
        for method in METHODS:
            with cur.copy(sql.SQL(_COPY_JSONL).format(sql.Identifier("bench_floor", method))) as copy:
                _stream_file(copy, folder / f"{method}.jsonl")
    copy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    typed = conn.execute(FLOOR_TYPED).rowcount
    typed_seconds = time.perf_counter() - started
    size = conn.execute(
        "select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'bench_floor' and c.relkind = 'r'"
    ).fetchone()[0]
    conn.execute("drop schema bench_floor cascade")
    return {
        "copy_seconds": copy_seconds,
        "typed_seconds": typed_seconds,
        "seconds": copy_seconds + typed_seconds,
        "records": sum(records.values()),
        "typed_rows": typed,
        "bytes": int(size or 0),
    }


def naive(conn: psycopg.Connection, folder: Path, records: dict[str, int], max_full: int) -> dict:
    """Time the replaced system's bronze and silver, record by record (sampled above ``max_full`` records).

    bronze: per record one ``SELECT`` by key, then one ``INSERT`` or ``UPDATE``, each its own round trip
    and its own transaction (the Edge Function's supabase-js calls). silver: the plpgsql loop of the
    replaced ``silver.process_setlists()``, one call: per unprocessed row, select the typed row by key,
    insert or update it, mark the bronze row processed. Like the floor, only setlists are typed.
    """
    total = sum(records.values())
    step = max(1, -(-total // max_full)) if max_full and total > max_full else 1
    conn.execute("drop schema if exists bench_naive cascade")
    conn.execute("create schema bench_naive")
    for method in METHODS:
        conn.execute(
            sql.SQL(
                "create table {} (record_key text primary key, content_hash text not null, data jsonb not null, "
                "loaded_at timestamptz not null default now(), is_processed boolean not null default false, "
                "processed_at timestamptz)"
            ).format(sql.Identifier("bench_naive", method))
        )
    conn.execute(NAIVE_SILVER)
    checkpoint(conn)
    done = inserted = updated = sampled_setlists = 0
    index = 0
    started = time.perf_counter()
    with conn.cursor() as cur:
        for method in METHODS:
            table = sql.Identifier("bench_naive", method)
            select = sql.SQL("select content_hash from {} where record_key = %s").format(table)
            insert = sql.SQL("insert into {} (record_key, content_hash, data) values (%s, %s, %s::jsonb)").format(table)
            update = sql.SQL(
                "update {} set content_hash = %s, data = %s::jsonb, loaded_at = now(), is_processed = false "
                "where record_key = %s"
            ).format(table)
            endpoint = ENDPOINTS[method]
            with open(folder / f"{method}.jsonl", "rb") as f:
                for line in f:
                    index += 1
                    if (index - 1) % step:
                        continue
                    record = orjson.loads(line)
                    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
                    digest = hashlib.blake2b(canonical, digest_size=16).hexdigest()
                    key = endpoint.external_id(record) or f"hash:{digest}"
                    row = cur.execute(select, (key,)).fetchone()
                    if row is None:
                        cur.execute(insert, (key, digest, canonical.decode()))
                        inserted += 1
                    elif row[0] != digest:
                        cur.execute(update, (digest, canonical.decode(), key))
                        updated += 1
                    done += 1
                    sampled_setlists += method == "setlists"
    bronze_measured = time.perf_counter() - started
    started = time.perf_counter()
    silver_rows = conn.execute("select bench_naive.process_setlists()").fetchone()[0]
    silver_measured = time.perf_counter() - started
    conn.execute("drop schema bench_naive cascade")
    bronze_seconds = bronze_measured * total / done if done else 0.0
    silver_seconds = silver_measured * records["setlists"] / silver_rows if silver_rows else 0.0
    return {
        "records": total,
        "sampled": done,
        "step": step,
        "measured_seconds": bronze_measured + silver_measured,
        "bronze_seconds": bronze_seconds,
        "silver_seconds": silver_seconds,
        "silver_rows": silver_rows,
        "seconds": bronze_seconds + silver_seconds,
        "extrapolated": step > 1,
        "inserted": inserted,
        "updated": updated,
    }


def checkpoint(conn: psycopg.Connection, *, quiet_seconds: float = 300.0) -> None:
    """Start a timed phase on a quiet server: no autovacuum still working on this database, no dirty buffers.

    Autovacuum (the previous phase's bulk writes trigger it) and the checkpointer otherwise compete with
    the phase on a 2-core machine. CHECKPOINT needs pg_checkpoint (or superuser): skipped without it.
    """
    deadline = time.monotonic() + quiet_seconds
    while time.monotonic() < deadline:
        busy = conn.execute(
            "select count(*) from pg_stat_activity where backend_type = 'autovacuum worker' "
            "and datname = current_database()"
        ).fetchone()[0]
        if not busy:
            break
        time.sleep(0.5)
    with contextlib.suppress(psycopg.Error):
        conn.execute("checkpoint")
