"""Throwaway warehouses for tests and the benchmark, on the server ELGOOSE_TEST_DATABASE_URL names (else embedded).

Each test gets a fresh database cloned from a template that already has every migration
applied, so tests never share state and never pay for migrations twice.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from elgoose_local import embedded_pg

ROOT = Path(__file__).resolve().parents[1]


def server_conninfo() -> str:
    url = os.environ.get("ELGOOSE_TEST_DATABASE_URL")
    if url:
        return make_conninfo(url)
    return make_conninfo(embedded_pg.server_uri(ROOT / ".local" / "test-pgdata"))


def with_dbname(conninfo: str, dbname: str) -> str:
    return make_conninfo(conninfo, dbname=dbname)


def airflow_conn_json(conninfo: str) -> str:
    """The same database as an Airflow connection (JSON form: works for sockets and TCP)."""
    import json

    info = conninfo_to_dict(conninfo)
    conn = {
        "conn_type": "postgres",
        "host": info.get("host") or "127.0.0.1",
        "login": info.get("user") or "postgres",
        "schema": info.get("dbname"),
        "port": int(info.get("port") or 5432),
    }
    if info.get("password"):
        conn["password"] = info["password"]
    return json.dumps(conn)


def _migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "include" / "sql" / "migrations").glob("*.sql")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def template_database(server: str) -> str:
    """Create (once per migration set) a template database with all migrations applied."""
    from elgoose.migrations import migrate

    name = f"elgoose_tpl_{_migrations_digest()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("select pg_advisory_lock(4242)")
        try:
            exists = admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
            if not exists:
                admin.execute(f'create database "{name}"')
                with psycopg.connect(with_dbname(server, name), autocommit=True) as conn:
                    migrate(conn)
        finally:
            admin.execute("select pg_advisory_unlock(4242)")
    return name


def create_database(server: str, template: str) -> str:
    name = f"elgoose_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}" template "{template}"')
    return name


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


def sqlalchemy_url(conninfo: str) -> str:
    """The same database as a SQLAlchemy URL (psycopg2 driver), for Airflow's metadata database."""
    from urllib.parse import quote

    info = conninfo_to_dict(conninfo)
    user = quote(info.get("user") or "postgres")
    password = f":{quote(info['password'])}" if info.get("password") else ""
    host = info.get("host") or "127.0.0.1"
    if host.startswith("/"):
        return f"postgresql+psycopg2://{user}{password}@/{info['dbname']}?host={quote(host)}"
    return f"postgresql+psycopg2://{user}{password}@{host}:{info.get('port') or 5432}/{info['dbname']}"


def create_empty_database(server: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    return name
