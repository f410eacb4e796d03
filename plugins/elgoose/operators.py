"""Operators of the ElGoose DAGs."""

from __future__ import annotations

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import BaseOperator

from elgoose.settings import SQL_DIR


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
        kwargs.setdefault("task_id", (name, *then)[-1])
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
        return super().execute(context)

    def _run_inline(self, context):
        from elgoose.connections import warehouse_connection
        from elgoose.layers import run_layers

        layers = ["silver", "gold"] if self.trigger_dag_id.endswith("silver") else ["gold"]
        self.log.info("`airflow dags test` has no scheduler: running %s in this task", " then ".join(layers))
        with warehouse_connection() as conn:
            return run_layers(conn, layers, run_id=context["run_id"])
