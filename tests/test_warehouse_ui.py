"""The Warehouse page (elgoose/ui): what it shows, who may see it, and what its role may do.

- Its content, in-process against a real warehouse that real pulls and steps filled: the page's app is
  served by Starlette's test client with the login check replaced by a stand-in (the login itself is
  tested below against the real api-server). Expected numbers come from the fixture JSON.
- Its role ``elgoose_ui``: reads the four monitoring tables and nothing else, writes nothing.
- Against the shared Airflow stack (tests/airflow_ui_stack.py): every route answers 401/403 without a
  login; a table name the registry does not list is refused; and in headless Chromium, the Warehouse
  nav entry shows freshness, the table list and a failed step the test injected, and a run's view opens
  from the run's page. Screenshots go to test-output/ (docs/warehouse.png is one of them).
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import time

import psycopg
import pytest
import requests
from helpers import ROOT
from psycopg.conninfo import make_conninfo

from elgoose.bronze import finish_bronze_run
from elgoose.layers import run_gold, run_layer
from elgoose.quality import QualityGateFailed, run_quality_checks
from elgoose.registry import GOLD_STEPS, GOLD_TABLES, METHODS, SILVER_TABLES
from elgoose.ui.app import create_app
from elgoose.ui.database import ReadOnlyPool, configure_ui_role
from elgoose.ui.queries import all_tables
from fake_elgoose import FIXTURE_GOLDEN_RECORDS

OUTPUT = ROOT / "test-output"
GOLDEN_DATE = "2023-10-31"


# --- reading the page -----------------------------------------------------------------------------------------


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows_with(page: str, attribute: str) -> dict[str, str]:
    """``<tr data-<attribute>="key" ...>...</tr>`` of the page: key -> the first such row's HTML."""
    rows: dict[str, str] = {}
    for m in re.finditer(rf'<tr [^>]*data-{attribute}="([^"]*)"[^>]*>.*?</tr>', page, re.S):
        rows.setdefault(html.unescape(m.group(1)), m.group(0))
    return rows


def freshness_cards(page: str) -> dict[str, dict]:
    return {
        m.group(1): {"stale": m.group(2) == "true", "text": text_of(m.group(3))}
        for m in re.finditer(r'data-testid="freshness-(\w+)" data-stale="(true|false)">(.*?)</div>', page, re.S)
    }


def row_counts(page: str) -> dict[str, int | None]:
    return {
        name: (int(m.group(1)) if (m := re.search(r'data-rows="(\d*)"', row)) and m.group(1) else None)
        for name, row in rows_with(page, "table").items()
    }


def chart_bars(page: str) -> list[tuple[str, str]]:
    """(series, title) of every bar of the runs chart (the legend's squares have no title)."""
    return [
        (m.group(1), html.unescape(m.group(2)))
        for m in re.finditer(r'<rect class="bar bar-(\w+)"[^>]*><title>(.*?)</title></rect>', page, re.S)
    ]


def chart_value(page: str, run_key: str, series: str) -> int:
    values = [
        int(re.search(r": ([\d,]+) ", title).group(1).replace(",", ""))
        for bar_series, title in chart_bars(page)
        if bar_series == series and title.startswith(f"{run_key} (")
    ]
    assert len(values) == 1, (run_key, series, chart_bars(page))
    return values[0]


# --- the page's content, in-process -----------------------------------------------------------------------------


def ui_conninfo(dsn: str) -> str:
    return make_conninfo(dsn, user="elgoose_ui")


@pytest.fixture
def served(fixture_data):
    """What the fake server serves on the first run: the fixtures plus two setlist rows silver cannot type."""
    data = copy.deepcopy(fixture_data)
    template = data["setlists"][0]
    data["setlists"] += [
        {**template, "uniqueid": "99001", "showdate": "2023-02-30"},
        {**template, "uniqueid": "99002", "position": "first"},
    ]
    return data


