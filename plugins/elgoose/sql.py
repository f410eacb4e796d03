"""Render and run the templated SQL under ``include/sql/``.

Every caller runs a step through ``elgoose.steps.run_step``, which renders with ``render_sql`` and
runs the whole file as one transaction with ``run_script``.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
import psycopg
import sqlparse

from elgoose.settings import SQL_DIR


@functools.cache
def jinja_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SQL_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_sql(template: str, **params: Any) -> str:
    """Render ``include/sql/<template>`` with ``params`` available as ``params.<name>``."""
    return jinja_env().get_template(template).render(params=params)


@functools.lru_cache(maxsize=64)
def split_statements(script: str) -> tuple[str, ...]:
    """Split exactly as the common-sql provider's ``DbApiHook.split_sql_string`` does.

    sqlparse takes about 0.1 s per silver file; a process that runs a layer more than once (the local
    runner, ``airflow dags test``, the benchmark) splits each rendered file once.
    """
    return tuple(s for s in sqlparse.split(sql=sqlparse.format(script, strip_comments=True)) if s)


def run_script(conn: psycopg.Connection, script: str, parameters: dict | None = None) -> list[tuple]:
    """Run every statement of ``script`` in one transaction; return the last statement's rows."""
    rows: list[tuple] = []
    with conn.transaction(), conn.cursor() as cur:
        for statement in split_statements(script):
            cur.execute(statement, parameters or None)
            rows = cur.fetchall() if cur.description else []
    return rows


def run_sql_file(conn: psycopg.Connection, template: str, parameters: dict | None = None, **params: Any):
    return run_script(conn, render_sql(template, **params), parameters)
