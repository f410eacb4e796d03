"""The warehouse's read-only roles."""

from __future__ import annotations

import psycopg
from psycopg import sql

from elgoose.settings import get_settings


def configure_reader_role(conn: psycopg.Connection) -> None:
    """Make sure the chatbot's read-only role exists; give it a login when a password is configured.

    The password is sent as a SCRAM verifier computed here, so the plain text never reaches the
    server (nor its statement log).
    """
    settings = get_settings()
    role = settings.chatbot_role  # a plain role name: Settings checks it
    if not role:
        return
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        password = settings.chatbot_password
        if password:
            verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
            cur.execute(
                sql.SQL("alter role {} with login password {}").format(sql.Identifier(role), sql.Literal(verifier))
            )
