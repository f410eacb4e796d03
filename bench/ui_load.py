"""The Warehouse page's response time (elgoose/ui) on the benchmark's warehouse, at each scale.

Measured on the scale's database after its runs (full, re-run, one new show: three runs of every step),
in-process: the page's own FastAPI app served through Starlette's test client, its fixed queries run as
the read-only role ``elgoose_ui`` through the app's pool, templates rendered, the whole HTML returned.
What the real api-server adds on top is Airflow's JWT check (a signature check, well under a millisecond)
and one loopback HTTP round trip; the login check is replaced by a stand-in here because it needs a
running api-server.

Target (issue #15): the page answers in under 200 ms at 10x.
"""

from __future__ import annotations

import math
import statistics
import time

TARGET_MS = 200.0
TARGET_SCALE = 10
PAGES = {
    "overview": "/",
    "run view": "/run?dag_id=elgoose_bronze&run_id=bench-change",
    "rejects drill-down": "/rejects/setlists",
}


def measure(dsn: str, calls: int = 50) -> dict:
    """Median and p95 of ``calls`` requests per page, after 3 warm-up requests (connections, templates)."""
    from fastapi.testclient import TestClient
    from psycopg.conninfo import make_conninfo

    from elgoose.ui.app import create_app
    from elgoose.ui.database import ReadOnlyPool

    conninfo = make_conninfo(dsn, user="elgoose_ui")
    pool = ReadOnlyPool(lambda: conninfo)
    out = {}
    try:
        with TestClient(create_app(pool, reader_dependency=lambda: None)) as client:
            for name, path in PAGES.items():
                for _ in range(3):
                    response = client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"the Warehouse page {path} answered {response.status_code}: {response.text}"
                        )
                samples = []
                for _ in range(calls):
                    started = time.perf_counter()
                    client.get(path)
                    samples.append(time.perf_counter() - started)
                samples.sort()
                out[name] = {
                    "path": path,
                    "calls": calls,
                    "bytes": len(response.content),
                    "median_ms": statistics.median(samples) * 1000,
                    "p95_ms": samples[max(0, math.ceil(0.95 * calls) - 1)] * 1000,
                }
    finally:
        pool.close()
    return out


def report(runs: list[dict]) -> list[str]:
    """The report's section: one row per page, one column per scale, and the target's verdict."""
    measured = [r for r in runs if r.get("ui")]
    if not measured:
        return []
    lines = [
        "## The Warehouse page",
        "",
        "| page, median / p95 | " + " | ".join(f"{r['scale']}x" for r in measured) + " |",
        "| --- |" + " --- |" * len(measured),
    ]
    for name in measured[0]["ui"]:
        pages = [r["ui"][name] for r in measured]
        cells = [f"{p['median_ms']:.1f} / {p['p95_ms']:.1f} ms ({p['bytes'] / 1024:.1f} KB)" for p in pages]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"{measured[0]['ui'][next(iter(measured[0]['ui']))]['calls']} requests per page after 3 warm-up requests, "
        "in-process through the page's FastAPI app (its queries as role elgoose_ui, templates rendered); "
        "the api-server adds its JWT check and one loopback round trip (`bench/ui_load.py`).",
        "",
    ]
    at_target = [r for r in measured if r["scale"] == TARGET_SCALE]
    if at_target:
        worst = max(page["p95_ms"] for page in at_target[0]["ui"].values())
        verdict = "met" if worst < TARGET_MS else "**not met**"
        target = f"Warehouse page under {TARGET_MS:.0f} ms at {TARGET_SCALE}x"
        lines += [f"- {target}: {verdict} (worst p95 {worst:.1f} ms)", ""]
    return lines
