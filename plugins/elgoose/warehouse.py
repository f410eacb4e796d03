"""The warehouse side: connections, versioned migrations, locks and ``processing_status``."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg

from elgoose import settings

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^V(\d{3,})__([a-z0-9_]+)\.sql$")


def warehouse_connection(conn_id: str = settings.WAREHOUSE_CONN_ID) -> psycopg.Connection:
    """An autocommit psycopg 3 connection to the warehouse from the Airflow connection."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=conn_id).get_conn()
    conn.autocommit = True
    return conn


def advisory_xact_lock(conn: psycopg.Connection, name: str) -> None:
    """Serialise work on ``name`` until the current transaction ends."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"elgoose:{name}",))


# --- migrations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover_migrations(directory: Path = settings.MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name} is not named V<NNN>__<name>.sql")
        found.append(Migration(match.group(1), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return found


def migrate(conn: psycopg.Connection, directory: Path = settings.MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations in order, each exactly once and in its own transaction.

    An applied migration whose file has since changed is an error: migrations are
    append-only, so a change must be a new file. Returns the versions applied now.
    """
    applied_now = []
    with conn.transaction():
        advisory_xact_lock(conn, "migrations")
        with conn.cursor() as cur:
            cur.execute(
                """create table if not exists public.schema_migrations (
                       version     text primary key,
                       name        text not null,
                       checksum    text not null,
                       applied_at  timestamptz not null default now())"""
            )
            cur.execute("select version, checksum from public.schema_migrations")
            applied = dict(cur.fetchall())
        for migration in discover_migrations(directory):
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"migration V{migration.version}__{migration.name} was changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            log.info("applying migration V%s__%s", migration.version, migration.name)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(migration.path.read_text())
                cur.execute(
                    "insert into public.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied_now.append(migration.version)
        configure_reader_role(conn)
    return applied_now


def configure_reader_role(conn: psycopg.Connection) -> None:
    """Make sure the chatbot's read-only role exists; give it a login when a password is configured.

    The password is sent as a SCRAM verifier computed here, so the plain text never reaches the
    server (nor its statement log).
    """
    from psycopg import sql

    role = settings.chatbot_role()
    if not role:
        return
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", role):
        raise ValueError(f"setting ELGOOSE_CHATBOT_ROLE must be a plain role name, got {role!r}")
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        password = os.environ.get("ELGOOSE_CHATBOT_PASSWORD")
        if password:
            verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
            cur.execute(
                sql.SQL("alter role {} with login password {}").format(sql.Identifier(role), sql.Literal(verifier))
            )


# --- processing_status ------------------------------------------------------------------


@dataclass
class Step:
    """Counts of one step, filled in by the work and written to ``processing_status``."""

    counts: dict = field(default_factory=dict)

    def update(self, **counts) -> None:
        self.counts.update(counts)


_STATUS_COLUMNS = (
    "records_processed",
    "records_inserted",
    "records_updated",
    "records_unchanged",
    "records_deleted",
    "records_rejected",
    "details",
)


@contextmanager
def track_step(conn: psycopg.Connection, layer: str, table_name: str, run_id: str | None) -> Iterator[Step]:
    """Record a step in ``processing_status``: 'processing' first, then 'completed' or 'failed'.

    The status rows are written outside the step's own transaction (``conn`` is in
    autocommit mode), so a failure is recorded even though the work was rolled back.
    """
    started = time.monotonic()
    with conn.cursor() as cur:
        cur.execute(
            """insert into public.processing_status (table_name, layer, status, run_id)
               values (%s, %s, 'processing', %s) returning id""",
            (table_name, layer, run_id),
        )
        status_id = cur.fetchone()[0]
    step = Step()
    try:
        yield step
    except BaseException as exc:
        _finish(conn, status_id, "failed", step, time.monotonic() - started, f"{type(exc).__name__}: {exc}")
        raise
    _finish(conn, status_id, "completed", step, time.monotonic() - started, None)


def _finish(conn, status_id: int, status: str, step: Step, seconds: float, error: str | None) -> None:
    values = {column: step.counts.get(column) for column in _STATUS_COLUMNS}
    if values["details"] is not None:
        values["details"] = orjson.dumps(values["details"]).decode()
    values["records_processed"] = values["records_processed"] or 0
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute(
                """update public.processing_status
                      set status = %(status)s, completed_at = now(), duration_seconds = %(seconds)s,
                          error_message = %(error)s, records_processed = %(records_processed)s,
                          records_inserted = %(records_inserted)s, records_updated = %(records_updated)s,
                          records_unchanged = %(records_unchanged)s, records_deleted = %(records_deleted)s,
                          records_rejected = %(records_rejected)s, details = %(details)s::jsonb
                    where id = %(id)s""",
                {**values, "status": status, "seconds": round(seconds, 3), "error": error, "id": status_id},
            )
    except psycopg.Error:
        # The connection itself may be what failed; the task's own failure still shows in Airflow.
        log.exception("could not record %s status for processing_status id %s", status, status_id)
