"""``make bench``: every layer measured against the floor and the naive baseline, at 1x, 10x (and 100x).

    python -m bench [--scales 1,10,100] [--naive-max N] [--calls N] [--keep-db] [--regenerate] [--no-airflow]

For each scale, in this one process run, on a fresh migrated database of the benchmark's Postgres
(``ELGOOSE_TEST_DATABASE_URL`` if set, else the embedded pgserver) and the fake ElGoose server on
loopback streaming the generated files (``bench/datagen.py``):

1. floor: COPY of the raw records into bare jsonb tables + one INSERT ... SELECT into a typed table
2. bronze: ``pull_endpoint`` of every method in a child process (its peak RSS is the loader's)
3. silver (``run_layer(conn, "silver")``) and gold (``run_gold``); the size of each schema on disk
4. the chatbot queries, ``--calls`` times each: median and p95 latency
5. a re-run on unchanged data (bronze + silver), then a run after one new show (bronze + silver + gold)
6. the Warehouse page in Airflow's UI (``bench/ui_load.py``): median and p95 per page
7. naive: per-record select then insert/update (sampled and extrapolated above ``--naive-max`` records)
8. dlt: its ``rest_api`` source against ours (bronze + silver), first load and re-run, in-process and as
   whole processes (``bench/dlt_compare.py``; ``--no-dlt`` skips it)

Then, once (``bench/airflow_run.py``; ``--no-airflow`` skips it): each DAG file's parse time, and a
``complete`` run of the 1x data under Airflow's real scheduler, its wall time split into the database
work on the critical path and the Airflow overhead.

Writes the Markdown table to ``bench/results/<timestamp>.md`` and ``bench/results/latest.md`` and prints it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import psycopg

from bench import baselines, datagen, dlt_compare, fits, ui_load
from bench.report import render
from elgoose_local.console import say as console_say

ROOT = Path(__file__).resolve().parents[1]

RESULTS_DIR = ROOT / "bench" / "results"
QUERIES = {
    "top songs": "select * from gold.top_songs limit 10",
    "song by name": "select * from gold.find_song('Arcadia')",
    "show by date": "select * from gold.shows_on('2022-06-24')",
    "on this day": "select * from gold.on_this_day(6, 24)",
}
SCHEMAS = ("raw_data", "silver", "gold", "public")


def say(message: str) -> None:
    console_say(message, prefix="bench", stream=sys.stderr)


def parse_scales(text: str) -> list[int]:
    scales = [int(s) for s in text.replace(",", " ").split()]
    if not scales or any(s < 1 for s in scales):
        raise argparse.ArgumentTypeError(f"scales must be positive integers, got {text!r}")
    return scales


def machine(conn: psycopg.Connection, server: str) -> dict:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    settings = dict(
        conn.execute(
            "select name, setting || coalesce(unit, '') from pg_settings where name = any(%s)",
            (["shared_buffers", "work_mem", "maintenance_work_mem", "synchronous_commit", "max_wal_size", "jit"],),
        ).fetchall()
    )
    return {
        "cores": os.cpu_count(),
        "memory_gb": psutil.virtual_memory().total / 2**30,
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgres": conn.execute("show server_version").fetchone()[0],
        "postgres_settings": settings,
        "postgres_where": "ELGOOSE_TEST_DATABASE_URL" if os.environ.get("ELGOOSE_TEST_DATABASE_URL") else "pgserver",
    }


def bronze(dsn: str, run_id: str, api_url: str) -> dict:
    from elgoose.endpoints import METHODS

    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bronze_child", dsn, api_url, run_id, *METHODS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise RuntimeError(f"bronze child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    out = orjson.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = time.perf_counter() - started
    out["fetched"] = sum(r["fetched"] for r in out["results"].values())
    out["new"] = sum(r["new"] for r in out["results"].values())
    return out


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - started, value


def bronze_rows(conn: psycopg.Connection) -> int:
    from elgoose.endpoints import METHODS

    return sum(conn.execute(f"select count(*) from raw_data.{m}").fetchone()[0] for m in METHODS)


def schema_sizes(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute(
        """select n.nspname, sum(pg_total_relation_size(c.oid))
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = any(%s) and c.relkind in ('r', 'm', 'p')
            group by 1""",
        (list(SCHEMAS),),
    ).fetchall()
    return {name: int(size) for name, size in rows}


def latency(conn: psycopg.Connection, query: str, calls: int) -> dict:
    rows = len(conn.execute(query).fetchall())
    for _ in range(9):
        conn.execute(query).fetchall()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        conn.execute(query).fetchall()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return {
        "rows": rows,
        "calls": calls,
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": samples[max(0, math.ceil(0.95 * calls) - 1)] * 1000,
    }


def silver_run(conn: psycopg.Connection, run_id: str) -> dict:
    from elgoose.layers import run_layer

    seconds, counts = timed(run_layer, conn, "silver", run_id=run_id)
    return {
        "seconds": seconds,
        "processed": sum(c.get("processed", 0) for t, c in counts.items() if t != "people"),
        "inserted": sum(c.get("inserted", 0) for c in counts.values()),
        "updated": sum(c.get("updated", 0) for c in counts.values()),
        "counts": counts,
    }


def gold_run(conn: psycopg.Connection, run_id: str) -> dict:
    from elgoose.layers import run_gold
    from elgoose.registry import GOLD_TABLES

    seconds, built = timed(run_gold, conn, run_id=run_id)
    return {"seconds": seconds, "rows": sum(built[t] for t in GOLD_TABLES), "built": built}


def run_scale(scale: int, server: str, template: str, args: argparse.Namespace) -> dict:
    from elgoose.endpoints import METHODS
    from elgoose_local.databases import with_dbname
    from fake_elgoose import FakeElGoose

    say(f"{scale}x: data")
    folder, manifest = datagen.ensure(scale, regenerate=args.regenerate)
    records = manifest["records"]
    say(
        f"{scale}x: {sum(records.values()):,} records ({records['setlists']:,} setlist rows, "
        f"{manifest['bytes']['setlists'] / 1e6:.0f} MB of setlists JSON) in {folder}"
    )
    dbname = f"elgoose_bench_{scale}x_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{dbname}" template "{template}"')
    dsn = with_dbname(server, dbname)
    out: dict = {"scale": scale, "manifest": manifest, "database": dbname}
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            say(f"{scale}x: floor")
            out["floor"] = baselines.floor(conn, folder, records)
            with FakeElGoose() as fake:
                for method in METHODS:
                    fake.set_file(method, folder / f"{method}.json")

                say(f"{scale}x: bronze")
                baselines.checkpoint(conn)
                out["bronze"] = bronze(dsn, "bench-full", fake.base_url)
                say(f"{scale}x: silver")
                baselines.checkpoint(conn)
                out["silver"] = silver_run(conn, "bench-full")
                say(f"{scale}x: gold")
                baselines.checkpoint(conn)
                out["gold"] = gold_run(conn, "bench-full")
                out["sizes"] = schema_sizes(conn)

                say(f"{scale}x: chatbot queries")
                conn.execute("vacuum analyze")  # what autovacuum does to a settled warehouse
                baselines.checkpoint(conn)
                out["latency"] = {name: latency(conn, q, args.calls) for name, q in QUERIES.items()}

                say(f"{scale}x: re-run on unchanged data")
                before = bronze_rows(conn)
                baselines.checkpoint(conn)
                rerun_bronze = bronze(dsn, "bench-rerun", fake.base_url)
                rerun_silver = silver_run(conn, "bench-rerun")
                out["rerun"] = {
                    "bronze": rerun_bronze,
                    "silver": rerun_silver,
                    "bronze_rows_written": bronze_rows(conn) - before,
                }

                say(f"{scale}x: one new show")
                for method in datagen.CHANGED:
                    fake.set_file(method, folder / "change" / f"{method}.json")
                before = bronze_rows(conn)
                baselines.checkpoint(conn)
                change_bronze = bronze(dsn, "bench-change", fake.base_url)
                change_silver = silver_run(conn, "bench-change")
                change_gold = gold_run(conn, "bench-change")
                out["change"] = {
                    "bronze": change_bronze,
                    "silver": change_silver,
                    "gold": change_gold,
                    "bronze_rows_written": bronze_rows(conn) - before,
                    "show_rows": manifest["change"],
                }

                say(f"{scale}x: the Warehouse page")
                out["ui"] = ui_load.measure(dsn)

            say(f"{scale}x: naive baseline")
            out["naive"] = baselines.naive(conn, folder, records, args.naive_max)
            if not args.no_dlt:
                out["dlt"] = dlt_compare.run_scale(scale, folder, manifest, server, template, keep_db=args.keep_db)
    finally:
        if not args.keep_db:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{dbname}" with (force)')
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=parse_scales(os.environ.get("SCALES") or "1 10"),
        help='scales to run, e.g. "1,10,100" or "1 10 100" (default: 1 10, or env SCALES)',
    )
    parser.add_argument(
        "--naive-max",
        type=int,
        default=12_000,
        help="run the naive baseline on at most this many records, extrapolating above (12000)",
    )
    parser.add_argument("--calls", type=int, default=200, help="calls per chatbot query (200)")
    parser.add_argument("--keep-db", action="store_true", help="keep each scale's database (default: drop it)")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the data files")
    parser.add_argument(
        "--no-airflow",
        action="store_true",
        help="skip the DAG parse times and the complete run at 1x under Airflow's scheduler",
    )
    parser.add_argument("--no-dlt", action="store_true", help="skip dlt against ours (bench/dlt_compare.py)")
    args = parser.parse_args(argv)

    from elgoose_local.databases import server_conninfo, template_database

    started = time.perf_counter()
    server = server_conninfo()
    template = template_database(server)
    with psycopg.connect(server, autocommit=True) as conn:
        info = machine(conn, server)
    source = datagen.base_data()[0]
    info["source"] = source
    info["started"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    runs = []
    for scale in args.scales:
        run = run_scale(scale, server, template, args)
        runs.append(run)
        say(f"{scale}x done")
    if not args.no_airflow:
        from bench import airflow_run

        say("Airflow: DAG parse times")
        info["dag_parse"] = airflow_run.dag_parse_profile()
        say("Airflow: a complete run at 1x under the scheduler")
        info["airflow_complete"] = airflow_run.complete_run(datagen.ensure(1)[0], server, template)
    info["fits"] = fits.fit(runs)
    info["seconds"] = time.perf_counter() - started
    markdown = render(runs, info)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS_DIR / f"{stamp}.md").write_text(markdown)
    (RESULTS_DIR / "latest.md").write_text(markdown)
    (RESULTS_DIR / f"{stamp}.json").write_bytes(
        orjson.dumps({"machine": info, "runs": runs}, option=orjson.OPT_INDENT_2)
    )
    print(markdown)
    say(f"written to bench/results/{stamp}.md and bench/results/latest.md ({info['seconds']:.0f} s)")
    return 0
