"""Reliability: upstream edits over many days, database faults, killed processes and concurrent runs.

Every scenario ends by comparing checksums of every silver and gold table with an undisturbed build
of the same data in a fresh database: the pipeline must converge to exactly the same state.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from helpers import (
    holding,
    load_bronze,
    run_in_thread,
    scalar,
    table_checksums,
    wait_until_blocked,
    wait_until_gone,
)
from psycopg import sql

from elgoose.bronze import pull_endpoint
from elgoose.layers import run_gold, run_layer
from elgoose.steps import run_step
from elgoose_local import databases as warehouse_db

ROOT = Path(__file__).resolve().parents[1]
# History tables and bronze ids legitimately differ between an incremental and a fresh build.
IGNORE = {"ignore_columns": ("bronze_id",), "ignore_tables": ("silver.rejects", "silver.deletions")}


@pytest.fixture
def fresh_database(pg_server, pg_template):
    """A factory of extra fresh warehouses (dropped at the end)."""
    created = []

    def make() -> psycopg.Connection:
        name = warehouse_db.create_database(pg_server, pg_template)
        created.append(name)
        return psycopg.connect(warehouse_db.with_dbname(pg_server, name), autocommit=True)

    yield make
    for name in created:
        warehouse_db.drop_database(pg_server, name)


def build(conn, data, run_id="fresh"):
    load_bronze(conn, data, run_id=run_id)
    run_layer(conn, "silver", run_id=run_id)
    run_gold(conn, run_id=run_id)


def reference_checksums(fresh_database, data) -> dict:
    with fresh_database() as conn:
        build(conn, data)
        return table_checksums(conn, **IGNORE)


# --- upstream edits over many days ------------------------------------------------------------


def day_snapshots(base: dict) -> list[dict]:
    """Four days of a hand-edited upstream: corrections, deletions, re-insertions, renames, moved dates, and an
    album retitled, a track dropped, a track's song reaching the catalogue late."""
    days = [copy.deepcopy(base)]

    d2 = copy.deepcopy(days[-1])
    d2["setlists"][4]["footnote"] = "Corrected: with a tease of the theme."
    d2["setlists"][4]["tracktime"] = "9:59"
    song = d2["songs"][0]
    song["name"] = song["name"] + " (Renamed)"
    for row in d2["setlists"]:
        if row["song_id"] == song["id"]:
            row["songname"] = song["name"]
    venue = d2["venues"][1]
    venue["venuename"] = "Renamed Hall"
    for row in d2["shows"] + d2["setlists"]:
        if row.get("venue_id") == venue["venue_id"]:
            row["venuename"] = "Renamed Hall"
    deleted = d2["setlists"].pop(7)
    for track in d2["albums"]:
        if track["album_url"] == d2["albums"][0]["album_url"]:
            track["album_title"] = "Retitled"
            track["album_updated_at"] = "2025-02-02 02:02:02"
    d2["albums"].pop()
    days.append(d2)

    d3 = copy.deepcopy(d2)
    d3["setlists"].insert(7, copy.deepcopy(deleted))  # the deleted key comes back
    moved = next(s for s in d3["shows"] if s["artist_id"] == 1 and s["showdate"].startswith("2023-06-18"))
    moved["showdate"] = "2023-06-19"
    for row in d3["setlists"]:
        if row["show_id"] == moved["show_id"]:
            row["showdate"] = "2023-06-19"
    slugs = {song["slug"] for song in d3["songs"]}
    orphan = next(t for t in d3["albums"] if t["song_url"].removeprefix("/song/") not in slugs)
    d3["songs"].append({**d3["songs"][-1], "id": 450, "name": orphan["song_name"], "slug": orphan["song_url"][6:]})
    days.append(d3)

    d4 = copy.deepcopy(d3)
    gone_show = next(s for s in d4["shows"] if s["artist_id"] == 1 and s["showdate"] == "2022-04-10")
    d4["shows"].remove(gone_show)
    d4["setlists"] = [r for r in d4["setlists"] if r["show_id"] != gone_show["show_id"]]
    d4["jamcharts"][0]["jamchartnote"] = "Re-charted."
    days.append(d4)
    return days


def test_upstream_edits_over_many_days_converge_to_a_fresh_build(warehouse, fresh_database, fixture_data):
    for day, data in enumerate(day_snapshots(fixture_data), start=1):
        build(warehouse, data, run_id=f"day-{day}")
        assert table_checksums(warehouse, **IGNORE) == reference_checksums(fresh_database, data), f"day {day}"
    # and the history says what happened
    assert scalar(warehouse, "select count(*) from silver.deletions where table_name = 'setlists'") >= 2
    assert scalar(warehouse, "select count(*) from silver.deletions where table_name = 'album_tracks'") == 1
    assert scalar(warehouse, "select count(*) from silver.album_tracks where song_id is null") == 0


