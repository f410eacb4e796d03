"""
### elgoose_gold: `silver.*` -> `gold.*`

Rebuilds the analytics that answer fans' and the chatbot's questions in milliseconds: `song_stats`,
`song_performances`, `show_summary`, `venue_stats`, `year_stats`, `tour_stats`, `segues`, plus the
chatbot's helper views and functions (`gold.find_song`, `gold.shows_on`, `gold.on_this_day`,
`gold.top_songs`).

Gold describes Goose (`artist_id` = setting `ELGOOSE_ARTIST_ID`, default 1): a show is a Goose show
with at least one setlist row, ordered by (date, show order, show id); gap and bustout follow the
community's definitions (bustout threshold: setting `ELGOOSE_BUSTOUT_MIN_GAP`, default 100 shows).

The refresh is atomic for readers: `start.prepare_run` creates the build schema `gold_next` (step
`prepare`), one task per gold table of the registry builds it there (each after the tables its SQL reads;
independent ones in parallel), and `publish` adds the readers' helpers (step `chatbot`) and swaps
`gold_next` in for `gold` in one transaction (step `publish`). Readers see the
previous gold or the new one, never a half-built or empty table; a failed refresh leaves the previous
gold in place. The same silver always gives byte-identical gold.

Scheduled runs (03:00 UTC) first wait for the same day's `elgoose_silver.quality_gates`. A run not
finished by `ELGOOSE_GOLD_DEADLINE` (04:00 UTC) mails through the `elgoose_alerts` connection, once.
Every step writes a row to `processing_status` (layer `gold`).
"""

from __future__ import annotations

from airflow.sdk import Asset, TriggerRule

from elgoose.dag_support import ASSETS, layer_dag, layer_steps, leaves, roots, start_gate
from elgoose.operators import LayerSQLOperator
from elgoose.registry import GOLD_CHATBOT, GOLD_PREPARE, GOLD_PUBLISH

description = "silver -> gold: Goose's statistics for fans and the chatbot, published atomically"
with layer_dag("gold", doc=__doc__, description=description) as dag:
    # start (its first task also prepares the build schema gold_next) -> the registry's gold tables as the
    # graph their SQL needs (independent ones in parallel) -> publish: the chatbot's views and functions
    # over all of them, then the atomic swap (two steps of one task).
    start = start_gate("gold", upstream_layer="silver", upstream_task_id="quality_gates", first_steps=(GOLD_PREPARE,))
    tables = layer_steps("gold", trigger_rule=TriggerRule.NONE_FAILED)
    publish = LayerSQLOperator(layer="gold", name=GOLD_CHATBOT, then=(GOLD_PUBLISH,), outlets=[Asset(ASSETS["gold"])])
    start >> roots(tables)
    leaves(tables) >> publish
