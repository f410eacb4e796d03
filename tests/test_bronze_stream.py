"""Bronze's windowed reader and its raw-hash fast path (the benchmark's bronze redesign).

The body is cut into records a window at a time and a record served byte for byte as its current
version is not parsed again. Both must read exactly what a streaming JSON parser reads, whatever the
envelope's layout, and must never change what is loaded.
"""

from __future__ import annotations

import io

import ijson
import orjson
import pytest
from helpers import scalar

from elgoose.api_client import ElGooseError
from elgoose.bronze import load_download, reading
from elgoose.endpoints import ENDPOINTS


def records_of(body: bytes) -> list:
    """What bronze reads from ``body``, parsed."""
    return [reading.parse_record(raw, "test://x") for raw in reading.iter_raw_records(io.BytesIO(body), "test://x")]


def ijson_records(body: bytes) -> list:
    return list(ijson.items(io.BytesIO(body.removeprefix(b"\xef\xbb\xbf")), "data.item", use_float=True))


ROWS = [
    {"uniqueid": "1", "songname": 'Tricky "},{" quotes', "n": 1.5},
    {"uniqueid": "2", "show_tags": [{"tag": "a", "tag_slug": "a"}, {"tag": "b}", "tag_slug": "b"}], "x": None},
    {"uniqueid": "3", "footnote": 'back\\slash \\\\" }, {', "emoji": "\U0001f3b8", "t": True},
    {"uniqueid": "4", "nested": {"a": [{"b": {}}, [], "}]"]}, "big": 9007199254740993},
]


@pytest.mark.parametrize(
    "body",
    [
        orjson.dumps({"error": False, "error_message": "", "data": ROWS}),
        orjson.dumps({"data": ROWS, "error": False, "error_message": "tail } ] ,"}),
        b"\xef\xbb\xbf" + orjson.dumps({"error": 0, "data": ROWS}, option=orjson.OPT_INDENT_2),
        b'  {\n "error_message" : "a \\"data\\": [ here" ,\n "data" :\n [ '
        + b" ,\r\n ".join(orjson.dumps(r) for r in ROWS)
        + b" ] \n}\n",
        orjson.dumps({"error": False, "nested": {"data": [{"no": 1}]}, "data": ROWS}),
    ],
    ids=["compact", "data-first", "bom-indented", "spaced", "nested-data-key"],
)
@pytest.mark.parametrize("window", [7, 64, 4 << 20])
def test_every_layout_reads_as_a_streaming_parser_reads_it(body, window, monkeypatch):
    monkeypatch.setattr(reading, "_WINDOW", window)
    assert records_of(body) == ijson_records(body) == ROWS


def test_many_windows_of_real_shaped_records(fixture_data, monkeypatch):
    rows = fixture_data["setlists"] * 20 + fixture_data["shows"] * 5
    body = orjson.dumps({"error": False, "error_message": "", "data": rows})
    monkeypatch.setattr(reading, "_WINDOW", 4096)
    assert records_of(body) == ijson_records(body)


@pytest.mark.parametrize("data", [b"[]", b"[ ]", b"null", b"{}", b'"x"'])
def test_no_records(data):
    assert records_of(b'{"error": false, "data": ' + data + b"}") == []


def test_a_lone_high_surrogate_reads_as_ijson_reads_it(monkeypatch):
    body = b'{"data":[{"a":"x\\ud800y"},{"b":"\\ud83d\\ude00"},{"c":"\\\\ud800"}]}'
    for window in (5, 4 << 20):
        monkeypatch.setattr(reading, "_WINDOW", window)
        assert records_of(body) == ijson_records(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [{"a": 1}, {"a": 2}',
        b'{"data": [{"a": 1}, {"a": 2}]',
        b'{"data": [{"a": 1},, {"a": 2}]}',
        b'{"data": [{"a": 1}, {"a": 2},]}',
        b'{"data": [{"a": 1} {"a": 2}]}',
        b'{"data": [{"a": "x\x01y"}, {"a": 2}]}',
        b'{"data": [{"a": NaN}]}',
        b'{"data": [{"a": 1}]} trailing',
        b'{"error": false, "data": [{"a": 1}], "x": }',
    ],
)
@pytest.mark.parametrize("window", [6, 4 << 20])
def test_malformed_json_is_refused_as_before(body, window, monkeypatch):
    monkeypatch.setattr(reading, "_WINDOW", window)
    with pytest.raises(ijson.JSONError):
        ijson_records(body)
    with pytest.raises(ElGooseError, match="malformed JSON"):
        records_of(body)


def load(conn, method: str, rows: list[dict] | bytes, run_id: str = "r"):
    body = rows if isinstance(rows, bytes) else orjson.dumps({"error": False, "error_message": "", "data": rows})
    return load_download(conn, ENDPOINTS[method], io.BytesIO(body), f"test://{method}", run_id=run_id)


