"""Gold: Goose's statistics rebuilt from silver in ``gold_next`` and published atomically as ``gold``.

Each step is one SQL file under ``include/sql/gold/`` run as one transaction and recorded in
``processing_status`` (layer ``gold``). ``prepare`` drops and recreates the build schema
``gold_next``; one step per table builds it there; ``chatbot`` adds the readers' views and
functions; ``publish`` swaps ``gold_next`` in for ``gold`` in one transaction. Readers therefore
see the previous gold or the new one, never a half-built one, and a failed refresh leaves the
previous gold in place. Steps share nothing but ``gold_next``, so each may run in its own
session (the gold DAG runs one task per step, in ``GOLD_STEPS`` order).

The SQL gets only fixed template params from settings: ``artist_id`` and ``bustout_min_gap``
(``layers.gold_params()``) and ``reader_role`` (env ``ELGOOSE_CHATBOT_ROLE``), never run conf.
"""

from __future__ import annotations

import re

import psycopg

from elgoose import settings
from elgoose.layers import gold_params
from elgoose.sql import run_sql_file
from elgoose.warehouse import raise_if_connection_lost, track_step

# Build order: song_performances first (the other tables build from it), album_tracks before song_stats and
# album_stats (they read it), publish last.
GOLD_TABLES: tuple[str, ...] = (
    "song_performances",
    "album_tracks",
    "song_stats",
    "album_stats",
    "show_summary",
    "venue_stats",
    "year_stats",
    "tour_stats",
    "segues",
)
GOLD_STEPS: tuple[str, ...] = ("prepare", *GOLD_TABLES, "chatbot", "publish")

DEFAULT_READER_ROLE = settings.DEFAULT_CHATBOT_ROLE
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


def reader_role() -> str:
    """The role granted read access to gold on publish (env ELGOOSE_CHATBOT_ROLE; empty: no grant)."""
    role = settings.chatbot_role()
    if role and not _ROLE_NAME.match(role):
        raise ValueError(f"setting ELGOOSE_CHATBOT_ROLE must be a plain role name, got {role!r}")
    return role


def gold_template_params() -> dict:
    """The template params of every gold file, validated (they are rendered into the SQL as literals)."""
    params = {**gold_params(), "reader_role": reader_role()}
    for name in ("artist_id", "bustout_min_gap"):
        if isinstance(params[name], bool) or not isinstance(params[name], int):
            raise ValueError(f"gold param {name} must be an integer, got {params[name]!r}")
    if params["bustout_min_gap"] < 1:
        raise ValueError(f"gold param bustout_min_gap must be at least 1, got {params['bustout_min_gap']}")
    return params


def run_gold_step(conn: psycopg.Connection, step: str, *, run_id: str | None = None) -> int:
    """Run ``include/sql/gold/<step>.sql`` as one transaction, recorded in processing_status.

    Returns the rows the step built (a table step: its rows; ``publish``: the rows of all
    published tables; ``chatbot``: the functions and views in gold_next; ``prepare``: 0).
    """
    if step not in GOLD_STEPS:
        raise ValueError(f"unknown gold step {step!r}; expected one of {', '.join(GOLD_STEPS)}")
    params = gold_template_params()
    with track_step(conn, "gold", step, run_id) as status:
        rows = run_sql_file(conn, f"gold/{step}.sql", None, **params)
        built = int(rows[-1][0]) if rows else 0
        status.update(records_processed=built, details={"step": step, **params})
        return built


class GoldRefreshBusy(RuntimeError):
    """Another gold refresh holds the build schema; this one did nothing."""


def run_gold(conn: psycopg.Connection, *, run_id: str | None = None) -> dict[str, int]:
    """Run every gold step in order; return the rows built per step. Stops at the first failure.

    Refreshes share the build schema gold_next, so a second one started while another runs in this
    way exits at once with a clear message instead of dropping the first one's build. (The gold DAG,
    whose steps are separate tasks, runs one refresh at a time with max_active_runs=1.)
    """
    lock = "elgoose:gold:refresh"
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (lock,))
            locked = cur.fetchone()[0]
    except psycopg.OperationalError as exc:
        raise_if_connection_lost(conn, f"gold refresh of run {run_id}", exc)
        raise
    if not locked:
        raise GoldRefreshBusy("another gold refresh is running on this warehouse; not starting a second one")
    try:
        return {step: run_gold_step(conn, step, run_id=run_id) for step in GOLD_STEPS}
    finally:
        if not conn.broken:  # a lost session has released its lock already; the step's error says why
            with conn.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (lock,))
