"""Alerts by mail: a task of the three DAGs failed, or gold was not published by its deadline.

Both go through Airflow's notifier mechanism with the smtp provider's ``SmtpNotifier``, configured by one
Airflow connection, ``elgoose_alerts`` (conn type ``smtp``: host, port, login, password; extra ``to``,
the recipients, comma-separated, and ``from_email``, plus the provider's own extras such as
``disable_tls``). Without that connection, alerts are off: the callbacks log one line and send nothing.

- ``task_failed`` is every task's ``on_failure_callback`` (``dag_support.DEFAULT_ARGS``). Airflow calls it
  in the task's process once the task has failed for good: after its last retry, never on a retry. The
  mail names the DAG and the task, the error line, the link to the task's log, and the rows the step had
  processed, read from its ``processing_status`` row.
- ``gold_deadline_alert`` is ``elgoose_gold``'s ``DeadlineAlert`` (Airflow 3.3's deadline alerts,
  ``airflow.sdk.definitions.deadline``): the deadline is the run's logical date (its 03:00 UTC schedule)
  plus the time to the setting ``ELGOOSE_GOLD_DEADLINE`` (default ``04:00`` UTC). The scheduler marks a
  scheduled run that has not succeeded by then as missed, once, and the triggerer runs
  ``gold_not_published``, which mails unless a publish did complete within that window. A run that
  succeeds in time removes its deadline; one per scheduled run means one alert per day.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elgoose.settings import WAREHOUSE_CONN_ID, get_settings

log = logging.getLogger(__name__)

ALERTS_CONN_ID = "elgoose_alerts"
DEADLINE_SETTING = "ELGOOSE_GOLD_DEADLINE"
DEFAULT_DEADLINE = "04:00"
GOLD_DAG_ID = "elgoose_gold"
ERROR_LINE_MAX_CHARS = 500

# Tasks whose step is recorded under another name in processing_status; LayerSQLOperator tasks carry
# their layer and steps themselves, and the pulls are pull_<method>.
_TASK_STEPS = {
    "quality_gates": ("quality", ("silver_checks",)),
    "bronze_finished": ("bronze", ("bronze_finished",)),
}

_STEP_ROW_SQL = """
-- The step of one task in one run: the newest processing_status row of the task's steps (a task that runs
-- several steps stops at the first that fails, so the newest is the one it was in).
-- grain: one row; key: id
select id, table_name, status, records_processed, records_inserted, records_updated, records_unchanged,
       records_deleted, records_rejected
  from public.processing_status
 where run_id = %(run_id)s
   and layer = %(layer)s
   and table_name = any(%(steps)s)
 order by id desc
 limit 1
"""

_LAST_PUBLISH_SQL = """
-- Gold's newest completed publish.
-- grain: one row; key: id
select completed_at, run_id
  from public.processing_status
 where layer = 'gold'
   and table_name = 'publish'
   and status = 'completed'
 order by id desc
 limit 1
"""


@dataclass(frozen=True)
class Alert:
    subject: str
    lines: list[tuple[str, str]]  # (label, value), shown as a two-column table

    def html(self) -> str:
        rows = "".join(
            f"<tr><th align='left' valign='top'>{html.escape(label)}</th><td>{_html_value(value)}</td></tr>"
            for label, value in self.lines
        )
        return f"<p>{html.escape(self.subject)}</p><table>{rows}</table>"


def _html_value(value: str) -> str:
    if value.startswith(("http://", "https://")):
        return f"<a href='{html.escape(value, quote=True)}'>{html.escape(value)}</a>"
    return html.escape(value)


# --- configuration --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    to: list[str]
    from_email: str | None


def _mail_settings(connection) -> MailSettings:
    extra = connection.extra_dejson or {}
    to = extra.get("to") or []
    recipients = [a.strip() for a in (to.split(",") if isinstance(to, str) else to) if a and a.strip()]
    if not recipients:
        raise ValueError(
            f"the Airflow connection {ALERTS_CONN_ID!r} names no recipient: set its extra 'to' "
            '(e.g. {"to": "ops@example.com", "from_email": "airflow@example.com"})'
        )
    return MailSettings(recipients, extra.get("from_email"))


def _alerts_connection():
    """The ``elgoose_alerts`` connection, or None: alerts are off."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(ALERTS_CONN_ID)
    except AirflowNotFoundException:
        return None


async def _alerts_connection_async():
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return await BaseHook.aget_connection(ALERTS_CONN_ID)
    except AirflowNotFoundException:
        return None


