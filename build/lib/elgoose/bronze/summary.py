"""The summary of a bronze run: what loaded, what failed, and whether silver may proceed."""

from __future__ import annotations

import logging

import psycopg

from elgoose.api_client import ElGooseError
from elgoose.settings import get_settings
from elgoose.status import mark_abandoned_steps, track_step

log = logging.getLogger(__name__)


def finish_bronze_run(conn: psycopg.Connection, run_id: str) -> dict:
    """Summarise this run's pulls; fail when nothing arrived or the isolation policy forbids going on."""
    # a pull whose process was killed is reported as abandoned, not as still processing
    mark_abandoned_steps(conn, f"bronze step bronze_finished of run {run_id}")
    with conn.cursor() as cur:
        cur.execute(
            """select distinct on (table_name) table_name, status, records_processed, records_inserted,
                      records_unchanged, duration_seconds, error_message
                 from public.processing_status
                where layer = 'bronze' and run_id = %s
                order by table_name, id desc""",
            (run_id,),
        )
        steps = cur.fetchall()
    completed = [s[0] for s in steps if s[1] == "completed"]
    failed = {s[0]: s[6] for s in steps if s[1] != "completed"}
    for name, status, fetched, new, unchanged, seconds, error in steps:
        log.info(
            "bronze %-12s %-9s fetched=%s new=%s unchanged=%s %.2fs%s",
            name,
            status,
            fetched,
            new,
            unchanged,
            float(seconds or 0),
            f" error={error}" if error else "",
        )
    summary = {"completed": completed, "failed": failed}
    with track_step(conn, "bronze", "bronze_finished", run_id) as step:
        step.update(records_processed=len(completed), details=summary)
        if failed and not completed:
            raise ElGooseError(f"no endpoint loaded in run {run_id}; failed: {sorted(failed)}")
        if failed and not get_settings().silver_after_partial_bronze:
            raise ElGooseError(
                f"endpoints failed: {sorted(failed)}; silver waits for a complete bronze run "
                "(ELGOOSE_SILVER_AFTER_PARTIAL_BRONZE=false)"
            )
        if failed:
            log.warning("bronze finished with failed endpoints %s; silver will process what arrived", sorted(failed))
    return summary
