"""The Warehouse page's queries: fixed SQL, values only as bind parameters, run as the role ``elgoose_ui``.

Nothing from a request becomes SQL: table names arrive here only after ``registry.table()`` found them in
the registry, and even then they are bound as values (compared with a column), never as identifiers.
Every query is bounded (a LIMIT, or the newest rows of an indexed table) so the page stays fast however
long ``processing_status`` grows.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from elgoose import registry
from elgoose.registry import LAYERS, Table

STEPS_SHOWN = 50
RUNS_CHARTED = 30
DRILL_DOWN_ROWS = 100
# Freshness and the chart look at this many of the newest processing_status rows: months of nightly runs.
RECENT_STEPS = 5000

STEP_COLUMNS = """id, layer, table_name, run_id, status, records_processed, records_inserted, records_updated,
       records_unchanged, records_deleted, records_rejected, started_at, completed_at, duration_seconds,
       error_message"""

FRESHNESS_SQL = f"""
-- Each layer's last completed run: the newest run whose steps of that layer all completed (or skipped).
-- grain: one row per layer; key: layer
with recent as (
    select layer, run_id, status, started_at, completed_at
      from public.processing_status
     order by id desc
     limit {RECENT_STEPS}
),
runs as (
    select layer, run_id, max(completed_at) as finished_at,
           bool_and(status in ('completed', 'skipped')) as all_completed
      from recent
     group by layer, run_id
),
last_completed as (
    select distinct on (layer) layer, run_id, finished_at
      from runs
     where all_completed
     order by layer, finished_at desc
)
select l.layer, c.run_id, c.finished_at, now() - c.finished_at as age
  from unnest(%(layers)s::text[]) with ordinality as l(layer, position)
  left join last_completed c on c.layer = l.layer
 order by l.position
"""

TABLES_SQL = """
-- Every registry table: its live rows from PostgreSQL's statistics and the last step that changed it.
-- grain: one row per registry table; key: (layer, table_name)
-- A gold table changes when gold is published (all of gold is rebuilt and swapped in at once).
with registry as (
    select layer, schema_name, table_name, position
      from unnest(%(layers)s::text[], %(schemas)s::text[], %(names)s::text[])
           with ordinality as r(layer, schema_name, table_name, position)
)
select r.layer, r.schema_name, r.table_name, s.relid is not null as present, s.n_live_tup as live_rows,
       changed.completed_at as last_change, changed.run_id as last_change_run
  from registry r
  left join pg_catalog.pg_stat_user_tables s
         on s.schemaname = r.schema_name and s.relname = r.table_name
  left join lateral (
        select p.completed_at, p.run_id
          from public.processing_status p
         where p.layer = r.layer
           and p.table_name = case when r.layer = 'gold' then 'publish' else r.table_name end
           and p.status = 'completed'
           and (r.layer = 'gold'
                or coalesce(p.records_inserted, 0) + coalesce(p.records_updated, 0)
                   + coalesce(p.records_deleted, 0) > 0)
         order by p.id desc
         limit 1
       ) changed on true
 order by r.position
"""

STEPS_SQL = f"""
-- The newest steps of every layer.
-- grain: one row per step; key: id
select {STEP_COLUMNS}
  from public.processing_status
 order by id desc
 limit %(limit)s
"""

QUALITY_SQL = """
-- The latest run of the quality gates: each check it made, failures first.
-- grain: one row per check; key: id
with latest as (
    select run_id, checked_at
      from public.quality_checks
     order by id desc
     limit 1
)
select q.id, q.run_id, q.check_name, q.status, q.observed, q.expected, q.detail, q.checked_at
  from public.quality_checks q
  join latest l on q.checked_at = l.checked_at and q.run_id is not distinct from l.run_id
 order by case q.status when 'fail' then 0 when 'warn' then 1 else 2 end, q.check_name
"""

REJECTS_SUMMARY_SQL = """
-- What silver quarantined, per source table.
-- grain: one row per source table; key: table_name
select source_table as table_name, count(*) as row_count, max(rejected_at) as latest
  from silver.rejects
 group by source_table
 order by source_table
"""

DELETIONS_SUMMARY_SQL = """
-- What silver removed because upstream stopped serving it, per table.
-- grain: one row per silver table; key: table_name
select table_name, count(*) as row_count, max(deleted_at) as latest
  from silver.deletions
 group by table_name
 order by table_name
"""

REJECTS_SQL = """
-- One table's newest quarantined records.
-- grain: one row per rejected bronze record; key: id
select id, bronze_id, external_id, reason, left(payload::text, 500) as payload, run_id, rejected_at
  from silver.rejects
 where source_table = %(table)s
 order by id desc
 limit %(limit)s
"""

DELETIONS_SQL = """
-- One table's newest deletions.
-- grain: one row per deleted record; key: id
select id, record_key, left(row_data::text, 500) as row_data, run_id, deleted_at
  from silver.deletions
 where table_name = %(table)s
 order by id desc
 limit %(limit)s
