"""Gold: every number checked against a plain-Python reference computed from the fixture JSON.

The reference below never looks at SQL: it filters Goose rows, orders shows by
(showdate, showorder, show_id), identifies songs (song_id, or the decoded name of a free-text
``_custom_`` song) and counts. The bustout threshold is lowered to ``BUSTOUT`` by patching the
setting (the fixtures are only 11 shows long); the DAG path reads the setting unchanged.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
import threading
import time
import uuid

import psycopg
import pytest
from gold_reference import BUSTOUT, GOOSE, Reference, _c_order, _round2, _song_key, _text
from helpers import load_bronze, table_checksums
from psycopg.rows import dict_row

from elgoose.layers import run_gold, run_layer
from elgoose.registry import GOLD_STEPS, GOLD_TABLES
from elgoose.settings import get_settings
from elgoose.sql import render_sql
from elgoose.steps import run_step, step_inputs
from elgoose_local import databases as warehouse_db
from fake_elgoose import load_fixtures

# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def small_bustout(monkeypatch):
    """A bustout threshold the 11 fixture shows can reach (the setting, patched: no API override)."""
    monkeypatch.setenv("ELGOOSE_BUSTOUT_MIN_GAP", str(BUSTOUT))
    return BUSTOUT


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(load_fixtures())


@pytest.fixture(scope="module")
def silver_template(pg_server, pg_template):
    """A database with the fixtures through bronze and silver, cloned by the tests below (fast)."""
    name = warehouse_db.create_database(pg_server, pg_template)
    with psycopg.connect(warehouse_db.with_dbname(pg_server, name), autocommit=True) as conn:
        load_bronze(conn, load_fixtures())
        run_layer(conn, "silver")
    yield name
    warehouse_db.drop_database(pg_server, name)


@pytest.fixture
def silver_dsn(pg_server, silver_template):
    """A fresh database holding the fixtures' silver, no gold yet."""
    name = warehouse_db.create_database(pg_server, silver_template)
    yield warehouse_db.with_dbname(pg_server, name)
    warehouse_db.drop_database(pg_server, name)


@pytest.fixture
def gold_db(silver_dsn, small_bustout):
    """A fresh database with gold built once from the fixtures: for tests that change things."""
    with psycopg.connect(silver_dsn, autocommit=True) as conn:
        run_gold(conn, run_id="test-gold")
        yield conn


@pytest.fixture(scope="module")
def shared_gold(pg_server, silver_template):
    """Gold built once from the fixtures, shared by the tests that only read it."""
    name = warehouse_db.create_database(pg_server, silver_template)
    with psycopg.connect(warehouse_db.with_dbname(pg_server, name), autocommit=True) as conn:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("ELGOOSE_BUSTOUT_MIN_GAP", str(BUSTOUT))
            run_gold(conn, run_id="test-gold")
        yield conn
    warehouse_db.drop_database(pg_server, name)


