"""Operators of the ElGoose DAGs."""

from __future__ import annotations

import time

from airflow.providers.standard.exceptions import AirflowExternalTaskSensorException
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.sdk import BaseOperator

from elgoose.resources import SQL_DIR


class LayerSQLOperator(BaseOperator):
    """Run ``include/sql/<layer>/<name>.sql`` as one transaction and record it in processing_status.

    It calls ``elgoose.steps.run_step``, as every other caller does: the file is rendered with fixed template
    params from settings (never with run conf), values reach it only as bind parameters, and its last statement
    returns the step's counts, which become this task's XCom. ``method``: the API method the step reads; the
    task is skipped when the run's ``endpoints`` Param names others. ``then``: further steps this task runs
    after it, each its own transaction and status row (gold's chatbot helpers, then publish: one task start-up
    fewer on the critical path).
    """

    ui_color = "#e8f4ea"

    def __init__(self, *, layer: str, name: str, method: str | None = None, then: tuple[str, ...] = (), **kwargs):
        from elgoose.retries import step_retries

        kwargs.setdefault("task_id", (name, *then)[-1])
        for key, value in step_retries().items():
            kwargs.setdefault(key, value)
        files = ", ".join(f"`include/sql/{layer}/{step}.sql`" for step in (name, *then))
        kwargs.setdefault("doc_md", f"Runs {files}, each as one transaction.")
        super().__init__(**kwargs)
        self.layer = layer
        self.steps = (name, *then)
        self.method = method
        for step in self.steps:
            if not (SQL_DIR / layer / f"{step}.sql").is_file():
                raise ValueError(f"{layer} step {step!r} has no SQL file include/sql/{layer}/{step}.sql")

    def execute(self, context):
        from airflow.sdk.exceptions import AirflowSkipException

        from elgoose.connections import warehouse_connection
        from elgoose.steps import run_step

        selected = context["params"].get("endpoints") or []
        if self.method and selected and self.method not in selected:
            raise AirflowSkipException(f"{self.method} is not among the selected endpoints {selected}")
        results = {}
        with warehouse_connection() as conn:
            for step in self.steps:
                results[step] = run_step(
                    conn,
                    self.layer,
                    step,
                    run_id=context["run_id"],
                    force_reprocess=context["params"].get("force_reprocess", False),
                )
                self.log.info("%s.%s: %s", self.layer, step, results[step])
        return results[self.steps[0]] if len(self.steps) == 1 else results


class RunNextLayerOperator(TriggerDagRunOperator):
    """In mode ``complete``, trigger the next layer's DAG and wait for it; in any other mode, skip.

    The downstream run's id is this run's id plus the layer, so each attempt of this task knows it:
    - no such run yet: trigger it, and wait;
    - it exists and has not failed (this task's worker was lost while it waited, and this is the
      retry): wait for it; restarting it would throw away its progress;
    - it failed (a person cleared this task to recover): reset it (``reset_dag_run``) so that it runs
      again, nested layers included, and wait. Once it succeeds, this task and its run are green.

    Under ``airflow dags test`` no scheduler runs a triggered DAG, so waiting would never end.
    There the remaining layers run in this task instead: the same steps in the same order,
    recorded in ``processing_status`` under this run's id.
    """

    def execute(self, context):
        from airflow.sdk.exceptions import AirflowSkipException

        if context["params"]["mode"] != "complete":
            raise AirflowSkipException(f"mode {context['params']['mode']}: the next layer runs on its own schedule")
        if getattr(context["dag_run"], "triggering_user_name", None) == "dag_test":
            return self._run_inline(context)
        ti = context["ti"]
        if ti.get_dr_count(dag_id=self.trigger_dag_id, run_ids=[self.trigger_run_id]):
            state = ti.get_dagrun_state(dag_id=self.trigger_dag_id, run_id=self.trigger_run_id)
            if state not in self.failed_states:
                return self._wait_for(ti, state)
            self.log.info("%s run %s %s: resetting it to run again", self.trigger_dag_id, self.trigger_run_id, state)
        return super().execute(context)

    def _wait_for(self, ti, state: str) -> str:
        self.log.info(
            "%s run %s exists (%s), as after a lost worker: waiting for it instead of restarting it",
            self.trigger_dag_id,
            self.trigger_run_id,
            state,
        )
        while state not in self.allowed_states:
            if state in self.failed_states:
                raise RuntimeError(
                    f"{self.trigger_dag_id} run {self.trigger_run_id} ended {state}; clear this task to run it again"
                )
            time.sleep(self.poke_interval)
            state = ti.get_dagrun_state(dag_id=self.trigger_dag_id, run_id=self.trigger_run_id)
        ti.xcom_push(key="trigger_run_id", value=self.trigger_run_id)
        return self.trigger_run_id

    def _run_inline(self, context):
        from elgoose.connections import warehouse_connection
        from elgoose.layers import run_layers

        layers = ["silver", "gold"] if self.trigger_dag_id.endswith("silver") else ["gold"]
        self.log.info("`airflow dags test` has no scheduler: running %s in this task", " then ".join(layers))
        return run_layers(warehouse_connection, layers, run_id=context["run_id"])


class UpstreamLayerSensor(ExternalTaskSensor):
    """The scheduled chain's sensor on the upstream layer: a failed (or missing) upstream fails it at once.

    Its retries are for everything else. Airflow 3.3 can fail a deferred task whose trigger fires within a
    second or two (the executor's report of the deferring process arrives after the task was queued again:
    "finished with state success, but the task instance's state attribute is queued"); a retry looks again.
    A failed upstream would fail every retry, so it fails without them.
    """

    def execute(self, context):
        return self._failing_at_once(super().execute, context)

    def execute_complete(self, context, event=None):
        return self._failing_at_once(super().execute_complete, context, event)

    @staticmethod
    def _failing_at_once(method, *args):
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return method(*args)
        except AirflowExternalTaskSensorException as exc:
            raise AirflowFailException(str(exc)) from exc
