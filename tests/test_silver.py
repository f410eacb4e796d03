"""Silver: typed, normalized tables from bronze, incremental and idempotent, true to upstream edits.

Every expectation is derived here from the fixture JSON in plain Python.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
from collections import Counter

import orjson
import psycopg
import psycopg.rows
import pytest
from gold_reference import album_tracks, albums
from helpers import load_bronze, table_checksums

from elgoose.layers import run_layer
from elgoose.quality import run_quality_checks
from elgoose.registry import SILVER_TABLES
from elgoose.steps import run_step


def build(conn, data, run_id="r1"):
    load_bronze(conn, data, run_id=run_id)
    return run_layer(conn, "silver", run_id=run_id)


def text_or_none(value):
    if value is None:
        return None
    value = html.unescape(str(value)).strip()
    return value or None


def expected_track_seconds(value):
    if not value or ":" not in value:
        return None
    parts = [int(p) for p in value.strip().split(":")]
    return parts[0] * 60 + parts[1] if len(parts) == 2 else parts[0] * 3600 + parts[1] * 60 + parts[2]


def expected_set_label(set_number):
    if set_number == "e":
        return "Encore"
    if set_number.startswith("e"):
        return f"Encore {set_number[1:]}"
    return f"Set {set_number}"


def newest_by_key(rows, key):
    out = {}
    for row in rows:
        out[str(row[key])] = row
    return out


def test_every_setlist_row_is_typed_as_upstream_means_it(warehouse, fixture_data):
    build(warehouse, fixture_data)
    cols = (
        "unique_id, show_id, show_date::text, position, song_id, song_name, is_custom_song, set_number, set_label, "
        "is_encore, transition, is_segue, track_seconds, footnote, is_jamchart, is_reprise, opener, soundcheck, "
        "venue_id, artist_id"
    )
    silver = {r[0]: r for r in warehouse.execute(f"select {cols} from silver.setlists")}
    expected_rows = newest_by_key(fixture_data["setlists"], "uniqueid")
    assert len(silver) == len(expected_rows)
    for key, row in expected_rows.items():
        custom = row["song_id"] == 1 or row.get("slug") == "_custom_"
        expected = (
            int(key),
            row["show_id"],
            row["showdate"],
            row["position"],
            None if custom else row["song_id"],
            text_or_none(row["songname"]),
            custom,
            row["setnumber"],
            expected_set_label(row["setnumber"]),
            row["setnumber"].startswith("e"),
            row["transition"],
            row["transition_id"] in (2, 3),
            expected_track_seconds(row.get("tracktime")),
            text_or_none(row.get("footnote")),
            bool(row["isjamchart"]),
            bool(row["isreprise"]),
            text_or_none(row.get("opener")),
            text_or_none(row.get("soundcheck")),
            row["venue_id"],
            row["artist_id"],
        )
        assert silver[int(key)] == expected, f"uniqueid {key}"


def test_fixture_edge_cases_are_present_and_mapped(warehouse, fixture_data):
    build(warehouse, fixture_data)
    rows = fixture_data["setlists"]
    # the fixtures really carry the cases the issue names
    assert {"e", "e2"} <= {r["setnumber"] for r in rows}
    assert {" > ", " -> "} <= {r["transition"] for r in rows}
    assert any(r.get("tracktime") == "" for r in rows) and any(r.get("tracktime") is None for r in rows)
    assert {len(r) for r in rows} >= {38, 41}
    assert any("&#039;" in r["songname"] for r in rows)

    labels = {r[0] for r in warehouse.execute("select set_label from silver.setlists where is_encore")}
    assert labels == {"Encore", "Encore 2"}
    names = {r[0] for r in warehouse.execute("select song_name from silver.setlists")}
    assert "He's Gone" in names and not any("&#" in n or "&amp;" in n for n in names)
    venue_names = {r[0] for r in warehouse.execute("select venue_name from silver.venues")}
    assert not any("&amp;" in v or "&#" in v for v in venue_names)
    # free-text songs keep their own names and are never joined to a catalogue song
    custom = Counter(html.unescape(r["songname"]) for r in rows if r["song_id"] == 1 and r["artist_id"] is not None)
    got = Counter(
        dict(warehouse.execute("select song_name, count(*) from silver.setlists where is_custom_song group by 1"))
    )
    assert got == custom and len(custom) >= 2
    assert warehouse.execute("select count(*) from silver.songs where song_id = 1").fetchone()[0] == 0


def test_types_sentinels_and_blanks(warehouse, fixture_data):
    build(warehouse, fixture_data)
    types = dict(
        warehouse.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'silver' "
            "and table_name = 'setlists'"
        ).fetchall()
    )
    assert types["show_date"] == "date" and types["is_encore"] == "boolean" and types["unique_id"] == "bigint"
    assert types["opener"] == "text" and types["soundcheck"] == "text"
    songs = newest_by_key(fixture_data["songs"], "id")
    sentinel = [k for k, s in songs.items() if s["created_at"].startswith("1000-01-01")]
    assert sentinel, "fixtures should carry the 1000-01-01 sentinel"
    nulls = warehouse.execute(
        "select count(*) from silver.songs where created_at is null and song_id = any(%s)",
        ([int(k) for k in sentinel],),
    ).fetchone()[0]
    assert nulls == len(sentinel)
    zero_capacity = [v for v in fixture_data["venues"] if v["capacity"] == 0]
    assert warehouse.execute("select count(*) from silver.venues where capacity is null").fetchone()[0] == len(
        zero_capacity
    )
    uploads = {r[0]: r[1] for r in warehouse.execute("select upload_id, show_id from silver.uploads")}
    assert uploads == {u["id"]: int(u["show_id"]) for u in fixture_data["uploads"]}


def test_chatbot_query_counts_live_performances(warehouse, fixture_data):
    build(warehouse, fixture_data)
    got = warehouse.execute(
        "SELECT song_name, COUNT(*) AS play_count FROM silver.setlists GROUP BY song_name "
        "ORDER BY play_count DESC LIMIT 10;"
    ).fetchall()
    counts = Counter(
        html.unescape(r["songname"]).strip() for r in newest_by_key(fixture_data["setlists"], "uniqueid").values()
    )
    assert {name: n for name, n in got} == {name: counts[name] for name, _ in got}
    assert [n for _, n in got] == sorted(counts.values(), reverse=True)[:10]


def test_people_come_from_appearances(warehouse, fixture_data):
    build(warehouse, fixture_data)
    expected = Counter(a["person_id"] for a in fixture_data["appearances"])
    got = dict(warehouse.execute("select person_id, appearance_count from silver.people"))
    assert got == dict(expected)


def test_rerun_changes_nothing_and_writes_no_rows(warehouse, fixture_data):
    build(warehouse, fixture_data, "r1")
    before = table_checksums(warehouse, ("silver",))
    xmins = warehouse.execute("select count(*), sum(xmin::text::bigint) from silver.setlists").fetchone()
    counts = run_layer(warehouse, "silver", run_id="r2")
    assert table_checksums(warehouse, ("silver",)) == before
    assert warehouse.execute("select count(*), sum(xmin::text::bigint) from silver.setlists").fetchone() == xmins
    assert all(c.get("inserted", 0) == 0 and c.get("updated", 0) == 0 for c in counts.values())
    # and a second identical bronze pull followed by silver is also a no-op
    load_bronze(warehouse, fixture_data, run_id="r3")
    run_layer(warehouse, "silver", run_id="r3")
    assert table_checksums(warehouse, ("silver",)) == before


def test_the_watermark_is_the_newest_bronze_row_and_a_missing_one_is_found_again(warehouse, fixture_data):
    build(warehouse, fixture_data, "r1")
    newest = {
        m: warehouse.execute(f"select coalesce(max(id), 0) from raw_data.{m}").fetchone()[0]
        for m in {"venues", "shows", "songs", "setlists", "albums"}
    }
    stored = dict(warehouse.execute("select method, processed_through from raw_data.silver_watermarks").fetchall())
    assert {m: stored[m] for m in newest} == newest
    # a warehouse migrated from before V009 has no watermark: the step finds it by scanning, as before
    warehouse.execute("delete from raw_data.silver_watermarks")
    edited = copy.deepcopy(fixture_data)
    edited["venues"][0]["city"] = "Somewhere Else"
    load_bronze(warehouse, {"venues": edited["venues"]}, run_id="r2")
    counts = run_layer(warehouse, "silver", run_id="r2")
    assert counts["venues"]["processed"] == 1 and counts["venues"]["updated"] == 1
    assert all(counts[t]["processed"] == 0 for t in ("shows", "songs", "setlists"))
    assert warehouse.execute(
        "select city from silver.venues where venue_id = %s", (int(edited["venues"][0]["venue_id"]),)
    ).fetchone() == ("Somewhere Else",)


def test_correction_replaces_values_and_marks_bronze_processed(warehouse, fixture_data):
    build(warehouse, fixture_data)
    edited = copy.deepcopy(fixture_data)
    row = edited["setlists"][10]
    row["songname"] = "Corrected Name &amp; Co"
    row["tracktime"] = "12:34"
    load_bronze(warehouse, edited, run_id="r2")
    counts = run_step(warehouse, "silver", "setlists", run_id="r2")
    assert counts["updated"] == 1 and counts["inserted"] == 0 and counts["processed"] == 1
    assert warehouse.execute(
        "select song_name, track_seconds from silver.setlists where unique_id = %s", (int(row["uniqueid"]),)
    ).fetchone() == ("Corrected Name & Co", 754)
    assert warehouse.execute("select count(*) from raw_data.setlists where not is_processed").fetchone()[0] == 0


def test_upstream_deletion_removes_the_row_and_records_it(warehouse, fixture_data):
    build(warehouse, fixture_data)
    edited = copy.deepcopy(fixture_data)
    gone = edited["setlists"].pop(3)
    load_bronze(warehouse, edited, run_id="r2")
    counts = run_step(warehouse, "silver", "setlists", run_id="r2")
    assert counts["deleted"] == 1
    assert not warehouse.execute(
        "select 1 from silver.setlists where unique_id = %s", (int(gone["uniqueid"]),)
    ).fetchone()
    assert warehouse.execute(
        "select table_name, run_id from silver.deletions where record_key = %s", (str(gone["uniqueid"]),)
    ).fetchone() == ("setlists", "r2")
    # a key deleted and later re-inserted with identical content loads again
    load_bronze(warehouse, fixture_data, run_id="r3")
    assert run_step(warehouse, "silver", "setlists", run_id="r3")["inserted"] == 1
    assert warehouse.execute("select 1 from silver.setlists where unique_id = %s", (int(gone["uniqueid"]),)).fetchone()


def test_mass_deletion_is_refused_and_changes_nothing(warehouse, fixture_data):
    build(warehouse, fixture_data)
    before = table_checksums(warehouse, ("silver",))
    edited = copy.deepcopy(fixture_data)
    edited["setlists"] = edited["setlists"][:10]
    load_bronze(warehouse, edited, run_id="r2")
    with pytest.raises(psycopg.errors.RaiseException, match="refusing to delete"):
        run_step(warehouse, "silver", "setlists", run_id="r2")
    assert table_checksums(warehouse, ("silver",)) == before
    status = warehouse.execute(
        "select status, error_message from processing_status where layer = 'silver' and run_id = 'r2'"
    ).fetchone()
    assert status[0] == "failed" and "refusing to delete" in status[1]


def test_orphan_setlist_rows_are_kept_and_reported(warehouse, fixture_data):
    counts = build(warehouse, fixture_data)
    show_ids = {s["show_id"] for s in fixture_data["shows"]}
    orphans = {r["uniqueid"] for r in fixture_data["setlists"] if r["show_id"] not in show_ids}
    assert orphans, "fixtures should have a setlist row before its show"
    assert counts["setlists"]["orphans"] == len(orphans)
    kept = warehouse.execute(
        "select count(*) from silver.setlists where unique_id = any(%s)", ([int(u) for u in orphans],)
    )
    assert kept.fetchone()[0] == len(orphans)


def test_bad_records_are_quarantined_and_the_batch_loads(warehouse, fixture_data):
    bad = copy.deepcopy(fixture_data)
    template = bad["setlists"][0]
    bad["setlists"] += [
        {**template, "uniqueid": "99001", "showdate": "2023-02-30"},
        {**template, "uniqueid": "99002", "position": "first"},
        {k: v for k, v in template.items() if k != "uniqueid"},
        {**template, "uniqueid": "99003", "songname": "'); DROP TABLE silver.songs; --"},
    ]
    counts = build(warehouse, bad)
    reasons = dict(warehouse.execute("select external_id, reason from silver.rejects where source_table = 'setlists'"))
    assert reasons["99001"].startswith("showdate") and reasons["99002"].startswith("position")
    assert any(k is None and v.startswith("uniqueid") for k, v in reasons.items())
    assert counts["setlists"]["rejected"] == 3
    assert (
        warehouse.execute("select song_name from silver.setlists where unique_id = 99003")
        .fetchone()[0]
        .startswith("');")
    )
    assert warehouse.execute("select count(*) from silver.songs").fetchone()[0] > 0
    assert warehouse.execute("select count(*) from raw_data.setlists where not is_processed").fetchone()[0] == 0
    # quarantined once, not again on a re-run
    run_layer(warehouse, "silver", run_id="r2")
    assert warehouse.execute("select count(*) from silver.rejects").fetchone()[0] == 3


def test_duplicate_uniqueid_in_one_pull_keeps_one_row(warehouse, fixture_data):
    dup = copy.deepcopy(fixture_data)
    first = dup["setlists"][0]
    dup["setlists"].append({**first, "footnote": "second copy"})
    build(warehouse, dup)
    rows = warehouse.execute("select footnote from silver.setlists where unique_id = %s", (int(first["uniqueid"]),))
    assert rows.fetchall() == [("second copy",)]


def test_unknown_extra_key_does_not_break_the_load(warehouse, fixture_data):
    extra = [r for r in fixture_data["setlists"] if len(r) > 41]
    assert extra, "fixtures should carry a row with an unknown key"
    build(warehouse, fixture_data)
    assert warehouse.execute(
        "select 1 from silver.setlists where unique_id = %s", (int(extra[0]["uniqueid"]),)
    ).fetchone()


def test_force_reprocess_rebuilds_from_bronze(warehouse, fixture_data):
    build(warehouse, fixture_data)
    warehouse.execute(
        "update silver.setlists set song_name = 'damaged', row_hash = 'x' where unique_id in "
        "(select unique_id from silver.setlists order by unique_id limit 3)"
    )
    counts = run_step(warehouse, "silver", "setlists", run_id="fix", force_reprocess=True)
    assert counts["updated"] == 3 and counts["processed"] == len(newest_by_key(fixture_data["setlists"], "uniqueid"))
    assert warehouse.execute("select count(*) from silver.setlists where song_name = 'damaged'").fetchone()[0] == 0


def test_every_step_is_recorded_in_processing_status(warehouse, fixture_data):
    build(warehouse, fixture_data)
    rows = warehouse.execute(
        "select table_name, status, records_processed from processing_status where layer = 'silver'"
    ).fetchall()
    assert {t for t, s, _ in rows if s == "completed"} == set(SILVER_TABLES)


def test_snapshot_silver_matches_the_json(warehouse, snapshot_dir):
    from fake_elgoose import load_snapshot

    data = load_snapshot(snapshot_dir)
    build(warehouse, data)
    live = newest_by_key(data["setlists"], "uniqueid")
    assert warehouse.execute("select count(*) from silver.setlists").fetchone()[0] == len(live)
    assert warehouse.execute("select count(*) from silver.songs").fetchone()[0] == len({s["id"] for s in data["songs"]})
    assert warehouse.execute("select count(*) from silver.venues").fetchone()[0] == len(
        {v["venue_id"] for v in data["venues"]}
    )
    show = warehouse.execute(
        "select set_number, count(*) from silver.setlists where show_date = '2022-06-24' and artist_id = 1 group by 1"
    ).fetchall()
    assert dict(show) == {"1": 6, "2": 5, "3": 3, "e": 1}
    raw = orjson.loads((snapshot_dir / "setlists_showdate_2022-06-24.json").read_bytes().decode("utf-8-sig"))["data"]
    assert sum(n for _, n in show) == len(raw) == 15
    got = warehouse.execute(
        "SELECT song_name, COUNT(*) AS play_count FROM silver.setlists GROUP BY song_name "
        "ORDER BY play_count DESC LIMIT 10;"
    ).fetchall()
    counts = Counter(html.unescape(r["songname"]).strip() for r in live.values())
    top = counts.most_common(10)
    assert [n for _, n in got] == [n for _, n in top]
    assert all(counts[name] == n for name, n in got)


# --- albums: one API row per track -> silver.album_tracks, and silver.albums derived from it -------------

ALBUM_TRACK_COLUMNS = (
    "album_slug",
    "disc_number",
    "position",
    "album_title",
    "album_display_name",
    "artist_id",
    "artist",
    "release_date",
    "release_date_text",
    "album_notes",
    "is_live",
    "album_updated_at",
    "song_name",
    "song_slug",
    "song_id",
    "original_artist",
    "track_seconds",
    "updated_at",
)
ALBUM_COLUMNS = (
    "album_slug",
    "title",
    "album_title",
    "album_display_name",
    "artist_id",
    "artist",
    "release_date",
    "release_date_text",
    "notes",
    "is_live",
    "track_count",
    "disc_count",
    "updated_at",
)


def silver_album_tracks(conn) -> dict[tuple, dict]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f"select {', '.join(ALBUM_TRACK_COLUMNS)} from silver.album_tracks")
        return {(r["album_slug"], r["disc_number"], r["position"]): r for r in cur.fetchall()}


def silver_albums(conn) -> dict[str, dict]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f"select {', '.join(ALBUM_COLUMNS)} from silver.albums")
        return {r["album_slug"]: r for r in cur.fetchall()}


def expected_tracks(data) -> dict[tuple, dict]:
    return {
        key: {c: t[c] for c in ALBUM_TRACK_COLUMNS}
        for key, t in album_tracks(data["albums"], list(newest_by_key(data["songs"], "id").values())).items()
    }


def test_every_album_track_is_typed_as_upstream_means_it(warehouse, fixture_data):
    counts = build(warehouse, fixture_data)
    expected = expected_tracks(fixture_data)
    assert silver_album_tracks(warehouse) == expected
    assert len(expected) == len(fixture_data["albums"])  # every fixture track is usable
    assert counts["album_tracks"]["inserted"] == len(expected) and counts["album_tracks"]["rejected"] == 0
    # the rules, spelled out on the fixtures' edge cases
    got = silver_album_tracks(warehouse)
    two_discs = got[("harbor-lights", 2, 3)]
    assert (two_discs["song_name"], two_discs["song_id"], two_discs["track_seconds"]) == ("Glass Harbor", 404, 422)
    assert got[("harbor-lights", 2, 1)]["track_seconds"] == 72  # "1:12", one-digit minutes
    assert got[("sundial-and-other-stories", 1, 5)]["song_name"] == "He's Gone"  # entities decoded
    assert got[("harbor-lights", 1, 3)]["original_artist"] == "The Velvet Porch"
    assert got[("northbound", 1, 1)]["original_artist"] is None  # "" for originals
    assert got[("porchlight", 1, 2)]["track_seconds"] is None  # tracktime ""
    assert got[("copper-sky-ep", 1, 1)]["album_updated_at"] is None  # the 1000-01-01 sentinel


def test_albums_are_derived_from_their_tracks(warehouse, fixture_data):
    counts = build(warehouse, fixture_data)
    rows = fixture_data["albums"]
    expected = {slug: {c: a[c] for c in ALBUM_COLUMNS} for slug, a in albums(album_tracks(rows, [])).items()}
    got = silver_albums(warehouse)
    assert got == expected
    assert counts["albums"]["inserted"] == len({r["album_url"] for r in rows})
    # each case the fixtures were built to carry
    assert {slug: a["disc_count"] for slug, a in got.items() if a["disc_count"] > 1} == {
        "harbor-lights": 2,
        "live-at-red-canyon": 2,
    }
    assert [slug for slug, a in got.items() if a["is_live"]] == ["live-at-red-canyon"]
    assert got["sundial-and-other-stories"]["title"] == "Sundial & Other Stories"  # "&amp;" decoded
    assert got["copper-sky-ep"]["title"] == "Copper Sky EP"  # the display name, when set
    assert got["copper-sky-ep"]["album_title"] == "Copper Sky"
    # release dates that are not calendar dates: NULL, with the text kept
    assert (
        got["sundial-and-other-stories"]["release_date"],
        got["sundial-and-other-stories"]["release_date_text"],
    ) == (
        None,
        "Fall 2023",
    )
    assert (got["copper-sky-ep"]["release_date"], got["copper-sky-ep"]["release_date_text"]) == (None, "2020-02-30")
    assert got["northbound"]["release_date"] == dt.date(2019, 10, 4)
    # notes: tags dropped, line breaks kept, entities decoded
    assert got["harbor-lights"]["notes"] == (
        "A double album: Lights on disc one,\nHarbor on disc two.\nMixed by Ana & Theo."
    )
    assert got["northbound"]["notes"] == "Goose's first studio album, recorded in a barn in Wilton."
    assert got["copper-sky-ep"]["notes"] is None
    assert got["harbor-lights"]["track_count"] == sum(r["album_url"] == "/albums/harbor-lights" for r in rows)


def test_release_dates_notes_and_bad_album_rows(warehouse, fixture_data):
    data = copy.deepcopy(fixture_data)
    template = next(r for r in data["albums"] if r["album_url"] == "/albums/porchlight")
    odd = {
        "/albums/odd-dates-1": ("2016-02-17 00:00:00", "<P>One<BR>two</P>\n\n<p>&lt;b&gt; stays text</p>"),
        "/albums/odd-dates-2": ("0000-00-00", "   "),
        "/albums/odd-dates-3": ("17/02/2016", "<br/>"),
        "/albums/odd-dates-4": ("2016-2-17", None),
        "/albums/odd-dates-5": ("", "plain"),
        "/albums/odd-dates-6": ("2024-02-29", "a &amp;amp; b"),
    }
    for url, (released, notes) in odd.items():
        data["albums"].append({**template, "album_url": url, "releasedate": released, "album_notes": notes})
    data["albums"] += [
        {**template, "album_url": "https://elgoose.net/albums/porchlight", "position": 9},
        {**template, "position": "09"},  # would never match its own key
        {**template, "position": "third"},
        {k: v for k, v in template.items() if k != "disc_number"},
        {**template, "position": 7, "album_title": "  "},
        {**template, "position": 8, "song_name": ""},
        {**template, "position": 10, "song_url": "/songs/old-country-road"},  # not a song url: no slug, orphan
    ]
    counts = build(warehouse, data)
    got = silver_albums(warehouse)
    dates = {url.removeprefix("/albums/"): got[url.removeprefix("/albums/")]["release_date"] for url in odd}
    assert dates == {
        "odd-dates-1": dt.date(2016, 2, 17),
        "odd-dates-2": None,
        "odd-dates-3": None,
        "odd-dates-4": None,
        "odd-dates-5": None,
        "odd-dates-6": dt.date(2024, 2, 29),
    }
    assert got["odd-dates-5"]["release_date_text"] is None and got["odd-dates-3"]["release_date_text"] == "17/02/2016"
    assert got["odd-dates-1"]["notes"] == "One\ntwo\n<b> stays text"
    assert [got[f"odd-dates-{i}"]["notes"] for i in (2, 3, 4, 5, 6)] == [None, None, None, "plain", "a &amp; b"]
    # the reference agrees with every typed row, the odd ones included
    assert silver_album_tracks(warehouse) == expected_tracks(data)
    reasons = sorted(r[0] for r in warehouse.execute("select reason from silver.rejects where source_table = 'albums'"))
    assert reasons == sorted(
        [
            "album_url is missing or not /albums/<slug>",
            "disc_number or position is not written as a plain integer",
            "position is missing or not an integer",
            "disc_number is missing or not an integer",
            "album_title is missing",
            "song_name is missing",
        ]
    )
    assert counts["album_tracks"]["rejected"] == 6
    orphan = silver_album_tracks(warehouse)[("porchlight", 1, 10)]
    assert (orphan["song_slug"], orphan["song_id"]) == (None, None)


def test_orphan_tracks_load_are_counted_and_link_when_their_song_arrives(warehouse, fixture_data):
    counts = build(warehouse, fixture_data)
    slugs = {s["slug"] for s in fixture_data["songs"]}
    orphans = [r for r in fixture_data["albums"] if r["song_url"].removeprefix("/song/") not in slugs]
    assert orphans, "fixtures should have a track whose song is not in the catalogue"
    assert counts["album_tracks"]["orphans"] == len(orphans)
    assert warehouse.execute("select count(*) from silver.album_tracks where song_id is null").fetchone()[0] == len(
        orphans
    )
    quality = run_quality_checks(warehouse, run_id="r1")
    assert {q["check"]: (q["status"], q["observed"]) for q in quality}["orphans:album_tracks_without_song"] == (
        "warn",
        len(orphans),
    )
    # the catalogue catches up: the track links on the next run without a new version of the track
    data = copy.deepcopy(fixture_data)
    slug = orphans[0]["song_url"].removeprefix("/song/")
    data["songs"].append({**data["songs"][-1], "id": 450, "name": "Harbor Interlude", "slug": slug})
    load_bronze(warehouse, data, run_id="r2")
    counts = run_layer(warehouse, "silver", run_id="r2")
    assert counts["album_tracks"]["processed"] == 0 and counts["album_tracks"]["song_links_changed"] == len(orphans)
    assert counts["album_tracks"]["orphans"] == 0
    assert silver_album_tracks(warehouse) == expected_tracks(data)


def test_album_edits_and_deletions_upstream(warehouse, fixture_data):
    build(warehouse, fixture_data)
    data = copy.deepcopy(fixture_data)
    for row in data["albums"]:
        if row["album_url"] == "/albums/northbound":
            row["album_title"] = "Northbound (Remastered)"
            row["album_updated_at"] = "2025-01-01 00:00:00"
    gone = next(r for r in data["albums"] if r["album_url"] == "/albums/harbor-lights" and r["disc_number"] == 2)
    data["albums"].remove(gone)
    data["albums"] = [r for r in data["albums"] if r["album_url"] != "/albums/porchlight"]  # a whole album goes
    load_bronze(warehouse, data, run_id="r2")
    counts = run_layer(warehouse, "silver", run_id="r2")
    northbound = sum(r["album_url"] == "/albums/northbound" for r in data["albums"])
    assert counts["album_tracks"]["updated"] == northbound and counts["album_tracks"]["deleted"] == 3
    assert silver_album_tracks(warehouse) == expected_tracks(data)
    assert silver_albums(warehouse) == {
        slug: {c: a[c] for c in ALBUM_COLUMNS} for slug, a in albums(album_tracks(data["albums"], [])).items()
    }
    deletions = set(warehouse.execute("select table_name, record_key from silver.deletions where run_id = 'r2'"))
    key = f"{gone['album_url']}|{gone['disc_number']}|{gone['position']}"
    assert ("album_tracks", key) in deletions and ("albums", "porchlight") in deletions
    assert len(deletions) == 4  # three tracks and one album


def test_force_reprocess_rebuilds_album_tracks_from_bronze(warehouse, fixture_data):
    build(warehouse, fixture_data)
    warehouse.execute("update silver.album_tracks set song_name = 'damaged', row_hash = 'x' where position = 1")
    damaged = warehouse.execute("select count(*) from silver.album_tracks where song_name = 'damaged'").fetchone()[0]
    counts = run_step(warehouse, "silver", "album_tracks", run_id="fix", force_reprocess=True)
    assert counts["updated"] == damaged > 0 and counts["processed"] == len(fixture_data["albums"])
    assert silver_album_tracks(warehouse) == expected_tracks(fixture_data)
