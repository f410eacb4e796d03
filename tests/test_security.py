"""Security: the chatbot's role reads gold and nothing else; credentials never reach logs or status rows."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from helpers import load_bronze

from elgoose.layers import run_gold, run_layer
from elgoose.migrations import migrate


@pytest.fixture
def built(warehouse, fixture_data):
    load_bronze(warehouse, fixture_data)
    run_layer(warehouse, "silver")
    run_gold(warehouse)
    return warehouse


def as_chatbot(conn: psycopg.Connection, query: str):
    with conn.transaction():
        conn.execute("set local role elgoose_chatbot")
        return conn.execute(query).fetchall()


def test_chatbot_role_reads_gold_and_its_helpers(built):
    assert as_chatbot(built, "select count(*) from gold.song_stats")[0][0] > 0
    assert as_chatbot(built, "select song_name from gold.find_song('copper sky')") == [("Copper Sky",)]
    assert as_chatbot(built, "select count(*) from gold.on_this_day(6, 17)")[0][0] == 2
    assert as_chatbot(built, "select count(*) from gold.top_songs")[0][0] > 0


@pytest.mark.parametrize(
    "query",
    [
        "select * from raw_data.setlists limit 1",
        "select * from raw_data_setlists limit 1",
        "select * from silver.setlists limit 1",
        "select * from processing_status limit 1",
        "select * from quality_checks limit 1",
        "delete from gold.song_stats",
        "insert into gold.segues (from_song_name, to_song_name, times) values ('a', 'b', 1)",
        "update gold.show_summary set venue_name = 'x'",
        "create table gold.mine (x int)",
        "create table public.mine (x int)",
        "drop table gold.song_stats",
    ],
)
def test_chatbot_role_cannot_read_other_layers_or_write_anything(built, query):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_chatbot(built, query)


def test_chatbot_password_comes_from_configuration_as_a_scram_verifier(warehouse, monkeypatch):
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv("ELGOOSE_CHATBOT_PASSWORD", password)
    migrate(warehouse)
    login, stored = warehouse.execute(
        "select rolcanlogin, rolpassword from pg_authid where rolname = 'elgoose_chatbot'"
    ).fetchone()
    assert login and stored.startswith("SCRAM-SHA-256$") and password not in stored


def test_http_endpoints_the_project_adds_bind_to_loopback_by_default(tmp_path):
    """The fake ElGoose server and the local Airflow api-server (which serves the Warehouse page, the only
    plugin app) listen on 127.0.0.1 unless told otherwise."""
    from pathlib import Path

    from helpers import ROOT as root

    from elgoose_local.stack import AirflowStack
    from fake_elgoose import FakeElGoose

    with FakeElGoose({}) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
    assert 'default="127.0.0.1"' in (root / "fake_elgoose" / "__main__.py").read_text()
    stack = AirflowStack(tmp_path, "sqlite://", {})
    assert stack.env["AIRFLOW__API__HOST"] == "127.0.0.1"
    # Its routes' authentication is tested against the real api-server: tests/test_warehouse_ui.py.
    plugins = [p.relative_to(root) for p in (root / "elgoose").rglob("*.py") if "fastapi_apps = " in p.read_text()]
    assert plugins == [Path("elgoose/ui/plugin.py")], "a new plugin route needs its own authentication test"
