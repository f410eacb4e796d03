"""The Warehouse page's database access: the read-only role ``elgoose_ui`` and a small connection pool.

The page connects to the warehouse of the Airflow connection ``elgoose_warehouse`` (its host, port,
database and TLS settings) but never as that connection's user: it logs in as ``elgoose_ui``, which may
only read ``processing_status``, ``quality_checks``, ``silver.rejects`` and ``silver.deletions``
(migration V007), in read-only transactions. Its password is the setting ``ELGOOSE_UI_PASSWORD``: the
migration runner gives it to the role (``configure_ui_role``) and the api-server logs in with it. On a
server that trusts local connections (the embedded one, tests) no password is needed.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from elgoose.settings import WAREHOUSE_CONN_ID, get_settings

UI_ROLE = "elgoose_ui"
PASSWORD_SETTING = "ELGOOSE_UI_PASSWORD"
# Connection keywords the page takes over from the warehouse connection's extras (TLS and timeouts).
_EXTRA_KEYWORDS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout")


class WarehouseUnavailable(RuntimeError):
    """The page could not reach the warehouse as its read-only role; the message says what to do."""


def configure_ui_role(conn: psycopg.Connection) -> bool:
    """Give ``elgoose_ui`` the password of ``ELGOOSE_UI_PASSWORD`` (as a SCRAM verifier); False when unset.

    Called by the migration runner after the migrations: the role exists from V007 on. The plain text
    never reaches the server (nor its statement log).
    """
    password = get_settings().ui_password
    if not password:
        return False
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (UI_ROLE,))
        if cur.fetchone() is None:
            return False
        verifier = conn.pgconn.encrypt_password(password.encode(), UI_ROLE.encode(), b"scram-sha-256").decode()
        cur.execute(
            sql.SQL("alter role {} with login password {}").format(sql.Identifier(UI_ROLE), sql.Literal(verifier))
        )
    return True


def ui_conninfo(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """The connection string of the page's role, built from the warehouse connection at call time."""
    from airflow.sdk import BaseHook

    try:
        warehouse = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, or a secrets backend that is down
        raise WarehouseUnavailable(
            f"the Airflow connection {conn_id!r} is not available to the api-server ({exc}); "
            f"set it (e.g. AIRFLOW_CONN_{conn_id.upper()}) for the api-server too"
        ) from exc
    extra = warehouse.extra_dejson or {}
    keywords = {key: extra[key] for key in _EXTRA_KEYWORDS if extra.get(key) not in (None, "")}
    return psycopg.conninfo.make_conninfo(
        host=warehouse.host or "127.0.0.1",
        port=warehouse.port or 5432,
        dbname=warehouse.schema or "postgres",
        user=UI_ROLE,
        password=get_settings().ui_password or None,
        application_name="elgoose-warehouse-ui",
        **keywords,
    )


class ReadOnlyPool:
    """A few autocommit connections of the page's role, reused across requests (FastAPI runs the routes
    in a thread pool). A broken connection is dropped and a new one opened on the next request."""

    def __init__(self, conninfo: Callable[[], str] = ui_conninfo, size: int = 4):
        self._conninfo = conninfo
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue(maxsize=size)

    def _connect(self) -> psycopg.Connection:
        conninfo = self._conninfo()
        try:
            conn = psycopg.connect(conninfo, autocommit=True, row_factory=dict_row, connect_timeout=5)
        except psycopg.OperationalError as exc:
            message = " ".join(str(exc).split())
            raise WarehouseUnavailable(
                f"could not log in to the warehouse as role {UI_ROLE} ({message}). The role is created by "
                f"migration V007; where the server asks for a password, set {PASSWORD_SETTING} for the "
                "api-server and for the tasks (the migration runner gives it to the role)"
            ) from exc
        # The role's own setting already makes every transaction read-only; this holds it even if a
        # server was migrated before V007 set it.
        conn.execute("set default_transaction_read_only = on")
        return conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            yield conn
        except BaseException:
            if conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.close()
                raise
            self._release(conn)
            raise
        self._release(conn)

    def _release(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            return
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
