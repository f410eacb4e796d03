"""dlt against ours, at one scale: first load and unchanged re-run, in-process and as whole processes.

Called by ``bench/run.py`` once per scale, on that scale's generated files, after the other phases:

- two fresh databases of the same server: ``<db>_ours`` from the migrated template (our warehouse) and
  ``<db>_dlt`` (empty; dlt creates its dataset schema ``dlt_elgoose`` and its tables itself);
- a ``FakeElGoose`` on loopback streaming the same files (``set_file``), as ``bench/run.py`` serves them;
- ours: ``python -m bench.ours_child`` (bronze for every method, then silver, one fresh process), twice;
- dlt: ``python -I bench/dlt_baseline.py`` in dlt's own virtualenv, twice, with the same pipeline name,
  pipelines directory and dataset, so the second run is a real re-run of the same pipeline.

Each of the four is a fresh process started on a quiet server (``baselines.checkpoint``). "process" is the
wall time of the process as the parent sees it (start, imports, load, exit); "in-process" is the time the
process measures around its load, after its imports (see each child's docstring).

dlt's pins clash with Airflow's: it runs in its own virtualenv, created on first use in
``bench/data/dlt-venv`` (git-ignored) from ``bench/dlt-requirements.txt`` (exact pins) with this
interpreter's ``venv`` and pip from PyPI. dlt is never a dependency of the project.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bench import baselines, report_dlt

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "bench" / "dlt-requirements.txt"
VENV = ROOT / "bench" / "data" / "dlt-venv"
WORK = ROOT / "bench" / "data" / "dlt-work"
SCRIPT = ROOT / "bench" / "dlt_baseline.py"
PIPELINE = "elgoose_dlt"
DATASET = "dlt_elgoose"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def venv_python() -> Path:
    """dlt's virtualenv, (re)created when missing or when ``bench/dlt-requirements.txt`` changed."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    say(f"creating dlt's virtualenv in {VENV.relative_to(ROOT)} from {REQUIREMENTS.relative_to(ROOT)}")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        capture_output=True,
        text=True,
    )
    if pip.returncode:
        raise RuntimeError(
            f"installing {REQUIREMENTS.name} into {VENV} failed:\n{pip.stdout[-2000:]}{pip.stderr[-4000:]}"
        )
    stamp.write_text(wanted)
    return python


def credentials(dsn: str) -> dict:
    """The database as dlt's postgres credentials (dlt requires a password: trust auth ignores it)."""
    info = conninfo_to_dict(dsn)
    return {
        "host": info.get("host") or "127.0.0.1",
        "port": int(info.get("port") or 5432),
        "username": info.get("user") or "postgres",
        "password": info.get("password") or os.environ.get("PGPASSWORD") or "unused",
        "database": info["dbname"],
    }


def spec(base_url: str, dsn: str, pipelines_dir: Path) -> dict:
    """What dlt_baseline.py loads: the project's methods, natural keys, User-Agent and limit."""
    from elgoose.endpoints import ENDPOINTS
    from elgoose.settings import get_settings

    settings = get_settings()
    return {
        "base_url": base_url,
        "user_agent": settings.user_agent,
        "limit": settings.request_limit,
        "resources": {m: list(e.key_fields) for m, e in ENDPOINTS.items()},
        "credentials": credentials(dsn),
        "pipeline_name": PIPELINE,
        "dataset_name": DATASET,
        "pipelines_dir": str(pipelines_dir),
    }


def _child(argv: list[str], env: dict[str, str], what: str) -> dict:
    spawned_at = time.time()
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    process_seconds = time.perf_counter() - started
    exited_at = time.time()
    if proc.returncode:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    out = orjson.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = process_seconds
    # the process outside its load: start-up and imports before the clock, tear-down after it
    out["before_load_seconds"] = out["clock_started_at"] - spawned_at
    out["after_load_seconds"] = exited_at - out["clock_stopped_at"]
    return out


def ours(dsn: str, run_id: str, api_url: str) -> dict:
    argv = [sys.executable, "-m", "bench.ours_child", dsn, api_url, run_id]
    return _child(argv, dict(os.environ), "ours (bronze + silver)")


def dlt(python: Path, load_spec: dict) -> dict:
    # -I: no PYTHONPATH, no user site, not the script's folder: the script sees dlt's venv and nothing else
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLT_", "RUNTIME__"))}
    return _child([str(python), "-I", str(SCRIPT), json.dumps(load_spec)], env, "dlt")


def _table_rows(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    tables = conn.execute(
        "select table_name from information_schema.tables where table_schema = %s order by 1", (schema,)
    ).fetchall()
    return {
        t: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, t))).fetchone()[0]
        for (t,) in tables
    }


def _requests_of(fake, first: int) -> dict:
    """What the fake server saw from one load: paths and User-Agents."""
    seen = fake.requests[first:]
    return {
        "count": len(seen),
        "user_agents": sorted({headers.get("User-Agent", "") for _, _, headers in seen}),
        "paths": sorted(path for _, path, _ in seen),
    }


