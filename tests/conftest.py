"""Shared fixtures: a real PostgreSQL per test, the fake ElGoose server, fixture data."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import psycopg
import pytest
from helpers import ROOT

from elgoose_local import databases as warehouse_db
from fake_elgoose import FIXTURE_GOLDEN_RECORDS, FakeElGoose, load_fixtures

SNAPSHOT = ROOT.parent / "shared" / "elgoose" / "snapshot"
# Settings every test runs with: fast request retries, and the bundled fixtures' own golden records (the
# default ones describe the real data). Settings are read when used, so setting them here is enough.
TEST_SETTINGS = {
    "ELGOOSE_BACKOFF_INITIAL": "0.05",
    "ELGOOSE_BACKOFF_MAX": "0.2",
    "ELGOOSE_GOLDEN_RECORDS": str(FIXTURE_GOLDEN_RECORDS),
}


@pytest.fixture(scope="session", autouse=True)
def test_settings():
    with pytest.MonkeyPatch.context() as patch:
        for name, value in TEST_SETTINGS.items():
            if name not in os.environ:
                patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def pg_server() -> str:
    return warehouse_db.server_conninfo()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    return warehouse_db.template_database(pg_server)


@pytest.fixture
def warehouse_dsn(pg_server, pg_template):
    name = warehouse_db.create_database(pg_server, pg_template)
    dsn = warehouse_db.with_dbname(pg_server, name)
    yield dsn
    warehouse_db.drop_database(pg_server, name)


@pytest.fixture
def warehouse(warehouse_dsn):
    """An autocommit connection to a fresh, fully migrated warehouse."""
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def airflow_connections(warehouse_dsn, monkeypatch):
    """Point the Airflow connections at the test warehouse (the API one is set per test)."""
    monkeypatch.setenv("AIRFLOW_CONN_ELGOOSE_WAREHOUSE", warehouse_db.airflow_conn_json(warehouse_dsn))
    return warehouse_dsn


@pytest.fixture
def fixture_data() -> dict[str, list[dict]]:
    return load_fixtures()


@pytest.fixture
def fake_api(fixture_data, monkeypatch):
    """The fake ElGoose server on loopback serving the bundled fixtures; elgoose_api points at it."""
    with FakeElGoose(fixture_data) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_ELGOOSE_API", orjson.dumps({"conn_type": "http", "host": server.base_url}).decode()
        )
        yield server


@pytest.fixture
def snapshot_dir() -> Path:
    if not SNAPSHOT.is_dir():
        pytest.skip(f"the real ElGoose snapshot is not present at {SNAPSHOT} (it lives in ../shared, outside the repo)")
    return SNAPSHOT


# The Airflow UI stack (api-server, scheduler, dag-processor, triggerer), shared by the browser, Warehouse
# page and alert tests: started once, and those tests run last, together (see tests/airflow_ui_stack.py).
from airflow_ui_stack import browser, mail, page, ui, uses_the_stack  # noqa: E402, F401


def pytest_collection_modifyitems(config, items):
    shared = sorted((i for i in items if uses_the_stack(i)), key=lambda i: i.path.name != "test_browser.py")
    items[:] = [i for i in items if not uses_the_stack(i)] + shared
