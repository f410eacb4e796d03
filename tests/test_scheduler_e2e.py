"""End to end under Airflow's real components: api-server, scheduler, dag-processor and triggerer on
loopback, with the fake ElGoose server and a real warehouse. Runs are started and read back through
the REST API (/api/v2, JWT from the SimpleAuthManager)."""

from __future__ import annotations

import html
import json
import time
from collections import Counter

import psycopg
import pytest
from helpers import airflow_test_env, scalar

from elgoose.registry import DAG_IDS as LAYER_DAG_IDS
from elgoose_local import databases as warehouse_db
from elgoose_local.stack import AirflowStack
from fake_elgoose import FIXTURE_GOLDEN_RECORDS, FakeElGoose, load_fixtures

pytestmark = [pytest.mark.airflow, pytest.mark.slow]
DAG_IDS = list(LAYER_DAG_IDS.values())
GOLDEN_RECORDS = FIXTURE_GOLDEN_RECORDS


@pytest.fixture(scope="module")
def stack(pg_server, pg_template, tmp_path_factory):
    warehouse_name = warehouse_db.create_database(pg_server, pg_template)
    metadata_name = warehouse_db.create_empty_database(pg_server, "airflow_meta")
    warehouse_dsn = warehouse_db.with_dbname(pg_server, warehouse_name)
    data = load_fixtures()
    golden = tmp_path_factory.mktemp("quality") / "golden_records.json"
    golden.write_bytes(GOLDEN_RECORDS.read_bytes())
    with FakeElGoose(data) as api:
        env = airflow_test_env(
            tmp_path_factory.mktemp("airflow"),
            warehouse_db.airflow_conn_json(warehouse_dsn),
            api.base_url,
            ELGOOSE_SENSOR_POKE_SECONDS="5",
            ELGOOSE_SENSOR_TIMEOUT_SECONDS="300",
            ELGOOSE_GOLDEN_RECORDS=str(golden),  # a test edits it to fail the quality gate
            ELGOOSE_STEP_RETRY_DELAY_SECONDS="1",
            # The backfills below make the scheduler start today's latest missed slot (catchup=False counts
            # from the latest scheduled or backfill run), whose runs would race the backfills' (backfill runs
            # do not count towards max_active_runs). tests/test_celery.py checks the schedule with it on.
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        )
        airflow = AirflowStack(
            tmp_path_factory.mktemp("airflow-home"),
            warehouse_db.sqlalchemy_url(warehouse_db.with_dbname(pg_server, metadata_name)),
            env,
        )
        airflow.migrate()
        try:
            airflow.start()
            airflow.wait_for_dags(DAG_IDS)
            with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
                airflow.golden_records = golden
                yield airflow, conn, api, data
        finally:
            airflow.stop()
            for name in (warehouse_name, metadata_name):
                warehouse_db.drop_database(pg_server, name)


def goose_song_count(data) -> int:
    songs = {
        html.unescape(r["songname"]) if r["song_id"] == 1 else r["song_id"]
        for r in data["setlists"]
        if r["artist_id"] == 1
    }
    return len(songs)


def test_complete_mode_through_the_rest_api(stack):
    airflow, warehouse, _, data = stack
    started = time.monotonic()
    run_id = airflow.trigger("elgoose_bronze", {"mode": "complete"})
    bronze = airflow.wait_for_run("elgoose_bronze", run_id, timeout=600)
    elapsed = time.monotonic() - started
    assert bronze["state"] == "success", airflow.task_instances("elgoose_bronze", run_id)
    silver = airflow.wait_for_run("elgoose_silver", f"{run_id}__silver")
    gold = airflow.wait_for_run("elgoose_gold", f"{run_id}__silver__gold")
    assert silver["state"] == gold["state"] == "success"
    assert silver["conf"]["upstream_run_id"] == run_id
    assert scalar(warehouse, "select count(*) from gold.song_stats") == goose_song_count(data)
    # task history, read back through the REST API
    tasks = {t["task_id"]: t["state"] for t in airflow.task_instances("elgoose_bronze", run_id)}
    assert all(tasks[f"pull_{m}"] == "success" for m in data)
    assert tasks["run_silver"] == "success"
    silver_tasks = {t["task_id"]: t["state"] for t in airflow.task_instances("elgoose_silver", f"{run_id}__silver")}
    assert silver_tasks["start.wait_for_bronze"] == "skipped", "a manual run must never wait on a sensor"
    print(f"complete run under the scheduler: {elapsed:.1f}s")


