"""Security: the chatbot's role reads gold and nothing else; credentials never reach logs or status rows."""

from __future__ import annotations

import json
import secrets

import psycopg
import pytest
import warehouse_db
from airflow_env import airflow_env, dags_test, migrate_metadata
from helpers import load_bronze, scalar

from elgoose.gold import run_gold
from elgoose.layers import run_silver
from elgoose.warehouse import migrate


@pytest.fixture
def built(warehouse, fixture_data):
    load_bronze(warehouse, fixture_data)
    run_silver(warehouse)
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


@pytest.mark.airflow
def test_the_warehouse_password_never_reaches_logs_xcom_or_status(tmp_path, pg_server, warehouse_dsn, fake_api):
    """A full complete-mode run with a password-protected warehouse login; then grep everything it wrote."""
    password = "pw-" + secrets.token_hex(12)
    role = "etl_" + secrets.token_hex(4)
    with psycopg.connect(warehouse_dsn, autocommit=True) as admin:
        admin.execute(f"create role {role} login superuser password '{password}'")
    try:
        info = json.loads(warehouse_db.airflow_conn_json(warehouse_dsn))
        conn = json.dumps({**info, "login": role, "password": password})
        home = tmp_path / "airflow"
        migrate_metadata(home)
        result = dags_test(airflow_env(home, conn, fake_api.base_url), "elgoose_bronze", {"mode": "complete"})
        assert result.returncode == 0, result.stdout[-3000:]
        with psycopg.connect(warehouse_dsn, autocommit=True) as check:
            assert scalar(check, "select count(*) from gold.song_stats") > 0
            status_text = scalar(check, "select string_agg(t::text, ' ') from processing_status t")
            quality_text = scalar(check, "select string_agg(t::text, ' ') from quality_checks t")
        written = [result.stdout, result.stderr, status_text or "", quality_text or ""]
        written += [p.read_text(errors="replace") for p in home.rglob("*") if p.is_file() and p.suffix != ".db"]
        assert all(password not in text for text in written)
        # XCom lives in the metadata database (SQLite here): read it raw
        assert password.encode() not in (home / "airflow.db").read_bytes()
    finally:
        with psycopg.connect(warehouse_dsn, autocommit=True) as admin:
            admin.execute(f"reassign owned by {role} to current_user")
            admin.execute(f"drop owned by {role}")
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f"drop role if exists {role}")
