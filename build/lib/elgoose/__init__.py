"""The ElGoose warehouse's DAG code: registry, API client, bronze loader, SQL steps, settings.

It lives in Airflow's plugins folder and is installed as the package ``elgoose`` (``make`` installs the
project editable; the Docker image installs it too), so DAGs, tests, the benchmark and the local tooling
all import it normally. Nothing here touches a database or the network at import time.
"""