def _notifier(settings: MailSettings, **kwargs):
    """The smtp provider's notifier for one alert. Subject and body are Jinja templates that only print
    ``elgoose_alert`` from the context: an error text containing ``{{`` is shown, never evaluated."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(
        to=settings.to,
        from_email=settings.from_email,
        smtp_conn_id=ALERTS_CONN_ID,
        subject="{{ elgoose_alert.subject }}",
        html_content="{{ elgoose_alert.html }}",
        **kwargs,
    )


def _rendered(alert: Alert) -> dict:
    from markupsafe import Markup

    return {"subject": alert.subject, "html": Markup(alert.html())}


# --- a task failed ----------------------------------------------------------------------------------------


def error_line(error) -> str:
    """The exception's type and the first line of its message, cut to a mail-friendly length."""
    if error is None:
        return "no exception was recorded (the task was failed from outside, or its process died)"
    if isinstance(error, BaseException):
        message = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    else:
        text = str(error).strip().splitlines()[0] if str(error).strip() else "unknown error"
    return text if len(text) <= ERROR_LINE_MAX_CHARS else text[: ERROR_LINE_MAX_CHARS - 1] + "…"


def step_of(task_id: str, task=None) -> tuple[str, tuple[str, ...]] | None:
    """The layer and step names under which the task records its work in processing_status, if any."""
    if hasattr(task, "layer") and hasattr(task, "steps"):  # a LayerSQLOperator (not imported: no import cycle)
        return task.layer, tuple(task.steps)
    if task_id in _TASK_STEPS:
        return _TASK_STEPS[task_id]
    if task_id.startswith("pull_"):
        return "bronze", (task_id.removeprefix("pull_"),)
    return None


def _rows_text(row: dict | None, step: tuple[str, tuple[str, ...]] | None) -> str:
    if step is None:
        return "none: no processing_status step belongs to this task"
    if row is None:
        return (
            f"none: no processing_status row for {step[0]} step {' or '.join(step[1])} in this run "
            "(it failed before its step began)"
        )
    counts = ", ".join(
        f"{label} {row[column]:,}"
        for label, column in (
            ("processed", "records_processed"),
            ("inserted", "records_inserted"),
            ("updated", "records_updated"),
            ("unchanged", "records_unchanged"),
            ("deleted", "records_deleted"),
            ("rejected", "records_rejected"),
        )
        if row.get(column) is not None
    )
    return f"{counts} (processing_status id {row['id']}, {step[0]} step {row['table_name']}, status {row['status']})"


def _step_row(run_id: str, step: tuple[str, tuple[str, ...]]) -> dict | None:
    from psycopg.rows import dict_row

    from elgoose.connections import warehouse_connection

    with warehouse_connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_STEP_ROW_SQL, {"run_id": run_id, "layer": step[0], "steps": list(step[1])})
        return cur.fetchone()


def failure_alert(context) -> Alert:
    ti = context["ti"]
    dag_id, task_id, run_id = ti.dag_id, ti.task_id, ti.run_id
    step = step_of(task_id, context.get("task"))
    try:
        rows = _rows_text(_step_row(run_id, step) if step else None, step)
    except Exception as exc:  # the warehouse may be what failed: the alert still goes out
        rows = f"unknown: processing_status could not be read ({type(exc).__name__}: {' '.join(str(exc).split())})"
    try_number = getattr(ti, "try_number", None)
    return Alert(
        subject=f"[ElGoose] {dag_id}.{task_id} failed (run {run_id})",
        lines=[
            ("DAG", dag_id),
            ("task", task_id),
            ("run", run_id),
            ("try", str(try_number) if try_number is not None else "?"),
            ("error", error_line(context.get("exception"))),
            ("rows processed", rows),
            ("log", ti.log_url),
        ],
    )


def task_failed(context) -> None:
    """``on_failure_callback`` of every task: one mail per failed task (after its retries), or nothing when
    the ``elgoose_alerts`` connection is not set."""
    connection = _alerts_connection()
    ti = context["ti"]
    if connection is None:
        log.info("alerts are off (no Airflow connection %r): not mailing about %s", ALERTS_CONN_ID, ti.task_id)
        return
    alert = failure_alert(context)
    _notifier(_mail_settings(connection))({**context, "elgoose_alert": _rendered(alert)})
    log.info("alert mailed: %s", alert.subject)


# --- gold missed its deadline -----------------------------------------------------------------------------


def _time_of_day(text: str, what: str) -> timedelta:
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError
    except ValueError:
        raise ValueError(f"{what} must be a UTC time of day HH:MM, got {text!r}") from None
    return timedelta(hours=hours, minutes=minutes)


def gold_deadline(schedule: str) -> tuple[str, timedelta]:
    """The configured deadline (``HH:MM`` UTC) and its distance from the daily cron ``schedule``'s time."""
    deadline = get_settings().gold_deadline
    minute, hour = schedule.split()[:2]
    scheduled = timedelta(hours=int(hour), minutes=int(minute))
    interval = (_time_of_day(deadline, f"setting {DEADLINE_SETTING}") - scheduled) % timedelta(days=1)
    if not interval:
        raise ValueError(f"setting {DEADLINE_SETTING} ({deadline}) must differ from gold's schedule ({hour}:{minute})")
    return deadline, interval


