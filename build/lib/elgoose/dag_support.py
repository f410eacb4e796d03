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

from elgoose import registry
from elgoose.alerts import gold_deadline_alert, task_failed
from elgoose.registry import DAG_IDS, LAYERS, METHODS
from elgoose.retries import step_retries
from elgoose.settings import get_settings

MODES = ("bronze_only", "silver_only", "gold_only", "complete")
SCHEDULES = {"bronze": "0 2 * * *", "silver": "30 2 * * *", "gold": "0 3 * * *"}
# A DAG's first scheduled run is its next slot after it is first unpaused, never a slot that had already
# passed: no start_date, and run_immediately=0 (False would still start a slot up to 10% of a day old).
# So a first unpause starts nothing, and a manual run is not queued behind the day's missed runs
# (max_active_runs=1). Once a DAG has run, catchup=False starts only the latest missed slot after an outage.
FIRST_RUN_NOT_BEFORE_UNPAUSE = timedelta(0)
# Each downstream DAG is scheduled this long after the one it waits for.
CHAIN_DELTA = timedelta(minutes=30)

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 0,
    # A mail through the elgoose_alerts connection when a task has failed for good (off when it is unset).
    "on_failure_callback": task_failed,
}
TAGS = ["elgoose", "goose", "warehouse"]
ASSETS = {layer: f"elgoose://warehouse/{layer}" for layer in LAYERS}


def layer_dag(layer: str, *, doc: str, description: str):
    """The DAG of one layer, as all three are made: id ``elgoose_<layer>``, its daily UTC schedule, one run
    at a time, no catch-up, no missed slot on a first unpause (FIRST_RUN_NOT_BEFORE_UNPAUSE), the shared
    owner, tags and typed Params (the trigger form). Gold also has a deadline: a mail when it is not
    published by ELGOOSE_GOLD_DEADLINE (04:00 UTC), once per scheduled run."""
    from airflow.sdk import DAG, CronTriggerTimetable

    return DAG(
        dag_id=DAG_IDS[layer],
        description=description,
        doc_md=doc,
        schedule=CronTriggerTimetable(SCHEDULES[layer], timezone="UTC", run_immediately=FIRST_RUN_NOT_BEFORE_UNPAUSE),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=[*TAGS, layer],
        params=run_params(layer),
        deadline=gold_deadline_alert(SCHEDULES[layer]) if layer == "gold" else None,
    )


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
    """Runs on the timetable (scheduled, and backfills of past schedule slots) have logical dates the
    upstream DAG's runs share, so a sensor can find them; manual runs do not."""
    run_type = getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type)) in ("scheduled", "backfill")


# --- task builders shared by the DAG files (call inside a ``with DAG(...)`` block) -----------


def prepare_run(layer: str):
    """The task ``prepare_run``: refuse a conf this DAG cannot honour, then apply pending warehouse migrations
    (each exactly once). One task, so that a run starts its work one task start-up sooner."""
    from airflow.sdk import get_current_context, task

    @task(task_id="prepare_run", **step_retries())
    def prepare() -> dict:
        """Refuse a conf this DAG cannot honour before any work starts; then apply pending migrations."""
        return _prepare(layer, get_current_context())

    return prepare()


def _prepare(layer: str, context, first_steps: tuple[str, ...] = ()) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from elgoose.connections import warehouse_connection
    from elgoose.migrations import migrate
    from elgoose.steps import run_step

    try:
        validated = validate_conf(layer, context["dag_run"].conf, context["params"])
    except InvalidRunConf as refused:
        raise AirflowFailException(f"{type(refused).__name__}: {refused}") from refused  # a verdict: no retry
    with warehouse_connection() as conn:
        applied = migrate(conn)
        for step in first_steps:
            run_step(conn, layer, step, run_id=context["run_id"])
    return {**validated, "migrations_applied": applied}


