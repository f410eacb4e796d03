"""Reusable code of the ElGoose warehouse: API client, bronze loader, SQL runner, settings.

Airflow puts ``plugins/`` on ``sys.path``, so DAGs import this package as ``elgoose``.
Nothing here touches a database or the network at import time.
"""
