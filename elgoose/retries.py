"""Task-level retry policies of the DAGs' tasks (settings, read when a DAG is built)."""

from __future__ import annotations

from datetime import timedelta

from elgoose.settings import get_settings


def network_retries() -> dict:
    """Task-level retries of the pulls (settings ``ELGOOSE_TASK_RETRIES`` and ``_RETRY_DELAY_SECONDS``)."""
    settings = get_settings()
    return {
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.task_retry_delay_seconds),
        "retry_exponential_backoff": True,
    }


def step_retries() -> dict:
    """Task-level retries of every SQL step and of the chaining (settings ``ELGOOSE_STEP_RETRIES`` and
    ``_RETRY_DELAY_SECONDS``): a worker lost mid-step (its heartbeat missed for ``[scheduler]
    task_instance_heartbeat_timeout``) or a failed transaction is retried on a live worker. A refused conf
    fails at once (``AirflowFailException``), as does a sensor whose upstream failed: those are verdicts."""
    settings = get_settings()
    return {"retries": settings.step_retries, "retry_delay": timedelta(seconds=settings.step_retry_delay_seconds)}
