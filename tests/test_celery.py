"""The pipeline under the CeleryExecutor: Airflow's real api-server, scheduler, dag-processor and triggerer,
two real ``airflow celery worker`` processes (each with its own hostname and log-server port), the machine's
Redis as broker (a database and key prefix of this run's own) and results in PostgreSQL.

One stack serves the module. The last test loses a worker for good (SIGKILL of every process it started, as
a lost machine) in the middle of a silver step and checks that the chain recovers without a person.

Skips only where no Redis answers (ELGOOSE_TEST_REDIS_URL, default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import copy
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from helpers import airflow_test_env, load_bronze, scalar, table_checksums

from elgoose_local import databases as warehouse_db
from elgoose_local.stack import AirflowStack
from fake_elgoose import FakeElGoose, load_fixtures

pytestmark = [pytest.mark.airflow, pytest.mark.slow]
DAG_IDS = ["elgoose_bronze", "elgoose_silver", "elgoose_gold"]
REDIS_URL = os.environ.get("ELGOOSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
# History tables and bronze ids legitimately differ between an incremental and a fresh build.
IGNORE = {"ignore_columns": ("bronze_id",), "ignore_tables": ("silver.rejects", "silver.deletions")}


def redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers at {REDIS_URL} ({exc}): the CeleryExecutor tests need one as broker")
    return client


class HeartbeatWatch(threading.Thread):
    """Samples the age of every running task instance's last heartbeat in the metadata database."""

    def __init__(self, metadata_dsn: str):
        super().__init__(daemon=True)
        self.dsn, self.oldest, self.stopped = metadata_dsn, 0.0, threading.Event()
        self.ignore: set[str] = set()

    def run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopped.wait(0.5):
                for ti_id, age in conn.execute(
                    "select id::text, extract(epoch from now() - last_heartbeat_at)::float from task_instance "
                    "where state = 'running' and last_heartbeat_at is not null"
                ):
                    if ti_id not in self.ignore:
                        self.oldest = max(self.oldest, age)


@pytest.fixture(scope="module")
def celery(pg_server, pg_template, tmp_path_factory):
    broker = redis_or_skip()
    prefix = f"elgoose-test-{uuid.uuid4().hex[:10]}:"
    warehouse_name = warehouse_db.create_database(pg_server, pg_template)
    metadata_name = warehouse_db.create_empty_database(pg_server, "airflow_meta")
    warehouse_dsn = warehouse_db.with_dbname(pg_server, warehouse_name)
    metadata_dsn = warehouse_db.with_dbname(pg_server, metadata_name)
    metadata_url = warehouse_db.sqlalchemy_url(metadata_dsn)
    data = load_fixtures()
    with FakeElGoose(copy.deepcopy(data)) as api:
        env = airflow_test_env(
            tmp_path_factory.mktemp("airflow"),
            warehouse_db.airflow_conn_json(warehouse_dsn),
            api.base_url,
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__CELERY__BROKER_URL=REDIS_URL,
            AIRFLOW__CELERY__RESULT_BACKEND=f"db+{metadata_url}",
            # Every key of this run (queues, unacked messages) under its own prefix: concurrent runs never
            # take each other's tasks.
            AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX=prefix,
        )
        airflow = AirflowStack(tmp_path_factory.mktemp("airflow-home"), metadata_url, env, workers=2)
        airflow.migrate()
        try:
            # The DAGs are unpaused at creation (AirflowStack): for the scheduler, their first unpause.
            airflow.unpaused_at = datetime.now(UTC)
            airflow.start()
            airflow.wait_for_dags(DAG_IDS)
            with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
                yield airflow, conn, warehouse_dsn, metadata_dsn, api, data
        finally:
            airflow.stop()
            for name in (warehouse_name, metadata_name):
                warehouse_db.drop_database(pg_server, name)
            for key in broker.scan_iter(match=f"{prefix}*"):
                broker.delete(key)


