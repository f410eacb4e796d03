"""A throw-away Airflow installation for end-to-end tests: its own AIRFLOW_HOME and SQLite metadata DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def airflow_env(home: Path, warehouse_conn: str, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW_CONN_ELGOOSE_WAREHOUSE": warehouse_conn,
            "AIRFLOW_CONN_ELGOOSE_API": json.dumps({"conn_type": "http", "host": api_url}),
            "ELGOOSE_TASK_RETRIES": "0",
            "ELGOOSE_BACKOFF_INITIAL": "0.05",
            "ELGOOSE_BACKOFF_MAX": "0.2",
            "ELGOOSE_GOLDEN_RECORDS": str(ROOT / "fake_elgoose" / "fixtures" / "golden_records.json"),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]),
        }
    )
    env.update(extra)
    return env


def migrate_metadata(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, "{}", "http://127.0.0.1:1/api/v2")
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)


def dags_test(env: dict[str, str], dag_id: str, conf: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AIRFLOW, "dags", "test", dag_id, "-c", json.dumps(conf)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
