"""Connections to the warehouse, and the advisory locks that serialise work on it."""

from __future__ import annotations

import psycopg

from elgoose.settings import WAREHOUSE_CONN_ID


def warehouse_connection(conn_id: str = WAREHOUSE_CONN_ID) -> psycopg.Connection:
    """An autocommit psycopg 3 connection to the warehouse from the Airflow connection."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=conn_id).get_conn()
    conn.autocommit = True
    return conn


def advisory_xact_lock(conn: psycopg.Connection, name: str) -> None:
    """Serialise work on ``name`` until the current transaction ends."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"elgoose:{name}",))
