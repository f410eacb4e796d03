"""Bronze + silver of this pipeline in one fresh process: "ours" against dlt, as a whole process.

    python -m bench.ours_child DSN API_URL RUN_ID

The counterpart of ``bench/dlt_baseline.py``: ``elgoose.layers.run_layers(connect, ["bronze", "silver"])``
with an ``ElGooseClient`` of ``API_URL`` (the fake server; dlt gets the same base URL). Every pull and silver
step runs as the registry's graph on the default number of worker connections, as the DAGs run them as
parallel tasks (dlt loads with its default worker threads). Airflow is never imported, as dlt's process
imports no orchestrator.

Prints one JSON line: ``seconds`` (in-process: from the start of the load to the end of silver, after the
imports), the epoch times the clock started and stopped at, the records fetched, written and processed,
and the process's peak RSS.
"""

from __future__ import annotations

import resource
import sys
import time


def main(argv: list[str]) -> int:
    dsn, api_url, run_id = argv
    import orjson
    import psycopg

    from elgoose.api_client import ElGooseClient
    from elgoose.layers import run_layers

    client = ElGooseClient(api_url, timeout=(10.0, 600.0))

    clock_started_at = time.time()
    started = time.perf_counter()
    results = run_layers(
        lambda: psycopg.connect(dsn, autocommit=True), ["bronze", "silver"], client=client, run_id=run_id
    )
    seconds = time.perf_counter() - started
    clock_stopped_at = time.time()

    print(
        orjson.dumps(
            {
                "seconds": seconds,
                "clock_started_at": clock_started_at,
                "clock_stopped_at": clock_stopped_at,
                "fetched": sum(r["fetched"] for r in results["bronze"].values()),
                "new": sum(r["new"] for r in results["bronze"].values()),
                "processed": sum(c.get("processed", 0) for t, c in results["silver"].items() if t != "people"),
                "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ).decode(),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