def pull_all(conn, fake_api, data: dict, run_id: str) -> None:
    from elgoose.api_client import ElGooseClient
    from elgoose.bronze import pull_endpoint

    for method in METHODS:
        fake_api.set_rows(method, data[method])
        pull_endpoint(conn, method, ElGooseClient.from_connection(timeout=(2.0, 5.0)), run_id=run_id)
    finish_bronze_run(conn, run_id)


def flush_statistics(conn: psycopg.Connection) -> None:
    """This session's row counts reach pg_stat_user_tables at its next transaction end (else within ~10 s)."""
    conn.execute("select pg_stat_force_next_flush()")
    conn.execute("select 1")


@pytest.fixture
def two_runs(warehouse, warehouse_dsn, fake_api, served, fixture_data, tmp_path, monkeypatch):
    """Run A: complete chain on ``served``. Run B: the fixtures less one setlist row (an upstream deletion),
    bronze and silver, then quality gates that fail on a golden record the test broke."""
    pull_all(warehouse, fake_api, served, "manual__A")
    run_layer(warehouse, "silver", run_id="manual__A__silver")
    run_quality_checks(warehouse, run_id="manual__A__silver")
    run_gold(warehouse, run_id="manual__A__silver__gold")

    second = copy.deepcopy(fixture_data)
    gone = next(r for r in second["setlists"] if r["showdate"] != GOLDEN_DATE)
    second["setlists"].remove(gone)
    pull_all(warehouse, fake_api, second, "manual__B")
    run_layer(warehouse, "silver", run_id="manual__B__silver")
    golden = json.loads((FIXTURE_GOLDEN_RECORDS).read_text())
    golden[0]["setlist_rows"] += 1
    broken = tmp_path / "golden.json"
    broken.write_text(json.dumps(golden))
    monkeypatch.setenv("ELGOOSE_GOLDEN_RECORDS", str(broken))
    with pytest.raises(QualityGateFailed):
        run_quality_checks(warehouse, run_id="manual__B__silver")
    flush_statistics(warehouse)
    return {"served": served, "second": second, "gone": gone, "golden": golden[0]}


@pytest.fixture
def client(warehouse_dsn):
    from fastapi.testclient import TestClient

    pool = ReadOnlyPool(lambda: ui_conninfo(warehouse_dsn))
    # A stand-in for Airflow's login check, which needs a running api-server: tested there, below.
    with TestClient(create_app(pool, reader_dependency=lambda: None)) as test_client:
        yield test_client
    pool.close()


