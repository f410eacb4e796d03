"""Whole layers in one process: ``airflow dags test``'s in-task layers, one-shot loads, the tests and the
benchmark. (The DAGs run the same steps as separate tasks.)

Bronze and silver run as the registry's graph (``elgoose.parallel``): with several workers, a step starts
as soon as the steps it needs are done, as the DAGs' tasks do. Gold runs its steps in order on one
connection (``run_gold``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import psycopg

from elgoose import registry
from elgoose.api_client import ElGooseClient
from elgoose.bronze import pull_endpoint
from elgoose.parallel import Connect, run_graph
from elgoose.quality import run_quality_checks
from elgoose.status import raise_if_connection_lost
from elgoose.steps import run_step

# Worker connections of a one-process run: as many as the 2-core reference machine has cores. Along the
# setlists chain both are busy already (Python parsing records, the server parsing the COPY stream), so the
# second worker's gain is the small steps it takes off the chain (bench/README.md).
DEFAULT_WORKERS = 2

Step = tuple[str, str]  # (layer, name)


def step_graph(layers: Sequence[str]) -> tuple[list[Step], dict[Step, set[Step]]]:
    """The bronze and silver steps of ``layers`` in topological order, and what each one needs first.

    A silver table needs its same-layer ``upstream`` tables and, when bronze runs too, its method's pull.
    """
    order: list[Step] = []
    needs: dict[Step, set[Step]] = {}
    if "bronze" in layers:
        for method in registry.METHODS:
            order.append(("bronze", method))
            needs[("bronze", method)] = set()
    if "silver" in layers:
        for table in registry.tables("silver"):
            step = ("silver", table.name)
            order.append(step)
            needs[step] = {("silver", name) for name in table.upstream}
            if "bronze" in layers:
                needs[step].add(("bronze", table.method))
    return order, needs


def run_layer(conn: psycopg.Connection, layer: str, *, run_id: str | None = None, force_reprocess: bool = False):
    """Every step of ``layer`` (silver or gold) in registry order on ``conn``; stops at the first failure."""
    if layer == "gold":
        return run_gold(conn, run_id=run_id)
    if layer != "silver":
        raise ValueError(f"run_layer runs silver or gold; {layer!r} runs with run_layers (bronze needs a client)")
    order, needs = step_graph([layer])
    done = run_graph(
        lambda: nullcontext(conn),
        order,
        needs,
        lambda c, step: run_step(c, "silver", step[1], run_id=run_id, force_reprocess=force_reprocess),
        workers=1,
    )
    return {name: result for (_, name), result in done.items()}


def run_layers(
    connect: Connect,
    layers: Sequence[str],
    *,
    run_id: str | None = None,
    client: ElGooseClient | None = None,
    workers: int = DEFAULT_WORKERS,
) -> dict[str, dict[str, Any]]:
    """Whole layers, in order, in this process: bronze and silver as one graph on ``workers`` connections
    (``connect()`` opens one), silver's quality gates after silver, then gold on one connection.

    ``client``: the API client bronze pulls with (required with bronze; its session is shared by the workers,
    which only GET). Stops at the first failure; returns each layer's per-step results.
    """
    unknown = [layer for layer in layers if layer not in registry.LAYERS]
    if unknown or list(layers) != sorted(layers, key=registry.LAYERS.index):
        raise ValueError(f"layers must be some of {', '.join(registry.LAYERS)}, in that order; got {list(layers)}")
    if "bronze" in layers and client is None:
        raise ValueError("bronze pulls the API: pass client=ElGooseClient(...)")

    def run(conn: psycopg.Connection, step: Step) -> Any:
        layer, name = step
        if layer == "bronze":
            return pull_endpoint(conn, name, client, run_id=run_id).as_dict()
        return run_step(conn, layer, name, run_id=run_id)

    results: dict[str, dict[str, Any]] = {layer: {} for layer in layers}
    order, needs = step_graph(layers)
    if order:
        for (layer, name), result in run_graph(connect, order, needs, run, workers=workers).items():
            results[layer][name] = result
    if "silver" in layers or "gold" in layers:
        with connect() as conn:
            if "silver" in layers:
                run_quality_checks(conn, run_id=run_id)
            if "gold" in layers:
                results["gold"] = run_gold(conn, run_id=run_id)
    return results


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
