"""The Airflow UI in a real browser: headless Chromium (Debian's build) driven by Playwright.

The stack is started the way ``make airflow OFFLINE=1`` starts it (AirflowStack + launch_stack from
elgoose_local.stack, the fake ElGoose server in-process), on a fresh test warehouse and metadata
database. The test logs in, opens elgoose_bronze's trigger form, checks that ``mode`` is a drop-down
offering the four modes, triggers ``complete``, and checks in the grid that the run and its
downstream silver and gold runs succeeded. The grid is saved to test-output/airflow-grid.png
(docs/airflow-grid.png in the README is one such screenshot).

Selectors are roles, labels and visible text wherever the UI has them; the grid cells and run bars
have none, so their data-testid / href (``grid-<run_id>-<task_id>``, ``/dags/<dag>/runs/<run_id>/``)
are used, and the run bar's hover card (data-testid ``basic-tooltip``) gives the run state.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from helpers import airflow_test_env

from elgoose.dag_support import MODES
from elgoose.settings import PROJECT_ROOT as ROOT
from elgoose_local import databases as warehouse_db
from elgoose_local.stack import DAG_IDS, AirflowStack, launch_stack
from fake_elgoose import FakeElGoose, load_fixtures

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(600)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = ROOT / "test-output"
SCREENSHOT = OUTPUT / "airflow-grid.png"
RUN_TIMEOUT = 300  # seconds per DAG run; the whole complete chain takes about two minutes here
UI_TIMEOUT_MS = 30_000


def require_browser() -> None:
    """Skip, saying what to install, when Chromium or Playwright is missing; fail on CI, which can install it."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(
            "Debian's chromium package at /usr/bin/chromium (as root: `apt-get update && apt-get install -y "
            "chromium`, which `make browser` does; Playwright never downloads a browser here)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append(
            "the Python package playwright (`.venv/bin/pip install -r requirements-dev.txt -c constraints.txt`)"
        )
    if not missing:
        return
    message = "the browser test needs " + " and ".join(missing)
    could_install = os.geteuid() == 0 and shutil.which("apt-get")
    if os.environ.get("CI") and could_install:
        pytest.fail(f"{message}: on CI `make test` installs it (target `browser`)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def ui(browser, pg_server, pg_template, tmp_path_factory):
    """api-server, scheduler, dag-processor and triggerer as `make airflow OFFLINE=1` starts them."""
    warehouse_name = warehouse_db.create_database(pg_server, pg_template)
    metadata_name = warehouse_db.create_empty_database(pg_server, "airflow_meta")
    warehouse_dsn = warehouse_db.with_dbname(pg_server, warehouse_name)
    home = tmp_path_factory.mktemp("airflow-ui")
    try:
        with FakeElGoose(load_fixtures()) as api:
            env = airflow_test_env(
                home,
                warehouse_db.airflow_conn_json(warehouse_dsn),
                api.base_url,
                ELGOOSE_SENSOR_POKE_SECONDS="5",
                ELGOOSE_SENSOR_TIMEOUT_SECONDS="300",
            )
            stack = AirflowStack(
                home, warehouse_db.sqlalchemy_url(warehouse_db.with_dbname(pg_server, metadata_name)), env
            )
            try:
                started = time.monotonic()
                launch_stack(stack, log=print)
                print(f"stack up in {time.monotonic() - started:.1f}s on {stack.base_url}")
                yield stack
            finally:
                stack.stop()
    finally:
        for name in (warehouse_name, metadata_name):
            warehouse_db.drop_database(pg_server, name)


@pytest.fixture
def page(browser, ui):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=ui.base_url)
    tab = context.new_page()
    tab.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield tab
    finally:
        context.close()


def log_in(page, ui, path: str) -> None:
    """Open `path`, get sent to the SimpleAuthManager's login page, sign in, land back on `path`."""
    from playwright.sync_api import expect

    page.goto(path)
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.get_by_label("Username").fill(ui.user)
    page.get_by_label("Password").fill(ui.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("link", name="Dags")).to_be_visible()


