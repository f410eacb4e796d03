"""
### elgoose_silver: `raw_data.*` -> `silver.*`

Types and normalizes the unprocessed bronze records into `silver.*`, one task per table, in
dependency order: venues -> shows -> songs -> setlists -> (appearances -> people, links, uploads,
metadata, latest, jamcharts, album_tracks -> albums). Each task runs `include/sql/silver/<table>.sql`
as one transaction:

- reads only bronze rows with `is_processed = false`, takes the newest version of each record,
  upserts it (an unchanged row is not rewritten), and marks the bronze rows processed;
- quarantines records that cannot be typed in `silver.rejects` (the rest of the batch loads);
- removes rows the latest complete pull no longer serves (logged in `silver.deletions`), but
  refuses a mass deletion: a pull that lost most of its rows is an upstream fault;
- writes its counts to `processing_status` (layer `silver`).

Scheduled runs (02:30 UTC) first wait for the same day's `elgoose_bronze.bronze_finished`.
`force_reprocess` re-marks the current bronze versions unprocessed and rebuilds from them.
Then the data-quality gates run (results in `quality_checks`; a failure stops the run before gold);
mode `complete` runs `elgoose_gold` and waits for it.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Asset, CronTriggerTimetable, TriggerRule, task

from elgoose.dag_support import (
    ASSETS,
    DEFAULT_ARGS,
    SCHEDULES,
    TAGS,
    complete_chain,
    gated_start,
    run_params,
)
from elgoose.layers import SILVER_AFTER_SETLISTS, SILVER_ORDER, silver_parameters
from elgoose.operators import LayerSQLOperator

# people has no API method of its own: it is derived from appearances. The albums method fills
# album_tracks (one row per track), and silver.albums is derived from album_tracks.
SOURCE_METHOD = {"people": "appearances", "album_tracks": "albums"}
DERIVED_FROM = {"people": "appearances", "albums": "album_tracks"}


def _silver_parameters(context) -> dict:
    return silver_parameters(context["run_id"], context["params"]["force_reprocess"])


def silver_table(table: str) -> LayerSQLOperator:
    return LayerSQLOperator(
        layer="silver",
        table=table,
        parameters_factory=_silver_parameters,
        source_method=SOURCE_METHOD.get(table, table),
        trigger_rule=TriggerRule.NONE_FAILED,
        doc_md=f"Upserts `silver.{table}` from `include/sql/silver/{table}.sql`.",
    )


with DAG(
    dag_id=Path(__file__).stem,
    description="raw_data -> silver: typed, normalized tables upserted incrementally",
    doc_md=__doc__,
    schedule=CronTriggerTimetable(SCHEDULES["silver"], timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "silver"],
    params=run_params("silver"),
) as dag:
    start = gated_start("silver", upstream_layer="bronze", upstream_task_id="bronze_finished")

    ordered = [silver_table(table) for table in SILVER_ORDER]
    after_setlists = {table: silver_table(table) for table in SILVER_AFTER_SETLISTS}

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def quality_gates() -> list[dict]:
        """Row counts, referential integrity, keys, golden records, freshness: a failure stops gold."""
        from airflow.sdk import get_current_context

        from elgoose.quality import run_quality_checks
        from elgoose.warehouse import warehouse_connection

        with warehouse_connection() as conn:
            return run_quality_checks(conn, run_id=get_current_context()["run_id"])

    @task(outlets=[Asset(ASSETS["silver"])])
    def silver_finished() -> str:
        """Silver is up to date and passed its quality gates: the gold layer may build from it."""
        return "silver up to date"

    gates = quality_gates()
    finished = silver_finished()
    gates >> finished
    start >> ordered[0]
    for upstream, downstream in zip(ordered, ordered[1:], strict=False):
        upstream >> downstream
    for table in SILVER_AFTER_SETLISTS:
        if table in DERIVED_FROM:
            after_setlists[DERIVED_FROM[table]] >> after_setlists[table]
        else:
            ordered[-1] >> after_setlists[table]
        after_setlists[table] >> gates
    finished >> complete_chain("gold")
