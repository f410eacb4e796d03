"""Airflow on loopback for local use: the one environment every local Airflow command gets, and the stack.

``airflow_env`` is the environment of every Airflow command this project starts locally (``make run``'s
``airflow dags test``, ``make airflow``, the end-to-end tests, the benchmark): the project's DAGs and
plugins folders, no examples, DAGs unpaused, and the two connections. ``AirflowStack`` runs Airflow's own
components (api-server, scheduler, dag-processor, triggerer, and with the CeleryExecutor ``airflow celery
worker`` processes) on loopback with it. The metadata database is a PostgreSQL database (SQLite cannot
take four processes writing at once); login is the SimpleAuthManager's, with a user and password this
module sets.

Several Celery workers on one machine each need their own name and log-server port: the name because a
task instance records the ``hostname`` of the machine that ran it (``[core] hostname_callable``, here
``worker_hostname``), the port because every worker serves its logs on ``[logging] worker_log_server_port``
and a second server on the same port dies. The components share one AIRFLOW_HOME, so the api-server
reads every task's log from the shared log folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from elgoose.settings import PROJECT_ROOT

AIRFLOW = str(Path(sys.executable).parent / "airflow")
COMPONENTS = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}
DAG_IDS = ("elgoose_bronze", "elgoose_silver", "elgoose_gold")
WORKER_HOSTNAME_VARIABLE = "ELGOOSE_WORKER_HOSTNAME"
# A lost worker's task is retried once the scheduler has missed its heartbeats this long (Airflow's default
# is 300 s); the task's supervisor heartbeats every [workers] min_heartbeat_interval (5 s). Measured in
# tests/test_celery.py; see the README's Deployment section.
LOST_WORKER_SETTINGS = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
}

# The scheduler looks for work this often when its last loop found none (Airflow's default: 1 s). Each
# hand-off between two tasks waits for one such look: with 0.2 s, a `complete` run at 1x took 23-26 s from
# trigger to the end of the chain instead of 34-38 s (bench/airflow_run.py, 46 task instances, 2 cores);
# the price is a scheduler that queries its database five times a second when idle.
FAST_HANDOFF_SETTINGS = {
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
}


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the local Celery workers: each one's own name, else the machine's."""
    return os.environ.get(WORKER_HOSTNAME_VARIABLE) or socket.getfqdn()


def _session_of(process) -> int | None:
    try:
        return os.getsid(process.pid)
    except OSError:
        return None


def airflow_env(
    home: Path,
    *,
    warehouse_conn: str | None = None,
    api_url: str | None = None,
    base: Mapping[str, str] | None = None,
    **overrides: str,
) -> dict[str, str]:
    """The environment of a local Airflow command: ``base`` (default: this process's) plus the project's folders.

    ``warehouse_conn`` (an Airflow connection URI or JSON) and ``api_url`` (the ElGoose base URL) become the
    connections ``elgoose_warehouse`` and ``elgoose_api``; ``overrides`` are set last.
    """
    env = dict(os.environ if base is None else base)
    env["AIRFLOW_HOME"] = str(home)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_ROOT / "dags")
    env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT_ROOT / "plugins")
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    env.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    if warehouse_conn is not None:
        env["AIRFLOW_CONN_ELGOOSE_WAREHOUSE"] = warehouse_conn
    if api_url is not None:
        env["AIRFLOW_CONN_ELGOOSE_API"] = json.dumps({"conn_type": "http", "host": api_url})
    env.update(overrides)
    return env


def run_airflow(env: Mapping[str, str], *args: str, log_file: Path | None = None, timeout: float | None = None):
    """Run ``airflow <args>`` with ``env`` from the project root; its output goes to ``log_file`` or is returned.

    Returns the ``CompletedProcess`` (text output captured when there is no log file).
    """
    command = [AIRFLOW, *args]
    if log_file is None:
        return subprocess.run(command, env=dict(env), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)
    with open(log_file, "w") as out:
        return subprocess.run(
            command, env=dict(env), cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )


def dags_test(env: Mapping[str, str], dag_id: str, conf: dict, *, log_file: Path | None = None, timeout: float = 300):
    """``airflow dags test DAG -c CONF``: one run of the DAG in this process tree, no scheduler needed."""
    return run_airflow(env, "dags", "test", dag_id, "-c", json.dumps(conf), log_file=log_file, timeout=timeout)


def migrate_metadata(env: Mapping[str, str], log_file: Path | None = None) -> None:
    """``airflow db migrate`` for the metadata database ``env`` names; raises naming the log when it fails."""
    result = run_airflow(env, "db", "migrate", log_file=log_file, timeout=600)
    if result.returncode != 0:
        where = f"see {log_file}" if log_file else (result.stdout + result.stderr)[-3000:]
        raise RuntimeError(f"airflow db migrate failed; {where}")


