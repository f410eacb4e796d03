"""DAG integrity: the DAG files import cleanly, fast, with no database or connection use at parse
time, and carry the schedules, params, owners, tags, retries and docs operators rely on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from elgoose import registry

ROOT = Path(__file__).resolve().parents[1]
DAG_FILES = sorted((ROOT / "dags").glob("elgoose_*.py"))
EXPECTED = {
    "elgoose_bronze": ("0 2 * * *", "bronze_only"),
    "elgoose_silver": ("30 2 * * *", "silver_only"),
    "elgoose_gold": ("0 3 * * *", "gold_only"),
}

# Imports every DAG file with the database, connection lookups and the network all made to fail,
# and reports each file's parse time and DAG attributes as JSON.
PARSE_PROBE = r"""
import json, socket, sys, time
from airflow.dag_processing.dagbag import DagBag  # what the dag-processor has loaded before it parses
from airflow.sdk import BaseHook

def refuse(*a, **k):
    raise AssertionError("connection or network use at parse time")
BaseHook.get_connection = classmethod(refuse)
socket.socket.connect = refuse
socket.create_connection = refuse
import psycopg
psycopg.connect = refuse
out = {}
for path in sys.argv[2:]:
    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    elapsed = time.perf_counter() - started
    assert not bag.import_errors, bag.import_errors
    (dag,) = bag.dags.values()
    out[dag.dag_id] = {
        "seconds": elapsed,
        "cron": dag.timetable.expression,
        "timezone": str(dag.timetable.timezone),
        "tags": sorted(dag.tags),
        "owner": dag.owner,
        "doc_md": bool(dag.doc_md and len(dag.doc_md) > 200),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "mode_default": dag.params["mode"],
        "mode_enum": dag.params.get_param("mode").schema["enum"],
        "tasks": {
            t.task_id: {
                "retries": t.retries,
                "retry_delay": t.retry_delay.total_seconds(),
                "type": type(t).__name__,
                "upstream": sorted(t.upstream_task_ids),
            }
            for t in dag.tasks
        },
        "timetable": {"run_immediately": str(dag.timetable.run_immediately), "start_date": str(dag.start_date)},
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def parsed():
    env = {
        **os.environ,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://nobody@127.0.0.1:1/none",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_HOME": str(ROOT / ".local" / "parse-probe"),
    }
    env.pop("AIRFLOW_CONN_ELGOOSE_WAREHOUSE", None)
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(ROOT), *map(str, DAG_FILES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_all_three_dags_import(parsed):
    assert set(parsed) == set(EXPECTED)
    assert [p.stem for p in DAG_FILES] == sorted(EXPECTED), "one DAG per file, named after its id"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_parses_fast_without_database_or_network(parsed, dag_id):
    assert parsed[dag_id]["seconds"] < 0.5


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_schedule_and_run_policy(parsed, dag_id):
    cron, default_mode = EXPECTED[dag_id]
    dag = parsed[dag_id]
    assert dag["cron"] == cron and dag["timezone"] in ("UTC", "Timezone('UTC')")
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    assert dag["mode_default"] == default_mode
    assert dag["mode_enum"] == ["bronze_only", "silver_only", "gold_only", "complete"]
    assert "elgoose" in dag["tags"] and dag["owner"] and dag["doc_md"]


def test_network_facing_tasks_retry(parsed):
    pulls = {k: v for k, v in parsed["elgoose_bronze"]["tasks"].items() if k.startswith("pull_")}
    assert sorted(pulls) == sorted(f"pull_{method}" for method in registry.METHODS)
    assert all(t["retries"] >= 1 for t in pulls.values())


# The SQL steps that are not LayerSQLOperators: migrations (and gold's prepare) in prepare_run, the gates, the
# bronze summary; the chaining tasks are RunNextLayerOperators.
STEP_TASKS = {"prepare_run", "start.prepare_run", "bronze_finished", "quality_gates"}


def test_every_sql_step_and_the_chaining_retry_after_a_lost_worker(parsed):
    for dag_id, dag in parsed.items():
        steps = {
            task_id: task
            for task_id, task in dag["tasks"].items()
            if task["type"] in ("LayerSQLOperator", "RunNextLayerOperator") or task_id in STEP_TASKS
        }
        assert len(steps) >= 3, (dag_id, sorted(steps))
        for task_id, task in steps.items():
            assert task["retries"] >= 1 and task["retry_delay"] > 0, (dag_id, task_id, task)
        # the sensors retry what Airflow's executor race can do to a deferred task; an upstream's failure is a
        # verdict that fails them without retries (UpstreamLayerSensor, proven by test_scheduler_e2e)
        sensors = {i: t for i, t in dag["tasks"].items() if i.startswith("start.wait_for_")}
        assert all(t["type"] == "UpstreamLayerSensor" and t["retries"] >= 1 for t in sensors.values()), sensors
    assert {t["type"] for t in parsed["elgoose_gold"]["tasks"].values()} >= {"LayerSQLOperator"}
    assert parsed["elgoose_bronze"]["tasks"]["run_silver"]["type"] == "RunNextLayerOperator"
    assert parsed["elgoose_silver"]["tasks"]["run_gold"]["type"] == "RunNextLayerOperator"


def test_a_first_unpause_does_not_start_a_slot_that_has_passed(parsed):
    """No start_date and run_immediately=0: the first scheduled run is the next slot (see tests/test_celery.py
    for the scheduler's side)."""
    for dag in parsed.values():
        assert dag["timetable"] == {"run_immediately": "0:00:00", "start_date": "None"}


def test_downstream_dags_wait_for_their_upstream_on_schedule(parsed):
    assert "start.wait_for_bronze" in parsed["elgoose_silver"]["tasks"]
    assert "start.wait_for_silver" in parsed["elgoose_gold"]["tasks"]


def test_the_start_gate_folds_into_one_task_group(parsed):
    for dag_id, upstream in (("elgoose_silver", "bronze"), ("elgoose_gold", "silver")):
        gate = {t for t in parsed[dag_id]["tasks"] if t.startswith("start.")}
        assert gate == {f"start.{t}" for t in ("prepare_run", f"wait_for_{upstream}", "manual_run")}


def _declared(layer: str) -> dict[str, set[str]]:
    """Each table of the layer and the same-layer tables it is declared to be built after."""
    return {t.name: set(t.upstream) for t in registry.tables(layer)}


def test_the_silver_graph_is_the_registrys(parsed):
    tasks = parsed["elgoose_silver"]["tasks"]
    declared = _declared("silver")
    for name, upstream in declared.items():
        assert set(tasks[name]["upstream"]) == (upstream or {"start.wait_for_bronze", "start.manual_run"}), name
    fed = set().union(*declared.values())
    assert set(tasks["quality_gates"]["upstream"]) == set(declared) - fed


def test_the_gold_graph_is_the_registrys_and_independent_tables_run_in_parallel(parsed):
    tasks = parsed["elgoose_gold"]["tasks"]
    declared = _declared("gold")
    for name, upstream in declared.items():
        assert set(tasks[name]["upstream"]) == (upstream or {"start.wait_for_silver", "start.manual_run"}), name
    fed = set().union(*declared.values())
    assert set(tasks["publish"]["upstream"]) == set(declared) - fed
    assert set(tasks) == set(declared) | {"publish"} | {
        f"start.{t}" for t in ("prepare_run", "wait_for_silver", "manual_run")
    }
    # not a chain: song_performances feeds several tables, which do not wait for one another
    feeds = {name for name, upstream in declared.items() if upstream == {"song_performances"}}
    assert len(feeds) >= 3


@pytest.mark.parametrize("layer", ["silver", "gold"])
def test_declared_dependencies_are_what_each_sql_file_reads(layer):
    """The registry's dependencies are the tables each file's SQL reads, no more and no fewer."""
    schema = {"silver": "silver", "gold": "gold_next"}[layer]
    declared = _declared(layer)
    for name, upstream in declared.items():
        sql = (ROOT / "include" / "sql" / layer / f"{name}.sql").read_text()
        read = set(re.findall(rf"\b{schema}\.([a-z_]+)", sql)) & (set(declared) - {name})
        assert read == upstream, f"{layer}.{name} reads {sorted(read)}, the registry says {sorted(upstream)}"
