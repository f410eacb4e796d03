"""One-process runs of bronze + silver as the registry's graph on several connections (elgoose.layers.run_layers).

The order is checked on processing_status's own timestamps; the results against the one-connection run and
against counts computed here from the fixture JSON.
"""

from __future__ import annotations

import orjson
import psycopg
import pytest
from helpers import table_checksums

from elgoose import registry
from elgoose.api_client import ElGooseClient, ElGooseError
from elgoose.bronze import pull_endpoint
from elgoose.layers import run_layer, run_layers, step_graph
from elgoose_local.databases import create_database, drop_database, with_dbname


def connector(dsn: str):
    return lambda: psycopg.connect(dsn, autocommit=True)


def steps_of(conn, run_id: str) -> dict[tuple[str, str], tuple]:
    rows = conn.execute(
        """select layer, table_name, status, started_at, completed_at, backend_pid
             from processing_status where run_id = %s and layer in ('bronze', 'silver')""",
        (run_id,),
    ).fetchall()
    return {(layer, name): (status, started, completed, pid) for layer, name, status, started, completed, pid in rows}


def test_the_graph_is_the_registry(fixture_data):
    order, needs = step_graph(["bronze", "silver"])
    assert order == [("bronze", m) for m in registry.METHODS] + [("silver", t) for t in registry.SILVER_TABLES]
    assert needs[("silver", "setlists")] == {("silver", "shows"), ("bronze", "setlists")}
    assert needs[("silver", "people")] == {("silver", "appearances"), ("bronze", "appearances")}
    for position, step in enumerate(order):
        assert needs[step] <= set(order[:position]), f"{step} comes before what it needs"


def test_two_workers_follow_the_graph_and_load_what_one_connection_loads(
    warehouse, warehouse_dsn, fake_api, fixture_data, pg_server, pg_template
):
    # setlists' body stalls: one worker waits on it while the other does every step that does not need it
    fake_api.inject("setlists", "stall", seconds=1.5)
    client = ElGooseClient(fake_api.base_url, timeout=(5.0, 10.0))
    results = run_layers(connector(warehouse_dsn), ["bronze", "silver"], client=client, run_id="graph", workers=2)

    for method in registry.METHODS:
        distinct = len({orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in fixture_data[method]})
        assert results["bronze"][method]["new"] == distinct, method
    steps = steps_of(warehouse, "graph")
    assert {status for status, *_ in steps.values()} == {"completed"}
    assert len({pid for *_, pid in steps.values()}) == 2, "both worker connections ran steps"
    _, needs = step_graph(["bronze", "silver"])
    for step, needed in needs.items():
        for before in needed:
            assert steps[step][1] >= steps[before][2], f"{step} started before {before} completed"
    stalled_done = steps[("bronze", "setlists")][2]
    independent = [("bronze", m) for m in registry.METHODS if m != "setlists"] + [("silver", "venues")]
    assert all(steps[s][2] < stalled_done for s in independent), "the other worker did not go on meanwhile"

    # the same data through one connection, step by step, gives the same silver
    name = create_database(pg_server, pg_template)
    try:
        with psycopg.connect(with_dbname(pg_server, name), autocommit=True) as sequential:
            for method in registry.METHODS:
                pull_endpoint(sequential, method, client, run_id="one")
            run_layer(sequential, "silver", run_id="one")
            assert table_checksums(sequential, ("silver",)) == table_checksums(warehouse, ("silver",))
    finally:
        drop_database(pg_server, name)


def test_a_failed_step_stops_the_run_and_what_needs_it_never_starts(warehouse, warehouse_dsn, fake_api):
    client = ElGooseClient(fake_api.base_url, timeout=(5.0, 10.0))
    run_layers(connector(warehouse_dsn), ["bronze", "silver"], client=client, run_id="good")
    # the failed run's other pulls are recorded (raw_data.pulls); no data may change
    before = table_checksums(warehouse, ("raw_data", "silver"), ignore_tables=("raw_data.pulls",))

    fake_api.inject("setlists", "html")
    with pytest.raises(ElGooseError, match="setlists") as failure:
        run_layers(connector(warehouse_dsn), ["bronze", "silver"], client=client, run_id="bad", workers=2)
    assert any("bronze" in note and "setlists" in note for note in failure.value.__notes__)
    steps = steps_of(warehouse, "bad")
    assert steps[("bronze", "setlists")][0] == "failed"
    assert ("silver", "setlists") not in steps and ("silver", "jamcharts") not in steps
    after = table_checksums(warehouse, ("raw_data", "silver"), ignore_tables=("raw_data.pulls",))
    assert after == before, "nothing changed: the data was the same"


def test_layers_out_of_order_or_bronze_without_a_client_are_refused(warehouse_dsn):
    with pytest.raises(ValueError, match="in that order"):
        run_layers(connector(warehouse_dsn), ["silver", "bronze"])
    with pytest.raises(ValueError, match="client"):
        run_layers(connector(warehouse_dsn), ["bronze"])
