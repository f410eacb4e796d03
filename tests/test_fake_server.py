"""Tests of the fake ElGoose server (fake_elgoose): HTTP behaviour, faults, loaders, fixtures."""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from helpers import ROOT

from fake_elgoose import METHODS, FakeElGoose, load_fixtures, load_snapshot

SNAPSHOT = Path(__file__).resolve().parents[1].parent / "shared/elgoose/snapshot"
UA = "elgoose-airflow-tests/1.0 (fake server tests)"


def _cols(text: str) -> list[str]:
    return text.split()


KEYS41 = _cols(
    "uniqueid show_id showdate showtime showtitle artist song_id songname artist_id permalink settype setnumber "
    "position tracktime transition_id transition footnote footnotes isjamchart jamchart_notes venue_id shownotes "
    "showyear showorder opener tour_id tourname soundcheck isverified slug isoriginal original_artist venuename "
    "city state country timezone isreprise isjam css_class isrecommended"
)
KEYS38 = [k for k in KEYS41 if k not in ("showtime", "footnotes", "timezone")]
SHOW_KEYS = _cols(
    "show_id showdate showtime permalink artist_id artist showtitle venue_id venuename location city state "
    "country timezone tour_id tourname showorder show_year show_day show_dayname show_month show_monthname "
    "updated_at created_at show_tags"
)
JAMCHART_KEYS = _cols(
    "uniqueid setnumber position footnote tracktime jamchartnote song_id isrecommended showid songname song_slug "
    "showdate artist_id artist artist_slug venuename venue_slug city state country permalink"
)
TRANSITIONS = {1: ", ", 2: " > ", 3: " -> ", 4: "", 5: "", 6: ""}


# --------------------------------------------------------------------------- helpers


class Resp:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def rows(self) -> list[dict]:
        doc = self.json()
        assert doc["error"] is False and doc["error_message"] == ""
        return doc["data"]


