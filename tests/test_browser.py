"""The Airflow UI in a real browser: headless Chromium (Debian's build) driven by Playwright.

The stack is started the way ``make airflow OFFLINE=1`` starts it (tests/airflow_ui_stack.py, shared
with the Warehouse page and alert tests), on a fresh test warehouse and metadata database. The test
logs in, opens elgoose_bronze's trigger form, checks that ``mode`` is a drop-down offering the four
modes, triggers ``complete``, and checks in the grid that the run and its downstream silver and gold
runs succeeded. The grid is saved to test-output/airflow-grid.png (docs/airflow-grid.png in the README
is one such screenshot).

Selectors are roles, labels and visible text wherever the UI has them; the grid cells and run bars
have none, so their data-testid / href (``grid-<run_id>-<task_id>``, ``/dags/<dag>/runs/<run_id>/``)
are used, and the run bar's hover card (data-testid ``basic-tooltip``) gives the run state.
"""

from __future__ import annotations

import re
import time

import pytest
from airflow_ui_stack import log_in
from helpers import ROOT

from elgoose.dag_support import MODES
from elgoose_local.stack import DAG_IDS

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(600)]

OUTPUT = ROOT / "test-output"
SCREENSHOT = OUTPUT / "airflow-grid.png"
RUN_TIMEOUT = 300  # seconds per DAG run; the whole complete chain takes about two minutes here


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
