"""Issue #7's Airflow targets: each DAG file parses in under 0.5 s, and a ``complete`` run at 1x finishes in
under 2 minutes end to end under a real scheduler, the Airflow overhead reported apart from the database work.

    python -m bench.airflow_run [--skip-parse] [--skip-run] [--keep-logs] [--timeout SECONDS]

generates (or reuses) the 1x data (``bench/datagen.py``), runs both measurements below and prints JSON.

``dag_parse_seconds()`` / ``dag_parse_profile()``
    Each file of ``dags/`` parsed the way the dag-processor parses it (``BundleDagBag`` of that one file,
    ``load_op_links=False``), in fresh subprocesses with the environment the DAGs get in the tests.
    The headline ``parse_seconds`` is the DagBag construction alone in a process that has only imported
    ``airflow`` (everything the DAG file imports, ``airflow.sdk``, providers and ``elgoose.*``, is imported
    cold inside it): the most a parse costs. Interpreter start-up and ``import airflow`` are reported apart.

``complete_run(folder, server_conninfo, template_db)``
    The fake ElGoose server streaming ``folder``'s files, a fresh warehouse (from the migrated template) and
    a fresh metadata database, Airflow's api-server, scheduler, dag-processor and triggerer (LocalExecutor,
    ``elgoose_local.stack``, as ``tests/test_scheduler_e2e.py`` starts them, but with the scheduler's
    timetable runs switched off so that nothing else runs alongside); ``elgoose_bronze`` is
    triggered with ``{"mode": "complete"}`` through the REST API and timed until its run ends, which is when
    the whole chain has ended (``complete`` makes bronze trigger silver and wait for it, and silver gold).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from elgoose_local.console import say as console_say

ROOT = Path(__file__).resolve().parents[1]

DAGS_DIR = ROOT / "dags"
DAG_FILES = ("elgoose_bronze.py", "elgoose_silver.py", "elgoose_gold.py")
DAG_IDS = [Path(f).stem for f in DAG_FILES]
BUNDLE_NAME = "dags-folder"  # the bundle the dag-processor parses AIRFLOW__CORE__DAGS_FOLDER as
RESULT_MARK = "@@airflow_run@@"
TIMEOUT_SECONDS = 600
POLL_SECONDS = 1.0


def say(message: str) -> None:
    console_say(message, prefix="bench", stream=sys.stderr)


# --- DAG parse times ----------------------------------------------------------------------------------


def _parse_child(mode: str, path: str, spawned_at: float) -> dict:
    """Runs in the fresh subprocess (``--parse-child``): only the standard library is imported so far.

    mode ``cold``: ``import airflow``, then the timed parse, then a re-parse in the same process (imports warm).
    mode ``processor``: what a dag-processor child does per parse in steady state: the manager has already
    pre-imported the ``airflow.*`` modules the file names (``parsing_pre_import_modules``), then the child
    runs the stability check, the DagBag and the serialization.
    """
    entered = time.time()
    started = time.perf_counter()
    import airflow  # noqa: F401
    from airflow.dag_processing.dagbag import BundleDagBag

    out: dict = {
        "interpreter_start_seconds": entered - spawned_at,
        "import_airflow_seconds": time.perf_counter() - started,
    }

    def parse() -> tuple[float, BundleDagBag]:
        began = time.perf_counter()
        bag = BundleDagBag(dag_folder=path, bundle_path=Path(path).parent, bundle_name=BUNDLE_NAME, load_op_links=False)
        return time.perf_counter() - began, bag

    if mode == "processor":
        import contextlib
        import importlib

        from airflow.utils.dag_version_inflation_checker import check_dag_file_stability
        from airflow.utils.file import iter_airflow_imports

        began = time.perf_counter()
        for module in iter_airflow_imports(path):
            with contextlib.suppress(Exception):  # as the dag-processor: a failed pre-import is no error
                importlib.import_module(module)
        out["pre_import_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        check_dag_file_stability(path)
        out["stability_check_seconds"] = time.perf_counter() - began
        out["parse_seconds"], bag = parse()
    else:
        out["parse_seconds"], bag = parse()
        out["reparse_seconds"], _ = parse()
    out["airflow_reported_seconds"] = sum(s.duration.total_seconds() for s in bag.dagbag_stats)

    from airflow.serialization.serialized_objects import DagSerialization

    began = time.perf_counter()
    for dag in bag.dags.values():
        DagSerialization.to_dict(dag)
    out["serialize_seconds"] = time.perf_counter() - began
    out["dag_ids"] = sorted(bag.dag_ids)
    out["tasks"] = sum(len(dag.tasks) for dag in bag.dags.values())
    out["import_errors"] = dict(bag.import_errors)
    return out


def _parse_env(home: Path) -> dict[str, str]:
    from elgoose_local.stack import airflow_env

    env = airflow_env(
        home,
        warehouse_conn=json.dumps({"conn_type": "postgres", "host": "127.0.0.1"}),
        api_url="http://127.0.0.1:1/api/v2",
    )
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    return env


def _run_parse_child(mode: str, path: Path, env: dict[str, str]) -> dict:
    spawned_at = time.time()
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.airflow_run", "--parse-child", mode, str(path), repr(spawned_at)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - began
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if proc.returncode or not lines:
        raise RuntimeError(
            f"parsing {path.name} ({mode}) failed with exit code {proc.returncode}:\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    out = json.loads(lines[-1][len(RESULT_MARK) :])
    out["process_seconds"] = seconds
    if out["import_errors"]:
        raise RuntimeError(f"{path.name} has import errors: {out['import_errors']}")
    if out["dag_ids"] != [path.stem]:
        raise RuntimeError(f"{path.name} defines the DAGs {out['dag_ids']}, expected [{path.stem!r}]")
    return out


def dag_parse_profile() -> dict[str, dict]:
    """Per DAG file, in seconds (``process_seconds`` as seen from outside, everything else timed inside):

    - ``parse_seconds``: the parse the target is about. ``BundleDagBag(<file>)`` in a fresh process after
      ``import airflow`` (and nothing else): the DAG file's own imports (``airflow.sdk``, providers,
      ``elgoose.*``) are all cold. Airflow's own figure for the same parse is ``airflow_reported_seconds``
      (its ``FileLoadStat.duration``, the file's exec only, without DagBag's setup).
    - ``reparse_seconds``: the same file parsed again in that process (every module already imported).
    - ``processor_parse_seconds``: in another fresh process, the parse after the ``airflow.*`` modules the
      file names have been imported first, as the dag-processor's manager does before each parse
      (``pre_import_seconds``, paid once by the long-lived manager); the dag-processor's child also
      runs ``stability_check_seconds`` and ``serialize_seconds`` (``DagSerialization.to_dict``).
    - ``interpreter_start_seconds`` (fork/exec to the first line of our code) and
      ``import_airflow_seconds`` (``import airflow`` + the DagBag class): not part of the parse.
    - ``process_seconds``: the whole cold subprocess, from spawn to exit.

    Raises RuntimeError if a file has import errors or does not define exactly the DAG named after it.
    """
    home = Path(tempfile.mkdtemp(prefix="elgoose-bench-parse-"))
    try:
        env = _parse_env(home)
        profile: dict[str, dict] = {}
        for name in DAG_FILES:
            path = DAGS_DIR / name
            cold = _run_parse_child("cold", path, env)
            processor = _run_parse_child("processor", path, env)
            profile[name] = {
                "parse_seconds": cold["parse_seconds"],
                "airflow_reported_seconds": cold["airflow_reported_seconds"],
                "reparse_seconds": cold["reparse_seconds"],
                "processor_parse_seconds": processor["parse_seconds"],
                "pre_import_seconds": processor["pre_import_seconds"],
                "stability_check_seconds": processor["stability_check_seconds"],
                "serialize_seconds": processor["serialize_seconds"],
                "interpreter_start_seconds": cold["interpreter_start_seconds"],
                "import_airflow_seconds": cold["import_airflow_seconds"],
                "process_seconds": cold["process_seconds"],
                "tasks": cold["tasks"],
            }
            say(
                f"parse {name}: {cold['parse_seconds']:.2f} s cold, {processor['parse_seconds']:.2f} s after "
                f"pre-import, {cold['reparse_seconds']:.2f} s warm (process {cold['process_seconds']:.1f} s)"
            )
        return profile
    finally:
        shutil.rmtree(home, ignore_errors=True)


def dag_parse_seconds() -> dict[str, float]:
    """Per DAG file (``elgoose_bronze.py`` ...), seconds to parse it in a fresh process after ``import airflow``
    (``dag_parse_profile()``'s ``parse_seconds``: excludes interpreter start-up and ``import airflow``,
    includes every import the DAG file makes). Raises RuntimeError on import errors."""
    return {name: figures["parse_seconds"] for name, figures in dag_parse_profile().items()}


# --- a complete run under the real scheduler --------------------------------------------------------------


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _seconds(later: dt.datetime | None, earlier: dt.datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _union_seconds(intervals: list[tuple[dt.datetime, dt.datetime]]) -> float:
    """Length of the union of the intervals: the time during which at least one of them was running."""
    total = 0.0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def _golden_records(folder: Path) -> Path:
    """The golden records that hold for the served data (the quality gates check them before gold)."""
    try:
        source = json.loads((folder / "manifest.json").read_text()).get("source")
    except OSError:
        source = None
    if source == "fixtures":
        return ROOT / "fake_elgoose" / "fixtures" / "golden_records.json"
    return ROOT / "include" / "quality" / "golden_records.json"


def _wait_dags_ready(stack, timeout: float = 180) -> None:
    """Until the three DAGs are parsed (served by the API) and unpaused (unpausing any that is paused)."""
    stack.wait_for_dags(DAG_IDS, timeout=timeout)
    for dag_id in DAG_IDS:
        if stack.api("GET", f"/dags/{dag_id}").json().get("is_paused"):
            stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()


def _dag_run(stack, dag_id: str, run_id: str) -> dict | None:
    response = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def _chain_ids(run_id: str) -> list[tuple[str, str]]:
    """(dag_id, run_id) of the chain a complete run of elgoose_bronze starts (RunNextLayerOperator's ids)."""
    return [
        ("elgoose_bronze", run_id),
        ("elgoose_silver", f"{run_id}__silver"),
        ("elgoose_gold", f"{run_id}__silver__gold"),
    ]


def _step_rows(dsn: str, run_ids: list[str]) -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(
            """select layer, table_name, status, run_id, started_at, completed_at,
                      duration_seconds::float8 as duration_seconds, error_message
                 from public.processing_status
                where run_id = any(%s)
                order by started_at, id""",
            (run_ids,),
        ).fetchall()


def _row_counts(dsn: str) -> dict[str, int]:
    import psycopg

    tables = ("silver.setlists", "silver.shows", "silver.songs", "gold.song_stats", "gold.show_summary")
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def _layer_figures(steps: list[dict]) -> dict[str, dict]:
    layers: dict[str, dict] = {}
    for layer in ("bronze", "silver", "quality", "gold"):
        rows = [s for s in steps if s["layer"] == layer and s["completed_at"] is not None]
        if not rows:
            continue
        first = min(s["started_at"] for s in rows)
        last = max(s["completed_at"] for s in rows)
        longest = max(rows, key=lambda s: s["duration_seconds"] or 0)
        layers[layer] = {
            "steps": len(rows),
            "sum_seconds": sum(s["duration_seconds"] or 0 for s in rows),
            "busy_seconds": _union_seconds([(s["started_at"], s["completed_at"]) for s in rows]),
            "span_seconds": (last - first).total_seconds(),
            "longest_step": longest["table_name"],
            "longest_step_seconds": longest["duration_seconds"],
        }
    return layers


# Task ids whose work is one processing_status step: (layer, table_name) of the step.
def _step_of_task(dag_id: str, task_id: str) -> tuple[str, str] | None:
    if dag_id == "elgoose_bronze":
        if task_id.startswith("pull_"):
            return "bronze", task_id.removeprefix("pull_")
        return ("bronze", task_id) if task_id == "bronze_finished" else None
    if dag_id == "elgoose_silver":
        return ("quality", "silver_checks") if task_id == "quality_gates" else ("silver", task_id)
    return "gold", task_id


def _upstreams(stack, dag_id: str) -> dict[str, list[str]]:
    """task_id -> its upstream task ids, from the DAG's structure served by the REST API."""
    response = stack.api("GET", f"/dags/{dag_id}/tasks")
    response.raise_for_status()
    upstreams: dict[str, list[str]] = {}
    for task in response.json()["tasks"]:
        upstreams.setdefault(task["task_id"], [])
        for downstream in task.get("downstream_task_ids") or []:
            upstreams.setdefault(downstream, []).append(task["task_id"])
    return upstreams


def _task_figures(
    task_instances: dict[str, list[dict]],
    steps: list[dict],
    chain: list[tuple[str, str]],
    upstreams: dict[str, dict[str, list[str]]],
) -> dict:
    """Task-level figures from the REST API: states, and how long Airflow takes around each step."""
    run_of = dict(chain)
    step_seconds = {(s["run_id"], s["layer"], s["table_name"]): s["duration_seconds"] for s in steps}
    states: dict[str, int] = {}
    queue_waits, runner_costs, hops = [], [], []
    per_run = {}
    for dag_id, tis in task_instances.items():
        ended = {ti["task_id"]: _when(ti["end_date"]) for ti in tis}
        for ti in tis:
            before = [ended.get(u) for u in upstreams.get(dag_id, {}).get(ti["task_id"], [])]
            if before and all(before) and ti["start_date"] and ti.get("state") == "success":
                hops.append(_seconds(_when(ti["start_date"]), max(before)))
        run_states: dict[str, int] = {}
        for ti in tis:
            state = ti.get("state") or "none"
            states[state] = states.get(state, 0) + 1
            run_states[state] = run_states.get(state, 0) + 1
            queued, started, ended = _when(ti.get("queued_when")), _when(ti["start_date"]), _when(ti["end_date"])
            if queued and started:
                queue_waits.append(_seconds(started, queued))
            key = _step_of_task(dag_id, ti["task_id"])
            seconds = step_seconds.get((run_of[dag_id], *key)) if key else None
            if seconds is not None and ti.get("duration") is not None and started and ended:
                runner_costs.append(ti["duration"] - seconds)
        per_run[dag_id] = {
            "task_instances": len(tis),
            "states": run_states,
            "tasks": {ti["task_id"]: ti.get("state") for ti in tis},
        }

    def summary(values: list[float]) -> dict | None:
        if not values:
            return None
        return {"n": len(values), "median": statistics.median(values), "max": max(values)}

    return {
        "task_instances": sum(len(tis) for tis in task_instances.values()),
        "task_states": states,
        "per_run": per_run,
        # queued_when -> start_date: the LocalExecutor picking the task up and starting its process
        "queued_to_start_seconds": summary(queue_waits),
        # a task's duration minus its processing_status step: the task runner's fixed cost per task
        # (imports, parsing the DAG file, Execution API calls)
        "task_runner_seconds": summary(runner_costs),
        # the end of a task's last upstream task -> its start: one hop of the scheduler (noticing the end,
        # scheduling and queueing the next task, the executor starting it); the chain of the three DAGs
        # has about 30 such hops one after another
        "task_hop_seconds": summary(hops),
    }


def complete_run(
    folder: Path,
    server_conninfo: str,
    template_db: str,
    *,
    timeout: float = TIMEOUT_SECONDS,
    keep_logs: bool = False,
) -> dict:
    """A ``complete`` run of ``folder``'s data under Airflow's real components; returns its figures.

    Figures, in seconds unless named otherwise:

    - ``wall_seconds``: from just before the REST API trigger of ``elgoose_bronze`` ({"mode": "complete"}) to
      the end of that run (its ``end_date``). The bronze run ends after its ``run_silver`` task saw the
      silver run succeed, which itself waited for gold, so this is the whole chain. ``wall_observed_seconds``
      is the same measured by polling (up to ``POLL_SECONDS`` later).
    - ``database_seconds``: the sum of ``duration_seconds`` of the chain's rows in ``public.processing_status``
      (every bronze pull, ``bronze_finished``, each silver table, the quality gates, each gold step). It
      counts parallel bronze pulls once each, so it can exceed the time they took.
    - ``database_critical_path_seconds``: the time during which at least one of those steps was running
      (the union of their ``started_at``..``completed_at``). The chain is sequential apart from bronze's
      parallel pulls, so this is the database work on the critical path. ``layers`` gives, per layer, the
      sum, this busy time and the span from its first step's start to its last step's end (the span
      includes the scheduling gaps between the layer's tasks).
    - ``airflow_overhead_seconds`` = ``wall_seconds`` - ``database_critical_path_seconds``: the time of the
      run during which no warehouse step was running: scheduling and queueing, task processes starting
      (interpreter, imports, DAG file parse, Execution API), the tasks that record no step (prepare_run,
      manual_run, all_endpoints_loaded)
      and the chaining's waits (``RunNextLayerOperator`` polls the next layer's run every 5 s).
      ``overhead_breakdown`` splits it into trigger -> first step, idle time between the first and last
      step, and last step -> end of the chain (they add up to it).
    - ``other_runs``: DAG runs other than the chain's (none expected: the scheduler is started with
      ``[scheduler] use_job_schedule = False``, so it creates no runs of the DAGs' timetables).
    - ``task_instances``, ``task_states`` (state -> count over the three runs), ``per_run``: from the REST API.
    - ``startup``: the stack's start-up, not counted in the wall time: ``airflow db migrate`` of the fresh
      metadata database, the four components until the api-server answers, and until the three DAGs are
      parsed and unpaused.

    Everything it started (the stack, the fake server, both databases) is torn down before it returns; the
    stack's folder (AIRFLOW_HOME: component logs, task logs under ``logs/``) too unless ``keep_logs`` (then
    ``logs`` names it). Raises RuntimeError when a run of the chain failed, TimeoutError after ``timeout``
    seconds; either names the folder in which the stack's logs (components and tasks) are then kept.
    """
    from elgoose.endpoints import METHODS
    from elgoose_local import databases as warehouse_db
    from elgoose_local.stack import AirflowStack, airflow_env
    from fake_elgoose import FakeElGoose

    home = Path(tempfile.mkdtemp(prefix="elgoose-bench-airflow-"))
    succeeded = False
    databases: list[str] = []
    stack = None
    fake = FakeElGoose()
    try:
        fake.start()
        for method in METHODS:
            fake.set_file(method, folder / f"{method}.json")
        warehouse_name = warehouse_db.create_database(server_conninfo, template_db)
        databases.append(warehouse_name)
        metadata_name = warehouse_db.create_empty_database(server_conninfo, "airflow_meta")
        databases.append(metadata_name)
        dsn = warehouse_db.with_dbname(server_conninfo, warehouse_name)
        env = airflow_env(
            home,
            warehouse_conn=warehouse_db.airflow_conn_json(dsn),
            api_url=fake.base_url,
            ELGOOSE_GOLDEN_RECORDS=str(_golden_records(folder)),
            # The DAGs' timetables (CronTriggerTimetable, catchup=False) make the scheduler create today's
            # missed 02:00/02:30/03:00 runs as soon as the DAGs are parsed; they would load the same warehouse
            # at the same time, and with max_active_runs=1 the complete run's DAG runs would queue behind them
            # (gold behind a sensor). Manual and triggered runs are unaffected by this switch.
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        )
        stack = AirflowStack(
            home, warehouse_db.sqlalchemy_url(warehouse_db.with_dbname(server_conninfo, metadata_name)), env
        )
        startup: dict[str, float] = {}
        began = time.perf_counter()
        say("airflow: db migrate")
        stack.migrate()
        startup["metadata_migrate_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        say("airflow: starting api-server, scheduler, dag-processor, triggerer")
        stack.start()
        startup["components_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        _wait_dags_ready(stack)
        startup["dags_ready_seconds"] = time.perf_counter() - began
        startup["total_seconds"] = sum(startup.values())
        say(f"airflow: ready in {startup['total_seconds']:.0f} s; triggering elgoose_bronze (complete)")

        triggered_at = dt.datetime.now(dt.UTC)
        triggered = time.monotonic()
        run_id = stack.trigger("elgoose_bronze", {"mode": "complete"})
        try:
            bronze = stack.wait_for_run("elgoose_bronze", run_id, timeout=timeout, poll=POLL_SECONDS)
        except TimeoutError as exc:
            states = {dag_id: (_dag_run(stack, dag_id, rid) or {}).get("state") for dag_id, rid in _chain_ids(run_id)}
            raise TimeoutError(f"the complete run did not finish: {exc} (run states: {states})") from exc
        observed = time.monotonic() - triggered
        chain = _chain_ids(run_id)
        runs = {dag_id: _dag_run(stack, dag_id, rid) for dag_id, rid in chain}
        runs["elgoose_bronze"] = bronze
        task_instances = {dag_id: stack.task_instances(dag_id, rid) for dag_id, rid in chain if runs[dag_id]}
        steps = _step_rows(dsn, [rid for _, rid in chain])
        chain_run_ids = {rid for _, rid in chain}
        others = {
            dag_id: sorted(r["dag_run_id"] for r in stack.runs(dag_id) if r["dag_run_id"] not in chain_run_ids)
            for dag_id in DAG_IDS
        }
        others = {dag_id: ids for dag_id, ids in others.items() if ids}
        if others:
            say(f"WARNING: other DAG runs ran alongside the complete run, the figures include them: {others}")

        failed = {dag_id: (r or {}).get("state") for dag_id, r in runs.items() if (r or {}).get("state") != "success"}
        if failed:
            bad_tasks = {
                dag_id: sorted(t["task_id"] for t in tis if t.get("state") not in ("success", "skipped"))
                for dag_id, tis in task_instances.items()
            }
            errors = [f"{s['layer']}.{s['table_name']}: {s['error_message']}" for s in steps if s["error_message"]]
            raise RuntimeError(
                f"the complete run {run_id} failed: runs {failed}, tasks not successful {bad_tasks}, "
                f"step errors {errors}; the stack's logs (components and tasks/logs) are kept in {home}"
            )

        ended_at = _when(bronze["end_date"])
        done = [s for s in steps if s["completed_at"] is not None]
        first_step = min(s["started_at"] for s in done)
        last_step = max(s["completed_at"] for s in done)
        wall = _seconds(ended_at, triggered_at)
        busy = _union_seconds([(s["started_at"], s["completed_at"]) for s in done])
        to_first = _seconds(first_step, triggered_at)
        after_last = _seconds(ended_at, last_step)
        out = {
            "run_id": run_id,
            "wall_seconds": wall,
            "wall_observed_seconds": observed,
            "database_seconds": sum(s["duration_seconds"] or 0 for s in done),
            "database_critical_path_seconds": busy,
            "airflow_overhead_seconds": wall - busy,
            "overhead_breakdown": {
                "trigger_to_first_step_seconds": to_first,
                "idle_between_steps_seconds": (last_step - first_step).total_seconds() - busy,
                "last_step_to_chain_end_seconds": after_last,
            },
            "layers": _layer_figures(done),
            "steps": len(done),
            "runs": {
                dag_id: {
                    "run_id": r["dag_run_id"],
                    "state": r["state"],
                    "queued_to_start_seconds": _seconds(_when(r["start_date"]), _when(r["queued_at"])),
                    "started_after_trigger_seconds": _seconds(_when(r["start_date"]), triggered_at),
                    "ended_after_trigger_seconds": _seconds(_when(r["end_date"]), triggered_at),
                }
                for dag_id, r in runs.items()
            },
            **_task_figures(task_instances, steps, chain, {dag_id: _upstreams(stack, dag_id) for dag_id in DAG_IDS}),
            "rows": _row_counts(dsn),
            "other_runs": others,
            "startup": startup,
        }
        if keep_logs:
            out["logs"] = str(home)
        succeeded = True
        return out
    except Exception as exc:
        if str(home) in str(exc):
            raise
        kind = TimeoutError if isinstance(exc, TimeoutError) else RuntimeError
        raise kind(
            f"the complete run under Airflow failed: {type(exc).__name__}: {exc}\n"
            f"the stack's logs (components, and tasks under logs/) are kept in {home}"
        ) from exc
    finally:
        if stack is not None:
            stack.stop()
        fake.stop()
        for name in databases:
            try:
                warehouse_db.drop_database(server_conninfo, name)
            except Exception as exc:  # noqa: BLE001 - a teardown must not hide the run's own error
                say(f"could not drop database {name}: {exc}")
        if succeeded and not keep_logs:
            shutil.rmtree(home, ignore_errors=True)


# --- python -m bench.airflow_run --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--parse-child"]:
        mode, path, spawned_at = argv[1], argv[2], float(argv[3])
        print(RESULT_MARK + json.dumps(_parse_child(mode, path, spawned_at)), flush=True)
        return 0

    parser = argparse.ArgumentParser(
        prog="python -m bench.airflow_run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-parse", action="store_true", help="do not measure the DAG parse times")
    parser.add_argument("--skip-run", action="store_true", help="do not run the complete run under Airflow")
    parser.add_argument("--keep-logs", action="store_true", help="keep the stack's logs (AIRFLOW_HOME) after a success")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds the run may take (600)")
    args = parser.parse_args(argv)

    from bench import datagen
    from elgoose_local.databases import server_conninfo, template_database

    began = time.perf_counter()
    out: dict = {}
    if not args.skip_parse:
        say("DAG parse times")
        out["dag_parse_profile"] = dag_parse_profile()
        out["dag_parse_seconds"] = {name: f["parse_seconds"] for name, f in out["dag_parse_profile"].items()}
    if not args.skip_run:
        folder, manifest = datagen.ensure(1)
        say(f"1x data ({manifest['source']}) in {folder}")
        server = server_conninfo()
        template = template_database(server)
        out["complete_run"] = complete_run(folder, server, template, timeout=args.timeout, keep_logs=args.keep_logs)
    out["seconds"] = time.perf_counter() - began
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
