"""Run the ElGoose warehouse locally: embedded Postgres, a project-local Airflow, the three DAGs.

    elgoose-local run [--offline]                  bronze -> silver -> gold with `airflow dags test` (make run)
    elgoose-local migrate                          apply warehouse migrations (make migrate)
    elgoose-local airflow [--offline] [--port N]   Airflow UI + scheduler until Ctrl-C (make airflow)
        [--celery [--workers N] [--broker URL]]    with the CeleryExecutor and N Celery workers (default 2)
                                                   on the machine's Redis or URL (make airflow CELERY=1)
    elgoose-local env                              print the environment the commands use

With AIRFLOW_CONN_ELGOOSE_WAREHOUSE set, that Postgres is the warehouse; otherwise an embedded
PostgreSQL (pgserver, no system install) keeps its data in .local/warehouse-pgdata.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from elgoose.settings import DEFAULT_API_BASE_URL, PROJECT_ROOT
from elgoose_local import embedded_pg
from elgoose_local.console import say
from elgoose_local.databases import sqlalchemy_url, with_dbname
from elgoose_local.stack import DAG_IDS, AirflowStack, airflow_env, dags_test, launch_stack, migrate_metadata

LOCAL = PROJECT_ROOT / ".local"
EMBEDDED_DATA = LOCAL / "warehouse-pgdata"
OFFLINE_HINT = "make run OFFLINE=1"
FIXTURE_GOLDEN_RECORDS = PROJECT_ROOT / "fake_elgoose" / "fixtures" / "golden_records.json"


def embedded_warehouse() -> str:
    """Start (or reuse) the embedded PostgreSQL and return the warehouse as an Airflow connection (JSON)."""
    uri = embedded_pg.server_uri(EMBEDDED_DATA)
    embedded_pg.ensure_database(uri, "elgoose")
    return json.dumps(
        {"conn_type": "postgres", "host": embedded_pg.socket_dir(uri), "login": "postgres", "schema": "elgoose"}
    )


def prepare_env(offline_url: str | None = None) -> dict[str, str]:
    """This process's environment plus the local Airflow's; the warehouse is the embedded one unless configured."""
    user = dict(os.environ)
    warehouse = user.get("AIRFLOW_CONN_ELGOOSE_WAREHOUSE")
    if warehouse:
        say("warehouse: AIRFLOW_CONN_ELGOOSE_WAREHOUSE")
    else:
        warehouse = embedded_warehouse()
        say("warehouse: embedded PostgreSQL in .local/warehouse-pgdata (AIRFLOW_CONN_ELGOOSE_WAREHOUSE overrides)")
    overrides = {}
    if offline_url:
        overrides["ELGOOSE_GOLDEN_RECORDS"] = user.get("ELGOOSE_GOLDEN_RECORDS") or str(FIXTURE_GOLDEN_RECORDS)
    env = airflow_env(
        Path(user.get("AIRFLOW_HOME") or LOCAL / "airflow"),
        warehouse_conn=warehouse,
        api_url=offline_url or (None if user.get("AIRFLOW_CONN_ELGOOSE_API") else DEFAULT_API_BASE_URL),
        **overrides,
    )
    os.environ.update(env)
    return env


def api_base_url(env: dict[str, str]) -> str:
    raw = env["AIRFLOW_CONN_ELGOOSE_API"]
    return json.loads(raw)["host"] if raw.lstrip().startswith("{") else raw


def preflight(url: str) -> None:
    """Fail within seconds, naming the offline switch, when the API cannot be reached."""
    parsed = urlparse(url if "://" in url else f"https://{url}")
    host, port = parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        say(f"cannot reach the ElGoose API at {host}:{port} ({exc}).")
        say(f"No network? Run the same pipeline on the bundled fixtures with:  {OFFLINE_HINT}")
        raise SystemExit(2) from None


def ensure_airflow_db(env: dict[str, str]) -> None:
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".metadata-migrated"
    from airflow import __version__ as airflow_version

    if marker.exists() and marker.read_text() == airflow_version:
        return
    say(f"initialising Airflow's metadata database (SQLite in {home})")
    try:
        migrate_metadata(env, LOCAL / "airflow-db-migrate.log")
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    marker.write_text(airflow_version)


def migrate_warehouse() -> list[str]:
    from elgoose.connections import warehouse_connection
    from elgoose.migrations import migrate

    with warehouse_connection() as conn:
        return migrate(conn)


def summary(since: float) -> None:
    from elgoose.connections import warehouse_connection

    with warehouse_connection() as conn:
        rows = conn.execute(
            """select layer, table_name, status, records_processed, records_inserted, records_updated,
                      records_unchanged, records_deleted, records_rejected, duration_seconds, error_message
                 from processing_status
                where started_at >= to_timestamp(%s)
                order by id""",
            (since,),
        ).fetchall()
    print()
    print(
        f"{'layer':7} {'step':20} {'status':10} {'rows':>8} {'new':>7} {'updated':>7} {'unchanged':>9} "
        f"{'deleted':>7} {'rejected':>8} {'secs':>6}"
    )
    for layer, name, status, rows_, new, upd, unch, dele, rej, secs, error in rows:

        def n(v):
            return "" if v is None else str(v)

        print(
            f"{layer:7} {name:20} {status:10} {rows_:>8} {n(new):>7} {n(upd):>7} {n(unch):>9} {n(dele):>7} "
            f"{n(rej):>8} {float(secs or 0):>6.2f}" + (f"  {error[:80]}" if error else "")
        )


def cmd_run(args) -> int:
    started = time.time()
    server = None
    if args.offline:
        from fake_elgoose import FakeElGoose, load_fixtures

        server = FakeElGoose(load_fixtures()).start()
        say(f"offline: serving the bundled fixtures at {server.base_url}")
    env = prepare_env(server.base_url if server else None)
    try:
        if not args.offline:
            preflight(api_base_url(env))
        ensure_airflow_db(env)
        applied = migrate_warehouse()
        say(f"warehouse migrations applied now: {applied or 'none pending'}")
        logs = LOCAL / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for dag_id in DAG_IDS:
            mode = dag_id.removeprefix("elgoose_") + "_only"
            t0 = time.time()
            say(f"running {dag_id} (mode {mode}) ...")
            log_file = logs / f"{dag_id}.log"
            code = dags_test(env, dag_id, {"mode": mode}, log_file=log_file, timeout=None).returncode
            if code != 0:
                say(f"{dag_id} failed after {time.time() - t0:.1f}s; its log: {log_file}")
                summary(started)
                return code
            say(f"{dag_id} succeeded in {time.time() - t0:.1f}s")
        summary(started)
        say(f"done in {time.time() - started:.1f}s. Logs: {logs}")
        return 0
    finally:
        if server:
            server.stop()


def cmd_migrate(args) -> int:
    prepare_env()
    say(f"warehouse migrations applied now: {migrate_warehouse() or 'none pending'}")
    return 0


def cmd_env(args) -> int:
    env = prepare_env()
    for key in sorted(env):
        if key.startswith(("AIRFLOW", "ELGOOSE")):
            print(f"export {key}='{env[key]}'")
    return 0


class _Stop(Exception):
    """SIGINT or SIGTERM arrived: stop every component and exit 0."""


def embedded_metadata_url() -> str:
    """A database ``airflow`` in the embedded PostgreSQL (created when missing), as a SQLAlchemy URL."""
    uri = embedded_pg.server_uri(EMBEDDED_DATA)  # the warehouse's instance, kept running
    embedded_pg.ensure_database(uri, "airflow")
    return sqlalchemy_url(with_dbname(uri, "airflow"))


def metadata_database(user_env: dict[str, str]) -> str:
    """Airflow's metadata DB: the user's AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, else ``airflow`` in pgserver."""
    url = user_env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if url:
        if url.startswith("sqlite"):
            raise SystemExit(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is SQLite, which cannot serve the scheduler, the api-server "
                "and their workers at once: unset it (an embedded PostgreSQL is used) or name a PostgreSQL database."
            )
        say("metadata: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
        return url
    say("metadata: database 'airflow' in the embedded PostgreSQL (.local/warehouse-pgdata)")
    return embedded_metadata_url()


def admin_password(home: Path) -> tuple[Path, str]:
    """The UI password of user admin: generated on first use, then kept in AIRFLOW_HOME/admin-password."""
    import secrets

    path = home / "admin-password"
    if path.exists() and path.read_text().strip():
        return path, path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return path, password


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


def celery_settings(args, user_env: dict[str, str], metadata_url: str) -> dict[str, str]:
    """The CeleryExecutor's settings for ``make airflow CELERY=1``; exits naming the broker when it is down."""
    import redis

    broker = args.broker or user_env.get("AIRFLOW__CELERY__BROKER_URL") or DEFAULT_BROKER_URL
    shown = redis.connection.parse_url(broker) if broker.startswith(("redis://", "rediss://")) else {}
    where = f"{shown.get('host', '?')}:{shown.get('port', 6379)}/{shown.get('db', 0)}" if shown else "(not Redis)"
    if shown:
        try:
            redis.Redis.from_url(broker, socket_connect_timeout=3, socket_timeout=5).ping()
        except redis.RedisError as exc:
            say(f"the Celery broker at {where} does not answer ({exc}).")
            say("Start Redis (e.g. apt-get install redis-server) or name one: make airflow CELERY=1 BROKER=redis://…")
            raise SystemExit(2) from None
    say(f"executor: CeleryExecutor, {args.workers} workers, broker Redis {where}, results in the metadata database")
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": user_env.get("AIRFLOW__CELERY__RESULT_BACKEND") or f"db+{metadata_url}",
        # This stack's queues and messages under their own prefix on a Redis others may use too.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": user_env.get(
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX", "elgoose-local:"
        ),
    }