def start_gate(layer: str, upstream_layer: str, upstream_task_id: str, first_steps: tuple[str, ...] = ()):
    """The task group ``start``: ``prepare_run`` (validate the conf, apply migrations, run ``first_steps`` of
    the layer: gold's ``prepare`` of its build schema), then on scheduled runs an ExternalTaskSensor on the
    upstream layer. Returns the group, to set downstream work after it (which joins with ``none_failed``: one
    of the two branches is always skipped).

    Manual runs (UI, REST API, CLI, ``complete`` chaining) skip the sensor: their logical date
    matches no scheduled upstream run, and in Airflow 3 it may be null.
    """
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import TaskGroup, get_current_context, task

    from elgoose.operators import UpstreamLayerSensor

    settings = get_settings()

    @task.branch(task_id="prepare_run", **step_retries())
    def prepare() -> str:
        """Refuse a conf this DAG cannot honour, apply pending migrations; scheduled runs then wait for the
        upstream layer, manual runs go straight to work."""
        context = get_current_context()
        _prepare(layer, context, first_steps)
        branch = f"wait_for_{upstream_layer}" if is_scheduled(context["dag_run"]) else "manual_run"
        return f"start.{branch}"

    with TaskGroup("start", tooltip=f"validate the run; scheduled runs wait for {upstream_layer}") as group:
        wait = UpstreamLayerSensor(
            task_id=f"wait_for_{upstream_layer}",
            external_dag_id=DAG_IDS[upstream_layer],
            external_task_id=upstream_task_id,
            execution_delta=CHAIN_DELTA,
            allowed_states=["success"],
            failed_states=["failed", "upstream_failed"],
            # Deferred to the triggerer: no worker slot is held while waiting, and no reschedule race.
            deferrable=True,
            poke_interval=settings.sensor_poke_seconds,
            timeout=settings.sensor_timeout_seconds,
            retries=2,
            retry_delay=timedelta(seconds=5),
            doc_md=f"Waits for the same day's scheduled `{DAG_IDS[upstream_layer]}.{upstream_task_id}`; "
            "fails as soon as it failed.",
        )
        # an EmptyOperator never occupies a worker: the scheduler marks it done itself
        manual_run = EmptyOperator(task_id="manual_run", doc_md="Manual runs do not wait for an upstream run.")
        prepare() >> [wait, manual_run]
    return group


def layer_steps(layer: str, **task_kwargs) -> dict:
    """One ``LayerSQLOperator`` per registry table of ``layer``, wired as the registry's dependencies say.

    Returns the tasks by table name. ``task_kwargs`` go to every task (e.g. a trigger rule).
    """
    from elgoose.operators import LayerSQLOperator

    steps = {}
    for table in registry.tables(layer):
        steps[table.name] = LayerSQLOperator(
            layer=layer,
            name=table.name,
            method=table.method,
            doc_md=f"Builds `{table.qualified_name}` ({table.description}) from `include/sql/{table.sql_file}` "
            "as one transaction.",
            **task_kwargs,
        )
        for upstream in table.upstream:
            steps[upstream] >> steps[table.name]
    return steps


def roots(steps: dict) -> list:
    """The steps no other step of the layer feeds."""
    return [task for task in steps.values() if not any(u in steps.values() for u in task.upstream_list)]


def leaves(steps: dict) -> list:
    """The steps that feed no other step of the layer."""
    return [task for task in steps.values() if not any(d in steps.values() for d in task.downstream_list)]


def complete_chain(next_layer: str):
    """In mode ``complete``: trigger the next layer's DAG with this run's id, and wait for it (other modes:
    the task skips itself). One task per hand-off."""
    from elgoose.operators import RunNextLayerOperator

    return RunNextLayerOperator(
        task_id=f"run_{next_layer}",
        trigger_dag_id=DAG_IDS[next_layer],
        trigger_run_id="{{ run_id }}__" + next_layer,
        conf={"mode": "complete", "upstream_run_id": "{{ run_id }}"},
        wait_for_completion=True,
        # how often the waiting task looks at the next layer's run: each look is one REST call
        poke_interval=2,
        allowed_states=["success"],
        failed_states=["failed"],
        # Clearing this task after the downstream run failed runs that run again (see RunNextLayerOperator).
        reset_dag_run=True,
        doc_md=f"In mode `complete`, runs `{DAG_IDS[next_layer]}` with this run's id and waits for it. When it "
        "failed, clear this task (not a task of the downstream run): the downstream run is reset and runs "
        "again, and this run turns green with it.",
        **step_retries(),
    )
