"""Trigger conf validation: what each DAG accepts, and the messages that say what is allowed."""

from __future__ import annotations

import pytest

from elgoose.dag_support import InvalidRunConf, allowed_modes, run_params, validate_conf


def params(layer: str, **conf):
    """Params as Airflow resolves them: the DAG's defaults overridden by the conf."""
    resolved = {name: param.value for name, param in run_params(layer).items()}
    resolved.update(conf)
    return resolved


@pytest.mark.parametrize("layer", ["bronze", "silver", "gold"])
def test_defaults_are_the_dags_own_layer(layer):
    assert validate_conf(layer, {}, params(layer))["mode"] == f"{layer}_only"
    assert validate_conf(layer, {"mode": "complete"}, params(layer, mode="complete"))["mode"] == "complete"


@pytest.mark.parametrize(
    ("layer", "mode"),
    [("bronze", "silver_only"), ("bronze", "gold_only"), ("silver", "bronze_only"), ("gold", "silver_only")],
)
def test_a_mode_naming_no_layer_of_the_dag_is_refused(layer, mode):
    with pytest.raises(InvalidRunConf) as info:
        validate_conf(layer, {"mode": mode}, params(layer, mode=mode))
    assert f"elgoose_{layer}" in str(info.value) and all(m in str(info.value) for m in allowed_modes(layer))


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"mode": "bronze_only", "extra": 1}, "unknown conf keys ['extra']"),
        ({"endpoints": ["setlists", "people"]}, "endpoints must be a list drawn from"),
        ({"endpoints": "setlists"}, "endpoints must be a list"),
        ({"force_reprocess": "yes"}, "force_reprocess must be true or false"),
        ({"upstream_run_id": "x" * 10_000}, "at most 250 characters"),
        ({"upstream_run_id": 5}, "must be a string"),
    ],
)
def test_wrong_types_extra_keys_and_oversized_values_are_refused(conf, message):
    with pytest.raises(InvalidRunConf, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_conf("bronze", conf, params("bronze", **conf))


def test_the_trigger_form_offers_the_four_modes_as_an_enum():
    mode = run_params("silver")["mode"]
    assert mode.schema["enum"] == ["bronze_only", "silver_only", "gold_only", "complete"]
    assert mode.value == "silver_only" and mode.schema.get("title") == "Mode"
