"""Data-quality gates between silver and gold: results in ``quality_checks``, a 'fail' stops the run."""

from __future__ import annotations

import json
import logging

import psycopg

from elgoose.settings import get_settings
from elgoose.steps import QUALITY, QUALITY_STEP, run_step

log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """Silver is wrong in a way that must not reach gold; the results are in quality_checks."""


def golden_records() -> list[dict]:
    """The known shows the gates compare silver with (setting ``ELGOOSE_GOLDEN_RECORDS``)."""
    return json.loads(get_settings().golden_records.read_text())


def judge(results: list[dict]) -> tuple[dict, QualityGateFailed | None]:
    """Log every check as a table row; the failed and warned checks, and an error naming each failed one."""
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
    details = {"failed": [r["check"] for r in failed], "warned": [r["check"] for r in results if r["status"] == "warn"]}
    if not failed:
        return details, None
    return details, QualityGateFailed(
        "data-quality gate failed, gold is not refreshed: "
        + "; ".join(f"{r['check']} observed {r['observed']}, expected {r['expected']}" for r in failed)
    )


def run_quality_checks(conn: psycopg.Connection, *, run_id: str | None = None, status_conn=None) -> list[dict]:
    """Run the silver checks (``include/sql/quality/silver_checks.sql``); raise if any check failed."""
    return run_step(conn, QUALITY, QUALITY_STEP, run_id=run_id, check=judge, status_conn=status_conn)
