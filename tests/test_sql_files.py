"""Every step's SQL renders, splits into statements the way PostgreSQL's scanner does, and has no stray
percent sign (psycopg reads every `%` of a statement run with bind parameters as a placeholder)."""

from __future__ import annotations

import re

import pytest

from elgoose.sql import render_sql, split_statements
from elgoose.steps import QUALITY, step_inputs, step_names

STEPS = [(layer, name) for layer in ("silver", "gold", QUALITY) for name in step_names(layer)]


@pytest.mark.parametrize(("layer", "name"), STEPS)
def test_a_step_renders_and_splits_and_its_only_percent_signs_are_placeholders(layer, name):
    inputs = step_inputs(layer, name)
    statements = split_statements(render_sql(f"{layer}/{name}.sql", **inputs.template_params))
    assert len(statements) >= 1
    for statement in statements:
        assert not statement.rstrip().endswith(";"), "a statement is split off before its semicolon"
        assert statement.strip(), "no empty statements"
        stray = re.sub(r"%\((\w+)\)s", "", statement)
        assert "%" not in stray, f"{layer}/{name}: a % that is not a %(name)s placeholder:\n{statement[:400]}"
        for placeholder in re.findall(r"%\((\w+)\)s", statement):
            assert inputs.parameters and placeholder in inputs.parameters, (layer, name, placeholder)


def test_dollar_quotes_and_semicolons_in_strings_stay_inside_their_statement():
    script = "select ';' as a;\ndo $$ begin perform 1; perform 2; end $$;\n-- a comment; with a semicolon\nselect 3"
    assert [s.strip() for s in split_statements(script)] == [
        "select ';' as a",
        "do $$ begin perform 1; perform 2; end $$",
        "-- a comment; with a semicolon\nselect 3",
    ]