def cmd_airflow(args) -> int:
    """api-server, scheduler, dag-processor and triggerer (AirflowStack) until SIGINT/SIGTERM; with --celery,
    the CeleryExecutor and --workers Celery workers too."""
    import signal

    if not port_is_free(args.port):
        say(f"port {args.port} on 127.0.0.1 is taken (another Airflow?); choose one with --port")
        return 2
    user_env = dict(os.environ)  # before prepare_env, which may fill AIRFLOW_CONN_ELGOOSE_WAREHOUSE in

    def on_signal(signum, frame):
        raise _Stop(signal.Signals(signum).name)

    started = time.monotonic()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = stack = None
    code = 0
    try:
        if args.offline:
            from fake_elgoose import FakeElGoose, load_fixtures

            server = FakeElGoose(load_fixtures()).start()
            say(f"offline: serving the bundled fixtures at {server.base_url}")
        env = prepare_env(server.base_url if server else None)
        if not args.offline:
            try:
                preflight(api_base_url(env))
            except SystemExit:
                say("starting anyway: runs that pull from ElGoose will fail (offline: make airflow OFFLINE=1)")
        metadata_url = metadata_database(user_env)
        workers = 0
        if args.celery or user_env.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor":
            env.update(celery_settings(args, user_env, metadata_url))
            workers = args.workers
        else:
            env["AIRFLOW__CORE__EXECUTOR"] = user_env.get("AIRFLOW__CORE__EXECUTOR") or "LocalExecutor"
        say(f"warehouse migrations applied now: {migrate_warehouse() or 'none pending'}")
        home = Path(env["AIRFLOW_HOME"])
        password_file, password = admin_password(home)
        stack = AirflowStack(home, metadata_url, env, port=args.port, user="admin", password=password, workers=workers)
        launch_stack(stack, log=say)
        say(f"Airflow is up in {time.monotonic() - started:.0f}s: {stack.base_url}")
        for worker in stack.worker_names():
            say(f"Celery {worker}: task instances record hostname {stack.hostname_of(worker)}")
        say(f"login: admin / {password}   (kept in {password_file})")
        say(f"DAGs unpaused: {', '.join(DAG_IDS)}; component logs: {home}/<component>.log")
        say("Ctrl-C stops every component.")
        while True:
            stack.check_alive()
            time.sleep(2)
    except _Stop as stop:
        say(f"{stop}: stopping Airflow ...")
    except (RuntimeError, OSError) as exc:  # a component exited, a timeout, the REST API refused
        say(f"Airflow failed: {exc}")
        code = 1
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        if stack:
            stack.stop()
        if server:
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code == 0:
        say("stopped.")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run bronze, silver and gold once")
    run.add_argument("--offline", action="store_true", help="serve the bundled fixtures instead of elgoose.net")
    sub.add_parser("migrate", help="apply warehouse migrations")
    sub.add_parser("env", help="print the environment")
    web = sub.add_parser("airflow", help="Airflow UI, scheduler, dag-processor and triggerer until Ctrl-C")
    web.add_argument("--offline", action="store_true", help="serve the bundled fixtures instead of elgoose.net")
    web.add_argument("--port", type=int, default=8080, help="the UI's port on 127.0.0.1 (default 8080)")
    web.add_argument("--celery", action="store_true", help="the CeleryExecutor with --workers Celery workers")
    web.add_argument("--workers", type=int, default=2, help="how many Celery workers (default 2)")
    web.add_argument("--broker", help=f"the Celery broker URL (default {DEFAULT_BROKER_URL})")
    args = parser.parse_args()
    return {"run": cmd_run, "migrate": cmd_migrate, "env": cmd_env, "airflow": cmd_airflow}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
