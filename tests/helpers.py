"""Helpers for tests: load data into bronze the way a pull does, checksum tables, stop a step mid-way."""

from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import orjson
import psycopg

from fake_elgoose import FIXTURE_GOLDEN_RECORDS

# The project checkout the tests run in (its dags/, plugins/ and README).
ROOT = Path(__file__).resolve().parents[1]


def envelope(rows: list[dict]) -> io.BytesIO:
    return io.BytesIO(orjson.dumps({"error": False, "error_message": "", "data": rows}))


def load_bronze(conn: psycopg.Connection, data: dict[str, list[dict]], run_id: str = "test") -> dict:
    """Load method -> rows into bronze exactly as a pull would (without HTTP)."""
    from elgoose.bronze import load_download
    from elgoose.endpoints import ENDPOINTS

    return {
        method: load_download(conn, ENDPOINTS[method], envelope(rows), f"fixture://{method}", run_id=run_id)
        for method, rows in data.items()
    }


BOOKKEEPING_COLUMNS = ("loaded_at", "rejected_at", "deleted_at", "id")


def table_checksums(
    conn: psycopg.Connection,
    schemas: tuple[str, ...] = ("silver", "gold"),
    *,
    ignore_columns: tuple[str, ...] = (),
    ignore_tables: tuple[str, ...] = (),
) -> dict[str, str]:
    """md5 of every table's rows in a stable order (all columns but load timestamps), per table."""
    out = {}
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
        (list(schemas),),
    ).fetchall()
    for schema, table in tables:
        if f"{schema}.{table}" in ignore_tables:
            continue
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "and column_name <> all(%s) order by ordinal_position",
                (schema, table, list(BOOKKEEPING_COLUMNS + ignore_columns)),
            )
        ]
        cols = ", ".join(f'"{c}"' for c in columns)
        out[f"{schema}.{table}"] = conn.execute(
            f"select md5(coalesce(string_agg(r::text, chr(10) order by r::text), '')) "
            f'from (select {cols} from "{schema}"."{table}") r'
        ).fetchone()[0]
    return out


def scalar(conn: psycopg.Connection, query: str, *params):
    """The first column of the first row, or None."""
    row = conn.execute(query, params or None).fetchone()
    return row[0] if row else None


# --- stopping a step at a known point ------------------------------------------------------------


@contextmanager
def holding(dsn: str, lock_sql: str):
    """Hold a table lock in another session, so that a step blocks at a known point mid-transaction."""
    with psycopg.connect(dsn) as conn:
        conn.execute(lock_sql)
        yield
        conn.rollback()


def wait_until_blocked(dsn: str, timeout: float = 30) -> int:
    """The pid of the backend that waits on a lock in this database."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "select pid from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock' and pid <> pg_backend_pid()"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError("the step never reached the blocking point")


def run_in_thread(target):
    outcome = {}

    def runner():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc

    thread = threading.Thread(target=runner)
    thread.start()
    return thread, outcome


def wait_until_gone(dsn: str, pid: int, timeout: float = 30) -> None:
    """Wait for a session to end (a killed client's backend exits once it next talks to its client)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if not conn.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
                return
            time.sleep(0.05)
    raise AssertionError(f"session {pid} is still there")


def airflow_test_env(home, warehouse_conn: str, api_url: str, **extra: str) -> dict[str, str]:
    """The local Airflow environment (``elgoose_local.stack.airflow_env``) as the tests run it: none of this
    machine's own AIRFLOW settings, no task retries, fast request retries, the fixtures' golden records
    (``extra`` overrides any of these)."""
    import os

    from elgoose_local.stack import airflow_env

    defaults = {
        "ELGOOSE_TASK_RETRIES": "0",
        "ELGOOSE_BACKOFF_INITIAL": "0.05",
        "ELGOOSE_BACKOFF_MAX": "0.2",
        "ELGOOSE_GOLDEN_RECORDS": str(FIXTURE_GOLDEN_RECORDS),
    }
    return airflow_env(
        home,
        warehouse_conn=warehouse_conn,
        api_url=api_url,
        base={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        **{**defaults, **extra},
    )
