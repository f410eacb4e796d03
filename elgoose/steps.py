"""Running SQL steps: ``run_step`` is the one way a silver, gold or quality step runs, wherever it runs.

A step is one file ``include/sql/<layer>/<name>.sql``, run as ONE transaction and recorded in
``processing_status`` (``status.track_step``: abandoned-step detection, the lost-connection error). Its
last statement returns its counts. The DAGs' ``LayerSQLOperator``, ``airflow dags test``'s in-task
layers, the local runner, the tests and the benchmark all call ``run_step``; the order of steps comes
from the registry.

What a step's SQL gets, never from run conf:
- silver: bind parameters ``run_id``, ``force_reprocess``, ``max_delete_fraction``, ``min_rows_for_delete_guard``;
- gold: the fixed template params ``artist_id``, ``bustout_min_gap``, ``reader_role`` (settings, validated:
  they are rendered into the SQL as literals) and the registry's table list ``gold_tables``;
- quality: bind parameters ``run_id``, ``golden_records``, ``rowcount_drop_tolerance``, ``freshness_max_days``,
  ``artist_id``, and the template param ``row_count_tables`` (the registry's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from elgoose import registry
from elgoose.settings import Settings, get_settings
from elgoose.sql import run_sql_file
from elgoose.status import raise_if_connection_lost, track_step

QUALITY = "quality"
QUALITY_STEP = "silver_checks"


@dataclass(frozen=True)
class StepInputs:
    """What one step's SQL is rendered and run with."""

    template_params: dict[str, Any]
    parameters: dict[str, Any] | None


def _silver_inputs(settings: Settings, run_id: str | None, force_reprocess: bool) -> StepInputs:
    return StepInputs(
        {},
        {
            "run_id": run_id,
            "force_reprocess": bool(force_reprocess),
            "max_delete_fraction": settings.max_delete_fraction,
            "min_rows_for_delete_guard": settings.min_rows_for_delete_guard,
        },
    )


def _gold_inputs(settings: Settings, run_id: str | None, force_reprocess: bool) -> StepInputs:
    return StepInputs(
        {
            "artist_id": settings.artist_id,
            "bustout_min_gap": settings.bustout_min_gap,
            "reader_role": settings.chatbot_role,
            "gold_tables": list(registry.GOLD_TABLES),
        },
        None,
    )


def _quality_inputs(settings: Settings, run_id: str | None, force_reprocess: bool) -> StepInputs:
    return StepInputs(
        {"row_count_tables": [t.name for t in registry.tables("silver") if t.row_count_gate]},
        {
            "run_id": run_id,
            "golden_records": settings.golden_records.read_text(),  # JSON, read by the SQL as jsonb
            "rowcount_drop_tolerance": settings.rowcount_drop_tolerance,
            "freshness_max_days": settings.freshness_max_days,
            "artist_id": settings.artist_id,
        },
    )


_INPUTS: dict[str, Callable[[Settings, str | None, bool], StepInputs]] = {
    "silver": _silver_inputs,
    "gold": _gold_inputs,
    QUALITY: _quality_inputs,
}


def step_names(layer: str) -> tuple[str, ...]:
    """The steps of a layer, in the order a single process runs them."""
    if layer == "silver":
        return registry.SILVER_TABLES
    if layer == "gold":
        return registry.GOLD_STEPS
    if layer == QUALITY:
        return (QUALITY_STEP,)
    raise ValueError(f"layer {layer!r} has no SQL steps; expected silver, gold or {QUALITY}")


def step_inputs(layer: str, name: str, *, run_id: str | None = None, force_reprocess: bool = False) -> StepInputs:
    if name not in step_names(layer):
        raise ValueError(f"unknown {layer} step {name!r}; expected one of {', '.join(step_names(layer))}")
    return _INPUTS[layer](get_settings(), run_id, force_reprocess)


def counts_of(rows: list[tuple]) -> Any:
    """The step's result: the last statement's single value (a JSON object of counts, a list of checks), or
    ``{"processed": n}`` when that value is a row count."""
    value = rows[-1][0] if rows and rows[-1] else {}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"processed": value}
    return value


def status_columns(counts: Any) -> dict:
    """processing_status's columns from a step's counts; the rest of a count object goes to ``details``."""
    if not isinstance(counts, dict):
        return {"records_processed": len(counts) if isinstance(counts, list) else 0}
    rest = dict(counts)
    return {
        "records_processed": rest.pop("processed", 0),
        "records_inserted": rest.pop("inserted", None),
        "records_updated": rest.pop("updated", None),
        "records_unchanged": rest.pop("unchanged", None),
        "records_deleted": rest.pop("deleted", None),
        "records_rejected": rest.pop("rejected", None),
        "details": rest or None,
    }


def run_step(
    conn: psycopg.Connection,
    layer: str,
    name: str,
    *,
    run_id: str | None = None,
    force_reprocess: bool = False,
    status_conn: psycopg.Connection | None = None,
    check: Callable[[Any], tuple[dict, Exception | None]] | None = None,
) -> Any:
    """Run ``include/sql/<layer>/<name>.sql`` on ``conn`` as one transaction, recorded in processing_status.

    The status row is written on ``status_conn`` (default: ``conn``, which must then be in autocommit mode)
    outside the step's transaction, so a failure is recorded although the work was rolled back. ``check``
    judges the result (the quality gates): it returns the status details and the error that fails the step,
    if any; the details are recorded either way.
    Returns the last statement's value (see ``counts_of``).
    """
    inputs = step_inputs(layer, name, run_id=run_id, force_reprocess=force_reprocess)
    with track_step(status_conn or conn, layer, name, run_id) as step:
        try:
            result = counts_of(run_sql_file(conn, f"{layer}/{name}.sql", inputs.parameters, **inputs.template_params))
        except psycopg.OperationalError as exc:
            raise_if_connection_lost(conn, f"{layer} step {name} of run {run_id}", exc)
            raise
        columns = status_columns(result)
        if layer == "gold":
            columns["details"] = {
                "step": name,
                **{k: v for k, v in inputs.template_params.items() if k != "gold_tables"},
            }
        failure = None
        if check is not None:
            columns["details"], failure = check(result)
        step.update(**columns)
        if failure is not None:
            raise failure
    return result
