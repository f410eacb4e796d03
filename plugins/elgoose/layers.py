"""Whole layers in one process, step by step in the registry's order: the local runner, ``airflow dags test``'s
in-task layers, the tests and the benchmark. (The DAGs run the same steps as separate tasks.)"""

from __future__ import annotations

from typing import Any

import psycopg

from elgoose import registry
from elgoose.quality import run_quality_checks
from elgoose.status import raise_if_connection_lost
from elgoose.steps import run_step, step_names


def run_layer(conn: psycopg.Connection, layer: str, *, run_id: str | None = None, force_reprocess: bool = False):
    """Every step of ``layer`` in registry order, in this process; stops at the first failure."""
    if layer == "gold":
        return run_gold(conn, run_id=run_id)
    return {
        name: run_step(conn, layer, name, run_id=run_id, force_reprocess=force_reprocess) for name in step_names(layer)
    }


class GoldRefreshBusy(RuntimeError):
    """Another gold refresh holds the build schema; this one did nothing."""


GOLD_REFRESH_LOCK = "elgoose:gold:refresh"


def run_gold(conn: psycopg.Connection, *, run_id: str | None = None) -> dict[str, int]:
    """Every gold step in order in this process; the rows built per step. Stops at the first failure.

    Refreshes share the build schema gold_next, so a second one started while another runs in this way
    exits at once with a clear message instead of dropping the first one's build. (The gold DAG, whose
    steps are separate tasks, runs one refresh at a time with max_active_runs=1.)
    """
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (GOLD_REFRESH_LOCK,))
            locked = cur.fetchone()[0]
    except psycopg.OperationalError as exc:
        raise_if_connection_lost(conn, f"gold refresh of run {run_id}", exc)
        raise
    if not locked:
        raise GoldRefreshBusy("another gold refresh is running on this warehouse; not starting a second one")
    try:
        return {step: _rows_built(run_step(conn, "gold", step, run_id=run_id)) for step in registry.GOLD_STEPS}
    finally:
        if not conn.broken:  # a lost session has released its lock already; the step's error says why
            with conn.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (GOLD_REFRESH_LOCK,))


def _rows_built(result: Any) -> int:
    return int(result.get("processed", 0)) if isinstance(result, dict) else 0


def run_layers(conn: psycopg.Connection, layers: list[str], *, run_id: str | None = None) -> dict:
    """Whole layers in order in this process (``airflow dags test`` of mode ``complete``); silver's gates after it."""
    results = {}
    for layer in layers:
        results[layer] = run_layer(conn, layer, run_id=run_id)
        if layer == "silver":
            run_quality_checks(conn, run_id=run_id)
    return results
