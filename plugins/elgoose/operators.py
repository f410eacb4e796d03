"""Operators of the ElGoose DAGs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

from elgoose import settings
from elgoose.sql import render_sql
from elgoose.warehouse import track_step, warehouse_connection


class LayerSQLOperator(SQLExecuteQueryOperator):
    """Run one ``include/sql/<layer>/<table>.sql`` as one transaction and record it in processing_status.

    The file is rendered with fixed template params from settings (never with run conf), and
    values reach it only as bind parameters built at run time by ``parameters_factory``.
    The last statement returns the step's counts as one JSON object.
    """

    template_fields = ()
    template_ext = ()
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        layer: str,
        table: str,
        template_params: Callable[[], dict[str, Any]] | None = None,
        parameters_factory: Callable[[dict], dict] | None = None,
        source_method: str | None = None,
        **kwargs,
    ):
        from elgoose.dag_support import STEP_RETRIES

        kwargs.setdefault("task_id", table)
        for key, value in STEP_RETRIES.items():
            kwargs.setdefault(key, value)
        super().__init__(
            sql=f"{layer}/{table}.sql",
            conn_id=settings.WAREHOUSE_CONN_ID,
            split_statements=True,
            return_last=True,
            autocommit=False,
            **kwargs,
        )
        self.layer = layer
        self.table = table
        self.template_params = template_params
        self.parameters_factory = parameters_factory
        self.source_method = source_method

    def execute(self, context):
        from airflow.sdk.exceptions import AirflowSkipException

        from elgoose.layers import counts_to_status

        selected = context["params"].get("endpoints") or []
        if self.source_method and selected and self.source_method not in selected:
            raise AirflowSkipException(f"{self.source_method} is not among the selected endpoints {selected}")

        template = f"{self.layer}/{self.table}.sql"
        self.sql = render_sql(template, **(self.template_params() if self.template_params else {}))
        self.parameters = self.parameters_factory(context) if self.parameters_factory else None
        with (
            warehouse_connection() as status_conn,
            track_step(status_conn, self.layer, self.table, context["run_id"]) as step,
        ):
            rows = super().execute(context)
            counts = _last_json(rows)
            step.update(**counts_to_status(counts))
        self.log.info("%s.%s: %s", self.layer, self.table, counts)
        return counts


def _last_json(rows) -> dict:
    """The step's counts from the last statement's single value: a JSON object, or a row count."""
    value = rows
    while isinstance(value, (list, tuple)) and value:
        value = value[-1]
    if isinstance(value, dict):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return {"processed": value}
    return {}


class RunNextLayerOperator(TriggerDagRunOperator):
    """Trigger the next layer's DAG and wait for it (mode ``complete``).

    The downstream run's id is this run's id plus the layer, so each attempt of this task knows it:
    - no such run yet: trigger it, and wait;
    - it exists and has not failed (this task's worker was lost while it waited, and this is the
      retry): wait for it; restarting it would throw away its progress;
    - it failed (a person cleared this task to recover): reset it (``reset_dag_run``) so that it runs
      again, nested layers included, and wait. Once it succeeds, this task and its run are green.

    Under ``airflow dags test`` no scheduler runs a triggered DAG, so waiting would never end.
    There the remaining layers run in this task instead: the same SQL files in the same order,
    recorded in ``processing_status`` under this run's id.
    """

    def execute(self, context):
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
        from elgoose.layers import run_layers

        layers = ["silver", "gold"] if self.trigger_dag_id.endswith("silver") else ["gold"]
        self.log.info("`airflow dags test` has no scheduler: running %s in this task", " then ".join(layers))
        with warehouse_connection() as conn:
            return run_layers(conn, layers, run_id=context["run_id"])
