"""``processing_status``: every step of every layer records its start, its outcome and its counts.

A step's row names the database session that runs it, so a step whose process died is found and marked
'abandoned' by the next step; a step whose connection broke fails as ``WarehouseConnectionLost``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
import psycopg

log = logging.getLogger(__name__)


@dataclass
class Step:
    """Counts of one step, filled in by the work and written to ``processing_status``."""

    counts: dict = field(default_factory=dict)

    def update(self, **counts) -> None:
        self.counts.update(counts)


_STATUS_COLUMNS = (
    "records_processed",
    "records_inserted",
    "records_updated",
    "records_unchanged",
    "records_deleted",
    "records_rejected",
    "details",
)


# A 'processing' row that names no session (written before V005 added backend_pid) is presumed abandoned
# once it is this old: no step of this pipeline runs for a day.
UNTRACKED_STEP_ABANDONED_AFTER = timedelta(days=1)


class WarehouseConnectionLost(psycopg.OperationalError):
    """The warehouse connection broke under a step (a database restart, a terminated session, a lost network).

    The server rolled back the step's open transaction, so nothing of it is left behind: running the step
    again on a new connection (the task's retry, or clearing it) is safe. Nothing reconnects by itself: in
    Airflow each task opens its own connection, so the retry is the reconnect.
    """


def raise_if_connection_lost(conn: psycopg.Connection, what: str, exc: BaseException) -> None:
    """Raise ``WarehouseConnectionLost`` naming ``what`` when ``exc`` came with ``conn`` breaking."""
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, WarehouseConnectionLost) and conn.broken:
        raise WarehouseConnectionLost(
            f"{what}: the warehouse connection was lost ({' '.join(str(exc).split())}); its open transaction "
            "was rolled back: run it again on a new connection"
        ) from exc


def mark_abandoned_steps(conn: psycopg.Connection, found_by: str) -> list[tuple]:
    """Mark as 'abandoned' every 'processing' step whose process is gone; return (id, layer, table, run_id).

    A step's row names the database session that runs it (``backend_pid`` and ``backend_started_at``,
    the session's ``backend_start``). A process killed mid-step (SIGKILL, the OOM killer, a lost worker)
    records no outcome, but its session ends with it: a 'processing' row whose session is no longer in
    ``pg_stat_activity`` will never finish. The start time is compared too, so a new session that reuses
    the pid does not keep a dead step alive. A session whose ``backend_start`` this role may not see
    (another role's, without ``pg_read_all_stats``) counts as alive: better left 'processing' than closed
    while it runs. Rows that name no session (written before V005) count as abandoned after
    ``UNTRACKED_STEP_ABANDONED_AFTER``. Rows locked by a concurrent sweep are skipped: that one marks them.
    """
    with conn.cursor() as cur:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            # pg_stat_activity is read once per transaction: make sure this look is a fresh one.
            cur.execute("select pg_stat_clear_snapshot()")
        cur.execute(
            """with gone as (
                   select s.id
                     from public.processing_status s
                    where s.status = 'processing'
                      and case when s.backend_pid is null
                               then s.started_at < now() - %(untracked_after)s::interval
                               else not exists (
                                        select 1
                                          from pg_catalog.pg_stat_activity a
                                         where a.pid = s.backend_pid
                                           and (a.backend_start = s.backend_started_at
                                                or a.backend_start is null))
                          end
                    order by s.id
                      for update of s skip locked)
               update public.processing_status p
                  set status = 'abandoned',
                      completed_at = now(),
                      duration_seconds = round(extract(epoch from now() - p.started_at), 3),
                      error_message = 'the process running this step ended without recording an '
                                      || 'outcome (killed, or its database connection was lost); '
                                      || case when p.backend_pid is null
                                              then 'no outcome after ' || %(untracked_after)s::interval::text
                                                   || ' and no session recorded (started before V005)'
                                              else 'its session (pid ' || p.backend_pid || ', started '
                                                   || p.backend_started_at::text || ') is gone'
                                         end
                                      || '; found by ' || %(found_by)s
                 from gone
                where p.id = gone.id
            returning p.id, p.layer, p.table_name, p.run_id""",
            {"untracked_after": UNTRACKED_STEP_ABANDONED_AFTER, "found_by": found_by},
        )
        abandoned = cur.fetchall()
    for status_id, layer, table_name, run_id in abandoned:
        log.warning(
            "processing_status id %s (%s step %s of run %s) was left 'processing' by a process that is gone: "
            "marked 'abandoned'",
            status_id,
            layer,
            table_name,
            run_id,
        )
    return abandoned


@contextmanager
def track_step(conn: psycopg.Connection, layer: str, table_name: str, run_id: str | None) -> Iterator[Step]:
    """Record a step in ``processing_status``: 'processing' first, then 'completed' or 'failed'.

    The status rows are written outside the step's own transaction (``conn`` is in
    autocommit mode), so a failure is recorded even though the work was rolled back.
    The row names this connection's session, and each step first marks the rows of sessions
    that ended without an outcome as 'abandoned' (``mark_abandoned_steps``). A step whose
    connection broke raises ``WarehouseConnectionLost`` (a ``psycopg.OperationalError``) naming it;
    its row stays 'processing' until the next step finds the session gone.
    """
    name = f"{layer} step {table_name} of run {run_id}"
    started = time.monotonic()
    try:
        mark_abandoned_steps(conn, name)
        with conn.cursor() as cur:
            cur.execute(
                """insert into public.processing_status
                       (table_name, layer, status, run_id, backend_pid, backend_started_at)
                   values (%s, %s, 'processing', %s, pg_backend_pid(),
                           (select backend_start from pg_catalog.pg_stat_activity where pid = pg_backend_pid()))
                   returning id""",
                (table_name, layer, run_id),
            )
            status_id = cur.fetchone()[0]
    except psycopg.OperationalError as exc:
        raise_if_connection_lost(conn, name, exc)
        raise
    step = Step()
    try:
        yield step
    except BaseException as exc:
        _finish(conn, status_id, "failed", step, time.monotonic() - started, f"{type(exc).__name__}: {exc}")
        raise_if_connection_lost(conn, name, exc)
        raise
    _finish(conn, status_id, "completed", step, time.monotonic() - started, None)


def _finish(conn, status_id: int, status: str, step: Step, seconds: float, error: str | None) -> None:
    values = {column: step.counts.get(column) for column in _STATUS_COLUMNS}
    if values["details"] is not None:
        values["details"] = orjson.dumps(values["details"]).decode()
    values["records_processed"] = values["records_processed"] or 0
    if conn.broken:
        log.warning(
            "the connection of processing_status id %s is broken: its %s outcome is not recorded, and the row "
            "stays 'processing' until a later step marks it 'abandoned'",
            status_id,
            status,
        )
        return
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute(
                """update public.processing_status
                      set status = %(status)s, completed_at = now(), duration_seconds = %(seconds)s,
                          error_message = %(error)s, records_processed = %(records_processed)s,
                          records_inserted = %(records_inserted)s, records_updated = %(records_updated)s,
                          records_unchanged = %(records_unchanged)s, records_deleted = %(records_deleted)s,
                          records_rejected = %(records_rejected)s, details = %(details)s::jsonb
                    where id = %(id)s""",
                {**values, "status": status, "seconds": round(seconds, 3), "error": error, "id": status_id},
            )
    except psycopg.Error:
        # The connection itself may be what failed; the task's own failure still shows in Airflow.
        log.exception("could not record %s status for processing_status id %s", status, status_id)
