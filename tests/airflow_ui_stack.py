"""One Airflow stack for every test that needs Airflow's UI: the browser tests, the Warehouse page, the alerts.

Started once per session (``make airflow OFFLINE=1``'s way: AirflowStack + launch_stack, the fake ElGoose
server in-process) on a fresh test warehouse and metadata database, with:

- a real SMTP server on loopback (aiosmtpd) that collects every mail, and the ``elgoose_alerts``
  connection pointing at it, so the alert tests see what Airflow sends;
- a private copy of the golden records, which a test may break to make the quality gates fail;
- a password for the Warehouse page's role (ELGOOSE_UI_PASSWORD), as a deployment sets one.

conftest.py registers these fixtures and runs the tests that use them together, at the end of the
session, so the stack's four processes do not compete with the rest of the suite for the two cores.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import secrets
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from helpers import airflow_test_env

from elgoose_local import databases as warehouse_db
from elgoose_local.stack import AirflowStack, launch_stack
from fake_elgoose import FIXTURE_GOLDEN_RECORDS, FakeElGoose, load_fixtures

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
UI_TIMEOUT_MS = 30_000
STACK_FIXTURES = ("ui", "browser", "mail")
ALERT_RECIPIENT = "pipeline-ops@example.test"
ALERT_SENDER = "airflow@example.test"


def uses_the_stack(item) -> bool:
    return any(name in getattr(item, "fixturenames", ()) for name in STACK_FIXTURES)


# --- the SMTP sink ------------------------------------------------------------------------------------------


class MailSink:
    """aiosmtpd on 127.0.0.1: every message any Airflow component sends, parsed."""

    def __init__(self) -> None:
        self.port = 0
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def matching(self, needle: str) -> list[email.message.EmailMessage]:
        """The mails whose subject or text contains ``needle``."""
        with self._lock:
            return [m for m in self.messages if needle in str(m["Subject"]) or needle in mail_text(m)]

    def wait_for(self, needle: str, timeout: float, settle: float = 0) -> list[email.message.EmailMessage]:
        """The mails that mention ``needle``, once there is one (and ``settle`` more seconds for any others)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.matching(needle):
            time.sleep(0.5)
        if self.matching(needle) and settle:
            time.sleep(settle)
        return self.matching(needle)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mail_text(message: email.message.EmailMessage) -> str:
    """The mail's HTML body as text: tags dropped, entities decoded, white space collapsed."""
    import html

    part = message.get_body(("html", "plain"))
    body = part.get_content() if part is not None else ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="session")
def mail():
    from aiosmtpd.controller import Controller

    sink = MailSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def alerts_connection(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "to": ALERT_RECIPIENT,
                "from_email": ALERT_SENDER,
                "disable_tls": True,
                "disable_ssl": True,
                "timeout": 10,
                "retry_limit": 1,
            },
        }
    )


# --- the stack ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ui(mail, pg_server, pg_template, tmp_path_factory):
    """api-server, scheduler, dag-processor and triggerer as `make airflow OFFLINE=1` starts them.

    Extra attributes for the tests: ``warehouse_dsn`` (the warehouse, as its owner), ``golden_records``
    (the file the quality gates read), ``mail`` (the SMTP sink), ``fake`` (the fake ElGoose server).
    """
    warehouse_name = warehouse_db.create_database(pg_server, pg_template)
    metadata_name = warehouse_db.create_empty_database(pg_server, "airflow_meta")
    warehouse_dsn = warehouse_db.with_dbname(pg_server, warehouse_name)
    home = tmp_path_factory.mktemp("airflow-ui")
    golden = home / "golden_records.json"
    shutil.copy(FIXTURE_GOLDEN_RECORDS, golden)
    try:
        with FakeElGoose(load_fixtures()) as api:
            env = airflow_test_env(
                home,
                warehouse_db.airflow_conn_json(warehouse_dsn),
                api.base_url,
                ELGOOSE_SENSOR_POKE_SECONDS="5",
                ELGOOSE_SENSOR_TIMEOUT_SECONDS="300",
                # Only the tests' own runs: today's scheduled runs would compete for the cores and mail.
                AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
                # A broken gate fails for good at its first try (step retries: tests/test_celery.py).
                ELGOOSE_STEP_RETRIES="0",
                ELGOOSE_UI_PASSWORD=secrets.token_urlsafe(16),
                AIRFLOW_CONN_ELGOOSE_ALERTS=alerts_connection(mail.port),
            )
            env["ELGOOSE_GOLDEN_RECORDS"] = str(golden)  # a copy the alert test may break
            stack = AirflowStack(
                home, warehouse_db.sqlalchemy_url(warehouse_db.with_dbname(pg_server, metadata_name)), env
            )
            stack.warehouse_dsn = warehouse_dsn
            stack.golden_records = golden
            stack.mail = mail
            stack.fake = api
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


def ensure_complete_run(stack, timeout: float = 300) -> str:
    """The id of a succeeded ``complete`` chain (bronze -> silver -> gold) on the stack; one is triggered
    when none ran yet (tests/test_browser.py's run serves when it ran first)."""
    for run in stack.runs("elgoose_gold"):
        if run["state"] == "success" and run["dag_run_id"].endswith("__silver__gold"):
            return run["dag_run_id"].removesuffix("__silver__gold")
    run_id = stack.trigger("elgoose_bronze", {"mode": "complete"})
    for dag_id, dag_run_id in (
        ("elgoose_bronze", run_id),
        ("elgoose_silver", f"{run_id}__silver"),
        ("elgoose_gold", f"{run_id}__silver__gold"),
    ):
        state = stack.wait_for_run(dag_id, dag_run_id, timeout=timeout)["state"]
        tasks = {t["task_id"]: t["state"] for t in stack.task_instances(dag_id, dag_run_id)}
        assert state == "success", (dag_id, tasks)
    return run_id


# --- the browser -------------------------------------------------------------------------------------------


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


@pytest.fixture(scope="session")
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