def ratios(ours_runs: dict, dlt_runs: dict) -> dict:
    """dlt ÷ ours for each of first load / re-run × in-process / process."""
    return {
        f"{phase}_{kind}": dlt_runs[phase][key] / ours_runs[phase][key]
        for phase in ("first", "rerun")
        for kind, key in (("in_process", "seconds"), ("process", "process_seconds"))
    }


def run_scale(scale: int, folder: Path, manifest: dict, server: str, template: str, *, keep_db: bool = False) -> dict:
    """Ours and dlt, first load and unchanged re-run, on ``folder``'s files; row counts checked."""
    from elgoose.endpoints import METHODS
    from elgoose.settings import get_settings
    from elgoose_local.databases import with_dbname
    from fake_elgoose import FakeElGoose

    settings = get_settings()

    python = venv_python()
    name = f"elgoose_bench_{scale}x_{uuid.uuid4().hex[:8]}"
    ours_db, dlt_db = f"{name}_ours", f"{name}_dlt"
    work = WORK / name
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(ours_db), sql.Identifier(template))
        )
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dlt_db)))
    ours_dsn, dlt_dsn = with_dbname(server, ours_db), with_dbname(server, dlt_db)
    out: dict = {"databases": [ours_db, dlt_db], "ours": {}, "dlt": {}}
    try:
        with (
            FakeElGoose() as fake,
            psycopg.connect(ours_dsn, autocommit=True) as ours_conn,
            psycopg.connect(dlt_dsn, autocommit=True) as dlt_conn,
        ):
            for method in METHODS:
                fake.set_file(method, folder / f"{method}.json")
            load_spec = spec(fake.base_url, dlt_dsn, work / "pipelines")
            for phase in ("first", "rerun"):
                say(f"{scale}x: ours (bronze + silver in one process), {phase}")
                baselines.checkpoint(ours_conn)
                out["ours"][phase] = ours(ours_dsn, f"bench-dlt-{phase}", fake.base_url)
                say(f"{scale}x: dlt rest_api, {phase}")
                baselines.checkpoint(dlt_conn)
                first = len(fake.requests)
                out["dlt"][phase] = dlt(python, load_spec)
                out["dlt"][phase]["requests"] = _requests_of(fake, first)
            out["dlt"]["tables"] = _table_rows(dlt_conn, DATASET)
            out["dlt"]["loads"] = dlt_conn.execute(
                sql.SQL("select count(*) from {} where status = 0").format(sql.Identifier(DATASET, "_dlt_loads"))
            ).fetchone()[0]
            out["dlt"]["bytes"] = int(
                dlt_conn.execute(
                    "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
                    "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relkind = 'r'",
                    (DATASET,),
                ).fetchone()[0]
            )
        out["check"] = check(out, manifest, settings.user_agent, settings.request_limit)
        out["ratios"] = ratios(out["ours"], out["dlt"])
        out["targets"] = report_dlt.judge(scale, out["ratios"])
    finally:
        if not keep_db:
            with psycopg.connect(server, autocommit=True) as admin:
                for db in (ours_db, dlt_db):
                    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    return out


def check(out: dict, manifest: dict, user_agent: str, limit: int) -> dict:
    """dlt loaded every served record once, with our User-Agent, and its second run was a re-run."""
    records = manifest["records"]
    tables = out["dlt"]["tables"]
    # a method that served no rows gives dlt no table
    missing = {m: (tables.get(m, 0), n) for m, n in records.items() if tables.get(m, 0) != n}
    agents = {ua for phase in ("first", "rerun") for ua in out["dlt"][phase]["requests"]["user_agents"]}
    first, rerun = out["dlt"]["first"], out["dlt"]["rerun"]
    problems = []
    if missing:
        problems.append(f"dlt row counts differ from the records served (table: (rows, served)): {missing}")
    if agents != {user_agent}:
        problems.append(f"dlt sent User-Agent {sorted(agents)}, not the project's")
    paths = [p for phase in ("first", "rerun") for p in out["dlt"][phase]["requests"]["paths"]]
    if len(paths) != 2 * len(records) or any(f"limit={limit}" not in p for p in paths):
        problems.append(f"dlt did not make one request per method with ?limit={limit}: {paths}")
    if not first["first_run"] or rerun["first_run"] or out["dlt"]["loads"] != 2:
        problems.append(
            f"dlt's re-run is not a re-run of the same pipeline (first_run {first['first_run']} then "
            f"{rerun['first_run']}, {out['dlt']['loads']} loads)"
        )
    if out["ours"]["rerun"]["new"]:
        problems.append(f"ours wrote {out['ours']['rerun']['new']} bronze rows on the unchanged re-run")
    if problems:
        raise RuntimeError("dlt comparison: " + "; ".join(problems))
    return {
        "rows_match_served": True,
        "setlists_rows": tables.get("setlists", 0),
        "setlists_served": records["setlists"],
        "user_agent": user_agent,
        "loads": out["dlt"]["loads"],
        "requests_per_load": out["dlt"]["first"]["requests"]["count"],
        "limit": limit,
    }