# --- database faults --------------------------------------------------------------------------


STEP_LOCKS = {
    # bronze blocks when it records the pull, after its COPY and version updates
    "bronze": "lock table raw_data.pulls in exclusive mode",
    # silver.setlists blocks when it logs deletions, after its upsert
    "silver": "lock table silver.deletions in exclusive mode",
    # gold blocks in the middle of its build, at the first step that reads silver.venues
    "gold": "lock table silver.venues in access exclusive mode",
}


def test_connection_killed_mid_step_then_rerun_converges(
    warehouse, warehouse_dsn, fresh_database, fake_api, fixture_data
):
    expected = reference_checksums(fresh_database, fixture_data)
    build(warehouse, fixture_data, run_id="base")
    edited = copy.deepcopy(fixture_data)
    edited["setlists"][0]["footnote"] = "an edit that the killed steps were loading"
    fake_api.set_rows("setlists", edited["setlists"])
    before = table_checksums(warehouse, ("raw_data", "silver", "gold"), ignore_tables=("raw_data.pulls",))

    steps = {
        "bronze": lambda: pull_endpoint(
            psycopg.connect(warehouse_dsn, autocommit=True), "setlists", _client(), run_id="k"
        ),
        "silver": lambda: run_step(psycopg.connect(warehouse_dsn, autocommit=True), "silver", "setlists", run_id="k"),
        "gold": lambda: run_gold(psycopg.connect(warehouse_dsn, autocommit=True), run_id="k"),
    }
    for layer, step in steps.items():
        with holding(warehouse_dsn, STEP_LOCKS[layer]):
            thread, outcome = run_in_thread(step)
            pid = wait_until_blocked(warehouse_dsn)
            warehouse.execute("select pg_terminate_backend(%s)", (pid,))
        thread.join(30)
        assert isinstance(outcome.get("error"), psycopg.OperationalError), (layer, outcome)
        if layer == "bronze":
            after = table_checksums(warehouse, ("raw_data", "silver", "gold"), ignore_tables=("raw_data.pulls",))
            assert after == before, "a killed bronze load left rows behind"
            pull_endpoint(warehouse, "setlists", _client(), run_id="rerun")  # the rerun that converges
    run_layer(warehouse, "silver", run_id="rerun")
    run_gold(warehouse, run_id="rerun")
    assert table_checksums(warehouse, **IGNORE) == reference_checksums(fresh_database, edited)
    assert expected != table_checksums(warehouse, **IGNORE), "the edit should have reached silver"


def test_statement_timeout_and_dropped_connections_between_layers(
    warehouse, warehouse_dsn, fresh_database, fixture_data
):
    load_bronze(warehouse, fixture_data)
    before = table_checksums(warehouse, ("silver", "gold"))
    with psycopg.connect(warehouse_dsn, autocommit=True) as slow:
        slow.execute("set statement_timeout = '1ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            for table in ("venues", "shows", "songs", "setlists"):
                run_step(slow, "silver", table, run_id="timeout")
    assert table_checksums(warehouse, ("silver", "gold")) == before
    # every connection to the database dropped between layers, as a restart would
    warehouse.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() "
        "and pid <> pg_backend_pid()"
    )
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        run_layer(conn, "silver", run_id="after")
        run_gold(conn, run_id="after")
    assert table_checksums(warehouse, **IGNORE) == reference_checksums(fresh_database, fixture_data)


# --- killed processes ---------------------------------------------------------------------------

STEP_SCRIPT = """
import os, sys
import psycopg
conn = psycopg.connect(os.environ["DSN"], autocommit=True)
layer = sys.argv[1]
if layer == "bronze":
    from elgoose.api_client import ElGooseClient
    from elgoose.bronze import pull_endpoint
    pull_endpoint(conn, "setlists", ElGooseClient.from_connection(timeout=(5.0, 5.0)), run_id="killed")
elif layer == "silver":
    from elgoose.layers import run_layer
    run_layer(conn, "silver", run_id="killed")
else:
    from elgoose.layers import run_gold
    run_gold(conn, run_id="killed")
"""


