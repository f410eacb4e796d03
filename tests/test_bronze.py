"""Bronze: every endpoint lands, dedup by content, and every HTTP fault ends in recovery or a clean failure.

Expected counts are computed here from the fixture JSON, never read back from the loader.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time

import orjson
import pytest

from elgoose.api_client import ElGooseClient, ElGooseError
from elgoose.bronze import pull_endpoint
from elgoose.endpoints import ENDPOINTS, METHODS


def distinct_records(rows: list[dict]) -> int:
    return len({orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in rows})


def bronze_count(conn, method: str) -> int:
    return conn.execute(f"select count(*) from raw_data.{method}").fetchone()[0]


def bronze_snapshot(conn, method: str) -> list[tuple]:
    return conn.execute(
        f"select id, external_id, content_hash, is_processed from raw_data.{method} order by id"
    ).fetchall()


def client(**overrides) -> ElGooseClient:
    overrides.setdefault("timeout", (2.0, 2.0))
    return ElGooseClient.from_connection(**overrides)


def pull_all(conn, run_id="run-1") -> dict:
    return {m: pull_endpoint(conn, m, client(), run_id=run_id) for m in METHODS}


def test_every_endpoint_lands_with_its_distinct_records(warehouse, fake_api, fixture_data):
    results = pull_all(warehouse)
    for method in METHODS:
        expected = distinct_records(fixture_data[method])
        assert expected > 0, f"fixture {method} is empty"
        assert bronze_count(warehouse, method) == expected, method
        assert results[method].fetched == len(fixture_data[method])
        assert results[method].new == expected
    unprocessed = warehouse.execute("select count(*) from raw_data.setlists where is_processed").fetchone()[0]
    assert unprocessed == 0, "fresh bronze rows must be is_processed = false"
    statuses = warehouse.execute(
        "select table_name, status, records_processed from processing_status where layer = 'bronze'"
    ).fetchall()
    assert {(t, s) for t, s, _ in statuses} == {(m, "completed") for m in METHODS}
    # the public views the operators' monitoring queries use
    recent = warehouse.execute(
        "select count(*) from raw_data_songs where created_at > now() - interval '1 hour'"
    ).fetchone()[0]
    assert recent == distinct_records(fixture_data["songs"])


def test_natural_keys_are_stored_as_text(warehouse, fake_api, fixture_data):
    pull_endpoint(warehouse, "setlists", client(), run_id="r")
    pull_endpoint(warehouse, "appearances", client(), run_id="r")
    keys = {r[0] for r in warehouse.execute("select external_id from raw_data.setlists")}
    assert keys == {str(r["uniqueid"]) for r in fixture_data["setlists"]}
    first = fixture_data["appearances"][0]
    expected = f"{first['show_id']}|{first['person_id']}|{first['appearance_type']}"
    assert warehouse.execute("select 1 from raw_data.appearances where external_id = %s", (expected,)).fetchone()


def test_second_pull_of_unchanged_data_writes_nothing(warehouse, fake_api, fixture_data):
    pull_all(warehouse, "run-1")
    before = {m: bronze_count(warehouse, m) for m in METHODS}
    again = pull_all(warehouse, "run-2")
    assert {m: bronze_count(warehouse, m) for m in METHODS} == before
    for method in METHODS:
        assert again[method].new == 0
        assert again[method].unchanged == distinct_records(fixture_data[method])


def test_a_changed_record_adds_exactly_one_version(warehouse, fake_api, fixture_data):
    pull_endpoint(warehouse, "setlists", client(), run_id="run-1")
    row = fake_api.data["setlists"][5]
    row["footnote"] = "Corrected after the show."
    result = pull_endpoint(warehouse, "setlists", client(), run_id="run-2")
    assert (result.new, result.unchanged) == (1, len(fixture_data["setlists"]) - 1)
    versions = warehouse.execute(
        "select run_id, data->>'footnote', is_processed from raw_data.setlists where external_id = %s order by id",
        (str(row["uniqueid"]),),
    ).fetchall()
    assert len(versions) == 2
    assert versions[-1] == ("run-2", "Corrected after the show.", False)


def test_duplicates_inside_one_response_collapse(warehouse, fake_api, fixture_data):
    rows = fixture_data["songs"]
    fake_api.set_rows("songs", rows + [copy.deepcopy(rows[0]), copy.deepcopy(rows[1])])
    result = pull_endpoint(warehouse, "songs", client(), run_id="r")
    assert result.fetched == len(rows) + 2
    assert result.duplicates_in_response == 2
    assert bronze_count(warehouse, "songs") == len(rows)


def test_key_order_does_not_make_a_new_version(warehouse, fake_api, fixture_data):
    pull_endpoint(warehouse, "venues", client(), run_id="r1")
    fake_api.set_rows("venues", [dict(reversed(list(r.items()))) for r in fixture_data["venues"]])
    assert pull_endpoint(warehouse, "venues", client(), run_id="r2").new == 0


def test_requests_send_a_descriptive_user_agent_and_a_large_limit(warehouse, fake_api):
    pull_endpoint(warehouse, "shows", client(), run_id="r")
    method, path, headers = fake_api.requests[-1]
    assert method == "shows" and "limit=1000000" in path
    user_agent = {k.lower(): v for k, v in headers.items()}["user-agent"]
    assert "elgoose" in user_agent.lower() and not user_agent.startswith("python-requests")


def test_the_airflow_connection_sets_the_url_and_the_session(warehouse, fake_api, monkeypatch):
    # the HTTP provider's hook reads host and extras: a header from the connection's extra reaches the server
    connection = {"conn_type": "http", "host": fake_api.base_url, "extra": {"X-Elgoose-Probe": "from-extra"}}
    monkeypatch.setenv("AIRFLOW_CONN_ELGOOSE_API", orjson.dumps(connection).decode())
    pull_endpoint(warehouse, "songs", client(), run_id="r")
    method, _, headers = fake_api.requests[-1]
    assert method == "songs" and {k.lower(): v for k, v in headers.items()}["x-elgoose-probe"] == "from-extra"


def test_a_load_in_a_plain_process_never_imports_airflow(warehouse_dsn, fake_api, fixture_data):
    # a one-shot load (ElGooseClient(base_url)) must not pay Airflow's seconds of imports
    script = (
        "import sys, psycopg\n"
        "from elgoose.api_client import ElGooseClient\n"
        "from elgoose.bronze import pull_endpoint\n"
        "from elgoose.layers import run_layer\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
        "    print(pull_endpoint(conn, 'venues', ElGooseClient(sys.argv[2]), run_id='plain').new)\n"
        "    run_layer(conn, 'silver', run_id='plain')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'airflow'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    done = subprocess.run(
        [sys.executable, "-c", script, warehouse_dsn, fake_api.base_url], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    new, airflow_modules = done.stdout.strip().splitlines()
    assert int(new) == distinct_records(fixture_data["venues"])
    assert airflow_modules == "[]"


def test_library_default_user_agent_is_refused_with_a_clear_error(warehouse, fake_api):
    with pytest.raises(ElGooseError, match="User-Agent"):
        pull_endpoint(warehouse, "shows", client(user_agent="python-requests/2.32"), run_id="r")
    assert bronze_count(warehouse, "shows") == 0


# --- faults: recovered where they should be -------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "kwargs"),
    [
        ("status", {"code": 503}),
        ("status", {"code": 500}),
        ("status", {"code": 502}),
        ("slow", {"seconds": 3}),
        ("stall", {"seconds": 3}),
        ("truncate", {}),
        ("reset", {}),
    ],
)
def test_transient_faults_are_retried_and_load_correct_data(warehouse, fake_api, fixture_data, fault, kwargs):
    fake_api.inject("setlists", fault, times=2, **kwargs)
    result = pull_endpoint(warehouse, "setlists", client(timeout=(2.0, 1.0), max_attempts=4), run_id="r")
    assert result.new == distinct_records(fixture_data["setlists"])
    assert bronze_count(warehouse, "setlists") == result.new
    assert len([r for r in fake_api.requests if r[0] == "setlists"]) == 3


def test_429_honours_retry_after(warehouse, fake_api, fixture_data):
    fake_api.inject("songs", "rate_limit", times=1, retry_after=2)
    started = time.monotonic()
    result = pull_endpoint(warehouse, "songs", client(backoff_initial=0.01, backoff_max=0.01), run_id="r")
    assert time.monotonic() - started >= 2.0, "the Retry-After of 2 s was not waited out"
    assert result.new == distinct_records(fixture_data["songs"])


# --- faults: a clean, named failure with that endpoint's bronze unchanged ---------------------


def _pull_existing_then_fail(warehouse, fake_api, method, fault, match, **kwargs):
    pull_endpoint(warehouse, method, client(), run_id="good")
    before = bronze_snapshot(warehouse, method)
    fake_api.data[method][0] = {**fake_api.data[method][0], "edited": "x"}  # something new would load
    fake_api.inject(method, fault, times=10, **kwargs)
    with pytest.raises(ElGooseError) as info:
        pull_endpoint(warehouse, method, client(max_attempts=3, timeout=(2.0, 1.0)), run_id="bad")
    assert match in str(info.value)
    assert bronze_snapshot(warehouse, method) == before, "a failed pull changed bronze"
    status = warehouse.execute(
        "select status, error_message from processing_status where run_id = 'bad' and table_name = %s", (method,)
    ).fetchone()
    assert status[0] == "failed" and match in status[1]
    return info.value


def test_5xx_burst_longer_than_the_retry_budget_fails_cleanly(warehouse, fake_api):
    _pull_existing_then_fail(warehouse, fake_api, "setlists", "status", "HTTP 503", code=503)


def test_html_page_with_http_200_is_refused_without_retry(warehouse, fake_api):
    _pull_existing_then_fail(warehouse, fake_api, "shows", "html", "did not return JSON")
    assert len([r for r in fake_api.requests if r[0] == "shows"]) == 2  # the good pull and one refused


@pytest.mark.parametrize("error_int", [False, True])
def test_error_envelope_is_refused(warehouse, fake_api, error_int):
    _pull_existing_then_fail(
        warehouse, fake_api, "venues", "error", "error envelope", error_int=error_int, message="Invalid column"
    )


def test_exactly_4000_rows_is_a_truncation(warehouse, fake_api):
    _pull_existing_then_fail(warehouse, fake_api, "setlists", "exact_cap", "exactly 4000 rows")


def test_empty_data_where_the_last_pull_had_rows_is_refused(warehouse, fake_api):
    _pull_existing_then_fail(warehouse, fake_api, "songs", "empty", "returned no rows")


def test_truncated_body_beyond_the_retry_budget_fails_cleanly(warehouse, fake_api):
    _pull_existing_then_fail(warehouse, fake_api, "setlists", "truncate", "setlists")


def test_one_failing_endpoint_does_not_stop_the_others(warehouse, fake_api, fixture_data):
    fake_api.inject("songs", "html", times=5)
    outcomes = {}
    for method in METHODS:
        try:
            pull_endpoint(warehouse, method, client(), run_id="r")
            outcomes[method] = "ok"
        except ElGooseError:
            outcomes[method] = "failed"
    assert outcomes["songs"] == "failed"
    assert all(outcomes[m] == "ok" for m in METHODS if m != "songs")
    assert bronze_count(warehouse, "setlists") == distinct_records(fixture_data["setlists"])


def test_snapshot_bronze_loads_every_distinct_record(warehouse, snapshot_dir, monkeypatch):
    from fake_elgoose import FakeElGoose, load_snapshot

    data = load_snapshot(snapshot_dir)
    with FakeElGoose(data) as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_ELGOOSE_API", orjson.dumps({"conn_type": "http", "host": server.base_url}).decode()
        )
        for method in METHODS:
            if not data[method]:
                continue
            result = pull_endpoint(warehouse, method, client(timeout=(5.0, 30.0)), run_id="snap")
            assert bronze_count(warehouse, method) == distinct_records(data[method]) == result.new, method
    # independently of load_snapshot: every uniqueid in the raw snapshot files
    setlists = set()
    for path in snapshot_dir.glob("setlists_*.json"):
        setlists |= {str(r["uniqueid"]) for r in orjson.loads(path.read_bytes().decode("utf-8-sig"))["data"]}
    stored = {r[0] for r in warehouse.execute("select external_id from raw_data.setlists")}
    assert stored == setlists
    assert ENDPOINTS["setlists"].key_fields == ("uniqueid",)