@pytest.fixture
def reference(pg_server, pg_template):
    """Silver and gold checksums of the same data built in-process by the pipeline's own steps."""
    from elgoose.layers import run_gold, run_layer

    def build(data) -> dict:
        name = warehouse_db.create_database(pg_server, pg_template)
        try:
            with psycopg.connect(warehouse_db.with_dbname(pg_server, name), autocommit=True) as conn:
                load_bronze(conn, data, run_id="reference")
                run_layer(conn, "silver", run_id="reference")
                run_gold(conn, run_id="reference")
                return table_checksums(conn, **IGNORE)
        finally:
            warehouse_db.drop_database(pg_server, name)

    return build


def chain(run_id: str) -> dict[str, str]:
    return {
        "elgoose_bronze": run_id,
        "elgoose_silver": f"{run_id}__silver",
        "elgoose_gold": f"{run_id}__silver__gold",
    }


def run_complete(airflow, timeout: float = 600) -> tuple[str, dict[str, list[dict]]]:
    run_id = airflow.trigger("elgoose_bronze", {"mode": "complete"})
    tasks = {}
    for dag_id, dag_run_id in chain(run_id).items():
        state = airflow.wait_for_run(dag_id, dag_run_id, timeout=timeout)["state"]
        tasks[dag_id] = airflow.task_instances(dag_id, dag_run_id)
        assert state == "success", (dag_id, [(t["task_id"], t["state"], t["try_number"]) for t in tasks[dag_id]])
    return run_id, tasks


def seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def test_complete_mode_runs_on_both_workers_and_builds_the_same_gold(celery, reference):
    airflow, warehouse, _, metadata_dsn, _, data = celery
    watch = HeartbeatWatch(metadata_dsn)
    watch.start()
    started = time.monotonic()
    try:
        _, tasks = run_complete(airflow)
    finally:
        watch.stopped.set()
        watch.join(5)
    elapsed = time.monotonic() - started
    ran = [t for ts in tasks.values() for t in ts if t["state"] == "success" and t["hostname"]]
    hosts = {t["hostname"] for t in ran}
    per_host = ", ".join(f"{h}: {sum(t['hostname'] == h for t in ran)}" for h in sorted(hosts))
    assert hosts == {airflow.hostname_of(w) for w in airflow.worker_names()}, hosts
    assert table_checksums(warehouse, **IGNORE) == reference(data)
    pickup = sorted(seconds(t["queued_when"], t["start_date"]) for t in ran if t["queued_when"])
    duration = sorted(seconds(t["start_date"], t["end_date"]) for t in ran)
    print(
        f"median seconds from queued to started {pickup[len(pickup) // 2]:.1f} (max {pickup[-1]:.1f}), "
        f"started to ended {duration[len(duration) // 2]:.1f} (max {duration[-1]:.1f})"
    )
    print(
        f"complete run on 2 Celery workers: {elapsed:.1f}s, {len(ran)} task instances "
        f"({per_host}); "
        f"oldest heartbeat of a running task seen: {watch.oldest:.1f}s"
    )


def next_slot(after: datetime, cron_hour: int, cron_minute: int) -> datetime:
    slot = after.replace(hour=cron_hour, minute=cron_minute, second=0, microsecond=0)
    return slot if slot > after else slot + timedelta(days=1)


SLOTS = {"elgoose_bronze": (2, 0), "elgoose_silver": (2, 30), "elgoose_gold": (3, 0)}


def test_a_first_unpause_starts_no_missed_run_and_a_manual_run_waits_for_nothing(celery):
    """The DAGs have been unpaused since the stack started and a manual complete run went through: no
    scheduled run was created for a slot that had passed before the unpause, and each DAG's first scheduled
    run is its next slot after it."""
    airflow = celery[0]
    now = datetime.now(UTC)
    for dag_id, (hour, minute) in SLOTS.items():
        scheduled = [r for r in airflow.runs(dag_id) if r["run_type"] == "scheduled"]
        due = next_slot(airflow.unpaused_at, hour, minute)
        expected = [due] if due <= now else []  # only if the module ran across a slot
        assert [datetime.fromisoformat(r["run_after"]) for r in scheduled] == expected, (dag_id, scheduled)
        details = airflow.api("GET", f"/dags/{dag_id}").json()
        upcoming = due if due > now else next_slot(now, hour, minute)
        assert datetime.fromisoformat(details["next_dagrun_run_after"]) == upcoming, (dag_id, details)
    bronze = [r for r in airflow.runs("elgoose_bronze") if r["run_type"] == "manual"]
    assert bronze, "the complete run of the first test is missing"
    waited = seconds(bronze[-1]["queued_at"], bronze[-1]["start_date"])
    assert waited < 30, f"the manual run was queued for {waited:.0f}s"


