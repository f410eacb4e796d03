"""Helpers for tests: load data into bronze the way a pull does, checksum tables."""

from __future__ import annotations

import io

import orjson
import psycopg


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
