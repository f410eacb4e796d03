"""
### elgoose_gold: `silver.*` -> `gold.*`

Rebuilds the analytics that answer fans' and the chatbot's questions in milliseconds: `song_stats`,
`song_performances`, `show_summary`, `venue_stats`, `year_stats`, `tour_stats`, `segues`, plus the
chatbot's helper views and functions (`gold.find_song`, `gold.shows_on`, `gold.on_this_day`,
`gold.top_songs`).

Gold describes Goose (`artist_id` = setting `ELGOOSE_ARTIST_ID`, default 1): a show is a Goose show
with at least one setlist row, ordered by (date, show order, show id); gap and bustout follow the
community's definitions (bustout threshold: setting `ELGOOSE_BUSTOUT_MIN_GAP`, default 100 shows).

The refresh is atomic for readers: `prepare` creates the build schema `gold_next`, one task per
gold table of the registry builds it there (each after the tables its SQL reads; independent ones in
parallel), `chatbot` adds the readers' helpers, and `publish` swaps it in for `gold` in one transaction. Readers see the
previous gold or the new one, never a half-built or empty table; a failed refresh leaves the previous
gold in place. The same silver always gives byte-identical gold.

Scheduled runs (03:00 UTC) first wait for the same day's `elgoose_silver.silver_finished`. A run not
finished by `ELGOOSE_GOLD_DEADLINE` (04:00 UTC) mails through the `elgoose_alerts` connection, once.
Every step writes a row to `processing_status` (layer `gold`).
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Asset, CronTriggerTimetable

from elgoose.alerts import gold_deadline_alert
from elgoose.dag_support import (
    ASSETS,
    DEFAULT_ARGS,
    SCHEDULES,
    TAGS,
    layer_steps,
    leaves,
    roots,
    run_params,
    start_gate,
)
from elgoose.operators import LayerSQLOperator
from elgoose.registry import GOLD_CHATBOT, GOLD_PREPARE, GOLD_PUBLISH

with DAG(
    dag_id=Path(__file__).stem,
    description="silver -> gold: Goose's statistics for fans and the chatbot, published atomically",
    doc_md=__doc__,
    schedule=CronTriggerTimetable(SCHEDULES["gold"], timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "gold"],
    params=run_params("gold"),
    # A mail when gold is not published by ELGOOSE_GOLD_DEADLINE (04:00 UTC), once per scheduled run.
    deadline=gold_deadline_alert(SCHEDULES["gold"]),
) as dag:
    # prepare -> the registry's gold tables as the graph their SQL needs (independent ones in parallel)
    # -> chatbot (views and functions over all of them) -> publish (the atomic swap).
    prepare = LayerSQLOperator(layer="gold", name=GOLD_PREPARE)
    tables = layer_steps("gold")
    chatbot = LayerSQLOperator(layer="gold", name=GOLD_CHATBOT)
    publish = LayerSQLOperator(layer="gold", name=GOLD_PUBLISH, outlets=[Asset(ASSETS["gold"])])
    start_gate("gold", upstream_layer="silver", upstream_task_id="silver_finished") >> prepare >> roots(tables)
    leaves(tables) >> chatbot >> publish