def _rows(conn, query: str, params=None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _scalar(conn, query: str, params=None):
    return conn.execute(query, params).fetchone()[0]


# --- the numbers ---------------------------------------------------------------------------------


def test_song_stats_match_reference_row_by_row(shared_gold, reference):
    expected = reference.song_stats()
    actual = {(r["song_id"], r["song_name"]): r for r in _rows(shared_gold, "select * from gold.song_stats")}
    assert set(actual) == set(expected)
    for key, row in expected.items():
        assert actual[key] == row, key
    # the edge cases the reference covers, spelled out
    assert actual[(401, "Copper Sky")]["times_played"] == 5  # twice at 2023-10-31, counted once
    assert actual[(None, "Happy Birthday")]["times_played"] == 2  # a _custom_ song: its own song, NULL song_id
    assert actual[(None, "Foxy Lady")]["times_played"] == 1
    assert actual[(420, "He's Gone")]["original_artist"] == "Grateful Dead"  # entities decoded
    assert actual[(499, "Brand New Tune")]["is_original"] is True  # not in the catalogue: from the setlist row


def test_song_performances_gaps_match_reference(shared_gold, reference):
    actual = {r["unique_id"]: r for r in _rows(shared_gold, "select * from gold.song_performances")}
    assert set(actual) == set(reference.perf)
    columns = ("show_id", "show_date", "show_number", "set_number", "position", "song_id", "song_name", "gap")
    columns += ("is_debut", "is_bustout", "track_seconds", "is_jamchart", "is_encore")
    for uid, p in reference.perf.items():
        assert {c: actual[uid][c] for c in columns} == {c: p[c] for c in columns}, uid
    # a reprise in the same show: gap 0, not a debut; the first one carries the show gap
    copper = {r["unique_id"]: r for r in actual.values() if r["song_id"] == 401 and r["show_id"] == 1698000008}
    assert (copper[20124]["gap"], copper[20132]["gap"], copper[20132]["is_debut"]) == (2, 0, False)
    # 431 Faraway Signal: first show, then the last one (show 11): gap 10, a bustout at threshold 5
    faraway = sorted((r["show_number"], r["gap"], r["is_bustout"]) for r in actual.values() if r["song_id"] == 431)
    assert faraway == [(1, None, False), (11, 10, True)]
    assert sum(r["is_bustout"] for r in actual.values()) == sum(p["is_bustout"] for p in reference.perf.values()) > 0


def test_shows_exclude_side_projects_and_future_and_order_same_date_by_show_id(shared_gold, reference):
    shows = _rows(shared_gold, "select show_id, show_date, show_number from gold.show_summary order by show_number")
    assert [s["show_id"] for s in shows] == reference.show_ids
    ids = {s["show_id"] for s in shows}
    assert 1652000001 not in ids  # Vasudo (artist_id 2)
    assert 1790000011 not in ids  # future show, no setlist
    assert 1715000012 in ids  # a setlist row whose show row never arrived still makes a show
    numbers = {s["show_id"]: s["show_number"] for s in shows}
    assert numbers[1686000005] + 1 == numbers[1686000006]  # both 2023-06-17 with showorder 1
    played = {r["song_id"] for r in _rows(shared_gold, "select song_id from gold.song_stats")}
    assert 423 not in played  # only Vasudo played Old Country Road
    assert _scalar(shared_gold, "select count(*) from gold.song_stats where song_name = 'Ramblin'' Boy'") == 0
    assert _scalar(shared_gold, "select count(*) from gold.song_stats where song_id = 440") == 0  # never played


def test_show_summary(shared_gold, reference):
    rows = {r["show_id"]: r for r in _rows(shared_gold, "select * from gold.show_summary")}
    assert rows[1698000008]["setlist_text"] == (
        "Set 1: Dance Floor Fever, Copper Sky, Northbound Train, Orchard Lights; "
        "Set 2: Wildflower Engine -> He's Gone > The Long Way Round, Glass Harbor; "
        "Set 3: Silver Thread, Copper Sky, Hollow Moon; Encore: Driftwood; Encore 2: Sundial"
    )
    for show_id in reference.show_ids:
        ps = [reference.perf[int(r["uniqueid"])] for r in reference.show_rows[show_id]]
        main = [p for p in ps if not p["is_encore"]]
        times = [p["track_seconds"] for p in ps if p["track_seconds"] is not None]
        row = rows[show_id]
        assert row["setlist_text"] == reference.setlist_text(show_id)
        assert row["show_number"] == reference.show_number[show_id]
        assert row["song_count"] == len(ps)
        assert row["set_count"] == len({p["set_number"] for p in main})
        assert row["has_encore"] == any(p["is_encore"] for p in ps)
        assert row["opener"] == ps[0]["song_name"]
        assert row["closer"] == (main or ps)[-1]["song_name"]
        assert row["debut_count"] == sum(p["is_debut"] for p in ps)
        assert row["bustout_count"] == sum(p["is_bustout"] for p in ps)
        assert row["jamchart_count"] == sum(p["is_jamchart"] for p in ps)
        assert row["total_track_seconds"] == (sum(times) if times else None)
    venueless = rows[1715000012]  # no silver.shows row: venue from the setlist row's venue_id
    assert (venueless["venue_id"], venueless["venue_name"], venueless["city"]) == (104, "Lakeside Pavilion", "Chicago")
    assert rows[1707000009]["venue_name"] == "Ted's Bar & Grill"
    assert rows[1686000005]["tour_name"] == "Summer & Fall Tour 2023"


def test_segues_match_reference(shared_gold, reference):
    rows = _rows(shared_gold, "select from_song_name, to_song_name, times, times_tight from gold.segues")
    assert {(r["from_song_name"], r["to_song_name"]): r["times"] for r in rows} == dict(reference.segues())
    tight = {(r["from_song_name"], r["to_song_name"]): r["times_tight"] for r in rows}
    assert tight[("The Long Way Round", "Paper Kites")] == 1  # once " -> ", once " > "
    # Driftwood ends set 2 of 2022-04-08 with "" and Hollow Moon opens the encore: no segue across sets
    assert ("Driftwood", "Hollow Moon") not in tight


def test_venue_year_and_tour_stats(shared_gold, reference):
    perf = list(reference.perf.values())
    shows_rows = {s: reference.show_rows[s] for s in reference.show_ids}
    venue_of = {s: int(rows[0]["venue_id"]) for s, rows in shows_rows.items()}
    venues = {r["venue_id"]: r for r in _rows(shared_gold, "select * from gold.venue_stats")}
    assert set(venues) == set(venue_of.values())
    for venue_id, row in venues.items():
        at_venue = [p for p in perf if venue_of[p["show_id"]] == venue_id]
        counts = collections.Counter(key for key, _ in {(p["key"], p["show_id"]) for p in at_venue})
        best = sorted(
            counts,
            key=lambda k: (-counts[k], _c_order(reference.song_name(k)), k[0] == "name", k[1] if k[0] == "id" else 0),
        )[0]
        assert row["show_count"] == len({p["show_id"] for p in at_venue})
        assert row["distinct_song_count"] == len(counts)
        assert (row["most_played_song"], row["most_played_song_times"]) == (reference.song_name(best), counts[best])
    assert venues[104]["show_count"] == 3  # 2022-04-10, 2023-10-31 and the show without a shows row
    assert venues[102]["venue_name"] == "Ted's Bar & Grill"  # the Vasudo show there does not count: one show

    years = {r["year"]: r for r in _rows(shared_gold, "select * from gold.year_stats")}
    for year in {p["show_date"].year for p in perf}:
        ps = [p for p in perf if p["show_date"].year == year]
        shows = len({p["show_id"] for p in ps})
        assert years[year]["show_count"] == shows
        assert years[year]["performance_count"] == len(ps)
        assert years[year]["distinct_song_count"] == len({p["key"] for p in ps})
        assert years[year]["debut_count"] == sum(p["is_debut"] for p in ps)
        assert years[year]["bustout_count"] == sum(p["is_bustout"] for p in ps)
        assert years[year]["jamchart_count"] == sum(p["is_jamchart"] for p in ps)
        assert years[year]["avg_songs_per_show"] == _round2(len(ps), shows)

    tours = {r["tour_name"]: r for r in _rows(shared_gold, "select * from gold.tour_stats")}
    assert {name: t["show_count"] for name, t in tours.items()} == {
        "Spring Tour 2022": 3,
        "Summer & Fall Tour 2023": 4,
        "Not Part of a Tour": 4,
    }
    assert sum(t["performance_count"] for t in tours.values()) == len(perf)


# --- the chatbot helpers -------------------------------------------------------------------------


def test_chatbot_helpers_after_publish(shared_gold, reference):
    def find(name):
        return [(r["song_id"], r["song_name"]) for r in _rows(shared_gold, "select * from gold.find_song(%s)", (name,))]

    assert find("Lantern Field") == [(400, "Lantern Field")]
    assert find("  lantern   FIELD ") == [(400, "Lantern Field")]
    assert find("Lántern Fïéld") == [(400, "Lantern Field")]  # accented spelling
    assert find("HE’S GONE") == [(420, "He's Gone")]  # typographic apostrophe, upper case
    assert find("happy birthday") == [(None, "Happy Birthday")]
    assert find("sky") == [(401, "Copper Sky")]  # no exact match: names containing it
    assert find("no such song") == [] and find("") == []
    stats = _rows(shared_gold, "select * from gold.find_song('copper sky')")[0]
    assert stats == reference.song_stats()[(401, "Copper Sky")]

    on_day = _rows(shared_gold, "select * from gold.on_this_day(6, 17)")
    assert [(r["show_date"], r["show_id"], r["venue_name"]) for r in on_day] == [
        (dt.date(2023, 6, 17), 1686000005, "Old Mill Ballroom"),
        (dt.date(2023, 6, 17), 1686000006, "Old Mill Ballroom"),
    ]
    assert on_day[0]["setlist_text"] == reference.setlist_text(1686000005)
    assert [r["show_id"] for r in _rows(shared_gold, "select * from gold.on_this_day(10, 31)")] == [1698000008]
    assert _rows(shared_gold, "select * from gold.on_this_day(1, 1)") == []
    assert [r["show_id"] for r in _rows(shared_gold, "select * from gold.shows_on('2023-06-17')")] == [
        1686000005,
        1686000006,
    ]
    history = _rows(shared_gold, "select show_number, gap, is_bustout from gold.song_history('FARAWAY signal')")
    assert [(h["show_number"], h["gap"], h["is_bustout"]) for h in history] == [(1, None, False), (11, 10, True)]
    assert _rows(shared_gold, "select show_id from gold.latest_show") == [{"show_id": 1722000010}]

    top = [
        (r["song_id"], r["song_name"], r["times_played"]) for r in _rows(shared_gold, "select * from gold.top_songs")
    ]
    assert top[:5] == reference.top(5)
    assert [r["rank"] for r in _rows(shared_gold, "select rank from gold.top_songs")] == list(range(1, len(top) + 1))

    # the look-ups are served by gold indexes
    with shared_gold.transaction():
        shared_gold.execute("set local enable_seqscan = off")
        plans = {
            "song_stats_folded_name_idx": "select * from gold.song_stats "
            "where gold.fold_name(song_name) = gold.fold_name('lantern field')",
            "show_summary_month_day_idx": "select * from gold.show_summary "
            "where extract(month from show_date) = 6 and extract(day from show_date) = 17",
            "show_summary_show_date_idx": "select * from gold.show_summary where show_date = '2023-06-17'",
            "song_performances_song_idx": "select * from gold.song_performances where song_id = 401",
        }
        for index, query in plans.items():
            plan = "\n".join(r[0] for r in shared_gold.execute("explain " + query))
            assert index in plan, plan


def test_publish_grants_the_reader_role_when_it_exists(silver_dsn, small_bustout, monkeypatch):
    role = f"elgoose_test_reader_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ELGOOSE_CHATBOT_ROLE", role)
    with psycopg.connect(silver_dsn, autocommit=True) as warehouse:
        run_gold(warehouse)  # the role does not exist yet: the grant is skipped, publish succeeds
        warehouse.execute(f'create role "{role}" nologin')
        try:
            assert not _scalar(warehouse, "select has_schema_privilege(%s, 'gold', 'usage')", (role,))
            run_gold(warehouse)
            assert _scalar(warehouse, "select has_schema_privilege(%s, 'gold', 'usage')", (role,))
            for relation in (*GOLD_TABLES, "top_songs", "latest_show"):
                assert _scalar(warehouse, "select has_table_privilege(%s, %s, 'select')", (role, f"gold.{relation}"))
            with warehouse.transaction():
                warehouse.execute(f'set local role "{role}"')
                assert _scalar(warehouse, "select count(*) from gold.find_song('sundial')") == 1
                assert _scalar(warehouse, "select count(*) from gold.top_songs") == 22
            monkeypatch.setenv("ELGOOSE_CHATBOT_ROLE", "")  # empty setting: no grant at all
            run_gold(warehouse)
            assert not _scalar(warehouse, "select has_schema_privilege(%s, 'gold', 'usage')", (role,))
        finally:
            warehouse.execute(f'drop owned by "{role}"')
            warehouse.execute(f'drop role "{role}"')