def test_sigkill_mid_step_then_rerun_converges(warehouse, warehouse_dsn, fresh_database, fake_api, fixture_data):
    build(warehouse, fixture_data, run_id="base")
    edited = copy.deepcopy(fixture_data)
    edited["setlists"][2]["songname"] = "Edited While Killed"
    fake_api.set_rows("setlists", edited["setlists"])
    script = STEP_SCRIPT
    env = {**os.environ, "DSN": warehouse_dsn}
    killed = {}
    for layer in ("bronze", "silver", "gold"):
        with holding(warehouse_dsn, STEP_LOCKS[layer]):
            process = subprocess.Popen([sys.executable, "-c", script, layer], env=env)
            killed[layer] = wait_until_blocked(warehouse_dsn)
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        assert process.returncode == -signal.SIGKILL
        # Its backend notices the dead client once the lock is free; the next step then finds the session gone.
        wait_until_gone(warehouse_dsn, killed[layer])
        if layer == "bronze":
            assert scalar(warehouse, "select count(*) from raw_data.setlists where run_id = 'killed'") == 0
            pull_endpoint(warehouse, "setlists", _client(), run_id="rerun")
    run_layer(warehouse, "silver", run_id="rerun")
    run_gold(warehouse, run_id="rerun")
    assert table_checksums(warehouse, **IGNORE) == reference_checksums(fresh_database, edited)
    assert scalar(warehouse, "select count(*) from silver.setlists where song_name = 'Edited While Killed'") == 1

    # The killed steps are 'abandoned', each found by the first step that ran after its session ended.
    assert scalar(warehouse, "select count(*) from processing_status where status = 'processing'") == 0
    rows = warehouse.execute(
        "select layer, table_name, backend_pid, error_message, completed_at >= started_at, duration_seconds >= 0 "
        "from processing_status where run_id = 'killed' and status <> 'completed' order by id"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("bronze", "setlists", killed["bronze"]),
        ("silver", "venues", killed["silver"]),
        ("gold", "show_summary", killed["gold"]),
    ]
    assert scalar(warehouse, "select count(*) from processing_status where status = 'abandoned'") == 3
    finders = {"bronze": "bronze step setlists of run rerun", "silver": "gold step prepare of run killed"}
    finders["gold"] = "silver step venues of run rerun"
    for (layer, _, pid, message, completed_after_start, duration_ok), finder in zip(
        rows, finders.values(), strict=True
    ):
        assert message.startswith("the process running this step ended without recording an outcome"), message
        assert f"(pid {pid}, started " in message and message.endswith(f"; found by {finder}"), (layer, message)
        assert completed_after_start and duration_ok


def test_a_step_still_running_is_not_marked_abandoned(warehouse, warehouse_dsn, fixture_data):
    """Only steps whose session is gone are abandoned: not a live one, not one whose pid was reused."""
    load_bronze(warehouse, fixture_data)
    run_step(warehouse, "silver", "venues", run_id="first")
    with holding(warehouse_dsn, STEP_LOCKS["silver"]):
        thread, outcome = run_in_thread(
            lambda: run_step(psycopg.connect(warehouse_dsn, autocommit=True), "silver", "setlists", run_id="live")
        )
        live_pid = wait_until_blocked(warehouse_dsn)
        live_start = scalar(warehouse, "select backend_start from pg_stat_activity where pid = %s", live_pid)
        # Rows as a killed step leaves them: its session gone, or its pid now another session's (pid reuse),
        # or no session recorded (written before V005), long ago or recently.
        for run_id, pid, session_start, age in [
            ("gone", 2_000_000_000, live_start, "1 minute"),
            ("reused-pid", live_pid, live_start - timedelta(hours=1), "1 hour"),
            ("untracked-old", None, None, "2 days"),
            ("untracked-recent", None, None, "1 hour"),
        ]:
            warehouse.execute(
                "insert into processing_status (table_name, layer, status, run_id, backend_pid, backend_started_at, "
                "started_at) values ('shows', 'silver', 'processing', %s, %s, %s, now() - %s::interval)",
                (run_id, pid, session_start, age),
            )
        run_step(warehouse, "gold", "prepare", run_id="sweeper")  # another step, on another live connection
        statuses = dict(warehouse.execute("select run_id, status from processing_status").fetchall())
        assert statuses == {
            "first": "completed",
            "live": "processing",
            "gone": "abandoned",
            "reused-pid": "abandoned",
            "untracked-old": "abandoned",
            "untracked-recent": "processing",
            "sweeper": "completed",
        }
        assert scalar(warehouse, "select backend_pid from processing_status where run_id = 'live'") == live_pid
        message = scalar(warehouse, "select error_message from processing_status where run_id = 'untracked-old'")
        assert "no session recorded" in message and message.endswith("found by gold step prepare of run sweeper")
    thread.join(60)
    assert "result" in outcome, outcome
    assert scalar(warehouse, "select status from processing_status where run_id = 'live'") == "completed"


