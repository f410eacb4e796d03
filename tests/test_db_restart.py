"""The warehouse's PostgreSQL really restarts between layers (and in the middle of a step).

The restarts happen on a private, throwaway server started here from pgserver's bundled binaries (the
same PostgreSQL that ``make run`` and ``make test`` embed), never on the shared test server. Tasks run
as in Airflow, each on its own new connection: a connection that lived across a restart fails with
``WarehouseConnectionLost`` naming its step, the rerun on a new connection completes, and every silver and
gold table has the same checksum as an undisturbed run on the same server.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from helpers import load_bronze, run_in_thread, scalar, table_checksums, wait_until_blocked

from elgoose.bronze import pull_endpoint
from elgoose.endpoints import METHODS
from elgoose.layers import run_gold, run_layer
from elgoose.quality import run_quality_checks
from elgoose.registry import GOLD_STEPS, GOLD_TABLES, SILVER_TABLES
from elgoose.status import WarehouseConnectionLost
from elgoose.steps import run_step
from elgoose_local import databases as warehouse_db

# Sequences skip ahead after a crash, so bronze ids (and the bronze_id silver keeps) may differ; all else may not.
IGNORE_COLUMNS = ("bronze_id",)


@dataclass
class PrivateServer:
    """A PostgreSQL cluster of this test module alone, in a temporary directory."""

    server: object  # pgserver.PostgresServer
    conninfo: str
    template: str = ""

    def database(self) -> str:
        """A fresh, migrated warehouse (the whole cluster goes at the end, so it is never dropped)."""
        return warehouse_db.with_dbname(self.conninfo, warehouse_db.create_database(self.conninfo, self.template))

    def pg_ctl(self, *args: str) -> None:
        import pgserver

        pgserver.pg_ctl(["-w", "-t", "60", *args], pgdata=self.server.pgdata, user=self.server.system_user, timeout=90)

    def restart(self, mode: str) -> str:
        """``pg_ctl restart -m fast`` (a clean shutdown) or ``-m immediate`` (a crash: recovery from WAL on start).

        Returns what the server logged meanwhile.
        """
        logged = self.server.log.stat().st_size
        self.pg_ctl("-m", mode, "-l", str(self.server.log), "restart")
        with self.server.log.open("rb") as log:
            log.seek(logged)
            return log.read().decode(errors="replace")

    def started_at(self):
        with psycopg.connect(self.conninfo) as conn:
            return scalar(conn, "select pg_postmaster_start_time()")


@pytest.fixture(scope="module")
def private_server():
    import pgserver

    # A short path: the server's Unix socket lives in its data directory.
    base = Path(tempfile.mkdtemp(prefix="elgoose-restart-"))
    server = pgserver.get_server(base / "pgdata", cleanup_mode="delete")
    private = PrivateServer(server, server.get_uri())
    try:
        private.template = warehouse_db.template_database(private.conninfo)
        yield private
    finally:
        try:
            # pgserver's own cleanup only knows the first postmaster: stop the current one here.
            private.pg_ctl("-m", "immediate", "stop")
        finally:
            server.cleanup()  # deletes the data directory
            shutil.rmtree(base, ignore_errors=True)


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def bronze_tasks(dsn: str, run_id: str) -> None:
    from elgoose.api_client import ElGooseClient

    for method in METHODS:
        with connect(dsn) as conn:
            pull_endpoint(conn, method, ElGooseClient.from_connection(timeout=(5.0, 5.0)), run_id=run_id)


def silver_tasks(dsn: str, run_id: str) -> None:
    for table in SILVER_TABLES:
        with connect(dsn) as conn:
            run_step(conn, "silver", table, run_id=run_id)
    with connect(dsn) as conn:
        run_quality_checks(conn, run_id=run_id)


def gold_tasks(dsn: str, run_id: str) -> None:
    for step in GOLD_STEPS:
        with connect(dsn) as conn:
            run_step(conn, "gold", step, run_id=run_id)


def undisturbed_checksums(private_server, fixture_data) -> dict:
    with connect(private_server.database()) as conn:
        load_bronze(conn, fixture_data, run_id="undisturbed")
        run_layer(conn, "silver", run_id="undisturbed")
        run_quality_checks(conn, run_id="undisturbed")
        run_gold(conn, run_id="undisturbed")
        return table_checksums(conn, ("silver", "gold"), ignore_columns=IGNORE_COLUMNS)


def test_restarts_between_layers_then_the_layers_converge_to_an_undisturbed_run(private_server, fake_api, fixture_data):
    expected = undisturbed_checksums(private_server, fixture_data)
    dsn = private_server.database()

    bronze_tasks(dsn, "restarted")
    held = connect(dsn)  # a connection that lives across the restart, as a long-lived worker's would
    held.execute("select 1")
    started = private_server.started_at()
    private_server.restart("fast")
    assert private_server.started_at() > started, "the server did not restart"

    with pytest.raises(WarehouseConnectionLost, match="^silver step venues of run restarted: the warehouse connection"):
        run_layer(held, "silver", run_id="restarted")
    assert held.broken
    held.close()
    with connect(dsn) as conn:  # nothing of the failed attempt is left, not even a status row
        assert scalar(conn, "select count(*) from processing_status where layer = 'silver'") == 0
        assert scalar(conn, "select count(*) from silver.venues") == 0
    silver_tasks(dsn, "restarted")  # the retried tasks, each on a new connection

    held = connect(dsn)
    held.execute("select 1")
    started = private_server.started_at()
    logged = private_server.restart("immediate")  # a crash: the server recovers from its WAL
    assert private_server.started_at() > started, "the server did not restart"
    assert "automatic recovery in progress" in logged, logged

    with pytest.raises(WarehouseConnectionLost, match="^gold refresh of run restarted: the warehouse connection"):
        run_gold(held, run_id="restarted")
    held.close()
    gold_tasks(dsn, "restarted")

    with connect(dsn) as conn:
        actual = table_checksums(conn, ("silver", "gold"), ignore_columns=IGNORE_COLUMNS)
        statuses = conn.execute("select layer, status, count(*) from processing_status group by 1, 2").fetchall()
    assert {f"silver.{t}" for t in SILVER_TABLES} | {f"gold.{t}" for t in GOLD_TABLES} <= set(expected)
    assert actual == expected
    assert sorted(statuses) == [
        ("bronze", "completed", len(METHODS)),
        ("gold", "completed", len(GOLD_STEPS)),
        ("quality", "completed", 1),
        ("silver", "completed", len(SILVER_TABLES)),
    ]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_restart_mid_step_fails_it_by_name_and_the_rerun_marks_it_abandoned(private_server, fixture_data, mode):
    dsn = private_server.database()
    with connect(dsn) as conn:
        load_bronze(conn, fixture_data, run_id="before")
        run_layer(conn, "silver", run_id="before")
        gold = run_gold(conn, run_id="before")
        before = table_checksums(conn, ("gold",))

    # Stop gold's show_summary step mid-transaction (its build has begun in gold_next), then restart.
    locker = psycopg.connect(dsn)
    locker.execute("lock table silver.venues in access exclusive mode")
    thread, outcome = run_in_thread(lambda: run_gold(connect(dsn), run_id="interrupted"))
    pid = wait_until_blocked(dsn)
    private_server.restart(mode)
    thread.join(60)
    locker.close()

    error = outcome.get("error")
    assert isinstance(error, WarehouseConnectionLost), outcome
    assert str(error).startswith("gold step show_summary of run interrupted: the warehouse connection was lost")
    assert isinstance(error.__cause__, psycopg.OperationalError)
    with connect(dsn) as conn:
        # the published gold is the previous one; the interrupted step's row could not be closed
        assert table_checksums(conn, ("gold",)) == before
        assert scalar(conn, "select status from processing_status where run_id = 'interrupted' order by id desc") == (
            "processing"
        )
        assert run_gold(conn, run_id="rerun") == gold
        row = conn.execute(
            "select status, backend_pid, error_message from processing_status "
            "where run_id = 'interrupted' and table_name = 'show_summary'"
        ).fetchone()
        assert table_checksums(conn, ("gold",)) == before
    assert row[0] == "abandoned" and row[1] == pid
    assert row[2].endswith("is gone; found by gold step prepare of run rerun"), row[2]
