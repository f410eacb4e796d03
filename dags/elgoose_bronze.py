"""
### elgoose_bronze: ElGoose API -> `raw_data.*`

Pulls every API method of the registry (`elgoose/registry.py`: `venues, shows, songs, setlists,
latest, jamcharts, appearances, links, uploads, metadata`) through the `elgoose_api` HTTP connection, one
task per method, and appends the new and changed records to `raw_data.<method>` as raw JSONB
(`is_processed = false`).

- **Dedup by content**: a record whose content equals its latest bronze version adds nothing,
  so a re-run of unchanged data writes no rows.
- **One transaction per endpoint**: a failed pull leaves that endpoint's bronze as it was; the
  other endpoints still load, and the run ends failed so it is visible.
- **Safe requests**: a descriptive User-Agent, a `limit` above the silent 4000-row cap (a response
  of exactly 4000 rows fails), retries with backoff on 429/5xx/timeouts, HTML and `error`
  envelopes refused.
- `bronze_finished` marks the layer done for `elgoose_silver`'s sensor, even when some endpoints
  failed (setting `ELGOOSE_SILVER_AFTER_PARTIAL_BRONZE`), and emits the `elgoose://warehouse/bronze` asset.
- Mode `complete` then runs `elgoose_silver` (which runs `elgoose_gold`) and waits for it.

Every step writes a row to `processing_status` (layer `bronze`).
"""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, TriggerRule, get_current_context, task

from elgoose.dag_support import ASSETS, complete_chain, layer_dag, prepare_run
from elgoose.registry import METHODS
from elgoose.retries import network_retries, step_retries

with layer_dag("bronze", doc=__doc__, description="ElGoose API -> raw_data (bronze), deduplicated by content") as dag:

    @task(**network_retries())
    def pull(method: str) -> dict:
        """Download one API method and append its new and changed records to raw_data.<method>."""
        from airflow.sdk.exceptions import AirflowSkipException

        from elgoose.api_client import ElGooseClient
        from elgoose.bronze import pull_endpoint
        from elgoose.connections import warehouse_connection

        context = get_current_context()
        selected = context["params"]["endpoints"]
        if selected and method not in selected:
            raise AirflowSkipException(f"{method} is not among the selected endpoints {selected}")
        with warehouse_connection() as conn:
            return pull_endpoint(conn, method, ElGooseClient.from_connection(), run_id=context["run_id"]).as_dict()

    @task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS, outlets=[Asset(ASSETS["bronze"])], **step_retries())
    def bronze_finished() -> dict:
        """Mark bronze done for this run: what loaded, what failed, and whether silver may proceed."""
        from elgoose.bronze import finish_bronze_run
        from elgoose.connections import warehouse_connection

        context = get_current_context()
        with warehouse_connection() as conn:
            return finish_bronze_run(conn, context["run_id"])

    # A leaf that fails when any pull failed, so the run's state shows it even though
    # bronze_finished (and silver after it) carry on with what did arrive.
    all_endpoints_loaded = EmptyOperator(task_id="all_endpoints_loaded", trigger_rule=TriggerRule.NONE_FAILED)

    pulls = [pull.override(task_id=f"pull_{method}")(method) for method in METHODS]
    prepare_run("bronze") >> pulls
    pulls >> all_endpoints_loaded
    pulls >> bronze_finished() >> complete_chain("silver")