def test_overview_drill_downs_and_run_view(two_runs, client, monkeypatch):
    served, second = two_runs["served"], two_runs["second"]
    response = client.get("/")
    assert response.status_code == 200, response.text
    page = response.text

    cards = freshness_cards(page)
    assert list(cards) == ["bronze", "silver", "gold"]
    assert not any(card["stale"] for card in cards.values())
    assert "manual__B" in cards["bronze"]["text"] and "manual__B__silver" in cards["silver"]["text"]
    assert "manual__A__silver__gold" in cards["gold"]["text"]  # run B built no gold

    counts = row_counts(page)
    assert list(counts) == [t.qualified_name for t in all_tables()]
    for method in METHODS:  # every served record is one bronze version; run B served nothing new
        assert counts[f"raw_data.{method}"] == len(served[method]), method
    assert counts["silver.setlists"] == len(second["setlists"])  # the two bad rows quarantined, one deleted
    assert counts["silver.venues"] == len(served["venues"])
    assert all(counts[f"gold.{t}"] is not None and counts[f"gold.{t}"] > 0 for t in GOLD_TABLES)

    fetched_a = sum(len(served[m]) for m in METHODS)
    fetched_b = sum(len(second[m]) for m in METHODS)
    assert chart_value(page, "manual__A", "fetched") == fetched_a
    assert chart_value(page, "manual__B", "fetched") == fetched_b
    assert chart_value(page, "manual__B", "new") == 0
    assert chart_value(page, "manual__B", "updated") == 0
    assert chart_value(page, "manual__B", "deleted") == 1

    golden_rows = sum(1 for r in second["setlists"] if r["showdate"] == GOLDEN_DATE and int(r["artist_id"]) == 1)
    gates = rows_with(page, "check")
    failed_gate = gates[f"golden:{GOLDEN_DATE}"]
    assert 'data-status="fail"' in failed_gate
    assert str(golden_rows) in text_of(failed_gate) and f"{two_runs['golden']['setlist_rows']} rows" in text_of(
        failed_gate
    )

    steps = rows_with(page, "step")
    assert 'data-status="failed"' in steps["quality.silver_checks"]  # the newest quality step
    assert "QualityGateFailed" in text_of(steps["quality.silver_checks"])
    assert len(re.findall(r'<tr class="status-', page.split('data-testid="steps"')[1])) == 50

    rejects = text_of(page.split('data-testid="rejects-summary"')[1].split("</table>")[0])
    assert "setlists 2" in rejects
    deletions = text_of(page.split('data-testid="deletions-summary"')[1].split("</table>")[0])
    assert "setlists 1" in deletions

    # The drill-down to one table's rejects and deletions.
    page = client.get("/rejects/setlists")
    assert page.status_code == 200
    body = text_of(page.text)
    assert "99001" in body and "99002" in body
    assert re.search(r"99001 showdate", body) and re.search(r"99002 position", body)
    deleted = client.get("/deletions/setlists")
    assert deleted.status_code == 200
    assert f"<td>{two_runs['gone']['uniqueid']}</td>" in deleted.text
    assert "nothing quarantined from venues" in text_of(client.get("/rejects/venues").text)

    # What one run, and the runs its complete mode triggered, did.
    page = client.get("/run", params={"dag_id": "elgoose_bronze", "run_id": "manual__A"})
    assert page.status_code == 200
    steps = re.findall(r'<tr class="status-(\w+)" data-step="([\w.]+)"', page.text)
    expected = (
        [f"bronze.{m}" for m in METHODS]
        + ["bronze.bronze_finished"]
        + [f"silver.{t}" for t in SILVER_TABLES]
        + ["quality.silver_checks"]
        + [f"gold.{s}" for s in GOLD_STEPS]
    )
    assert [step for _, step in steps] == expected
    assert {status for status, _ in steps} == {"completed"}
    other = client.get("/run", params={"dag_id": "elgoose_bronze", "run_id": "manual__B"})
    assert "quality.silver_checks" in other.text and "gold.publish" not in other.text

    monkeypatch.setenv("ELGOOSE_UI_STALE_AFTER_HOURS", "0.00001")  # 36 ms: everything is old now
    time.sleep(0.1)
    assert all(card["stale"] for card in freshness_cards(client.get("/").text).values())


REFUSED = [
    "/rejects/not_a_table",
    "/rejects/pg_authid",
    "/rejects/setlists;%20drop%20table%20silver.setlists",
    "/deletions/..%2F..%2Fetc%2Fpasswd",
    "/deletions/SETLISTS",
    "/static/..%2Fapp.py",
    "/static/warehouse.html",
]


def test_names_the_registry_does_not_list_are_refused():
    """Refused before any query: the pool here cannot even connect (a name that got through would 503)."""
    from fastapi.testclient import TestClient

    def no_database() -> str:
        raise AssertionError("a refused name reached the database")

    client = TestClient(create_app(ReadOnlyPool(no_database), reader_dependency=lambda: None))
    answers = {path: client.get(path).status_code for path in REFUSED}
    assert answers == dict.fromkeys(REFUSED, 404)


# --- the role elgoose_ui --------------------------------------------------------------------------------


