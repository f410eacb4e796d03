# The Airflow image of docker-compose.yaml: Airflow's official image plus this project's pinned runtime
# dependencies and the project itself, installed as a package. The project is copied to /opt/airflow (the
# image's AIRFLOW_HOME), where docker-compose.yaml also mounts elgoose/, dags/, plugins/ and include/: the
# editable install points `import elgoose` at /opt/airflow/elgoose, so code changes need no rebuild
# (dependency changes do: `docker compose build`).
#
# requirements.txt also pins pgserver (the embedded PostgreSQL of `make run` and the tests); it is
# installed here too but unused: in compose the warehouse is the warehouse-postgres service.
FROM apache/airflow:3.3.2-python3.11

# The base image runs as `airflow`; packages go into that user's environment, as Airflow's docs say.
USER airflow
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/elgoose/
# Pinning apache-airflow to the image's own version makes a mismatch with requirements.txt fail the
# build instead of silently replacing Airflow. A lock that disagrees with a provider fails the build too:
# `pip check` for the declared ranges, and an import of the module every Celery worker runs for what the
# ranges miss (celery 5.7.0 with provider 3.26.0 passed `pip check` and broke every worker).
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
        -r /opt/elgoose/requirements.txt -c /opt/elgoose/constraints.txt \
    && pip check \
    && python -c "import airflow.providers.celery.executors.celery_executor_utils"
COPY --chown=airflow:0 pyproject.toml /opt/airflow/
COPY --chown=airflow:0 elgoose /opt/airflow/elgoose
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 include /opt/airflow/include
COPY --chown=airflow:0 fake_elgoose /opt/airflow/fake_elgoose
COPY --chown=airflow:0 elgoose_local /opt/airflow/elgoose_local
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e /opt/airflow
