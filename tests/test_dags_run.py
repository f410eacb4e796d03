"""Each DAG and mode under `airflow dags test` (real Airflow task runner, no scheduler), against the
fake ElGoose server and a real warehouse; confs that name no layer of the DAG are refused."""

from __future__ import annotations

import html
import json
import secrets
from collections import Counter

import pytest
from helpers import airflow_test_env, scalar

from elgoose.registry import METHODS
from elgoose_local import databases as warehouse_db
from elgoose_local.stack import dags_test, migrate_metadata

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    migrate_metadata(airflow_test_env(home, "{}", "http://127.0.0.1:1/api/v2"))
    return home


@pytest.fixture
def env(airflow_home, warehouse_dsn, fake_api):
    return airflow_test_env(airflow_home, warehouse_db.airflow_conn_json(warehouse_dsn), fake_api.base_url)


def assert_ok(result):
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])


def goose_times_played(fixture_data) -> Counter:
    """times played per song (by id; free-text songs by name) at Goose shows, from the fixture JSON."""
    shows = {}
    for row in fixture_data["setlists"]:
        if row["artist_id"] == 1:
            key = html.unescape(row["songname"]) if row["song_id"] == 1 else row["song_id"]
            shows.setdefault(key, set()).add(row["show_id"])
    return Counter({k: len(v) for k, v in shows.items()})


def test_layer_by_layer(env, warehouse, fixture_data):
    assert_ok(dags_test(env, "elgoose_bronze", {"mode": "bronze_only"}))
    for method in METHODS:
        assert scalar(warehouse, f"select count(*) from raw_data.{method}") > 0, method
    assert scalar(warehouse, "select count(*) from silver.setlists") == 0

    assert_ok(dags_test(env, "elgoose_silver", {"mode": "silver_only"}))
    assert scalar(warehouse, "select count(*) from silver.setlists") == len(
        {r["uniqueid"] for r in fixture_data["setlists"]}
    )
    assert scalar(warehouse, "select count(*) from raw_data.setlists where not is_processed") == 0

    assert_ok(dags_test(env, "elgoose_gold", {"mode": "gold_only"}))
    expected = goose_times_played(fixture_data)
    got = dict(
        warehouse.execute("select coalesce(song_id::text, song_name), times_played from gold.song_stats").fetchall()
    )
    assert got == {str(k): v for k, v in expected.items()}
    layers = dict(warehouse.execute("select layer, count(*) from processing_status group by 1").fetchall())
    assert set(layers) == {"bronze", "silver", "quality", "gold"}
    assert scalar(warehouse, "select count(*) from processing_status where status <> 'completed'") == 0


def test_complete_mode_runs_every_layer_and_never_leaks_the_warehouse_password(
    airflow_home, warehouse_dsn, fake_api, warehouse, fixture_data
):
    """Complete mode from bronze, with a password-protected warehouse login; then grep all it wrote."""
    password = "pw-" + secrets.token_hex(12)
    role = "etl_" + secrets.token_hex(4)
    warehouse.execute(f"create role {role} login superuser password '{password}'")
    try:
        login = json.dumps(
            {**json.loads(warehouse_db.airflow_conn_json(warehouse_dsn)), "login": role, "password": password}
        )
        env = airflow_test_env(airflow_home, login, fake_api.base_url)
        result = dags_test(env, "elgoose_bronze", {"mode": "complete"})
        assert_ok(result)
        assert scalar(warehouse, "select count(*) from gold.song_stats") == len(goose_times_played(fixture_data))
        assert scalar(warehouse, "select count(*) from quality_checks where status = 'fail'") == 0
        written = [
            result.stdout,
            result.stderr,
            scalar(warehouse, "select string_agg(t::text, ' ') from processing_status t"),
            scalar(warehouse, "select string_agg(t::text, ' ') from quality_checks t"),
        ]
        written += [p.read_text(errors="replace") for p in airflow_home.rglob("*") if p.is_file() and p.suffix != ".db"]
        assert all(password not in text for text in written)
        # XCom lives in the metadata database (SQLite here): read it raw
        assert password.encode() not in (airflow_home / "airflow.db").read_bytes()
    finally:
        warehouse.execute(f"reassign owned by {role} to current_user")
        warehouse.execute(f"drop owned by {role}")
        warehouse.execute(f"drop role {role}")


@pytest.mark.parametrize(
    ("dag_id", "conf", "message"),
    [
        ("elgoose_silver", {"mode": "bronze_only"}, "names no layer of elgoose_silver"),
    ],
)
def test_bad_conf_is_refused_before_any_work(env, warehouse, dag_id, conf, message):
    result = dags_test(env, dag_id, conf, timeout=120)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert scalar(warehouse, "select count(*) from processing_status") == 0
