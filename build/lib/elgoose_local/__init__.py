"""Local tooling of the ElGoose warehouse: what ``make run``, ``make airflow``, the tests and the benchmark share.

- ``cli``         the ``make run`` / ``make migrate`` / ``make airflow`` commands
- ``stack``       Airflow's own components on loopback (``AirflowStack``) and the one Airflow environment
                  every local caller uses (``airflow_env``)
- ``embedded_pg`` the embedded PostgreSQL (pgserver, from PyPI) used when no server is configured
- ``databases``   throwaway warehouses for tests and the benchmark: a migrated template, cloned per test
- ``console``     ``say``: one line of progress for a person

Nothing here is imported by the DAGs: it is never needed inside an Airflow deployment.
"""
