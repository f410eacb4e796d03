"""Silver and gold steps: which SQL file builds which table, in what order, with which values."""

from __future__ import annotations

import os

import psycopg

from elgoose import settings
from elgoose.sql import run_sql_file
from elgoose.warehouse import track_step

# Dependency order of silver; the tables in the last group only need setlists and earlier.
SILVER_ORDER: tuple[str, ...] = ("venues", "shows", "songs", "setlists")
SILVER_AFTER_SETLISTS: tuple[str, ...] = (
    "appearances",
    "people",
    "links",
    "uploads",
    "metadata",
    "latest",
    "jamcharts",
    "album_tracks",
    "albums",
)
SILVER_TABLES: tuple[str, ...] = SILVER_ORDER + SILVER_AFTER_SETLISTS

# Upstream deletions larger than this fraction of a table are refused as an upstream fault.
MAX_DELETE_FRACTION = float(os.environ.get("ELGOOSE_MAX_DELETE_FRACTION", "0.25"))
MIN_ROWS_FOR_DELETE_GUARD = int(os.environ.get("ELGOOSE_MIN_ROWS_FOR_DELETE_GUARD", "20"))


def silver_parameters(run_id: str | None, force_reprocess: bool = False) -> dict:
    return {
        "run_id": run_id,
        "force_reprocess": bool(force_reprocess),
        "max_delete_fraction": MAX_DELETE_FRACTION,
        "min_rows_for_delete_guard": MIN_ROWS_FOR_DELETE_GUARD,
    }


def gold_params() -> dict:
    """Fixed template params of the gold SQL (settings, never run conf)."""
    return {"artist_id": settings.ARTIST_ID, "bustout_min_gap": settings.BUSTOUT_MIN_GAP}


def counts_to_status(counts: dict | None) -> dict:
    counts = dict(counts or {})
    return {
        "records_processed": counts.pop("processed", 0),
        "records_inserted": counts.pop("inserted", None),
        "records_updated": counts.pop("updated", None),
        "records_unchanged": counts.pop("unchanged", None),
        "records_deleted": counts.pop("deleted", None),
        "records_rejected": counts.pop("rejected", None),
        "details": counts or None,
    }


def run_silver_table(
    conn: psycopg.Connection, table: str, *, run_id: str | None = None, force_reprocess: bool = False
) -> dict:
    """Run ``include/sql/silver/<table>.sql`` as one transaction, recorded in processing_status."""
    if table not in SILVER_TABLES:
        raise ValueError(f"unknown silver table {table!r}")
    with track_step(conn, "silver", table, run_id) as step:
        rows = run_sql_file(conn, f"silver/{table}.sql", silver_parameters(run_id, force_reprocess))
        counts = rows[-1][0] if rows else {}
        step.update(**counts_to_status(counts))
        return counts


def run_silver(conn: psycopg.Connection, *, run_id: str | None = None, force_reprocess: bool = False) -> dict:
    return {t: run_silver_table(conn, t, run_id=run_id, force_reprocess=force_reprocess) for t in SILVER_TABLES}


def run_layers(conn: psycopg.Connection, layers: list[str], *, run_id: str | None = None) -> dict:
    """Run whole layers in order in this process (``airflow dags test`` of mode ``complete``)."""
    from elgoose.gold import run_gold
    from elgoose.quality import run_quality_checks

    def silver_with_gates(conn, run_id):
        counts = run_silver(conn, run_id=run_id)
        run_quality_checks(conn, run_id=run_id)
        return counts

    runners = {"silver": silver_with_gates, "gold": run_gold}
    return {layer: runners[layer](conn, run_id=run_id) for layer in layers}
