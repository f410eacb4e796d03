"""Settings of the pipeline, read from the environment (``.env`` in docker-compose).

Connection details never live here: they are the Airflow connections ``elgoose_api``
and ``elgoose_warehouse``.
"""

from __future__ import annotations

import os
from pathlib import Path

API_CONN_ID = "elgoose_api"
WAREHOUSE_CONN_ID = "elgoose_warehouse"
DEFAULT_API_BASE_URL = "https://elgoose.net/api/v2"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "include" / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got {raw!r}") from exc


# ElGoose answers library-default agents with 403: name the project.
USER_AGENT = os.environ.get(
    "ELGOOSE_USER_AGENT", "elgoose-airflow-warehouse/1.0 (Goose live-history analytics; Apache Airflow)"
)
# A bare list call is silently capped at 4000 rows; always ask for more than exists.
REQUEST_LIMIT = _int("ELGOOSE_REQUEST_LIMIT", 1_000_000)
SILENT_CAP_ROWS = 4000
CONNECT_TIMEOUT_SECONDS = _float("ELGOOSE_CONNECT_TIMEOUT", 10.0)
READ_TIMEOUT_SECONDS = _float("ELGOOSE_READ_TIMEOUT", 60.0)
MAX_ATTEMPTS = _int("ELGOOSE_MAX_ATTEMPTS", 5)
BACKOFF_INITIAL_SECONDS = _float("ELGOOSE_BACKOFF_INITIAL", 1.0)
BACKOFF_MAX_SECONDS = _float("ELGOOSE_BACKOFF_MAX", 60.0)
RETRY_AFTER_MAX_SECONDS = _float("ELGOOSE_RETRY_AFTER_MAX", 300.0)

# Gold describes one artist (1 = Goose); a bustout is a performance after at least this many shows.
ARTIST_ID = _int("ELGOOSE_ARTIST_ID", 1)
BUSTOUT_MIN_GAP = _int("ELGOOSE_BUSTOUT_MIN_GAP", 100)

# Task-level retries of the network-facing tasks (each pull also retries its requests itself).
TASK_RETRIES = _int("ELGOOSE_TASK_RETRIES", 2)
TASK_RETRY_DELAY_SECONDS = _int("ELGOOSE_TASK_RETRY_DELAY_SECONDS", 120)
# Task-level retries of every SQL step (silver and gold tables, migrations, quality gates, chaining). Each
# step is one transaction, so a retry after a lost worker, a database restart or a deadlock is safe.
STEP_RETRIES = _int("ELGOOSE_STEP_RETRIES", 2)
STEP_RETRY_DELAY_SECONDS = _int("ELGOOSE_STEP_RETRY_DELAY_SECONDS", 15)
# Failure isolation: silver still processes what arrived when some bronze endpoints failed.
SILVER_AFTER_PARTIAL_BRONZE = os.environ.get("ELGOOSE_SILVER_AFTER_PARTIAL_BRONZE", "true").lower() in (
    "1",
    "true",
    "yes",
)
# The downstream DAGs' ExternalTaskSensors: how often they look, and when they give up.
SENSOR_POKE_SECONDS = _int("ELGOOSE_SENSOR_POKE_SECONDS", 60)
SENSOR_TIMEOUT_SECONDS = _int("ELGOOSE_SENSOR_TIMEOUT_SECONDS", 2 * 3600)

DEFAULT_CHATBOT_ROLE = "elgoose_chatbot"


def chatbot_role() -> str:
    """The chatbot's read-only role (granted gold on every publish); empty: no role, no grant."""
    return os.environ.get("ELGOOSE_CHATBOT_ROLE", DEFAULT_CHATBOT_ROLE).strip()