"""

CHART_SQL = f"""
-- Rows fetched from the API, and inserted, updated and deleted in silver, per run: the newest runs.
-- grain: one row per run; key: run_key
-- A run is one chain: a `complete` run's downstream ids (<id>__silver, <id>__silver__gold) count with it,
-- and a day's scheduled runs (scheduled__<date>T02:00 and T02:30) with each other.
with recent as (
    select run_id, layer, table_name, started_at, records_processed, records_inserted, records_updated,
           records_deleted
      from public.processing_status
     where layer in ('bronze', 'silver')
       and status = 'completed'
     order by id desc
     limit {RECENT_STEPS}
),
keyed as (
    select case when run_id like 'scheduled\\_\\_%%' then left(run_id, 21)
                else regexp_replace(coalesce(run_id, '(no run id)'), '(__silver)?(__gold)?$', '')
           end as run_key,
           layer, table_name, started_at, records_processed, records_inserted, records_updated, records_deleted
      from recent
)
select run_key, min(started_at) as started_at,
       coalesce(sum(records_processed) filter (where layer = 'bronze' and table_name <> 'bronze_finished'), 0)
           as fetched,
       coalesce(sum(records_inserted) filter (where layer = 'silver'), 0) as new,
       coalesce(sum(records_updated) filter (where layer = 'silver'), 0) as updated,
       coalesce(sum(records_deleted) filter (where layer = 'silver'), 0) as deleted
  from keyed
 group by run_key
 order by min(started_at) desc
 limit %(limit)s
"""

RUN_STEPS_SQL = f"""
-- What one run (and the runs its `complete` mode triggered) did, step by step.
-- grain: one row per step; key: id
select {STEP_COLUMNS}, details
  from public.processing_status
 where run_id = any(%(run_ids)s)
 order by id
"""

RUN_QUALITY_SQL = """
-- The quality checks of one run (and of the runs it triggered).
-- grain: one row per check; key: id
select id, run_id, check_name, status, observed, expected, detail, checked_at
  from public.quality_checks
 where run_id = any(%(run_ids)s)
 order by id
"""


def _all(conn: psycopg.Connection, query: str, params: dict | None = None) -> list[dict]:
    return conn.execute(query, params).fetchall()


def freshness(conn: psycopg.Connection, stale_after: timedelta) -> list[dict]:
    rows = _all(conn, FRESHNESS_SQL, {"layers": list(LAYERS)})
    for row in rows:
        row["stale"] = row["age"] is None or row["age"] > stale_after
    return rows


def all_tables() -> tuple[Table, ...]:
    """Every table of the registry: bronze, silver, gold, each layer in its dependency order."""
    return tuple(t for layer in LAYERS for t in registry.tables(layer))


def registry_tables(conn: psycopg.Connection) -> list[dict]:
    tables = all_tables()
    return _all(
        conn,
        TABLES_SQL,
        {
            "layers": [t.layer for t in tables],
            "schemas": [registry.SCHEMAS[t.layer] for t in tables],
            "names": [t.name for t in tables],
        },
    )


def recent_steps(conn: psycopg.Connection, limit: int = STEPS_SHOWN) -> list[dict]:
    return _all(conn, STEPS_SQL, {"limit": limit})


def latest_quality(conn: psycopg.Connection) -> list[dict]:
    return _all(conn, QUALITY_SQL)


def rejects_and_deletions(conn: psycopg.Connection) -> dict[str, list[dict]]:
    return {"rejects": _all(conn, REJECTS_SUMMARY_SQL), "deletions": _all(conn, DELETIONS_SUMMARY_SQL)}


def rejects(conn: psycopg.Connection, table: Table, limit: int = DRILL_DOWN_ROWS) -> list[dict]:
    return _all(conn, REJECTS_SQL, {"table": table.name, "limit": limit})


def deletions(conn: psycopg.Connection, table: Table, limit: int = DRILL_DOWN_ROWS) -> list[dict]:
    return _all(conn, DELETIONS_SQL, {"table": table.name, "limit": limit})


def runs_chart(conn: psycopg.Connection, limit: int = RUNS_CHARTED) -> list[dict]:
    """The newest runs, oldest first (the chart reads left to right)."""
    return list(reversed(_all(conn, CHART_SQL, {"limit": limit})))


def chain_run_ids(run_id: str) -> list[str]:
    """``run_id`` and the ids of the runs its ``complete`` mode triggers (dag_support.complete_chain)."""
    return [run_id, f"{run_id}__silver", f"{run_id}__silver__gold", f"{run_id}__gold"]


def run_steps(conn: psycopg.Connection, run_id: str) -> dict[str, list[dict]]:
    run_ids = chain_run_ids(run_id)
    return {
        "steps": _all(conn, RUN_STEPS_SQL, {"run_ids": run_ids}),
        "quality": _all(conn, RUN_QUALITY_SQL, {"run_ids": run_ids}),
    }