FORBIDDEN = [
    "insert into public.processing_status (table_name, layer, status) values ('x', 'gold', 'failed')",
    "update public.quality_checks set status = 'pass'",
    "delete from silver.rejects",
    "truncate silver.deletions",
    "create table public.ui_was_here (x int)",
    "create table silver.ui_was_here (x int)",
    "select * from silver.setlists limit 1",
    "select * from raw_data.setlists limit 1",
    "select * from gold.song_stats limit 1",
    "select * from public.schema_migrations limit 1",
    "set default_transaction_read_only = off; delete from public.processing_status",
    "set role postgres",
]


def test_ui_role_cannot_write_or_read_the_data(warehouse, warehouse_dsn, fixture_data):
    from helpers import load_bronze

    load_bronze(warehouse, fixture_data)
    run_layer(warehouse, "silver")
    run_gold(warehouse)
    pool = ReadOnlyPool(lambda: ui_conninfo(warehouse_dsn))
    allowed = []
    with pool.connection() as conn:
        assert conn.execute("select current_user").fetchone()["current_user"] == "elgoose_ui"
        for statement in FORBIDDEN:
            try:
                for part in statement.split(";"):
                    conn.execute(part)
                allowed.append(statement)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction):
                pass
            conn.execute("reset default_transaction_read_only")
    pool.close()
    assert allowed == [], "the Warehouse page's role may do this"


def test_ui_role_reads_what_the_page_needs(warehouse, warehouse_dsn):
    pool = ReadOnlyPool(lambda: ui_conninfo(warehouse_dsn))
    with pool.connection() as conn:
        for table in ("public.processing_status", "public.quality_checks", "silver.rejects", "silver.deletions"):
            conn.execute(f"select count(*) from {table}").fetchone()
        assert conn.execute("show default_transaction_read_only").fetchone()["default_transaction_read_only"] == "on"
    pool.close()


def test_ui_password_comes_from_configuration_as_a_scram_verifier(warehouse, monkeypatch):
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv("ELGOOSE_UI_PASSWORD", password)
    assert configure_ui_role(warehouse)
    login, stored = warehouse.execute(
        "select rolcanlogin, rolpassword from pg_authid where rolname = 'elgoose_ui'"
    ).fetchone()
    assert login and stored.startswith("SCRAM-SHA-256$") and password not in stored


# --- against the real api-server --------------------------------------------------------------------------------

PREFIX = "/elgoose-warehouse"


def plugin_urls() -> list[str]:
    """One URL per route of the app (path parameters filled with valid values)."""
    app = create_app(ReadOnlyPool(lambda: ""), reader_dependency=lambda: None)
    fill = {
        "/": "/",
        "/run": "/run?dag_id=elgoose_bronze&run_id=manual__x",
        "/rejects/{name}": "/rejects/setlists",
        "/deletions/{name}": "/deletions/setlists",
        "/static/{name}": "/static/warehouse.css",
    }
    paths = [route.path for route in app.routes]
    assert sorted(paths) == sorted(fill), "a new route needs its place in this authentication test"
    return [PREFIX + fill[p] for p in paths] + [f"{PREFIX}/static/warehouse.js", f"{PREFIX}/static/warehouse.svg"]


def test_every_plugin_route_needs_an_airflow_login(ui):
    expired = ui.token()  # a real token of this api-server, made invalid by one changed character
    forged = expired[:-2] + ("A" if expired[-2] != "A" else "B") + expired[-1]
    for url in plugin_urls():
        anonymous = requests.get(ui.base_url + url, timeout=30, allow_redirects=False)
        assert anonymous.status_code == 401, (url, anonymous.status_code, anonymous.text[:200])
        bad_cookie = requests.get(ui.base_url + url, cookies={"_token": forged}, timeout=30, allow_redirects=False)
        assert bad_cookie.status_code in (401, 403), (url, bad_cookie.status_code)
        bad_bearer = requests.get(
            ui.base_url + url, headers={"Authorization": f"Bearer {forged}"}, timeout=30, allow_redirects=False
        )
        assert bad_bearer.status_code in (401, 403), (url, bad_bearer.status_code)
        assert "warehouse" not in anonymous.text.lower() or "not authenticated" in anonymous.text.lower()
        logged_in = requests.get(ui.base_url + url, headers={"Authorization": f"Bearer {ui.token()}"}, timeout=30)
        assert logged_in.status_code == 200, (url, logged_in.status_code, logged_in.text[:300])


