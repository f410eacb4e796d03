"""Bronze + silver of this pipeline in one fresh process: "ours" against dlt, as a whole process.

    python -m bench.ours_child DSN API_URL RUN_ID

The counterpart of ``bench/dlt_baseline.py``: ``elgoose.bronze.pull_endpoint`` for every method with an
``ElGooseClient`` of ``API_URL`` (the fake server; dlt gets the same base URL), then
``elgoose.layers.run_layer(conn, "silver")``: Airflow is never imported, as dlt's process imports no
orchestrator. Prints one JSON line: ``seconds`` (in-process: from connecting to the warehouse to the end of
silver, after the imports) and the epoch times
the clock started and stopped at, the bronze and silver parts, the records fetched, written and processed,
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
    from elgoose.bronze import pull_endpoint
    from elgoose.endpoints import METHODS
    from elgoose.layers import run_layer

    client = ElGooseClient(api_url, timeout=(10.0, 600.0))

    clock_started_at = time.time()
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        results = {m: pull_endpoint(conn, m, client, run_id=run_id).as_dict() for m in METHODS}
        bronze_seconds = time.perf_counter() - started
        counts = run_layer(conn, "silver", run_id=run_id)
    seconds = time.perf_counter() - started
    clock_stopped_at = time.time()

    print(
        orjson.dumps(
            {
                "seconds": seconds,
                "clock_started_at": clock_started_at,
                "clock_stopped_at": clock_stopped_at,
                "bronze_seconds": bronze_seconds,
                "silver_seconds": seconds - bronze_seconds,
                "fetched": sum(r["fetched"] for r in results.values()),
                "new": sum(r["new"] for r in results.values()),
                "processed": sum(c.get("processed", 0) for t, c in counts.items() if t != "people"),
                "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ).decode(),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