def test_a_role_that_cannot_see_other_sessions_leaves_them_running(warehouse, warehouse_dsn):
    """pg_stat_activity hides backend_start of other roles' sessions: such a session counts as alive."""
    from elgoose.status import mark_abandoned_steps

    role = f"elgoose_sweeper_{uuid.uuid4().hex[:8]}"
    warehouse.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    try:
        warehouse.execute(sql.SQL("grant select, update on processing_status to {}").format(sql.Identifier(role)))
        with psycopg.connect(warehouse_dsn, autocommit=True) as live:  # a step running as the pipeline's role
            warehouse.execute(
                "insert into processing_status (table_name, layer, status, run_id, backend_pid, backend_started_at) "
                "select 'venues', 'silver', 'processing', 'live', pid, backend_start from pg_stat_activity "
                "where pid = %s",
                (live.info.backend_pid,),
            )
            warehouse.execute(
                "insert into processing_status (table_name, layer, status, run_id, backend_pid, backend_started_at) "
                "values ('venues', 'silver', 'processing', 'gone', 2000000000, now())"
            )
            with psycopg.connect(warehouse_dsn, user=role, autocommit=True) as other:
                assert (
                    scalar(other, "select backend_start from pg_stat_activity where pid = %s", live.info.backend_pid)
                    is None
                )
                assert [r[3] for r in mark_abandoned_steps(other, "a test")] == ["gone"]
            assert scalar(warehouse, "select status from processing_status where run_id = 'live'") == "processing"
    finally:
        warehouse.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        warehouse.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


# --- concurrency --------------------------------------------------------------------------------


def test_two_bronze_loads_of_one_endpoint_at_once_store_each_version_once(warehouse_dsn, fake_api, fixture_data):
    connections = [psycopg.connect(warehouse_dsn, autocommit=True) for _ in range(2)]
    threads = [run_in_thread(lambda c=c: pull_endpoint(c, "setlists", _client(), run_id="twin")) for c in connections]
    for thread, _ in threads:
        thread.join(60)
    results = [outcome["result"] for _, outcome in threads]
    assert sorted(r.new for r in results) == [0, len({r["uniqueid"] for r in fixture_data["setlists"]})]
    with psycopg.connect(warehouse_dsn) as conn:
        assert scalar(conn, "select count(*) - count(distinct content_hash) from raw_data.setlists") == 0


def test_two_silver_runs_at_once_neither_duplicate_nor_deadlock(warehouse, warehouse_dsn, fresh_database, fixture_data):
    load_bronze(warehouse, fixture_data)
    threads = [
        run_in_thread(
            lambda i=i: run_layer(psycopg.connect(warehouse_dsn, autocommit=True), "silver", run_id=f"twin-{i}")
        )
        for i in range(2)
    ]
    for thread, _ in threads:
        thread.join(120)
    assert all("result" in outcome for _, outcome in threads), [o.get("error") for _, o in threads]
    inserted = [outcome["result"]["setlists"]["inserted"] for _, outcome in threads]
    assert sorted(inserted) == [0, len({r["uniqueid"] for r in fixture_data["setlists"]})]
    with fresh_database() as conn:
        load_bronze(conn, fixture_data)
        run_layer(conn, "silver")
        assert table_checksums(warehouse, ("silver",), **IGNORE) == table_checksums(conn, ("silver",), **IGNORE)


def _client():
    from elgoose.api_client import ElGooseClient

    return ElGooseClient.from_connection(timeout=(5.0, 5.0))


def test_two_gold_refreshes_at_once_one_runs_the_other_exits_clearly(
    warehouse, warehouse_dsn, fresh_database, fixture_data
):
    from elgoose.layers import GoldRefreshBusy

    load_bronze(warehouse, fixture_data)
    run_layer(warehouse, "silver")
    with holding(warehouse_dsn, STEP_LOCKS["gold"]):
        first, first_outcome = run_in_thread(lambda: run_gold(psycopg.connect(warehouse_dsn, autocommit=True)))
        wait_until_blocked(warehouse_dsn)
        with pytest.raises(GoldRefreshBusy, match="another gold refresh is running"):
            run_gold(psycopg.connect(warehouse_dsn, autocommit=True))
    first.join(60)
    assert "result" in first_outcome, first_outcome
    assert table_checksums(warehouse, ("gold",), **IGNORE) == table_checksums_of_fresh(fresh_database, fixture_data)


def table_checksums_of_fresh(fresh_database, data) -> dict:
    with fresh_database() as conn:
        build(conn, data)
        return table_checksums(conn, ("gold",), **IGNORE)
