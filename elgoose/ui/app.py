"""The Warehouse page: a FastAPI app that Airflow's api-server mounts under ``/elgoose-warehouse`` (plugin.py).

Every route, the static files included, depends on ``airflow_reader_dependency()``: Airflow's own
``get_user`` (``airflow.api_fastapi.core_api.security``: the UI's JWT from the ``_token`` cookie that the
iframe sends, or an ``Authorization: Bearer`` token), then the auth manager's permission to read the runs
of the three ElGoose DAGs. Without a valid login a route answers 401 (no or expired token) or 403 (a bad
token, or a user without that permission), before any query runs.

Pages are rendered on the server (Jinja2, autoescaped); the only script is ``static/warehouse.js``
(auto-refresh), and the chart is SVG. No asset comes from another origin: the Content-Security-Policy
says so to the browser too.
"""

# No `from __future__ import annotations` here: FastAPI reads the dependencies' annotations at run time, and
# Airflow's GetUserDep is imported inside a function, where a string annotation could not be resolved.
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from elgoose.registry import DAG_IDS as LAYER_DAG_IDS
from elgoose.registry import table
from elgoose.settings import get_settings
from elgoose.ui import chart, queries
from elgoose.ui.database import ReadOnlyPool, WarehouseUnavailable

HERE = Path(__file__).resolve().parent
DAG_IDS = tuple(LAYER_DAG_IDS.values())
MAX_ID_CHARS = 250
STATIC_FILES = {
    "warehouse.css": "text/css; charset=utf-8",
    "warehouse.js": "text/javascript; charset=utf-8",
    "warehouse.svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'; form-action 'self'",
}


def airflow_reader_dependency():
    """The dependency every route has: Airflow's ``GetUserDep`` (401/403 without a valid JWT), then the
    auth manager's permission to read the runs of the three ElGoose DAGs (403 without it).

    Airflow's security module is imported when the app is built (in the api-server), not with this module.
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.api_fastapi.core_api.security import GetUserDep

    def warehouse_reader(user: GetUserDep):
        auth_manager = get_auth_manager()
        denied = [
            dag_id
            for dag_id in DAG_IDS
            if not auth_manager.is_authorized_dag(
                method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id), user=user
            )
        ]
        if denied:
            raise HTTPException(403, f"the Warehouse page needs permission to read the runs of {', '.join(denied)}")
        return user

    return warehouse_reader


def stale_after() -> timedelta:
    """A layer whose last completed run is older is marked red (ELGOOSE_UI_STALE_AFTER_HOURS; default 26:
    a daily schedule plus two hours of slack)."""
    return timedelta(hours=get_settings().ui_stale_after_hours)


def _age(value: timedelta | None) -> str:
    if value is None:
        return "never"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min ago"
    return f"{hours // 24} days ago"


def _utc(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _count(value) -> str:
    return "" if value is None else f"{int(value):,}"


def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(age=_age, utc=_utc, count=_count)
    return env


def create_app(pool: ReadOnlyPool | None = None, reader_dependency=None) -> FastAPI:
    """The app; ``pool`` and ``reader_dependency`` default to the api-server's (the benchmark passes its own)."""
    pool = pool or ReadOnlyPool()
    reader = reader_dependency or airflow_reader_dependency()
    templates = template_environment()
    app = FastAPI(
        title="ElGoose warehouse",
        description="The warehouse's state inside Airflow's UI; every route needs an Airflow login.",
        dependencies=[Depends(reader)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.pool = pool

    def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/")
        html = templates.get_template(template).render(base=base, dag_ids=DAG_IDS, **context)
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    def unavailable(request: Request, exc: WarehouseUnavailable) -> HTMLResponse:
        return page(request, "unavailable.html", status_code=503, message=str(exc))

    @app.get("/", response_class=HTMLResponse, name="warehouse")
    def warehouse(request: Request):
        limit = stale_after()
        try:
            with pool.connection() as conn:
                runs = queries.runs_chart(conn)
                data = {
                    "freshness": queries.freshness(conn, limit),
                    "tables": queries.registry_tables(conn),
                    "steps": queries.recent_steps(conn),
                    "quality": queries.latest_quality(conn),
                    **queries.rejects_and_deletions(conn),
                }
        except WarehouseUnavailable as exc:
            return unavailable(request, exc)
        return page(request, "warehouse.html", stale_after=limit, chart=chart.runs_chart(runs), runs=runs, **data)

    @app.get("/run", response_class=HTMLResponse, name="run")
    def run(
        request: Request,
        dag_id: Annotated[str, Query(max_length=MAX_ID_CHARS)],
        run_id: Annotated[str, Query(min_length=1, max_length=MAX_ID_CHARS)],
    ):
        try:
            with pool.connection() as conn:
                data = queries.run_steps(conn, run_id)
        except WarehouseUnavailable as exc:
            return unavailable(request, exc)
        return page(request, "run.html", dag_id=dag_id, run_id=run_id, ours=dag_id in DAG_IDS, **data)

    def drill_down(request: Request, kind: str, name: str):
        try:
            silver_table = table("silver", name)
        except KeyError as exc:
            raise HTTPException(404, str(exc.args[0])) from None
        fetch = queries.rejects if kind == "rejects" else queries.deletions
        try:
            with pool.connection() as conn:
                rows = fetch(conn, silver_table)
        except WarehouseUnavailable as exc:
            return unavailable(request, exc)
        return page(request, f"{kind}.html", table=silver_table, rows=rows, limit=queries.DRILL_DOWN_ROWS)

    @app.get("/rejects/{name}", response_class=HTMLResponse, name="rejects")
    def rejects(request: Request, name: str):
        return drill_down(request, "rejects", name)

    @app.get("/deletions/{name}", response_class=HTMLResponse, name="deletions")
    def deletions(request: Request, name: str):
        return drill_down(request, "deletions", name)

    @app.get("/static/{name}", name="static")
    def static(name: str):
        if name not in STATIC_FILES:
            raise HTTPException(404, f"no static file {name!r}")
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name], headers=SECURITY_HEADERS)

    return app