def test_clearing_the_failed_run_silver_reruns_the_layers_below_and_turns_the_chain_green(stack):
    """What the README says to clear after a failed `complete` chain: the upstream DAG's failed run_<layer>."""
    airflow, warehouse, _, _ = stack
    good = airflow.golden_records.read_text()
    wrong = json.loads(good)
    wrong[0]["setlist_rows"] += 1  # silver's quality gate now fails, so gold never starts
    airflow.golden_records.write_text(json.dumps(wrong))
    run_id = airflow.trigger("elgoose_bronze", {"mode": "complete"})
    silver_run, gold_run = f"{run_id}__silver", f"{run_id}__silver__gold"
    assert airflow.wait_for_run("elgoose_bronze", run_id)["state"] == "failed"
    assert airflow.wait_for_run("elgoose_silver", silver_run)["state"] == "failed"
    assert states(airflow, "elgoose_bronze", run_id)["run_silver"] == "failed"
    assert states(airflow, "elgoose_silver", silver_run)["quality_gates"] == "failed"
    assert airflow.api("GET", f"/dags/elgoose_gold/dagRuns/{gold_run}").status_code == 404

    airflow.golden_records.write_text(good)  # the cause is fixed; now the one task the README names
    response = airflow.api(
        "POST",
        "/dags/elgoose_bronze/clearTaskInstances",
        json={"dag_run_id": run_id, "task_ids": ["run_silver"], "dry_run": False, "only_failed": True},
    )
    assert response.status_code == 200, response.text
    for dag_id, dag_run_id in (("elgoose_bronze", run_id), ("elgoose_silver", silver_run), ("elgoose_gold", gold_run)):
        run = airflow.wait_for_run(dag_id, dag_run_id)
        assert run["state"] == "success", (dag_id, states(airflow, dag_id, dag_run_id))
    silver = {t["task_id"]: t for t in airflow.task_instances("elgoose_silver", silver_run)}
    assert silver["quality_gates"]["state"] == "success" and silver["setlists"]["state"] == "success"
    # the silver run was reset and ran again: its quality gate failed once and passed once, after the fix
    outcomes = warehouse.execute(
        "select status from processing_status where layer = 'quality' and run_id = %s order by id", (silver_run,)
    ).fetchall()
    assert [o[0] for o in outcomes][-1] == "completed" and "failed" in [o[0] for o in outcomes]
    assert (
        scalar(
            warehouse,
            "select count(*) from processing_status where run_id = %s and status = 'completed' "
            "and layer = 'gold' and table_name = 'publish'",
            gold_run,
        )
        == 1
    )


def states(airflow, dag_id: str, run_id: str) -> dict[str, str]:
    return {t["task_id"]: t["state"] for t in airflow.task_instances(dag_id, run_id)}


def backfill(airflow, dag_id: str, when: str, conf: dict | None = None) -> str:
    """Create a backfill of one schedule slot (a run with that logical date) and return its run id."""
    body = {"dag_id": dag_id, "from_date": when, "to_date": when, "dag_run_conf": conf or {}, "max_active_runs": 1}
    deadline = time.monotonic() + 120
    while True:  # one backfill per DAG at a time: wait for the previous one to be closed by the scheduler
        response = airflow.api("POST", "/backfills", json=body)
        if response.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert response.status_code in (200, 201), response.text
    while time.monotonic() < deadline:
        runs = [r for r in airflow.runs(dag_id) if r["run_type"] == "backfill" and r["logical_date"][:16] == when[:16]]
        if runs:
            return runs[0]["dag_run_id"]
        time.sleep(1)
    raise AssertionError(f"no backfill run of {dag_id} at {when}")


def test_the_schedule_chains_through_the_sensors(stack):
    airflow, warehouse, api, data = stack
    renamed = api.data["songs"][0]
    renamed["name"] = "Renamed By Upstream"
    day = "2026-03-03"
    runs = {
        dag: backfill(airflow, dag, f"{day}T{hour}:00Z")
        for dag, hour in (("elgoose_bronze", "02:00"), ("elgoose_silver", "02:30"), ("elgoose_gold", "03:00"))
    }
    for dag, run_id in runs.items():
        state = airflow.wait_for_run(dag, run_id, timeout=600)["state"]
        assert state == "success", (
            dag,
            sorted(
                (t["task_id"], t["state"])
                for t in airflow.task_instances(dag, run_id)
                if t["state"] != "upstream_failed"
            ),
        )
    silver = {t["task_id"]: t["state"] for t in airflow.task_instances("elgoose_silver", runs["elgoose_silver"])}
    gold = {t["task_id"]: t["state"] for t in airflow.task_instances("elgoose_gold", runs["elgoose_gold"])}
    assert silver["start.wait_for_bronze"] == "success" and silver["start.manual_run"] == "skipped"
    assert gold["start.wait_for_silver"] == "success"
    assert scalar(warehouse, "select song_name from gold.song_stats where song_id = %s", renamed["id"]) in (
        "Renamed By Upstream",
        None,  # the song may not be played by Goose in the fixtures
    )
    assert scalar(warehouse, "select song_name from silver.songs where song_id = %s", renamed["id"]) == (
        "Renamed By Upstream"
    )


def test_gold_fails_promptly_when_its_silver_run_failed(stack):
    airflow, _, _, _ = stack
    day = "2026-03-04"
    silver_run = backfill(airflow, "elgoose_silver", f"{day}T02:30:00Z", conf={"mode": "bronze_only"})
    assert airflow.wait_for_run("elgoose_silver", silver_run, timeout=300)["state"] == "failed"
    started = time.monotonic()
    gold_run = backfill(airflow, "elgoose_gold", f"{day}T03:00:00Z")
    assert airflow.wait_for_run("elgoose_gold", gold_run, timeout=300)["state"] == "failed"
    assert time.monotonic() - started < 120, "the sensor waited instead of failing on the failed upstream"
    gold = {t["task_id"]: t["state"] for t in airflow.task_instances("elgoose_gold", gold_run)}
    assert gold["start.wait_for_silver"] == "failed"
    assert Counter(gold.values())["success"] <= 1  # prepare_run only