def blocked_by(conn, holder_pid: int, timeout: float = 240) -> int:
    """The pid of the session that waits for a lock ``holder_pid`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "select pid from pg_stat_activity where %s = any(pg_blocking_pids(pid))", (holder_pid,)
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.2)
    raise AssertionError(f"no step waited for the lock within {timeout}s")


def task_instance(airflow, dag_id: str, run_id: str, task_id: str) -> dict:
    response = airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    response.raise_for_status()
    return response.json()


def test_a_worker_lost_mid_step_is_survived_without_a_person(celery, reference):
    airflow, warehouse, warehouse_dsn, _, _, data = celery
    edited = copy.deepcopy(data)
    edited["setlists"][3]["songname"] = "Loaded After The Worker Was Lost"
    edited["setlists"][5]["footnote"] = "a correction the lost worker was applying"
    load_bronze(warehouse, {"setlists": edited["setlists"]}, run_id="edit")  # what a pull of the edit leaves
    expected = reference(edited)

    with psycopg.connect(warehouse_dsn) as holder:
        # silver.setlists blocks at its upsert, in the middle of its transaction, until this lock goes.
        holder.execute("lock table silver.setlists in exclusive mode")
        silver_run = airflow.trigger("elgoose_silver", {"mode": "complete"})
        blocked_pid = blocked_by(warehouse, holder.info.backend_pid)
        running = task_instance(airflow, "elgoose_silver", silver_run, "setlists")
        assert running["state"] == "running" and running["try_number"] == 1, running
        lost = next(w for w in airflow.worker_names() if airflow.hostname_of(w) == running["hostname"])
        survivor = next(w for w in airflow.worker_names() if w != lost)
        killed_at = time.monotonic()
        processes = airflow.kill(lost)
        holder.rollback()  # the dead session's backend ends once it next writes to its client

    detected = retried = None
    while time.monotonic() - killed_at < 300:
        ti = task_instance(airflow, "elgoose_silver", silver_run, "setlists")
        if detected is None and ti["state"] != "running":
            detected = time.monotonic() - killed_at
        if retried is None and ti["try_number"] == 2 and ti["state"] == "running":
            retried = time.monotonic() - killed_at
        if ti["state"] == "success":
            break
        time.sleep(0.5)
    recovered = time.monotonic() - killed_at
    for dag_id, dag_run_id in (("elgoose_silver", silver_run), ("elgoose_gold", f"{silver_run}__gold")):
        state = airflow.wait_for_run(dag_id, dag_run_id, timeout=300)["state"]
        assert state == "success", (dag_id, airflow.task_instances(dag_id, dag_run_id))
    green = time.monotonic() - killed_at
    print(
        f"lost worker {lost} ({processes} processes SIGKILLed) in silver.setlists: loss detected after "
        f"{detected:.1f}s, retry running after {retried or float('nan'):.1f}s, setlists recovered after "
        f"{recovered:.1f}s, silver and gold green {green:.1f}s after the kill"
    )

    ti = task_instance(airflow, "elgoose_silver", silver_run, "setlists")
    assert ti["state"] == "success" and ti["try_number"] == 2 and ti["hostname"] == airflow.hostname_of(survivor)
    assert detected < 60, "the lost worker's task was not noticed within a minute"
    steps = warehouse.execute(
        "select status, backend_pid, error_message from processing_status "
        "where layer = 'silver' and table_name = 'setlists' and run_id = %s order by id",
        (silver_run,),
    ).fetchall()
    # The first attempt left its row 'processing'; its retry found its session gone and marked it.
    assert [status for status, _, _ in steps] == ["abandoned", "completed"], steps
    assert steps[0][2].endswith(f"is gone; found by silver step setlists of run {silver_run}"), steps[0][2]
    assert scalar(warehouse, "select count(*) from pg_stat_activity where pid = %s", blocked_pid) == 0
    assert table_checksums(warehouse, **IGNORE) == expected