# --- refresh behaviour ---------------------------------------------------------------------------


def test_deterministic_and_steps_run_in_separate_sessions(gold_db, silver_dsn):
    first = table_checksums(gold_db, ("gold",))
    assert len(first) == len(GOLD_TABLES)
    run_gold(gold_db)
    assert table_checksums(gold_db, ("gold",)) == first
    for step in GOLD_STEPS:  # as the DAG runs them: one task, one connection per step
        with psycopg.connect(silver_dsn, autocommit=True) as conn:
            run_step(conn, "gold", step, run_id="separate-sessions")
    assert table_checksums(gold_db, ("gold",)) == first
    assert _scalar(gold_db, "select count(*) from pg_namespace where nspname in ('gold_next', 'gold_previous')") == 0


def test_refresh_is_atomic_for_concurrent_readers(gold_db, silver_dsn):
    queries = {
        "select count(*) from gold.song_stats": 22,
        "select count(*) from gold.show_summary": 11,
        "select count(*) from gold.top_songs": 22,
        "select count(*) from gold.song_performances p join gold.show_summary s using (show_id)": 93,
        "select count(*) from gold.find_song('lantern field')": 1,  # functions resolve the new tables
        "select count(*) from gold.on_this_day(6, 17)": 2,
    }
    stop = threading.Event()
    reads: collections.Counter = collections.Counter()
    problems: list[str] = []

    def reader(query: str, expected: int) -> None:
        with psycopg.connect(silver_dsn, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    got = conn.execute(query).fetchone()[0]
                except psycopg.Error as exc:
                    problems.append(f"{query}: {type(exc).__name__}: {exc}")
                    continue
                if got != expected:
                    problems.append(f"{query}: {got} rows, expected {expected}")
                reads[query] += 1

    threads = [threading.Thread(target=reader, args=item, daemon=True) for item in queries.items()]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        for i in range(4):
            run_gold(gold_db, run_id=f"refresh-{i}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert problems == []
    assert all(reads[q] > 10 for q in queries), reads
    published = _rows(gold_db, "select status from processing_status where layer = 'gold' and table_name = 'publish'")
    assert [r["status"] for r in published] == ["completed"] * 5


def test_failed_refresh_leaves_previous_gold_in_place(gold_db):
    before = table_checksums(gold_db, ("gold",))

    # publish without prepare: there is no gold_next
    with pytest.raises(psycopg.errors.RaiseException, match="gold_next does not exist"):
        run_step(gold_db, "gold", "publish", run_id="no-prepare")
    assert table_checksums(gold_db, ("gold",)) == before

    # a build step fails half-way (silver lost a column), then someone publishes the incomplete build
    gold_db.execute("alter table silver.setlists drop column track_seconds cascade")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        run_gold(gold_db, run_id="broken-silver")
    with pytest.raises(psycopg.errors.RaiseException, match="incomplete, missing table"):
        run_step(gold_db, "gold", "publish", run_id="incomplete")

    assert table_checksums(gold_db, ("gold",)) == before
    assert _scalar(gold_db, "select times_played from gold.find_song('Lantern Field')") == 5
    assert _scalar(gold_db, "select count(*) from gold.top_songs") == 22
    failed = _rows(
        gold_db,
        "select run_id, table_name, error_message from processing_status "
        "where layer = 'gold' and status = 'failed' order by id",
    )
    assert [(f["run_id"], f["table_name"]) for f in failed] == [
        ("no-prepare", "publish"),
        ("broken-silver", "song_performances"),
        ("incomplete", "publish"),
    ]
    assert "track_seconds" in failed[1]["error_message"]


def test_processing_status_records_every_gold_step(shared_gold):
    status = _rows(
        shared_gold,
        "select table_name, status, records_processed, details from processing_status "
        "where layer = 'gold' and run_id = 'test-gold' order by id",
    )
    assert [s["table_name"] for s in status] == list(GOLD_STEPS)
    assert {s["status"] for s in status} == {"completed"}
    built = {s["table_name"]: s["records_processed"] for s in status}
    for table in GOLD_TABLES:
        assert built[table] == _scalar(shared_gold, f"select count(*) from gold.{table}") > 0
    assert built["publish"] == sum(built[t] for t in GOLD_TABLES)
    assert status[1]["details"]["bustout_min_gap"] == BUSTOUT


def gold_template_params() -> dict:
    return step_inputs("gold", "publish").template_params


def test_gold_values_come_only_from_settings(monkeypatch):
    params = gold_template_params()
    for step in GOLD_STEPS:
        text = render_sql(f"gold/{step}.sql", **params)
        assert "%" not in text, f"{step}: percent signs would be psycopg placeholders"
        assert not re.search(r"\bnow\(\)|current_date|current_timestamp|random\(\)", text), step
    monkeypatch.setenv("ELGOOSE_BUSTOUT_MIN_GAP", "0")
    with pytest.raises(ValueError, match="ELGOOSE_BUSTOUT_MIN_GAP"):
        gold_template_params()
    monkeypatch.setenv("ELGOOSE_BUSTOUT_MIN_GAP", "many")
    with pytest.raises(ValueError, match="ELGOOSE_BUSTOUT_MIN_GAP must be an integer"):
        gold_template_params()
    monkeypatch.delenv("ELGOOSE_BUSTOUT_MIN_GAP")
    monkeypatch.setenv("ELGOOSE_CHATBOT_ROLE", "x'; drop schema gold; --")
    with pytest.raises(ValueError, match="ELGOOSE_CHATBOT_ROLE"):
        gold_template_params()
    monkeypatch.delenv("ELGOOSE_CHATBOT_ROLE")
    assert gold_template_params() == {
        "artist_id": 1,
        "bustout_min_gap": 100,
        "reader_role": "elgoose_chatbot",
        "gold_tables": list(GOLD_TABLES),
    }
    with pytest.raises(ValueError, match="unknown gold step"):
        run_step(None, "gold", "drop_everything")


# --- the real snapshot ---------------------------------------------------------------------------


def test_snapshot_song_counts_and_top_songs(warehouse, snapshot_dir):
    from fake_elgoose import load_snapshot

    data = load_snapshot(snapshot_dir)
    load_bronze(warehouse, data)
    run_layer(warehouse, "silver")
    run_gold(warehouse)

    # a plain count over the JSON: Goose rows, shows in (showdate, showorder, show_id) order
    goose = {int(r["uniqueid"]): r for r in data["setlists"] if r.get("artist_id") == GOOSE}.values()
    show_keys = sorted({(r["showdate"], r["showorder"], r["show_id"]) for r in goose})
    shows_of = collections.defaultdict(set)
    for r in goose:
        shows_of[_song_key(r)].add((r["showdate"], r["showorder"], r["show_id"]))

    def name_of(key):
        return _text(next(s["name"] for s in data["songs"] if s["id"] == key[1])) if key[0] == "id" else key[1]

    arcadia = next(("id", s["id"]) for s in data["songs"] if s["name"] == "Arcadia")
    happy = ("name", "Happy Birthday")
    cover = next(("id", s["id"]) for s in data["songs"] if s["name"] == "Jack-A-Roe")
    for key in (arcadia, happy, cover):
        played = sorted(shows_of[key])
        row = _rows(
            warehouse,
            "select song_id, times_played, debut_date, last_played_date, current_gap from gold.song_stats "
            "where song_id is not distinct from %s and song_name = %s",
            (key[1] if key[0] == "id" else None, name_of(key)),
        )
        assert row == [
            {
                "song_id": key[1] if key[0] == "id" else None,
                "times_played": len(played),
                "debut_date": dt.date.fromisoformat(played[0][0]),
                "last_played_date": dt.date.fromisoformat(played[-1][0]),
                "current_gap": len(show_keys) - 1 - show_keys.index(played[-1]),
            }
        ], key

    counts = sorted(
        ((len(shows), key) for key, shows in shows_of.items()),
        key=lambda c: (-c[0], _c_order(name_of(c[1])), c[1][0] == "name", c[1][1] if c[1][0] == "id" else 0),
    )
    expected_top = [(c[1][1] if c[1][0] == "id" else None, name_of(c[1]), c[0]) for c in counts[:10]]
    top = _rows(warehouse, "select song_id, song_name, times_played from gold.top_songs where rank <= 10 order by rank")
    assert [(t["song_id"], t["song_name"], t["times_played"]) for t in top] == expected_top
    assert _scalar(warehouse, "select count(*) from gold.show_summary") == len(show_keys)

    # and the full reference, row by row, at the real threshold
    expected = Reference(data, bustout_min_gap=get_settings().bustout_min_gap).song_stats()
    actual = {(r["song_id"], r["song_name"]): r for r in _rows(warehouse, "select * from gold.song_stats")}
    assert actual == expected


# --- albums --------------------------------------------------------------------------------------


def test_album_tracks_and_album_stats_match_reference(shared_gold, reference):
    tracks = {
        (r["album_slug"], r["disc_number"], r["position"]): r
        for r in _rows(shared_gold, "select * from gold.album_tracks")
    }
    assert tracks == reference.album_track_stats()
    stats = {r["album_slug"]: r for r in _rows(shared_gold, "select * from gold.album_stats")}
    assert stats == reference.album_stats()
    # what the fixtures were built to show, spelled out (counted by hand from setlists.json)
    assert set(stats) == {"northbound", "harbor-lights", "copper-sky-ep", "sundial-and-other-stories"}  # studio, Goose
    assert {t[0] for t in tracks} == set(stats) | {"live-at-red-canyon"}  # live albums have tracks, no album_stats
    northbound = stats["northbound"]
    assert northbound["played_in_full_dates"] == [dt.date(2022, 4, 8), dt.date(2023, 10, 31)]
    assert (northbound["least_played_song"], northbound["least_played_times"]) == ("Hollow Moon", 5)
    assert northbound["live_performances"] == 5 * 6 + 5  # five songs at six shows, Hollow Moon at five
    harbor = stats["harbor-lights"]
    assert (harbor["most_played_song"], harbor["most_played_times"]) == ("Glass Harbor", 6)
    assert (harbor["least_played_song"], harbor["least_played_times"]) == ("Harbor Interlude", 0)  # not catalogued
    assert harbor["tracks_played_live"] == 5 and harbor["played_in_full"] is False
    # 2023-10-31 has Copper Sky twice: shows, not rows (5 + 5 + 6 for Copper Sky, Tidewater, The Long Way Round)
    assert stats["copper-sky-ep"]["live_performances"] == 16
    assert stats["copper-sky-ep"]["played_in_full_dates"] == [dt.date(2022, 7, 22), dt.date(2023, 6, 17)]
    assert stats["sundial-and-other-stories"]["played_in_full_dates"] == []


def test_song_stats_gain_cover_flag_and_first_studio_release(shared_gold, reference):
    # the whole rows are compared with the reference in test_song_stats_match_reference_row_by_row; the cases:
    got = {
        r["song_name"]: r
        for r in _rows(
            shared_gold,
            "select song_name, is_cover, first_studio_album, first_studio_album_slug, first_studio_release_date "
            "from gold.song_stats",
        )
    }
    assert got["Satellite Heart"]["is_cover"] is True and got["Lantern Field"]["is_cover"] is False
    assert (
        got["Dance Floor Fever"]["is_cover"] is True and got["Dance Floor Fever"]["first_studio_album"] is None
    )  # live
    # on Northbound (2019) and Harbor Lights (2021): the earliest
    assert (got["Glass Harbor"]["first_studio_album"], got["Glass Harbor"]["first_studio_release_date"]) == (
        "Northbound",
        dt.date(2019, 10, 4),
    )
    # on the EP (date "2020-02-30", not a date) and Harbor Lights (2021-03-12): the dated one comes first
    assert got["Copper Sky"]["first_studio_album_slug"] == "harbor-lights"
    # only on an album whose date is unknown: that album, with no date
    assert (got["Sundial"]["first_studio_album"], got["Sundial"]["first_studio_release_date"]) == (
        "Sundial & Other Stories",
        None,
    )
    assert got["Kettle Drum"]["first_studio_album"] is None
    assert all(got[name] == {"song_name": name, **_pick(reference, name)} for name in got)


def _pick(reference, name):
    row = next(r for r in reference.song_stats().values() if r["song_name"] == name)
    return {
        k: row[k] for k in ("is_cover", "first_studio_album", "first_studio_album_slug", "first_studio_release_date")
    }


def test_is_cover_falls_back_to_the_album_where_the_catalogue_has_no_flag(warehouse):
    data = load_fixtures()
    for song in data["songs"]:
        if song["id"] in (400, 421, 430):  # on Harbor Lights as an original and as a cover; on no album
            del song["isoriginal"]
    load_bronze(warehouse, data)
    run_layer(warehouse, "silver")
    run_gold(warehouse)
    got = dict(warehouse.execute("select song_id, is_cover from gold.song_stats where song_id in (400, 421, 430)"))
    assert got == {400: False, 421: True, 430: None}
    expected = Reference(data).song_stats()
    assert got == {k[0]: v["is_cover"] for k, v in expected.items() if k[0] in (400, 421, 430)}


def test_song_albums_helper(shared_gold):
    def albums_of(name):
        return [
            (r["song_name"], r["album_title"], r["is_live"], r["disc_number"], r["position"])
            for r in _rows(shared_gold, "select * from gold.song_albums(%s)", (name,))
        ]

    assert albums_of("Glass Hárbor") == [  # accents and case do not matter; oldest release first
        ("Glass Harbor", "Northbound", False, 1, 2),
        ("Glass Harbor", "Harbor Lights", False, 2, 3),
    ]
    assert albums_of("  SUNDIAL ") == [  # a known date comes before an unknown one ("Fall 2023")
        ("Sundial", "Live at Red Canyon", True, 1, 1),
        ("Sundial", "Sundial & Other Stories", False, 1, 1),
    ]
    assert albums_of("HE’S GONE") == [("He's Gone", "Sundial & Other Stories", False, 1, 5)]
    assert albums_of("interlude") == [("Harbor Interlude", "Harbor Lights", False, 2, 1)]  # contains; not catalogued
    assert albums_of("Old Country Road") == []  # only on a side project's album
    assert albums_of("Kettle Drum") == [] and albums_of("") == []
    with shared_gold.transaction():
        shared_gold.execute("set local enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in shared_gold.execute(
                "explain select * from gold.album_tracks where gold.fold_name(song_name) = gold.fold_name('sundial')"
            )
        )
        assert "album_tracks_folded_name_idx" in plan, plan


def test_an_album_edited_and_a_track_removed_upstream_show_in_the_next_run(warehouse, small_bustout):
    data = load_fixtures()
    load_bronze(warehouse, data, run_id="day-1")
    run_layer(warehouse, "silver", run_id="day-1")
    run_gold(warehouse, run_id="day-1")
    assert (
        _scalar(warehouse, "select times_played_in_full from gold.album_stats where album_slug = 'harbor-lights'") == 0
    )

    # upstream renames an album and drops the interlude, the one track of Harbor Lights never played live
    for row in data["albums"]:
        if row["album_url"] == "/albums/northbound":
            row["album_displayname"] = "Northbound (Deluxe)"
            row["album_updated_at"] = "2025-05-05 05:05:05"
    data["albums"] = [r for r in data["albums"] if r["song_url"] != "/song/harbor-interlude"]
    load_bronze(warehouse, data, run_id="day-2")
    run_layer(warehouse, "silver", run_id="day-2")
    run_gold(warehouse, run_id="day-2")

    reference = Reference(data, bustout_min_gap=BUSTOUT)
    stats = {r["album_slug"]: r for r in _rows(warehouse, "select * from gold.album_stats")}
    assert stats == reference.album_stats()
    assert stats["northbound"]["album_title"] == "Northbound (Deluxe)"
    assert stats["harbor-lights"]["track_count"] == 5
    # every song of Harbor Lights is catalogued now, and 2022-04-09 had all five
    assert stats["harbor-lights"]["played_in_full_dates"] == [dt.date(2022, 4, 9)]
    assert _scalar(warehouse, "select first_studio_album from gold.song_stats where song_id = 404") == (
        "Northbound (Deluxe)"
    )
    assert _rows(warehouse, "select * from gold.song_albums('harbor interlude')") == []
