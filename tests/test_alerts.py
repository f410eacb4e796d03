"""Alerts by mail (elgoose/alerts.py), proven with Airflow's real components and a real SMTP server.

On the shared stack (tests/airflow_ui_stack.py), whose ``elgoose_alerts`` connection points at an aiosmtpd
server on loopback:

- a task that fails for good (the quality gates, on a golden record the test broke) yields exactly one
  mail, naming the DAG and the task, the error line, the link to the task's log and the rows its step had
  processed;
- a gold run that misses its deadline (``elgoose_gold``'s DeadlineAlert: logical date + the time to 04:00
  UTC) yields exactly one mail, sent by the triggerer.

Expected values come from the fixture JSON and the warehouse, never from the alert code.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import psycopg
import pytest
import requests

from elgoose.alerts import error_line, gold_deadline, gold_deadline_alert, parsed_by_dags_test, step_of

GOLDEN_DATE = "2023-10-31"
MAIL_TIMEOUT = 240  # seconds: a silver run under the scheduler, then the callback
SETTLE = 15  # seconds to wait after the first mail for any duplicate


# --- the pieces, without Airflow -------------------------------------------------------------------------


def test_error_line_is_the_type_and_first_line_of_the_message():
    assert error_line(ValueError("first line\nsecond line")) == "ValueError: first line"
    assert error_line(RuntimeError()) == "RuntimeError"
    assert error_line("Task failed with exception\ndetails") == "Task failed with exception"
    assert len(error_line(ValueError("x" * 2000))) == 500
    assert error_line(None).startswith("no exception was recorded")


@pytest.mark.parametrize(
    ("setting", "interval"),
    [(None, timedelta(hours=1)), ("04:30", timedelta(hours=1, minutes=30)), ("02:00", timedelta(hours=23))],
)
def test_gold_deadline_counts_from_golds_schedule(monkeypatch, setting, interval):
    if setting is None:
        monkeypatch.delenv("ELGOOSE_GOLD_DEADLINE", raising=False)
    else:
        monkeypatch.setenv("ELGOOSE_GOLD_DEADLINE", setting)
    assert gold_deadline("0 3 * * *")[1] == interval


@pytest.mark.parametrize("setting", ["03:00", "25:00", "4am", "04:60"])
def test_a_deadline_setting_that_makes_no_sense_is_refused(monkeypatch, setting):
    monkeypatch.setenv("ELGOOSE_GOLD_DEADLINE", setting)
    with pytest.raises(ValueError, match="ELGOOSE_GOLD_DEADLINE"):
        gold_deadline("0 3 * * *")


def test_gold_has_a_deadline_alert_except_under_dags_test(monkeypatch):
    monkeypatch.delenv("ELGOOSE_GOLD_DEADLINE", raising=False)
    alert = gold_deadline_alert("0 3 * * *")
    assert alert.interval == timedelta(hours=1)
    assert alert.callback.path == "elgoose.alerts.gold_not_published"
    assert alert.callback.kwargs == {"deadline_utc": "04:00"}
    assert type(alert.reference).__name__ == "DagRunLogicalDateDeadline"
    assert parsed_by_dags_test(["/opt/venv/bin/airflow", "dags", "test", "elgoose_gold"])
    assert parsed_by_dags_test(["/opt/venv/lib/python3.11/site-packages/airflow/__main__.py", "dags", "test", "x"])
    assert not parsed_by_dags_test(["/opt/venv/bin/airflow", "dag-processor"])
    assert not parsed_by_dags_test(["/opt/venv/bin/airflow", "dags", "trigger", "elgoose_gold"])
    monkeypatch.setattr("sys.argv", ["/opt/venv/bin/airflow", "dags", "test", "elgoose_gold"])
    assert gold_deadline_alert("0 3 * * *") is None


def test_each_task_finds_its_processing_status_step():
    from elgoose.operators import LayerSQLOperator

    assert step_of("pull_setlists") == ("bronze", ("setlists",))
    assert step_of("quality_gates") == ("quality", ("silver_checks",))
    publish = LayerSQLOperator(layer="gold", name="chatbot", then=("publish",))
    assert step_of("publish", publish) == ("gold", ("chatbot", "publish"))
    assert step_of("validate_run") is None


# --- against Airflow ----------------------------------------------------------------------------------


def mails_about(ui, needle: str, timeout: float = MAIL_TIMEOUT) -> list:
    """Every mail that mentions ``needle`` (a run id), waiting for the first and then for any duplicate."""
    return ui.mail.wait_for(needle, timeout=timeout, settle=SETTLE)


def test_a_task_that_fails_for_good_mails_once_with_what_happened(ui, fixture_data):
    from airflow_ui_stack import ALERT_RECIPIENT, ensure_complete_run, mail_text

    ensure_complete_run(ui)
    original = ui.golden_records.read_text()
    golden = json.loads(original)
    golden[0]["setlist_rows"] += 1  # the quality gate now fails, after every other silver step succeeded
    ui.golden_records.write_text(json.dumps(golden))
    try:
        run_id = ui.trigger("elgoose_silver", {"mode": "silver_only"})
        assert ui.wait_for_run("elgoose_silver", run_id, timeout=MAIL_TIMEOUT)["state"] == "failed"
    finally:
        ui.golden_records.write_text(original)
    failed = {t["task_id"] for t in ui.task_instances("elgoose_silver", run_id) if t["state"] == "failed"}
    assert failed == {"quality_gates"}

    mails = mails_about(ui, run_id)
    assert [str(m["Subject"]) for m in mails] == [f"[ElGoose] elgoose_silver.quality_gates failed (run {run_id})"]
    mail = mails[0]
    assert mail["X-Envelope-To"] == ALERT_RECIPIENT
    text = mail_text(mail)
    observed = sum(1 for r in fixture_data["setlists"] if r["showdate"] == GOLDEN_DATE and int(r["artist_id"]) == 1)
    with psycopg.connect(ui.warehouse_dsn) as conn:
        checks = conn.execute("select count(*) from public.quality_checks where run_id = %s", (run_id,)).fetchone()[0]
    assert checks > 0
    assert "DAG elgoose_silver" in text and "task quality_gates" in text and f"run {run_id}" in text
    assert (
        "error QualityGateFailed: data-quality gate failed, gold is not refreshed: "
        f"golden:{GOLDEN_DATE} observed {observed}, expected {golden[0]['setlist_rows']} rows" in text
    )
    assert f"rows processed processed {checks} (processing_status id" in text and "status failed" in text
    log_url = f"{ui.base_url}/dags/elgoose_silver/runs/{quote(run_id)}/tasks/quality_gates?try_number=1"
    assert f"log {log_url}" in text
    assert f"href='{log_url}'" in mail.get_body(("html",)).get_content().replace('"', "'")
    assert requests.get(log_url, timeout=30).status_code == 200  # the UI's page of that task's log


def test_gold_missing_its_deadline_mails_once(ui):
    from airflow_ui_stack import ensure_complete_run, mail_text

    chain = ensure_complete_run(ui)
    ui.api("PATCH", "/dags/elgoose_gold", json={"is_paused": True}).raise_for_status()
    logical = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    run_id = None
    try:
        # Paused, the run stays queued: gold is not published by logical date + 1 h, which has passed.
        run_id = ui.trigger("elgoose_gold", {"mode": "gold_only"}, logical_date=logical.isoformat())
        mails = mails_about(ui, run_id)
    finally:
        if run_id:
            ui.api("PATCH", f"/dags/elgoose_gold/dagRuns/{run_id}", json={"state": "failed"}).raise_for_status()
        ui.api("PATCH", "/dags/elgoose_gold", json={"is_paused": False}).raise_for_status()
    assert [str(m["Subject"]) for m in mails] == [
        f"[ElGoose] gold not published by 04:00 UTC on {logical.date().isoformat()}"
    ]
    text = mail_text(mails[0])
    with psycopg.connect(ui.warehouse_dsn) as conn:
        published_at, published_by = conn.execute(
            "select completed_at, run_id from public.processing_status "
            "where layer = 'gold' and table_name = 'publish' and status = 'completed' order by id desc limit 1"
        ).fetchone()
    assert published_by == f"{chain}__silver__gold"
    assert f"run {run_id}" in text and "run state queued" in text
    assert f"gold last published {published_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC by run {published_by}" in text
    assert f"{ui.base_url}/dags/elgoose_gold/runs/{run_id}" in text
