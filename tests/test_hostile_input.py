"""Bad and hostile records: stored verbatim in bronze, quarantined with a reason or loaded as text,
never executed, never crashing the batch."""

from __future__ import annotations

import copy

import orjson
import pytest
from helpers import scalar

from elgoose.bronze import load_download
from elgoose.endpoints import ENDPOINTS
from elgoose.steps import run_step

INJECTION = "'); DROP TABLE silver.songs; --"


def nested(depth: int) -> dict:
    value: dict = {"leaf": True}
    for _ in range(depth):
        value = {"n": value}
    return value


def raw_envelope(rows_json: list[bytes]) -> bytes:
    return b'{"error":false,"error_message":"","data":[' + b",".join(rows_json) + b"]}"


@pytest.fixture
def template(fixture_data) -> dict:
    return copy.deepcopy(fixture_data["setlists"][0])


def load_raw(conn, method: str, body: bytes):
    import io

    return load_download(conn, ENDPOINTS[method], io.BytesIO(body), f"test://{method}", run_id="hostile")


def test_hostile_records_are_kept_verbatim_and_never_executed(warehouse, template):
    cases = {
        "90001": {**template, "uniqueid": "90001", "songname": INJECTION},
        "90002": {**template, "uniqueid": "90002", "footnote": "x" * 1_000_000},
        "90003": {**template, "uniqueid": "90003", "showdate": "2023-13-45"},
        "90004": {**template, "uniqueid": "90004", "position": {"nested": [1, 2]}},
        "90005": {**template, "uniqueid": "90005", "footnote": nested(200)},
        "90006": {**template, "uniqueid": "90006", "show_id": "12; select pg_sleep(10)"},
        "90007": {**template, "uniqueid": "90007", "songname": "Emoji \U0001f3b8 and &lt;b&gt;html&lt;/b&gt;"},
    }
    body = raw_envelope([orjson.dumps(r) for r in cases.values()])
    result = load_raw(warehouse, "setlists", body)
    assert result.new == len(cases)
    for key, record in cases.items():
        stored = scalar(warehouse, "select data from raw_data.setlists where external_id = %s", key)
        assert stored == record, f"bronze changed record {key}"
    counts = run_step(warehouse, "silver", "setlists", run_id="hostile")
    assert counts["rejected"] == 3 and counts["inserted"] == 4
    reasons = dict(warehouse.execute("select external_id, reason from silver.rejects").fetchall())
    assert reasons["90003"].startswith("showdate") and reasons["90004"].startswith("position")
    assert reasons["90006"].startswith("show_id") and "90005" not in reasons
    assert scalar(warehouse, "select song_name from silver.setlists where unique_id = 90001") == INJECTION
    assert scalar(warehouse, "select length(footnote) from silver.setlists where unique_id = 90002") == 1_000_000
    assert scalar(warehouse, "select song_name from silver.setlists where unique_id = 90007") == (
        "Emoji \U0001f3b8 and <b>html</b>"
    )
    assert scalar(warehouse, "select to_regclass('silver.songs') is not null")


def test_nul_bytes_and_invalid_unicode_escapes_do_not_break_the_batch(warehouse, template):
    good = orjson.dumps({**template, "uniqueid": "91000"})
    nul = orjson.dumps({**template, "uniqueid": "91001"}).replace(b'"footnote":""', b'"footnote":"a\\u0000b"')
    surrogate = orjson.dumps({**template, "uniqueid": "91002"}).replace(
        b'"footnote":""', b'"footnote":"lone \\ud800 half"'
    )
    pair = orjson.dumps({**template, "uniqueid": "91003"}).replace(
        b'"footnote":""', b'"footnote":"escaped pair \\ud83c\\udfb8"'
    )
    assert b"\\u0000" in nul and b"\\ud800" in surrogate and b"\\ud83c" in pair
    result = load_raw(warehouse, "setlists", raw_envelope([good, nul, surrogate, pair]))
    assert result.new == 4
    # jsonb cannot hold U+0000 nor a lone surrogate: bronze keeps the record with U+FFFD in their place
    stored = dict(warehouse.execute("select external_id, data->>'footnote' from raw_data.setlists").fetchall())
    assert stored["91001"] == "a\ufffdb"
    assert stored["91002"].startswith("lone ") and stored["91002"].endswith(" half")
    # ...and raw_json keeps those two records byte for byte as served; the others need no copy
    verbatim = dict(warehouse.execute("select external_id, raw_json from raw_data.setlists").fetchall())
    assert verbatim == {"91000": None, "91001": nul, "91002": surrogate, "91003": None}
    assert stored["91003"] == "escaped pair \U0001f3b8"
    counts = run_step(warehouse, "silver", "setlists", run_id="hostile")
    assert counts["inserted"] == 4 and counts["rejected"] == 0
    footnotes = dict(warehouse.execute("select unique_id, footnote from silver.setlists").fetchall())
    assert footnotes[91001] == "a\ufffdb" and footnotes[91002] == stored["91002"]
    # the same hostile record served again is recognised as unchanged
    assert load_raw(warehouse, "setlists", raw_envelope([good, nul, surrogate, pair])).new == 0


def test_a_response_that_is_not_an_envelope_is_refused(warehouse):
    from elgoose.api_client import ElGooseError

    for body in (b"[1, 2, 3]", b'{"error": false, "data": [1, 2]}', b'{"error": false, "data": [{"a": '):
        with pytest.raises(ElGooseError):
            load_raw(warehouse, "songs", body)
    assert scalar(warehouse, "select count(*) from raw_data.songs") == 0
