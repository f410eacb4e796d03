"""
### elgoose_silver: `raw_data.*` -> `silver.*`

Types and normalizes the unprocessed bronze records into `silver.*`: one task per silver table of the
registry (`elgoose/registry.py`), each after the tables it reads (venues -> shows -> setlists ->
jamcharts, appearances -> people; the others in parallel). Each task runs
`include/sql/silver/<table>.sql` as one transaction:

- reads only bronze rows with `is_processed = false`, takes the newest version of each record,
  upserts it (an unchanged row is not rewritten), and marks the bronze rows processed;
- quarantines records that cannot be typed in `silver.rejects` (the rest of the batch loads);
- removes rows the latest complete pull no longer serves (logged in `silver.deletions`), but
  refuses a mass deletion: a pull that lost most of its rows is an upstream fault;
- writes its counts to `processing_status` (layer `silver`).

Scheduled runs (02:30 UTC) first wait for the same day's `elgoose_bronze.bronze_finished`.
`force_reprocess` re-marks the current bronze versions unprocessed and rebuilds from them.
Then the data-quality gates run (results in `quality_checks`; a failure stops the run before gold):
passing them finishes silver (`quality_gates` emits the asset `elgoose://warehouse/silver`). Mode
`complete` then runs `elgoose_gold` and waits for it.
"""

from __future__ import annotations

from airflow.sdk import Asset, TriggerRule, task

from elgoose.dag_support import (
    ASSETS,
    complete_chain,
    layer_dag,
    layer_steps,
    leaves,
    roots,
    start_gate,
)
from elgoose.retries import step_retries

with layer_dag(
    "silver", doc=__doc__, description="raw_data -> silver: typed, normalized tables upserted incrementally"
):

    @task(trigger_rule=TriggerRule.NONE_FAILED, outlets=[Asset(ASSETS["silver"])], **step_retries())
    def quality_gates() -> list[dict]:
        """Row counts, referential integrity, keys, golden records, freshness: a failure stops gold. Passing
        them finishes silver (the asset elgoose://warehouse/silver; gold's sensor waits for this task)."""
        from airflow.sdk import get_current_context

        from elgoose.connections import warehouse_connection
        from elgoose.quality import run_quality_checks

        with warehouse_connection() as conn:
            return run_quality_checks(conn, run_id=get_current_context()["run_id"])

    # One task per silver table of the registry, each after the tables it reads (a skipped one, when the
    # run's `endpoints` leave its method out, does not stop the others).
    tables = layer_steps("silver", trigger_rule=TriggerRule.NONE_FAILED)
    start_gate("silver", upstream_layer="bronze", upstream_task_id="bronze_finished") >> roots(tables)
    leaves(tables) >> quality_gates() >> complete_chain("gold")
