"""Versioned warehouse migrations: ``include/sql/migrations/V<NNN>__<name>.sql``, applied in order, exactly once."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from elgoose.connections import advisory_xact_lock
from elgoose.roles import configure_reader_role
from elgoose.settings import MIGRATIONS_DIR

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^V(\d{3,})__([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
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


def migrate(conn: psycopg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
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
        from elgoose.ui.database import configure_ui_role

        configure_ui_role(conn)  # the Warehouse page's read-only role (V007): its password, when configured
    return applied_now
