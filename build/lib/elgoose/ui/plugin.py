"""Airflow plugin: the Warehouse page in Airflow's UI (a nav entry and a tab on every DAG run).

Airflow 3's api-server mounts ``fastapi_apps`` under their ``url_prefix``; the UI shows each
``external_views`` entry in an iframe of the same origin, so the page's requests carry the UI's own login
(the ``_token`` cookie), which every route of the app checks (``elgoose/ui/app.py``). In a ``dag_run``
view the UI replaces ``{DAG_ID}`` and ``{RUN_ID}`` in ``href`` with the run on screen.

Every Airflow process loads the plugins (each task does, for macros), but only the api-server serves the
app: it is built on its first request, so tasks do not pay for importing FastAPI and Airflow's security
module (about two seconds on this project's machine).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/elgoose-warehouse"


class WarehouseApp:
    """An ASGI app that builds ``elgoose.ui.app.create_app()`` on its first request, then hands it every one."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            from elgoose.ui.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class ElGooseWarehousePlugin(AirflowPlugin):
    name = "elgoose_warehouse"
    fastapi_apps = [{"app": WarehouseApp(), "url_prefix": URL_PREFIX, "name": "ElGoose warehouse"}]
    external_views = [
        {
            "name": "Warehouse",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "warehouse",
            "icon": f"{URL_PREFIX}/static/warehouse.svg",
            "nav_top_level": True,
        },
        {
            "name": "Warehouse",
            "href": f"{URL_PREFIX}/run?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "warehouse-run",
        },
    ]
