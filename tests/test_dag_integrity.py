"""DAG integrity: the DAG files import cleanly, fast, with no database or connection use at parse
time, and carry the schedules, params, owners, tags, retries and docs operators rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from elgoose.endpoints import METHODS

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
sys.path[:0] = [sys.argv[1] + "/plugins", sys.argv[1]]
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
        "tasks": {t.task_id: {"retries": t.retries} for t in dag.tasks},
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
    assert set(pulls) == {f"pull_{method}" for method in METHODS}
    assert all(t["retries"] >= 1 for t in pulls.values())


def test_downstream_dags_wait_for_their_upstream_on_schedule(parsed):
    assert "wait_for_bronze" in parsed["elgoose_silver"]["tasks"]
    assert "wait_for_silver" in parsed["elgoose_gold"]["tasks"]
