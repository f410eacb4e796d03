"""What the three ElGoose DAGs share: run modes, their Params, conf validation, sensors, chaining.

Modes (chosen in the trigger form, or by ``conf`` from the REST API and the CLI):

- ``bronze_only``  ElGoose -> raw_data            (default of ``elgoose_bronze``)
- ``silver_only``  unprocessed raw_data -> silver (default of ``elgoose_silver``)
- ``gold_only``    silver -> gold                 (default of ``elgoose_gold``)
- ``complete``     this layer, then every later one: the next DAG is triggered with the same
                   mode and this run's id, and this run waits for it, so its state tells the story.

Scheduled runs chain through ExternalTaskSensors (02:00 -> 02:30 -> 03:00 UTC). Manual runs never
wait on a sensor: their logical date matches no scheduled upstream run (and may be null).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param

from elgoose import settings
from elgoose.endpoints import METHODS

MODES = ("bronze_only", "silver_only", "gold_only", "complete")
LAYERS = ("bronze", "silver", "gold")
DAG_IDS = {layer: f"elgoose_{layer}" for layer in LAYERS}
SCHEDULES = {"bronze": "0 2 * * *", "silver": "30 2 * * *", "gold": "0 3 * * *"}
# Each downstream DAG is scheduled this long after the one it waits for.
CHAIN_DELTA = timedelta(minutes=30)
SENSOR_TIMEOUT = timedelta(hours=2)
SENSOR_POKE_INTERVAL = timedelta(minutes=1)

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 0,
}
NETWORK_RETRIES = {
    "retries": settings.TASK_RETRIES,
    "retry_delay": timedelta(seconds=settings.TASK_RETRY_DELAY_SECONDS),
    "retry_exponential_backoff": True,
}
TAGS = ["elgoose", "goose", "warehouse"]
ASSETS = {layer: f"elgoose://warehouse/{layer}" for layer in LAYERS}

MAX_CONF_VALUE_CHARS = 250
CONF_KEYS = ("mode", "force_reprocess", "endpoints", "upstream_run_id")


class InvalidRunConf(ValueError):
    """The trigger conf asks for something this DAG does not do; nothing has run."""


def allowed_modes(layer: str) -> tuple[str, ...]:
    return (f"{layer}_only", "complete")


def run_params(layer: str) -> dict[str, Param]:
    """The typed trigger-form Params every ElGoose DAG has; the default mode is its own layer."""
    return {
        "mode": Param(
            f"{layer}_only",
            type="string",
            enum=list(MODES),
            title="Mode",
            description=(
                "Which layers to run. `complete` runs this layer and every later one, triggering the next "
                f"DAG and waiting for it. This DAG accepts: {', '.join(allowed_modes(layer))}."
            ),
            values_display={
                "bronze_only": "bronze_only: ElGoose API -> raw_data",
                "silver_only": "silver_only: unprocessed raw_data -> silver",
                "gold_only": "gold_only: silver -> gold",
                "complete": "complete: this layer and every later one",
            },
        ),
        "force_reprocess": Param(
            False,
            type="boolean",
            title="Force reprocess",
            description="Re-mark the current bronze versions unprocessed and rebuild silver from them "
            "(a backfill after a mapping fix). Ignored by bronze and gold.",
        ),
        "endpoints": Param(
            [],
            type="array",
            items={"type": "string", "enum": list(METHODS)},
            uniqueItems=True,
            title="Endpoints",
            description="Only these API methods (bronze pulls, silver tables). Empty: all of them.",
        ),
        "upstream_run_id": Param(
            None,
            type=["null", "string"],
            maxLength=MAX_CONF_VALUE_CHARS,
            title="Upstream run id",
            description="Set by the upstream DAG when it triggers this one in `complete` mode.",
        ),
    }


def validate_conf(layer: str, conf: dict | None, params: dict) -> dict:
    """Refuse a run whose conf this DAG cannot honour, before any work starts.

    Param validation already rejects wrong types and unknown modes at trigger time; this
    also refuses unknown keys, oversized values and modes that name no layer of this DAG.
    """
    conf = conf or {}
    unknown = sorted(set(conf) - set(CONF_KEYS))
    if unknown:
        raise InvalidRunConf(f"unknown conf keys {unknown}; allowed keys are {list(CONF_KEYS)}")
    mode = params.get("mode")
    if mode not in allowed_modes(layer):
        raise InvalidRunConf(
            f"mode {mode!r} names no layer of {DAG_IDS[layer]}; allowed here: {list(allowed_modes(layer))} "
            f"(all modes: {list(MODES)})"
        )
    endpoints = params.get("endpoints") or []
    if not isinstance(endpoints, list) or any(e not in METHODS for e in endpoints):
        raise InvalidRunConf(f"endpoints must be a list drawn from {list(METHODS)}, got {endpoints!r}")
    if not isinstance(params.get("force_reprocess"), bool):
        raise InvalidRunConf("force_reprocess must be true or false")
    upstream = params.get("upstream_run_id")
    if upstream is not None and (not isinstance(upstream, str) or len(upstream) > MAX_CONF_VALUE_CHARS):
        raise InvalidRunConf(f"upstream_run_id must be a string of at most {MAX_CONF_VALUE_CHARS} characters")
    return {"mode": mode, "force_reprocess": params["force_reprocess"], "endpoints": endpoints}


def is_scheduled(dag_run) -> bool:
    run_type = getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "scheduled"