def get(url: str, ua: str | None = UA, timeout: float = 5.0) -> Resp:
    req = urllib.request.Request(url, headers={"User-Agent": ua} if ua is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Resp(e.code, e.headers, e.read())


def raw_get(srv: FakeElGoose, path: str, headers: dict[str, str] | None = None) -> Resp:
    """http.client sends no User-Agent unless told to (urllib always adds one)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return Resp(r.status, r.headers, r.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fixtures() -> dict[str, list[dict]]:
    return load_fixtures()


@pytest.fixture
def srv(fixtures):
    data = {m: [dict(r) for r in rows] for m, rows in fixtures.items()}
    with FakeElGoose(data) as s:
        yield s


# --------------------------------------------------------------------------- listing / paths


def test_base_url_and_binding(srv):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v2", srv.base_url)
    assert srv.port > 0


@pytest.mark.parametrize("method", METHODS)
def test_each_method_lists(srv, fixtures, method):
    r = get(f"{srv.base_url}/{method}.json")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert list(doc) == ["error", "error_message", "data"]
    assert doc["data"] == fixtures[method]
    assert b": " not in r.body[:200]  # compact
    assert len(fixtures[method]) > 0


def test_filter_path(srv, fixtures):
    rows = get(f"{srv.base_url}/setlists/showdate/2023-06-17.json").rows
    assert {r["show_id"] for r in rows} == {1686000005, 1686000006}
    assert rows == [r for r in fixtures["setlists"] if r["showdate"] == "2023-06-17"]
    # column names are case-insensitive; ints compare by their string form
    same = get(f"{srv.base_url}/setlists/ShowDate/2023-06-17.json").rows
    assert same == rows
    by_year = get(f"{srv.base_url}/setlists/showyear/2022.json").rows
    assert by_year and all(r["showyear"] == 2022 for r in by_year)
    shows = get(f"{srv.base_url}/shows/show_id/1698000008.json").rows
    assert [s["showtitle"] for s in shows] == ["Halloween"]
    assert get(f"{srv.base_url}/setlists/showdate/1999-01-01.json").rows == []
    # url-encoded value
    rows = get(f"{srv.base_url}/setlists/songname/Happy%20Birthday.json").rows
    assert len(rows) == 2
    # filter on a known column of a method whose table happens to be empty
    srv.set_rows("links", [])
    assert get(f"{srv.base_url}/links/show_id/1.json").rows == []


def test_id_path(srv):
    assert [r["songname"] for r in get(f"{srv.base_url}/setlists/20001.json").rows] == ["Lantern Field"]
    assert [r["position"] for r in get(f"{srv.base_url}/jamcharts/20094.json").rows] == [2]
    assert [r["showdate"] for r in get(f"{srv.base_url}/shows/1722000010.json").rows] == ["2024-08-03"]
    assert [r["name"] for r in get(f"{srv.base_url}/songs/430.json").rows] == ["Kettle Drum"]
    assert [r["zip"] for r in get(f"{srv.base_url}/venues/102.json").rows] == [""]
    assert [r["link_id"] for r in get(f"{srv.base_url}/links/13.json").rows] == [13]
    assert [r["img_name"] for r in get(f"{srv.base_url}/uploads/201.json").rows] == ["2023-10-31.jpg"]
    assert get(f"{srv.base_url}/songs/99999.json").rows == []
    assert get(f"{srv.base_url}/appearances/1.json").rows == []  # no row id


def test_limit_and_4000_cap(srv):
    srv.set_rows("setlists", [{"uniqueid": str(i), "position": i} for i in range(1, 4501)])
    assert len(get(f"{srv.base_url}/setlists.json").rows) == 4000
    assert len(get(f"{srv.base_url}/setlists.json?limit=4200").rows) == 4200
    assert len(get(f"{srv.base_url}/setlists.json?limit=100000").rows) == 4500
    assert [r["uniqueid"] for r in get(f"{srv.base_url}/setlists.json?limit=3").rows] == ["1", "2", "3"]
    # offset is ignored
    assert get(f"{srv.base_url}/setlists.json?limit=3&offset=4000").rows[0]["uniqueid"] == "1"
    # filtered calls are capped too
    srv.set_rows("songs", [{"id": i, "isoriginal": 1} for i in range(4100)])
    assert len(get(f"{srv.base_url}/songs/isoriginal/1.json").rows) == 4000


def test_order_by_and_direction(srv, fixtures):
    rows = get(f"{srv.base_url}/shows.json?order_by=showdate&direction=desc").rows
    dates = [r["showdate"] for r in rows]
    assert dates == sorted(dates, reverse=True) and dates[0] == "2027-05-01"
    asc = get(f"{srv.base_url}/shows.json?order_by=ShowDate").rows
    assert [r["showdate"] for r in asc] == sorted(dates)
    top = get(f"{srv.base_url}/songs.json?order_by=id&direction=desc&limit=2").rows
    assert [s["id"] for s in top] == [440, 431]
    # latest sorted by position (docs example)
    latest = get(f"{srv.base_url}/latest.json?order_by=position&direction=asc").rows
    assert [r["position"] for r in latest] == list(range(1, len(latest) + 1))
    # sorting by a nonexistent column gives no data (as documented)
    assert get(f"{srv.base_url}/songs.json?order_by=nope").rows == []


def test_user_agent_policy(srv):
    assert raw_get(srv, "/api/v2/songs.json").status == 403  # no User-Agent at all
    r = get(f"{srv.base_url}/songs.json", ua=None)  # urllib default "Python-urllib/3.x"
    assert r.status == 403 and b"<html" in r.body.lower()
    for ua in (
        "python-requests/2.32.3",
        "curl/8.5.0",
        "Wget/1.21",
        "Go-http-client/1.1",
        "aiohttp/3.9",
        "HTTPX/0.27",
        "",
    ):
        assert raw_get(srv, "/api/v2/songs.json", {"User-Agent": ua}).status == 403, ua
    assert raw_get(srv, "/api/v2/songs.json", {"User-Agent": "Mozilla/5.0 my-app"}).status == 200
    assert get(f"{srv.base_url}/songs.json").status == 200


def test_html_for_unknown_method_and_column_and_204(srv):
    for path in ("/people.json", "/setlists/nocolumn/1.json", "/setlists/a/b/c.json"):
        r = get(srv.base_url + path)
        assert r.status == 200, path
        assert r.headers["Content-Type"].startswith("text/html")
        with pytest.raises(json.JSONDecodeError):
            r.json()
    assert get(srv.base_url).status == 204
    assert get(srv.base_url + "/").status == 204


def test_get_only(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("POST", "/api/v2/songs.json", body=b"{}", headers={"User-Agent": UA})
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 405


def test_requests_are_recorded(srv):
    get(f"{srv.base_url}/setlists/showyear/2023.json?limit=5")
    get(f"{srv.base_url}/songs.json", ua=None)
    method, path, headers = srv.requests[0]
    assert method == "setlists"
    assert path == "/api/v2/setlists/showyear/2023.json?limit=5"
    assert headers["User-Agent"] == UA
    assert srv.requests[1][0] == "songs"
    assert srv.requests[1][2]["User-Agent"].startswith("Python-urllib")


def test_data_mutation_between_requests(srv):
    url = f"{srv.base_url}/setlists/showdate/2024-08-03.json"
    before = get(url).rows
    srv.data["setlists"] = [r for r in srv.data["setlists"] if r["uniqueid"] != before[0]["uniqueid"]]
    for r in srv.data["setlists"]:
        if r["uniqueid"] == before[1]["uniqueid"]:
            r["tracktime"] = "9:99"
    after = get(url).rows
    assert len(after) == len(before) - 1
    assert after[0]["tracktime"] == "9:99"


def test_keep_alive_connection_reuse(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/api/v2/venues.json", headers={"User-Agent": UA})
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["data"]
    finally:
        conn.close()


# --------------------------------------------------------------------------- faults


def test_fault_status_consumed_after_times(srv):
    srv.inject("songs", "status", times=2, code=503)
    assert get(f"{srv.base_url}/songs.json").status == 503
    assert get(f"{srv.base_url}/venues.json").status == 200  # other method unaffected
    assert get(f"{srv.base_url}/songs.json").status == 503
    assert get(f"{srv.base_url}/songs.json").status == 200


def test_fault_rate_limit(srv):
    srv.inject("setlists", "rate_limit", retry_after=7)
    r = get(f"{srv.base_url}/setlists.json")
    assert r.status == 429 and r.headers["Retry-After"] == "7"
    srv.inject("setlists", "rate_limit")
    assert get(f"{srv.base_url}/setlists.json").headers["Retry-After"] == "1"
    assert get(f"{srv.base_url}/setlists.json").status == 200


def test_fault_slow(srv, fixtures):
    srv.inject("songs", "slow", seconds=0.4)
    t0 = time.monotonic()
    r = get(f"{srv.base_url}/songs.json")
    assert time.monotonic() - t0 >= 0.4
    assert r.rows == fixtures["songs"]
    t0 = time.monotonic()
    get(f"{srv.base_url}/songs.json")
    assert time.monotonic() - t0 < 0.4


def test_fault_stall_read_timeout_mid_body(srv, fixtures):
    srv.inject("setlists", "stall", seconds=1.0)
    req = urllib.request.Request(f"{srv.base_url}/setlists.json", headers={"User-Agent": UA})
    with urllib.request.urlopen(req, timeout=0.3) as r:  # headers arrive in time
        assert r.status == 200
        with pytest.raises(TimeoutError):
            r.read()
    # a patient client gets the whole body
    srv.inject("setlists", "stall", seconds=0.3)
    assert get(f"{srv.base_url}/setlists.json", timeout=3).rows == fixtures["setlists"]
    assert get(f"{srv.base_url}/setlists.json", timeout=0.3).status == 200


def test_fault_truncate(srv):
    srv.inject("setlists", "truncate")
    with pytest.raises(http.client.IncompleteRead) as exc:
        get(f"{srv.base_url}/setlists.json")
    assert exc.value.expected > 0 and len(exc.value.partial) > 0
    assert get(f"{srv.base_url}/setlists.json").status == 200


def test_fault_reset(srv):
    srv.inject("setlists", "reset")
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
        get(f"{srv.base_url}/setlists.json")
    assert get(f"{srv.base_url}/setlists.json").status == 200


def test_fault_html(srv):
    srv.inject("venues", "html")
    r = get(f"{srv.base_url}/venues.json")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    assert b"<html" in r.body.lower()
    assert get(f"{srv.base_url}/venues.json").rows


def test_fault_error_envelope(srv):
    srv.inject("shows", "error")
    assert get(f"{srv.base_url}/shows.json").json() == {
        "error": True,
        "error_message": "Invalid request",
        "data": [],
    }
    srv.inject("shows", "error", message="Database busy", error_int=True)
    doc = get(f"{srv.base_url}/shows.json").json()
    assert doc["error"] == 1 and doc["error"] is not True and doc["error_message"] == "Database busy"
    assert get(f"{srv.base_url}/shows.json").rows


def test_fault_exact_cap(srv):
    srv.inject("setlists", "exact_cap")
    rows = get(f"{srv.base_url}/setlists.json?limit=100000").rows
    assert len(rows) == 4000
    assert len({r["uniqueid"] for r in rows}) == 4000
    assert len({(r["show_id"], r["position"]) for r in rows}) == 4000
    assert len(get(f"{srv.base_url}/setlists.json?limit=100000").rows) == len(srv.data["setlists"])
    srv.inject("venues", "exact_cap")
    venues = get(f"{srv.base_url}/venues.json?limit=3").rows
    assert len(venues) == 4000 and len({v["venue_id"] for v in venues}) == 4000
    srv.set_rows("metadata", [])
    srv.inject("metadata", "exact_cap")
    assert len(get(f"{srv.base_url}/metadata.json").rows) == 4000


def test_fault_empty(srv):
    srv.inject("setlists", "empty", times=2)
    assert get(f"{srv.base_url}/setlists.json").rows == []
    assert get(f"{srv.base_url}/setlists/showyear/2023.json").rows == []
    assert get(f"{srv.base_url}/setlists.json").rows


def test_fault_wildcard_queue_and_clear(srv):
    srv.inject("*", "status", times=2, code=502)
    assert get(f"{srv.base_url}/songs.json").status == 502
    assert get(f"{srv.base_url}/venues.json").status == 502
    assert get(f"{srv.base_url}/venues.json").status == 200
    # faults queue in order, method-specific before "*"
    srv.inject("songs", "status", code=500)
    srv.inject("songs", "empty")
    srv.inject("*", "status", code=504)
    assert get(f"{srv.base_url}/songs.json").status == 500
    assert get(f"{srv.base_url}/songs.json").rows == []
    assert get(f"{srv.base_url}/songs.json").status == 504
    assert get(f"{srv.base_url}/songs.json").status == 200
    srv.inject("*", "status", times=5, code=500)
    srv.clear_faults()
    assert get(f"{srv.base_url}/songs.json").status == 200
    # 403s do not consume faults
    srv.inject("songs", "empty")
    assert get(f"{srv.base_url}/songs.json", ua=None).status == 403
    assert get(f"{srv.base_url}/songs.json").rows == []
    with pytest.raises(ValueError):
        srv.inject("songs", "explode")


# --------------------------------------------------------------------------- set_file


def test_set_file_streams_from_disk(srv, tmp_path):
    rows = [{"uniqueid": str(i), "songname": "x" * 40, "position": i} for i in range(60000)]
    path = tmp_path / "setlists.json"
    path.write_bytes(json.dumps({"error": False, "error_message": "", "data": rows}).encode())
    assert path.stat().st_size > 3 * 2**20  # several chunks
    srv.set_file("setlists", path)
    r = get(f"{srv.base_url}/setlists.json?limit=5")  # no cap / limit on file-backed methods
    assert r.status == 200 and r.body == path.read_bytes()
    assert int(r.headers["Content-Length"]) == path.stat().st_size
    # filter paths still use the in-memory rows
    assert len(get(f"{srv.base_url}/setlists/showdate/2024-08-03.json").rows) == 10
    # body faults apply to files too
    srv.inject("setlists", "truncate")
    with pytest.raises(http.client.IncompleteRead):
        get(f"{srv.base_url}/setlists.json")
    srv.set_rows("setlists", rows[:2])  # set_rows replaces the file
    assert len(get(f"{srv.base_url}/setlists.json").rows) == 2
    srv.set_file("songs", path)
    srv.set_file("songs", None)
    assert get(f"{srv.base_url}/songs.json").rows[0]["id"] == 400
    with pytest.raises(FileNotFoundError):
        srv.set_file("songs", tmp_path / "missing.json")


# --------------------------------------------------------------------------- lifecycle / CLI


def test_start_stop_without_context_manager(fixtures):
    s = FakeElGoose(fixtures)
    s.start()
    try:
        assert get(f"{s.base_url}/venues.json").status == 200
    finally:
        s.stop()
    s.stop()  # idempotent
    with pytest.raises(OSError):
        get(f"{s.base_url}/venues.json", timeout=1)


def test_cli_serves_and_exits_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_elgoose", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"serving ElGoose fixtures at (http://127\.0\.0\.1:\d+/api/v2)\n", line)
        assert m, line
        assert get(m.group(1) + "/songs.json").rows
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


# --------------------------------------------------------------------------- load_snapshot


@pytest.fixture(scope="module")
def snapshot():
    if not SNAPSHOT.is_dir():
        pytest.skip(f"ElGoose snapshot not present at {SNAPSHOT} (third-party data, not shipped)")
    return load_snapshot(SNAPSHOT)


def test_snapshot_methods(snapshot):
    assert set(snapshot) == set(METHODS)
    assert len(snapshot["setlists"]) > 8000
    assert len(snapshot["songs"]) > 500 and len(snapshot["venues"]) > 500
    for m in ("appearances", "links", "uploads", "albums", "metadata"):
        assert snapshot[m] == []
    ids = [r["uniqueid"] for r in snapshot["setlists"]]
    assert len(ids) == len(set(ids))


def test_snapshot_showdate_file_replaces_year_rows(snapshot):
    rows = [r for r in snapshot["setlists"] if r["showdate"] == "2022-06-24"]
    assert len(rows) == 15
    assert all(list(r) == KEYS41 for r in rows)
    assert [r["position"] for r in rows] == list(range(1, 16))
    # the rest are the older 38-key captures
    assert Counter(len(r) for r in snapshot["setlists"]) == Counter({38: len(snapshot["setlists"]) - 15, 41: 15})


def test_snapshot_derived_shows_jamcharts_latest(snapshot):
    shows = snapshot["shows"]
    show_ids = {s["show_id"] for s in shows}
    assert {r["show_id"] for r in snapshot["setlists"]} <= show_ids
    assert len(show_ids) == len(shows)
    assert all(list(s) == SHOW_KEYS for s in shows)
    future = [s for s in shows if s["showdate"] >= "2026-01-01"]
    assert len(future) >= 5  # the sample shows
    derived = next(s for s in shows if s["showdate"] == "2022-06-24")
    assert derived["show_year"] == 2022 and derived["show_month"] == 6 and derived["show_day"] == 24
    assert derived["show_dayname"] == "Friday" and derived["show_monthname"] == "June"
    assert derived["location"] == f"{derived['city']}, {derived['state']}, {derived['country']}"
    assert derived["updated_at"] is None and derived["show_tags"] == []

    jc = snapshot["jamcharts"]
    flagged = {r["uniqueid"]: r for r in snapshot["setlists"] if r["isjamchart"] == 1}
    assert len(jc) == len(flagged) > 0
    for j in jc:
        assert list(j) == JAMCHART_KEYS
        src = flagged[j["uniqueid"]]
        assert j["showid"] == src["show_id"] and j["jamchartnote"] == src["jamchart_notes"]
        assert j["song_slug"] == src["slug"] and j["artist_slug"] and j["venue_slug"]

    latest = snapshot["latest"]
    goose = [r for r in snapshot["setlists"] if r["artist_id"] == 1]
    newest = max((r["showdate"], r["showorder"], r["show_id"]) for r in goose)
    assert latest and {r["show_id"] for r in latest} == {newest[2]}
    assert len(latest) == sum(r["show_id"] == newest[2] for r in goose)


def test_snapshot_served(snapshot):
    with FakeElGoose(snapshot) as s:
        assert len(get(f"{s.base_url}/setlists.json").rows) == 4000
        assert len(get(f"{s.base_url}/setlists/showdate/2022-06-24.json").rows) == 15
        assert len(get(f"{s.base_url}/setlists.json?limit=100000").rows) == len(snapshot["setlists"])


def test_load_snapshot_handles_bom_and_missing_folder(tmp_path):
    env = {"error": False, "error_message": "", "data": []}
    row = {"uniqueid": "1", "show_id": 5, "showdate": "2024-03-01", "artist_id": 1, "artist": "Goose"}
    row |= {"showorder": 1, "isjamchart": 0, "position": 1, "city": "Town", "state": "", "country": "UK"}
    (tmp_path / "setlists_showyear_2024.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps({**env, "data": [row]}).encode()
    )
    (tmp_path / "songs.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(env).encode())
    data = load_snapshot(tmp_path)
    assert data["setlists"] == [row] and data["latest"] == [row]
    assert data["shows"][0]["location"] == "Town, UK" and data["shows"][0]["show_dayname"] == "Friday"
    with pytest.raises(FileNotFoundError):
        load_snapshot(tmp_path / "nope")


# --------------------------------------------------------------------------- fixture sanity


def _show_order(fixtures):
    """Goose shows with setlist rows, in the total order (showdate, showorder, show_id)."""
    first = {}
    for r in fixtures["setlists"]:
        if r["artist_id"] == 1:
            first.setdefault(r["show_id"], r)
    return [r["show_id"] for r in sorted(first.values(), key=lambda r: (r["showdate"], r["showorder"], r["show_id"]))]


def test_fixtures_shapes(fixtures):
    assert set(fixtures) == set(METHODS)
    setlists = fixtures["setlists"]
    assert 90 <= len(setlists) <= 150
    assert len({r["uniqueid"] for r in setlists}) == len(setlists)
    assert len({(r["show_id"], r["position"]) for r in setlists}) == len(setlists)
    assert all(isinstance(r["uniqueid"], str) and r["uniqueid"].isdigit() for r in setlists)
    shapes = Counter("41" if list(r) == KEYS41 else "38" if list(r) == KEYS38 else "other" for r in setlists)
    assert shapes["41"] > shapes["38"] > 0
    extra = [r for r in setlists if set(r) - set(KEYS41)]
    assert len(extra) == 1 and extra[0]["lyricist"] == "x" and set(extra[0]) - {"lyricist"} == set(KEYS41)
    assert all(list(s) == SHOW_KEYS for s in fixtures["shows"])
    assert all(list(j) == JAMCHART_KEYS for j in fixtures["jamcharts"])
    assert all(
        list(s) == ["id", "name", "slug", "isoriginal", "original_artist", "created_at", "updated_at"]
        for s in fixtures["songs"]
    )
    assert all(
        list(v) == ["venue_id", "venuename", "city", "state", "country", "zip", "capacity", "slug"]
        for v in fixtures["venues"]
    )
    app_keys = [
        "show_id",
        "showdate",
        "artist_id",
        "artist_name",
        "person_id",
        "personname",
        "slug",
        "appearance_type",
        "notes",
    ]
    assert all(list(a) == app_keys for a in fixtures["appearances"])
    assert all(list(x) == ["link_id", "show_id", "description", "url", "updated_at"] for x in fixtures["links"])
    up_keys = ["id", "show_id", "showdate", "URL", "img_name", "upload_type", "attribution", "created_at"]
    assert all(list(u) == up_keys and isinstance(u["show_id"], str) for u in fixtures["uploads"])
    assert all(u["upload_type"] == "poster-art" for u in fixtures["uploads"])
    assert all({"meta_name", "metadata_slug", "value", "show_id", "song_id"} <= set(m) for m in fixtures["metadata"])
    album_keys = [
        "album_title",
        "album_displayname",
        "artist",
        "artist_id",
        "album_url",
        "releasedate",
        "album_notes",
        "song_name",
        "song_url",
        "original_artist",
        "position",
        "islive",
        "tracktime",
        "disc_number",
        "track_updated_at",
        "album_updated_at",
    ]
    assert all(list(a) == album_keys for a in fixtures["albums"])


def test_fixtures_albums_edge_cases(fixtures):
    """The albums fixtures carry every case the albums issue names, consistent with songs.json and setlists.json."""
    tracks = fixtures["albums"]
    by_album = defaultdict(list)
    for t in tracks:
        by_album[t["album_url"]].append(t)
    assert len({(t["album_url"], t["disc_number"], t["position"]) for t in tracks}) == len(tracks)
    assert sum(len({t["disc_number"] for t in ts}) == 2 for ts in by_album.values()) >= 2  # two-disc albums
    assert any(all(t["islive"] == 1 for t in ts) for ts in by_album.values())  # a live album
    assert any(t["original_artist"] for t in tracks) and any(t["original_artist"] == "" for t in tracks)
    slugs = {s["slug"] for s in fixtures["songs"]}
    assert any(t["song_url"].removeprefix("/song/") not in slugs for t in tracks)  # a song not in the catalogue
    assert any("&amp;" in t["album_title"] for t in tracks)  # an entity-encoded title
    assert any(t["album_displayname"] for t in tracks) and any(t["album_displayname"] == "" for t in tracks)
    assert any(t["album_notes"] is None for t in tracks) and any("<p>" in (t["album_notes"] or "") for t in tracks)
    dirty = {t["releasedate"] for t in tracks} - {t["releasedate"] for t in tracks if _is_date(t["releasedate"])}
    assert dirty  # release dates that are not dates ("Fall 2023", "2020-02-30")
    assert {t["artist_id"] for t in tracks} == {1, 2}  # a side project's album too
    # one studio album was played in full at some Goose show and another never was
    shows = defaultdict(set)
    for r in fixtures["setlists"]:
        if r["artist_id"] == 1:
            shows[r["show_id"]].add(r["slug"])
    studio = [
        {t["song_url"].removeprefix("/song/") for t in ts}
        for ts in by_album.values()
        if ts[0]["artist_id"] == 1 and not ts[0]["islive"]
    ]
    in_full = [any(songs <= played for played in shows.values()) for songs in studio]
    assert any(in_full) and not all(in_full)


def _is_date(text):
    try:
        return bool(datetime.date.fromisoformat(text))
    except ValueError:
        return False


def test_fixtures_shows_edge_cases(fixtures):
    shows = {s["show_id"]: s for s in fixtures["shows"]}
    setlist_shows = {r["show_id"] for r in fixtures["setlists"]}
    goose = [s for s in fixtures["shows"] if s["artist_id"] == 1 and s["show_id"] in setlist_shows]
    assert len(goose) == 10
    assert len({s["venue_id"] for s in goose}) >= 5 and {s["tour_id"] for s in goose} >= {1, 30, 31}
    assert {s["showdate"][:4] for s in goose} == {"2022", "2023", "2024"}
    same_day = [s for s in goose if s["showdate"] == "2023-06-17"]
    assert len(same_day) == 2 and {s["showorder"] for s in same_day} == {1}
    side = [s for s in fixtures["shows"] if s["artist_id"] != 1]
    assert [(s["artist_id"], s["artist"]) for s in side] == [(2, "Vasudo")]
    assert any(r["artist_id"] == 2 for r in fixtures["setlists"])
    future = [s for s in fixtures["shows"] if s["showdate"] >= "2027"]
    assert len(future) == 1 and future[0]["show_id"] not in setlist_shows
    tagged = [s for s in fixtures["shows"] if s["show_tags"]]
    assert len(tagged) == 1 and tagged[0]["show_tags"] == [{"tag": "Halloween", "tag_slug": "halloween"}]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", s["updated_at"]) for s in shows.values())
    orphans = [r for r in fixtures["setlists"] if r["show_id"] not in shows]
    assert len(orphans) == 1 and orphans[0]["artist_id"] == 1
    assert any("&amp;" in s["tourname"] for s in shows.values())


def test_fixtures_setlist_structure(fixtures):
    by_show = defaultdict(list)
    for r in fixtures["setlists"]:
        by_show[r["show_id"]].append(r)
    setnumbers = Counter(r["setnumber"] for r in fixtures["setlists"])
    assert {"1", "2", "3", "e", "e2"} <= set(setnumbers)
    for rows in by_show.values():
        assert [r["position"] for r in rows] == list(range(1, len(rows) + 1))
        for i, r in enumerate(rows):
            assert r["transition"] == TRANSITIONS[r["transition_id"]]
            last_of_set = i == len(rows) - 1 or rows[i + 1]["setnumber"] != r["setnumber"]
            if r["transition_id"] >= 4:
                assert last_of_set
    assert {r["transition_id"] for r in fixtures["setlists"]} == set(TRANSITIONS)
    double = [rows for rows in by_show.values() if {"e", "e2"} <= {r["setnumber"] for r in rows}]
    assert len(double) == 1
    times = [r["tracktime"] for r in fixtures["setlists"]]
    assert None in times and "" in times
    assert any(t and re.fullmatch(r"\d:\d\d", t) for t in times)
    assert any(t and re.fullmatch(r"\d\d:\d\d", t) for t in times)
    assert {r["settype"] for r in fixtures["setlists"]} == {"Set", "One Set"}


def test_fixtures_text_and_songs(fixtures):
    setlists, songs = fixtures["setlists"], fixtures["songs"]
    song_ids = {s["id"] for s in songs}
    assert min(song_ids) >= 400 and 1 not in song_ids
    assert any(r["songname"] == "He&#039;s Gone" and r["isoriginal"] == 0 for r in setlists)
    assert any(r["venuename"] == "Ted&#039;s Bar &amp; Grill" for r in setlists)
    assert any("&amp;" in r["footnote"] for r in setlists)
    assert any("&amp;" in r["tourname"] for r in setlists)
    goose = [r for r in setlists if r["artist_id"] == 1]
    custom = Counter(r["songname"] for r in goose if r["song_id"] == 1)
    assert custom["Happy Birthday"] == 2 and custom["Foxy Lady"] == 1
    assert all(r["slug"] == "_custom_" for r in setlists if r["song_id"] == 1)
    lag = {r["song_id"] for r in setlists} - song_ids - {1}
    assert len(lag) == 1
    assert any(s["created_at"] == "1000-01-01 00:00:00" for s in songs)
    assert any(s["updated_at"] == "1000-01-01 00:00:00" for s in songs)
    assert all(s["original_artist"] == "Goose" for s in songs if s["isoriginal"] == 1)
    assert all(s["original_artist"] not in ("", "Goose") for s in songs if s["isoriginal"] == 0)
    assert all(r["original_artist"] == "" for r in setlists if r["isoriginal"] == 1)
    venues = fixtures["venues"]
    assert any(v["zip"] == "" and v["capacity"] == 0 for v in venues)
    assert {"UK", "United Kingdom"} <= {v["country"] for v in venues}
    assert {r["venue_id"] for r in setlists} <= {v["venue_id"] for v in venues}


def test_fixtures_play_history(fixtures):
    order = _show_order(fixtures)
    goose = [r for r in fixtures["setlists"] if r["artist_id"] == 1]
    played = defaultdict(list)
    for r in goose:
        played[r["song_id"]].append(order.index(r["show_id"]))
    # reprise: a song twice in one show, the second flagged isreprise
    reprises = [r for r in goose if r["isreprise"] == 1]
    assert len(reprises) == 1
    twice = [r for r in goose if r["show_id"] == reprises[0]["show_id"] and r["song_id"] == reprises[0]["song_id"]]
    assert len(twice) == 2 and twice[0]["isreprise"] == 0 and twice[1] is reprises[0]
    # long gap: first show and last show only
    assert [sid for sid, idx in played.items() if idx == [0, len(order) - 1]] == [431]
    # debut at the last show
    assert 430 in {sid for sid, idx in played.items() if idx == [len(order) - 1]}
    # consecutive shows
    assert played[400][:3] == [0, 1, 2]
    # latest = rows of the most recent Goose show
    latest = fixtures["latest"]
    assert {r["show_id"] for r in latest} == {order[-1]}
    assert [r["uniqueid"] for r in latest] == [r["uniqueid"] for r in goose if r["show_id"] == order[-1]]
    assert all(set(r) < set(KEYS41) and "tracktime" not in r for r in latest)


def test_fixtures_jamcharts_and_appearances(fixtures):
    flagged = {r["uniqueid"]: r for r in fixtures["setlists"] if r["isjamchart"] == 1}
    assert 3 <= len(flagged) <= 8 and all(r["jamchart_notes"] for r in flagged.values())
    assert not any(r["jamchart_notes"] for r in fixtures["setlists"] if r["isjamchart"] == 0)
    jc = fixtures["jamcharts"]
    assert [j["uniqueid"] for j in jc] == list(flagged)
    for j in jc:
        src = flagged[j["uniqueid"]]
        assert j["showid"] == src["show_id"] and j["jamchartnote"] == src["jamchart_notes"]
        assert j["song_slug"] == src["slug"] and (j["setnumber"], j["position"]) == (src["setnumber"], src["position"])
    apps = fixtures["appearances"]
    shows_per_person = defaultdict(set)
    types = defaultdict(set)
    for a in apps:
        shows_per_person[a["person_id"]].add(a["show_id"])
        types[(a["show_id"], a["person_id"])].add(a["appearance_type"])
    assert any(len(s) >= 2 for s in shows_per_person.values())
    assert any(len(t) >= 2 for t in types.values())
    assert len({(a["show_id"], a["person_id"], a["appearance_type"]) for a in apps}) == len(apps)


def test_fixture_files_are_plain_pretty_lists():
    folder = ROOT / "fake_elgoose" / "fixtures"
    for method in METHODS:
        text = (folder / f"{method}.json").read_text(encoding="utf-8")
        assert text.startswith("[\n"), method
        assert isinstance(json.loads(text), list)
    assert (folder / "README.md").is_file()
    assert os.path.getsize(folder / "setlists.json") < 200_000
