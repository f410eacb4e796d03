"""The Warehouse page inside Airflow's UI: an Airflow plugin serving a small FastAPI app in the api-server.

``plugin.py`` registers it (``fastapi_apps`` under ``/elgoose-warehouse`` plus two ``external_views``: a
nav entry and a per-DAG-run tab); ``app.py`` has the routes, each behind Airflow's own authentication;
``queries.py`` the fixed SQL, run as the read-only role ``elgoose_ui`` (``database.py``); a table name from a URL
must be one ``elgoose.registry.table()`` knows; ``chart.py`` the server-drawn SVG chart.
"""