def test_the_api_server_refuses_a_table_the_registry_does_not_list(ui):
    headers = {"Authorization": f"Bearer {ui.token()}"}
    refused = requests.get(f"{ui.base_url}{PREFIX}/rejects/pg_authid", headers=headers, timeout=30)
    assert refused.status_code == 404 and "no silver table" in refused.text
    assert requests.get(f"{ui.base_url}{PREFIX}/rejects/setlists", headers=headers, timeout=30).status_code == 200


# --- in the browser -------------------------------------------------------------------------------------------


def inject_failed_step(ui, marker: str) -> None:
    with psycopg.connect(ui.warehouse_dsn, autocommit=True) as conn:
        conn.execute(
            """insert into public.processing_status
                   (table_name, layer, status, run_id, started_at, completed_at, duration_seconds, error_message)
               values ('venues', 'silver', 'failed', 'manual__injected_by_test', now(), now(), 0.5, %s)""",
            (f"InjectedFailure: {marker} (a failed step the browser test wrote)",),
        )


def test_warehouse_page_in_the_browser(page, ui, fixture_data):
    from airflow_ui_stack import ensure_complete_run, log_in
    from playwright.sync_api import expect

    OUTPUT.mkdir(exist_ok=True)
    run_id = ensure_complete_run(ui)
    marker = secrets.token_hex(6)
    inject_failed_step(ui, marker)
    try:
        log_in(page, ui, "/dags/elgoose_bronze")
        page.get_by_role("link", name="Warehouse").first.click()
        expect(page).to_have_url(re.compile(r"/plugin/warehouse"))
        frame = page.frame_locator('iframe[title="Warehouse"]')
        for layer in ("bronze", "silver", "gold"):
            card = frame.get_by_test_id(f"freshness-{layer}")
            expect(card).to_be_visible()
            expect(card).to_have_attribute("data-stale", "false")
        tables = frame.get_by_test_id("tables")
        expect(tables.locator("tbody tr")).to_have_count(len(all_tables()))
        for method in METHODS:
            expect(tables.locator(f'tr[data-table="raw_data.{method}"] td[data-rows]')).to_have_attribute(
                "data-rows", str(len(fixture_data[method]))
            )
        failed = frame.locator('tr[data-status="failed"]', has_text=marker)
        expect(failed).to_have_count(1)
        expect(failed).to_have_class(re.compile("status-failed"))
        expect(frame.get_by_test_id("runs-chart")).to_be_visible()
        page.screenshot(path=str(OUTPUT / "warehouse.png"), full_page=False)

        page.goto(f"/dags/elgoose_bronze/runs/{run_id}")
        page.locator('a[href$="/plugin/warehouse-run"]').click()  # the run page's Warehouse tab
        run_frame = page.frame_locator('iframe[title="Warehouse"]')
        expect(run_frame.get_by_role("heading", name=f"What run {run_id} did in the warehouse")).to_be_visible()
        steps = run_frame.get_by_test_id("steps").locator("tbody tr")
        expect(steps.filter(has_text="publish")).to_have_count(1)
        expect(run_frame.locator('tr[data-step="bronze.setlists"]')).to_have_count(1)
        expect(run_frame.locator('tr[data-step="gold.publish"][data-status="completed"]')).to_have_count(1)
        page.screenshot(path=str(OUTPUT / "warehouse-run.png"), full_page=False)
    except BaseException:
        page.screenshot(path=str(OUTPUT / "warehouse-failure.png"))
        raise
    finally:
        with psycopg.connect(ui.warehouse_dsn, autocommit=True) as conn:
            conn.execute("delete from public.processing_status where run_id = 'manual__injected_by_test'")