def parsed_by_dags_test(argv: list[str] | None = None) -> bool:
    """Whether this process is ``airflow dags test`` (the CLI parses the DAG file itself)."""
    import sys

    argv = sys.argv if argv is None else argv
    cli = Path(argv[0]).name == "airflow" or argv[0].endswith("airflow/__main__.py") if argv else False
    return cli and argv[1:3] == ["dags", "test"]


def gold_deadline_alert(schedule: str):
    """``elgoose_gold``'s DeadlineAlert (``schedule``: its daily cron): not succeeded by
    ``ELGOOSE_GOLD_DEADLINE`` -> ``gold_not_published``.

    None under ``airflow dags test``: Airflow 3.3.2's ``DAG.test()`` fails a run that succeeds when its DAG
    has a deadline (on success it looks the alerts up by id, but its in-memory scheduler DAG holds their
    definitions, not ids: ``AttributeError: 'dict' object has no attribute 'hex'``). A test run has no
    schedule to miss, so nothing is lost; the dag-processor, which parses for the scheduler, keeps it.
    """
    if parsed_by_dags_test():
        return None
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    deadline, interval = gold_deadline(schedule)
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=interval,
        callback=AsyncCallback(gold_not_published, kwargs={"deadline_utc": deadline}),
        name="gold published",
    )


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


async def _last_publish() -> dict | None:
    import psycopg
    from airflow.sdk import BaseHook
    from psycopg.rows import dict_row

    warehouse = await BaseHook.aget_connection(WAREHOUSE_CONN_ID)
    conninfo = psycopg.conninfo.make_conninfo(
        host=warehouse.host or "127.0.0.1",
        port=warehouse.port or 5432,
        dbname=warehouse.schema or "postgres",
        user=warehouse.login or None,
        password=warehouse.password or None,
        connect_timeout=10,
        application_name="elgoose-gold-deadline",
    )
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        return await (await conn.execute(_LAST_PUBLISH_SQL)).fetchone()


def deadline_alert(context: dict, deadline_utc: str, last_publish: dict | None, lookup_error: str | None) -> Alert:
    from airflow.providers.common.compat.sdk import conf

    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    logical = _as_datetime(dag_run.get("logical_date"))
    day = logical.astimezone(UTC).date().isoformat() if logical else "?"
    base_url = conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")
    if last_publish:
        when = last_publish["completed_at"].astimezone(UTC)
        published = f"{when:%Y-%m-%d %H:%M:%S} UTC by run {last_publish['run_id']}"
    else:
        published = f"unknown ({lookup_error})" if lookup_error else "never"
    return Alert(
        subject=f"[ElGoose] gold not published by {deadline_utc} UTC on {day}",
        lines=[
            ("DAG", dag_run.get("dag_id") or GOLD_DAG_ID),
            ("run", run_id),
            ("run state", str(dag_run.get("state") or "?")),
            ("deadline", str(deadline.get("deadline_time") or f"{day} {deadline_utc} UTC")),
            ("gold last published", published),
            ("run in the UI", f"{base_url}/dags/{dag_run.get('dag_id') or GOLD_DAG_ID}/runs/{run_id}"),
        ],
    )


async def gold_not_published(context: dict | None = None, deadline_utc: str = DEFAULT_DEADLINE, **_) -> str:
    """The DeadlineAlert callback (run by the triggerer): mail that gold missed its deadline."""
    context = context or {}
    connection = await _alerts_connection_async()
    if connection is None:
        return f"alerts are off (no Airflow connection {ALERTS_CONN_ID!r}): gold deadline miss not mailed"
    last_publish, lookup_error = None, None
    try:
        last_publish = await _last_publish()
    except Exception as exc:  # the warehouse being down is one reason gold is late: mail anyway
        lookup_error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    logical = _as_datetime((context.get("dag_run") or {}).get("logical_date"))
    deadline_time = _as_datetime((context.get("deadline") or {}).get("deadline_time"))
    published_at = last_publish["completed_at"] if last_publish else None
    if published_at and logical and deadline_time and logical <= published_at <= deadline_time:
        return f"gold was published at {published_at.isoformat()}, within the deadline: no alert"
    alert = deadline_alert(context, deadline_utc, last_publish, lookup_error)
    await _notifier(_mail_settings(connection), context={"elgoose_alert": _rendered(alert)})
    log.info("alert mailed: %s", alert.subject)
    return f"mailed: {alert.subject}"
