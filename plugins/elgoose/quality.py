"""Data-quality gates between silver and gold: results in ``quality_checks``, a 'fail' stops the run."""

from __future__ import annotations

import json
import logging
import os

import psycopg

from elgoose import settings
from elgoose.sql import run_sql_file
from elgoose.warehouse import track_step

log = logging.getLogger(__name__)

DEFAULT_GOLDEN_RECORDS = settings.PROJECT_ROOT / "include" / "quality" / "golden_records.json"


class QualityGateFailed(RuntimeError):
    """Silver is wrong in a way that must not reach gold; the results are in quality_checks."""


def golden_records() -> list[dict]:
    path = os.environ.get("ELGOOSE_GOLDEN_RECORDS") or str(DEFAULT_GOLDEN_RECORDS)
    with open(path) as handle:
        return json.load(handle)


def quality_parameters(run_id: str | None) -> dict:
    return {
        "run_id": run_id,
        "golden_records": json.dumps(golden_records()),
        "rowcount_drop_tolerance": float(os.environ.get("ELGOOSE_ROWCOUNT_DROP_TOLERANCE", "0.5")),
        "freshness_max_days": int(os.environ.get("ELGOOSE_FRESHNESS_MAX_DAYS", "120")),
        "artist_id": settings.ARTIST_ID,
    }


def run_quality_checks(conn: psycopg.Connection, *, run_id: str | None = None) -> list[dict]:
    """Run the silver checks, log them as a table, and raise if any check failed."""
    with track_step(conn, "quality", "silver_checks", run_id) as step:
        rows = run_sql_file(conn, "quality/silver_checks.sql", quality_parameters(run_id))
        results = rows[-1][0] if rows else []
        for r in results:
            log.info(
                "quality %-4s %-36s observed=%s expected=%s%s",
                r["status"].upper(),
                r["check"],
                r["observed"],
                r["expected"],
                f" ({r['detail']})" if r.get("detail") else "",
            )
        failed = [r for r in results if r["status"] == "fail"]
        warned = [r for r in results if r["status"] == "warn"]
        step.update(
            records_processed=len(results),
            details={"failed": [r["check"] for r in failed], "warned": [r["check"] for r in warned]},
        )
        if failed:
            raise QualityGateFailed(
                "data-quality gate failed, gold is not refreshed: "
                + "; ".join(f"{r['check']} observed {r['observed']}, expected {r['expected']}" for r in failed)
            )
    return results
