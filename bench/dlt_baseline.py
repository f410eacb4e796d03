"""The dlt baseline: dlt's ``rest_api`` source loads every ElGoose method into PostgreSQL. One load per process.

    <dlt venv>/bin/python -I bench/dlt_baseline.py SPEC_JSON

Runs inside the benchmark's own dlt virtualenv (``bench/dlt_compare.py`` creates it from
``bench/dlt-requirements.txt``): it imports dlt and the standard library only, never airflow or elgoose.
SPEC_JSON (built by ``bench/dlt_compare.py`` from ``elgoose.endpoints`` and ``elgoose.settings``)::

    {"base_url": "http://127.0.0.1:PORT/api/v2", "user_agent": "...", "limit": 1000000,
     "resources": {"setlists": ["uniqueid"], ..., "metadata": []},
     "credentials": {"host": ..., "port": ..., "username": ..., "password": ..., "database": ...},
     "pipeline_name": "elgoose_dlt", "dataset_name": "dlt_elgoose", "pipelines_dir": "..."}

Every method with a natural key is ``write_disposition="merge"`` on it (dlt's default merge strategy,
delete-insert); ``metadata`` has none and is ``replace`` (the table becomes what was served, as our bronze
keeps one version per distinct record). ``single_page`` paginator, ``?limit=`` as large as the project asks,
the project's User-Agent. Everything else is dlt's default (nested lists become child tables, e.g.
``shows__show_tags``; the postgres loader's default file format).

Prints one JSON line: ``seconds`` (in-process: from creating the pipeline to the end of ``pipeline.run``,
after the imports) and the epoch times the clock started and stopped at, whether dlt saw this as the
pipeline's first run, the rows normalized per table, the load ids and the process's peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def config(spec: dict) -> dict:
    """The ``rest_api`` configuration of the ten methods."""
    resources = []
    for method, key in spec["resources"].items():
        resource_config: dict = {"name": method, "endpoint": {"path": f"{method}.json"}}
        if key:
            resource_config["primary_key"] = key[0] if len(key) == 1 else list(key)
        else:
            resource_config["write_disposition"] = "replace"
        resources.append(resource_config)
    return {
        "client": {
            "base_url": spec["base_url"].rstrip("/") + "/",
            "headers": {"User-Agent": spec["user_agent"], "Accept": "application/json"},
            "paginator": "single_page",
        },
        "resource_defaults": {
            "write_disposition": "merge",
            "endpoint": {"params": {"limit": spec["limit"]}, "data_selector": "data"},
        },
        "resources": resources,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # no network beyond loopback
    os.environ.setdefault("DLT_DATA_DIR", os.path.join(spec["pipelines_dir"], "_dlt_home"))

    import dlt
    from dlt.destinations import postgres
    from dlt.sources.rest_api import rest_api_source

    clock_started_at = time.time()
    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name=spec["pipeline_name"],
        destination=postgres(credentials=spec["credentials"]),
        dataset_name=spec["dataset_name"],
        pipelines_dir=spec["pipelines_dir"],
    )
    first_run = pipeline.first_run
    info = pipeline.run(rest_api_source(config(spec), name="elgoose"))
    seconds = time.perf_counter() - started
    clock_stopped_at = time.time()

    normalize = pipeline.last_trace.last_normalize_info
    print(
        json.dumps(
            {
                "seconds": seconds,
                "clock_started_at": clock_started_at,
                "clock_stopped_at": clock_stopped_at,
                "first_run": first_run,
                "rows_normalized": dict(normalize.row_counts) if normalize else {},
                "load_ids": list(info.loads_ids),
                "failed_jobs": info.has_failed_jobs,
                "dlt_version": dlt.__version__,
                "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
