"""The bronze load of one benchmark run, in its own process, so that its peak RSS is its own.

    python -m bench.bronze_child DSN API_URL RUN_ID METHOD [METHOD ...]

Pulls every method through the real code path (``elgoose.bronze.pull_endpoint`` with an
``ElGooseClient`` of ``API_URL``, the fake server) and prints one JSON line: per-method results, the
seconds of the pulls, and the process's peak RSS (``ru_maxrss``) after the imports and at the end.
"""

from __future__ import annotations

import resource
import sys
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str]) -> int:
    dsn, api_url, run_id, *methods = argv
    import orjson
    import psycopg

    from elgoose.api_client import ElGooseClient
    from elgoose.bronze import pull_endpoint

    client = ElGooseClient(api_url, timeout=(10.0, 600.0))
    after_imports = _peak_mb()
    results = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        for method in methods:
            t = time.perf_counter()
            result = pull_endpoint(conn, method, client, run_id=run_id).as_dict()
            result["wall"] = time.perf_counter() - t
            results[method] = result
        seconds = time.perf_counter() - started
    print(
        orjson.dumps(
            {"results": results, "seconds": seconds, "rss_after_imports_mb": after_imports, "rss_peak_mb": _peak_mb()}
        ).decode(),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
