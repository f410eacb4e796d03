"""Render and run the templated SQL under ``include/sql/``.

Every caller runs a step through ``elgoose.steps.run_step``, which renders with ``render_sql`` and
runs the whole file as one transaction with ``run_script``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
import psycopg
from pglast import parser as pg_parser

from elgoose.resources import SQL_DIR

# A silver file's column list (include/sql/silver/_silver.sql): (name, expression[, 'derived' | 'check']).
_RECORD_KEY = re.compile(r'\br\.(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_]*))')


def _kind(column: tuple) -> str:
    return column[2] if len(column) > 2 else "record"


def from_record(columns: list[tuple]) -> list[tuple[str, str]]:
    """The (name, expression) pairs typed straight from the record (stored ones and check-only ones)."""
    return [(c[0], c[1]) for c in columns if _kind(c) in ("record", "check")]


def derived(columns: list[tuple]) -> list[tuple[str, str]]:
    """The (name, expression) pairs computed from the other typed columns."""
    return [(c[0], c[1]) for c in columns if _kind(c) == "derived"]


def stored_columns(columns: list[tuple]) -> list[str]:
    """The names of the columns the table stores, in the list's (the table's) order."""
    return [c[0] for c in columns if _kind(c) != "check"]


def record_keys(columns: list[tuple]) -> list[str]:
    """The record keys the expressions read as r.<key> (or r."<key>"), each once, in order of first use."""
    keys = (a or b for _, expression in from_record(columns) for a, b in _RECORD_KEY.findall(expression))
    return list(dict.fromkeys(keys))


@functools.cache
def jinja_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SQL_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(from_record=from_record, derived=derived, stored_columns=stored_columns, record_keys=record_keys)
    return env


def render_sql(template: str, **params: Any) -> str:
    """Render ``include/sql/<template>`` with ``params`` available as ``params.<name>``."""
    return jinja_env().get_template(template).render(params=params)


@functools.lru_cache(maxsize=64)
def split_statements(script: str) -> tuple[str, ...]:
    """The statements of ``script``, split by PostgreSQL's own scanner (libpg_query, through pglast).

    Quotes, dollar quoting and comments are understood exactly as the server understands them, in
    milliseconds (sqlparse took 0.2 to 0.4 s per file: in a fresh task process, most of a small step).
    """
    return tuple(script[piece] for piece in pg_parser.split(script, with_parser=False, only_slices=True))


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
