"""The README's main command: without network it stops within seconds and names the offline switch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from elgoose_local import databases as warehouse_db

ROOT = Path(__file__).resolve().parents[1]


def test_run_without_network_fails_fast_naming_the_offline_switch(warehouse_dsn, tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW_CONN_ELGOOSE_WAREHOUSE": warehouse_db.airflow_conn_json(warehouse_dsn),
        # a closed port on loopback stands in for "no network"
        "AIRFLOW_CONN_ELGOOSE_API": json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9/api/v2"}),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "elgoose_local.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 15
    assert result.returncode == 2
    assert "make run OFFLINE=1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
