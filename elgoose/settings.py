"""Settings of the pipeline: one frozen object, read from the environment (``.env`` in docker-compose).

``get_settings()`` builds it when called, so a process always sees its current environment and nothing is
read at import time. Connection details never live here: they are the Airflow connections ``elgoose_api``
and ``elgoose_warehouse``. Paths of the package's own files are constants (``elgoose.resources``), not settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from elgoose.resources import GOLDEN_RECORDS

API_CONN_ID = "elgoose_api"
WAREHOUSE_CONN_ID = "elgoose_warehouse"
DEFAULT_API_BASE_URL = "https://elgoose.net/api/v2"

# A bare list call is silently capped at this many rows: a response of exactly this size is a truncation.
SILENT_CAP_ROWS = 4000
DEFAULT_CHATBOT_ROLE = "elgoose_chatbot"
_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


def _env(name: str, default, *, secret: bool = False, empty_means_none: bool = False):
    """A settings field read from environment variable ``name``.

    An empty value counts as unset, unless ``empty_means_none``: then it is the empty string (e.g. no role).
    """
    return field(default=default, repr=not secret, metadata={"env": name, "empty_means_none": empty_means_none})


@dataclass(frozen=True)
class Settings:
    # ElGoose answers library-default agents with 403: name the project.
    user_agent: str = _env(
        "ELGOOSE_USER_AGENT", "elgoose-airflow-warehouse/1.0 (Goose live-history analytics; Apache Airflow)"
    )
    # The `limit` of every list call: far above the silent 4000-row cap.
    request_limit: int = _env("ELGOOSE_REQUEST_LIMIT", 1_000_000)
    connect_timeout_seconds: float = _env("ELGOOSE_CONNECT_TIMEOUT", 10.0)
    read_timeout_seconds: float = _env("ELGOOSE_READ_TIMEOUT", 60.0)
    max_attempts: int = _env("ELGOOSE_MAX_ATTEMPTS", 5)
    backoff_initial_seconds: float = _env("ELGOOSE_BACKOFF_INITIAL", 1.0)
    backoff_max_seconds: float = _env("ELGOOSE_BACKOFF_MAX", 60.0)
    retry_after_max_seconds: float = _env("ELGOOSE_RETRY_AFTER_MAX", 300.0)
    # Task-level retries of the network-facing tasks (each pull also retries its requests itself).
    task_retries: int = _env("ELGOOSE_TASK_RETRIES", 2)
    task_retry_delay_seconds: int = _env("ELGOOSE_TASK_RETRY_DELAY_SECONDS", 120)
    # Task-level retries of every SQL step (silver and gold tables, migrations, quality gates) and of the
    # chaining (run_<layer>). Each step is one transaction, so a retry after a lost worker, a database restart
    # or a deadlock is safe.
    step_retries: int = _env("ELGOOSE_STEP_RETRIES", 2)
    step_retry_delay_seconds: int = _env("ELGOOSE_STEP_RETRY_DELAY_SECONDS", 15)
    # Failure isolation: silver still processes what arrived when some bronze endpoints failed.
    silver_after_partial_bronze: bool = _env("ELGOOSE_SILVER_AFTER_PARTIAL_BRONZE", True)
    # Upstream deletions larger than this fraction of a table (of at least this many rows) are refused.
    max_delete_fraction: float = _env("ELGOOSE_MAX_DELETE_FRACTION", 0.25)
    min_rows_for_delete_guard: int = _env("ELGOOSE_MIN_ROWS_FOR_DELETE_GUARD", 20)
    # Gold describes one artist (1 = Goose); a bustout is a performance after at least this many shows.
    artist_id: int = _env("ELGOOSE_ARTIST_ID", 1)
    bustout_min_gap: int = _env("ELGOOSE_BUSTOUT_MIN_GAP", 100)
    # The chatbot's read-only role, granted gold on every publish (empty: no role, no grant); its password.
    chatbot_role: str = _env("ELGOOSE_CHATBOT_ROLE", DEFAULT_CHATBOT_ROLE, empty_means_none=True)
    chatbot_password: str = _env("ELGOOSE_CHATBOT_PASSWORD", "", secret=True)
    # Quality gates: the golden records, the row-count drop that fails, the age of the newest show that warns.
    golden_records: Path = _env("ELGOOSE_GOLDEN_RECORDS", GOLDEN_RECORDS)
    rowcount_drop_tolerance: float = _env("ELGOOSE_ROWCOUNT_DROP_TOLERANCE", 0.5)
    freshness_max_days: int = _env("ELGOOSE_FRESHNESS_MAX_DAYS", 120)
    # The downstream DAGs' ExternalTaskSensors: how often they look, and when they give up.
    sensor_poke_seconds: int = _env("ELGOOSE_SENSOR_POKE_SECONDS", 60)
    sensor_timeout_seconds: int = _env("ELGOOSE_SENSOR_TIMEOUT_SECONDS", 2 * 3600)
    # The Warehouse page (elgoose/ui): its read-only role's password, and when a layer turns red.
    ui_password: str = _env("ELGOOSE_UI_PASSWORD", "", secret=True)
    ui_stale_after_hours: float = _env("ELGOOSE_UI_STALE_AFTER_HOURS", 26.0)
    # Alerts (elgoose/alerts.py): the UTC time of day by which gold must be published.
    gold_deadline: str = _env("ELGOOSE_GOLD_DEADLINE", "04:00")

    def __post_init__(self):
        if self.chatbot_role and not _ROLE_NAME.fullmatch(self.chatbot_role):
            raise ValueError(f"setting ELGOOSE_CHATBOT_ROLE must be a plain role name, got {self.chatbot_role!r}")
        if self.bustout_min_gap < 1:
            raise ValueError(f"setting ELGOOSE_BUSTOUT_MIN_GAP must be at least 1, got {self.bustout_min_gap}")


def _parse(spec, raw: str):
    kind = type(spec.default)
    name = spec.metadata["env"]
    if kind is bool:
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"setting {name} must be true or false, got {raw!r}")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"setting {name} must be {what}, got {raw!r}") from None
    if issubclass(kind, Path):
        return Path(raw)
    return raw.strip()


def get_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``environ`` (default: this process's environment); a clear error names a bad value."""
    environ = os.environ if environ is None else environ
    values = {}
    for spec in fields(Settings):
        raw = environ.get(spec.metadata["env"])
        if raw is None or (raw.strip() == "" and not spec.metadata["empty_means_none"]):
            continue
        values[spec.name] = _parse(spec, raw)
    return Settings(**values)
