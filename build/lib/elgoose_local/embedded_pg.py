"""The embedded PostgreSQL: pgserver's bundled binaries, for machines with no PostgreSQL of their own.

``make run``, ``make airflow`` and ``make test`` use it when no server is configured; it keeps running
between commands and keeps its data in the folder it was started on.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict


def start(data_dir: Path, *, keep: bool = True):
    """Start (or reuse) the server whose data lives in ``data_dir``; return pgserver's server object.

    ``keep``: leave it running with its data after this process (otherwise both go when it exits).
    """
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir, cleanup_mode=None if keep else "delete")


def server_uri(data_dir: Path) -> str:
    """The libpq URI of the embedded server of ``data_dir`` (started when needed)."""
    return start(data_dir).get_uri()


def ensure_database(uri: str, name: str) -> None:
    """Create database ``name`` on the server of ``uri`` unless it exists."""
    with psycopg.connect(uri, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(name)))


def socket_dir(uri: str) -> str:
    """The Unix-socket directory the embedded server listens on (it listens on no TCP port)."""
    return conninfo_to_dict(uri)["host"]