class Parses:
    def __init__(self, monkeypatch):
        self.count = 0
        original = reading.parse_record

        def counting(raw, url):
            self.count += 1
            return original(raw, url)

        monkeypatch.setattr(reading, "parse_record", counting)


def test_an_endpoints_first_load_reads_the_body_once_and_a_reload_twice(warehouse, fixture_data, monkeypatch):
    # first load: nothing to match, one pass parses and copies; later: a hash pass, then the unknown records
    passes = []
    original = reading.iter_raw_records

    def counting(body, url):
        passes.append(url)
        return original(body, url)

    monkeypatch.setattr(reading, "iter_raw_records", counting)
    rows = fixture_data["shows"]
    first = load(warehouse, "shows", rows, "r1")
    assert len(passes) == 1 and first.new == len({orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in rows})
    changed = [dict(rows[0], shownotes="a new note"), *rows[1:]]
    again = load(warehouse, "shows", changed, "r2")
    assert len(passes) == 3 and again.new == 1


def test_a_pull_of_unchanged_bytes_parses_nothing_and_writes_nothing(warehouse, fixture_data, monkeypatch):
    rows = fixture_data["setlists"]
    first = load(warehouse, "setlists", rows, "r1")
    parses = Parses(monkeypatch)
    again = load(warehouse, "setlists", rows, "r2")
    assert parses.count == 0
    assert (again.fetched, again.new, again.unchanged, again.duplicates_in_response) == (
        first.fetched,
        0,
        first.new,
        first.duplicates_in_response,
    )
    assert scalar(warehouse, "select count(*) from raw_data.setlists") == first.new


def test_new_bytes_of_a_known_content_are_parsed_once_then_known(warehouse, fixture_data, monkeypatch):
    rows = fixture_data["venues"]
    load(warehouse, "venues", rows, "r1")
    reordered = [dict(reversed(list(r.items()))) for r in rows]
    parses = Parses(monkeypatch)
    result = load(warehouse, "venues", reordered, "r2")
    assert (result.new, result.unchanged, parses.count) == (0, len(rows), len(rows))
    assert scalar(warehouse, "select count(*) from raw_data.venues") == len(rows)
    assert load(warehouse, "venues", reordered, "r3").new == 0 and parses.count == len(rows)


def test_duplicates_and_two_versions_of_one_key_in_one_response(warehouse, fixture_data):
    song = fixture_data["songs"][0]
    edited = {**song, "name": "Edited"}
    result = load(warehouse, "songs", [song, dict(reversed(list(song.items()))), edited, song])
    assert (result.fetched, result.new, result.unchanged, result.duplicates_in_response) == (4, 2, 0, 2)
    current = scalar(
        warehouse,
        "select b.data ->> 'name' from raw_data.current_versions cv join raw_data.songs b on b.id = cv.bronze_id "
        "where cv.method = 'songs' and cv.record_key = %s",
        str(song["id"]),
    )
    assert current == "Edited"  # the later of two versions served at once is the current one
    # served again, the first version is new once more (it is no longer current) and becomes current
    again = load(warehouse, "songs", [song, edited], "r2")
    assert (again.new, again.unchanged) == (1, 1)


def test_a_key_deleted_by_silver_loads_again_with_identical_bytes(warehouse, fixture_data):
    rows = fixture_data["songs"]
    load(warehouse, "songs", rows, "r1")
    warehouse.execute(
        "delete from raw_data.current_versions where method = 'songs' and record_key = %s", (str(rows[0]["id"]),)
    )
    result = load(warehouse, "songs", rows, "r2")
    assert (result.new, result.unchanged) == (1, len(rows) - 1)


def test_records_without_a_key_count_as_missing_key_on_every_pull(warehouse):
    rows = [{"meta_name": "tease", "value": str(i)} for i in range(5)]
    assert load(warehouse, "metadata", rows, "r1").missing_key == 5
    assert load(warehouse, "metadata", rows, "r2").missing_key == 5


def test_the_pull_key_set_is_the_sorted_keys_of_every_record(warehouse, fixture_data):
    import hashlib

    rows = fixture_data["setlists"]
    load(warehouse, "setlists", rows)
    keys = sorted(
        {str(r["uniqueid"]) for r in rows if r.get("uniqueid")}
        | {"hash:" + reading.content_hash(reading.canonical_json(r)) for r in rows if not r.get("uniqueid")}
    )
    expected = hashlib.md5("\n".join(keys).encode()).hexdigest()
    assert scalar(warehouse, "select keyset_hash from raw_data.pulls order by id desc limit 1") == expected
    stored = {r[0] for r in warehouse.execute("select external_id from raw_data.pull_keys where method = 'setlists'")}
    assert stored == set(keys)