def launch_stack(stack: AirflowStack, log=print) -> None:
    """What ``make airflow`` does with an AirflowStack (tests/test_browser.py too): migrate the metadata
    database, start the four components, wait until the DAGs are parsed, and unpause them."""
    log("migrating Airflow's metadata database (airflow db migrate) ...")
    stack.migrate()
    log(f"starting {', '.join(stack.components)} ...")
    stack.start()
    stack.wait_for_dags(list(DAG_IDS))
    for dag_id in DAG_IDS:
        stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowStack:
    def __init__(
        self,
        home: Path,
        metadata_url: str,
        env: dict[str, str],
        *,
        port: int | None = None,
        user: str = "admin",
        password: str | None = None,
        executor: str | None = None,
        components: tuple[str, ...] = tuple(COMPONENTS),
        workers: int = 0,
        worker_concurrency: int = 4,
    ):
        """``executor``: the given one, else ``AIRFLOW__CORE__EXECUTOR`` of ``env``, else LocalExecutor.
        ``workers``: how many ``airflow celery worker`` processes to run (CeleryExecutor only), named
        ``worker-1`` ... each with ``worker_concurrency`` task slots."""
        self.home = Path(home)
        self.port = port or free_port()
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        executor = executor or env.get("AIRFLOW__CORE__EXECUTOR") or "LocalExecutor"
        if workers and executor != "CeleryExecutor":
            raise ValueError(f"workers={workers} needs the CeleryExecutor, not {executor}")
        self.commands = {name: COMPONENTS[name] for name in components}
        self.component_env: dict[str, dict[str, str]] = {}
        for number in range(1, workers + 1):
            self.add_worker(f"worker-{number}", worker_concurrency)
        self.components = tuple(self.commands)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self._token: str | None = None
        self.home.mkdir(parents=True, exist_ok=True)
        passwords = self.home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps({user: self.password}))
        passwords.chmod(0o600)
        self.env = {
            **airflow_env(self.home, base=env),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": env.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_hex(32),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # A task's first call to the api-server must not time out (5s by default) while the four
            # components and a browser share a busy machine: it fails the task before it starts.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": env.get("AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT") or "30",
            **{key: env.get(key) or value for key, value in {**LOST_WORKER_SETTINGS, **FAST_HANDOFF_SETTINGS}.items()},
        }

    def add_worker(self, name: str, concurrency: int = 4) -> None:
        """An ``airflow celery worker`` component with its own Celery node name, task-instance hostname and
        log-server port."""
        self.commands[name] = [
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@{socket.gethostname()}",
            "--concurrency",
            str(concurrency),
        ]
        self.component_env[name] = {
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "elgoose_local.stack.worker_hostname",
            WORKER_HOSTNAME_VARIABLE: f"{name}.{socket.gethostname()}",
        }

    def worker_names(self) -> list[str]:
        return [name for name in self.commands if name.startswith("worker-")]

    def hostname_of(self, worker: str) -> str:
        """The ``hostname`` the task instances that ``worker`` ran record."""
        return self.component_env[worker][WORKER_HOSTNAME_VARIABLE]

    # --- lifecycle ----------------------------------------------------------------------

    def migrate(self) -> None:
        migrate_metadata(self.env, self.home / "db-migrate.log")

    def start(self, timeout: float = 180) -> AirflowStack:
        for name in self.components:
            self.start_component(name)
        self.wait_ready(timeout)
        for name in self.worker_names():
            self.wait_for_worker(name, timeout)
        return self

    def start_component(self, name: str) -> None:
        log = open(self.home / f"{name}.log", "a")  # noqa: SIM115 - lives as long as the process
        self.processes[name] = subprocess.Popen(
            [AIRFLOW, *self.commands[name]],
            env={**self.env, **self.component_env.get(name, {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )

    def wait_for_worker(self, name: str, timeout: float = 180) -> None:
        """Until the Celery worker ``name`` says it is ready to take tasks."""
        log = self.home / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if f"{name}@{socket.gethostname()} ready." in log.read_text(errors="replace"):
                return
            time.sleep(1)
        raise TimeoutError(f"Celery worker {name} was not ready within {timeout}s; see {log}")

    def kill(self, name: str) -> int:
        """SIGKILL a component and every process it started, as if its machine were lost; return how many.

        Task processes run in process groups of their own, so the whole session is killed, not one group.
        """
        import psutil

        process = self.processes.pop(name)
        session = os.getsid(process.pid)
        doomed = [p for p in psutil.process_iter() if _session_of(p) == session]
        for victim in doomed:
            with contextlib.suppress(psutil.NoSuchProcess):
                victim.kill()
        psutil.wait_procs(doomed, timeout=30)
        process.wait(30)
        return len(doomed)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if requests.get(f"{self.base_url}/api/v2/version", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise TimeoutError(f"the api-server did not answer on {self.base_url} within {timeout}s")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.home / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{tail}")

    def stop(self, grace: float = 20) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- REST API (/api/v2, JWT from the auth manager) -----------------------------------

    def token(self) -> str:
        if self._token is None:
            response = requests.post(
                f"{self.base_url}/auth/token", json={"username": self.user, "password": self.password}, timeout=10
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base_url}/api/v2{path}", headers=headers, timeout=30, **kwargs)

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        missing = list(dag_ids)
        while time.monotonic() < deadline:
            self.check_alive()
            missing = [d for d in dag_ids if self.api("GET", f"/dags/{d}").status_code != 200]
            if not missing:
                return
            time.sleep(2)
        raise TimeoutError(f"DAGs not parsed within {timeout}s: {missing}")

    def trigger(self, dag_id: str, conf: dict, logical_date: str | None = None) -> str:
        response = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": logical_date, "conf": conf})
        response.raise_for_status()
        return response.json()["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        response = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-start_date", "limit": 50})
        response.raise_for_status()
        return response.json()["dag_runs"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600, poll: float = 2) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            run = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
            if run.get("state") in ("success", "failed"):
                return run
            time.sleep(poll)
        raise TimeoutError(f"{dag_id} run {run_id} did not finish within {timeout}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        response = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        response.raise_for_status()
        return response.json()["task_instances"]