def trigger_complete_from_the_form(page) -> str:
    """On elgoose_bronze's page: open the trigger form, check the mode drop-down, choose `complete`, trigger."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Trigger Dag").click()
    form = page.get_by_role("dialog")
    expect(form).to_contain_text("Trigger Dag - elgoose_bronze")
    mode = form.get_by_role("combobox", name="Mode")  # the enum Param renders as a select
    expect(mode).to_be_visible()
    expect(form.get_by_text("bronze_only: ElGoose API -> raw_data", exact=True)).to_be_visible()  # the default
    mode.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(len(MODES))
    offered = options.all_inner_texts()
    assert [label.split(":")[0] for label in offered] == list(MODES), offered
    page.get_by_role("option", name=re.compile(r"^complete: ")).click()
    expect(form.get_by_text("complete: this layer and every later one", exact=True)).to_be_visible()
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/v2/dags/elgoose_bronze/dagRuns")
    ) as posted:
        form.get_by_role("button", name="Trigger", exact=True).click()
    response = posted.value
    assert response.ok, response.text()
    assert response.request.post_data_json["conf"]["mode"] == "complete"
    run_id = response.json()["dag_run_id"]
    expect(page).to_have_url(re.compile(r"/dags/elgoose_bronze/runs/"))  # the UI opens the new run
    return run_id


def grid_shows_success(page, dag_id: str, run_id: str, task_ids: list[str]) -> None:
    """On the DAG's grid: the run's bar says `State: Success` on hover, and every task has its cell."""
    from playwright.sync_api import expect

    page.goto(f"/dags/{dag_id}/runs/{run_id}")
    bar = page.locator(f'a[href="/dags/{dag_id}/runs/{run_id}/"]')
    expect(bar).to_be_visible()
    for task_id in task_ids:
        expect(page.get_by_test_id(f"grid-{run_id}-{task_id}")).to_be_visible()
    bar.hover()
    card = page.get_by_test_id("basic-tooltip")
    expect(card).to_contain_text(f"Run ID: {run_id}")
    expect(card).to_contain_text("State: Success")
    page.mouse.move(0, 0)  # the hover card must not hide the grid in the screenshot
    expect(card).to_be_hidden()


def test_trigger_complete_from_the_form_and_watch_the_grid(page, ui):
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "airflow-grid-failure.png").unlink(missing_ok=True)
    started = time.monotonic()
    try:
        log_in(page, ui, "/dags/elgoose_bronze")
        run_id = trigger_complete_from_the_form(page)
        triggered = time.monotonic()
        runs = {"elgoose_bronze": run_id, "elgoose_silver": f"{run_id}__silver"}
        runs["elgoose_gold"] = f"{runs['elgoose_silver']}__gold"
        assert list(runs) == list(DAG_IDS)
        for dag_id, dag_run_id in runs.items():
            state = ui.wait_for_run(dag_id, dag_run_id, timeout=RUN_TIMEOUT)["state"]
            tasks = {t["task_id"]: t["state"] for t in ui.task_instances(dag_id, dag_run_id)}
            assert state == "success", (dag_id, tasks)
        finished = time.monotonic()
        for dag_id in ("elgoose_gold", "elgoose_silver", "elgoose_bronze"):  # bronze last: its grid is the picture
            # a task group (the start gate) is one row of the grid, folded: its id is the tasks' prefix
            rows = dict.fromkeys(t["task_id"].split(".")[0] for t in ui.task_instances(dag_id, runs[dag_id]))
            grid_shows_success(page, dag_id, runs[dag_id], list(rows))
        page.screenshot(path=str(SCREENSHOT))
    except BaseException:
        page.screenshot(path=str(OUTPUT / "airflow-grid-failure.png"))
        raise
    print(
        f"login + form {triggered - started:.1f}s, complete chain {finished - triggered:.1f}s, "
        f"grid checks {time.monotonic() - finished:.1f}s; screenshot {SCREENSHOT}"
    )
