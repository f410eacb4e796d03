"""The warehouse's tables: one declarative list, and everything the pipeline derives from it.

Each ``Table`` says what one table is: its layer, where its rows come from, its natural key and what
must be built before it. From this list alone come:

- the API methods bronze pulls (and the fake ElGoose server serves), one bronze table per method;
- the silver and gold DAGs' tasks and their dependencies, in topological order;
- the local runner's and the tests' order of steps, and publish's list of gold tables;
- the quality gates' per-table row counts, and the operators' UI list of tables.

Adding a table touches its entry here, its migration (``include/sql/migrations/``) and its SQL file
(``include/sql/<layer>/<name>.sql``), and nothing else. This module imports nothing from the project,
so any module may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

LAYERS: tuple[str, ...] = ("bronze", "silver", "gold")
SCHEMAS = {"bronze": "raw_data", "silver": "silver", "gold": "gold"}


@dataclass(frozen=True)
class Table:
    """One table of the warehouse.

    name        the table's name in its layer's schema (bronze: the API method it holds, ``raw_data.<name>``)
    layer       ``bronze``, ``silver`` or ``gold``
    key         the natural key: the API record's fields (bronze) or the table's columns; () for none
    description one line for people (task docs, the UI)
    source      silver: the qualified table it reads, ``raw_data.<method>`` or (derived) ``silver.<table>``
    depends_on  tables of the same layer that must be built before this one (besides ``source``)
    row_count_gate  silver: the quality gates fail a run in which the table lost most of its rows
    """

    name: str
    layer: str
    key: tuple[str, ...]
    description: str
    source: str | None = None
    depends_on: tuple[str, ...] = ()
    row_count_gate: bool = False

    @property
    def qualified_name(self) -> str:
        return f"{SCHEMAS[self.layer]}.{self.name}"

    @property
    def sql_file(self) -> str | None:
        """The file under ``include/sql/`` that builds it (bronze is loaded by Python, not SQL)."""
        return None if self.layer == "bronze" else f"{self.layer}/{self.name}.sql"

    @property
    def upstream(self) -> tuple[str, ...]:
        """Tables of the same layer this one is built after: ``depends_on`` and a same-layer ``source``."""
        schema, _, source_name = (self.source or "").partition(".")
        derived = (source_name,) if schema == SCHEMAS[self.layer] else ()
        return tuple(dict.fromkeys((*derived, *self.depends_on)))

    @property
    def method(self) -> str | None:
        """The API method whose records feed this table (people: appearances); None for gold."""
        if self.layer == "bronze":
            return self.name
        schema, _, source_name = (self.source or "").partition(".")
        if schema == SCHEMAS["bronze"]:
            return source_name
        return table(schema, source_name).method if schema == SCHEMAS["silver"] else None


# fmt: off
TABLES: tuple[Table, ...] = (
    # --- bronze: one table per API method; key: the record fields that identify a record upstream ----------
    Table("venues", "bronze", ("venue_id",), "ElGoose venues"),
    Table("shows", "bronze", ("show_id",), "ElGoose shows, future ones included"),
    Table("songs", "bronze", ("id",), "the ElGoose song catalogue"),
    Table("setlists", "bronze", ("uniqueid",), "setlist rows: one per song performance"),
    Table("latest", "bronze", ("uniqueid",), "the setlist of the most recent show"),
    Table("jamcharts", "bronze", ("uniqueid",), "jam-charted performances"),
    # appearances have no row id: a person appears at a show in a role
    Table("appearances", "bronze", ("show_id", "person_id", "appearance_type"), "who appeared at which show"),
    Table("links", "bronze", ("link_id",), "links attached to shows"),
    Table("uploads", "bronze", ("id",), "posters and other uploads of shows"),
    # albums are served one row per track; the album's slug is inside album_url ("/albums/<slug>"), so the
    # key reads album_url as served: "/albums/moon-cabin|1|1"
    Table("albums", "bronze", ("album_url", "disc_number", "position"), "the discography: one row per album track"),
    # metadata's shape is unverified upstream: its records are keyed by content alone
    Table("metadata", "bronze", (), "setlist metadata (shape unverified: kept as JSON)"),

    # --- silver: typed from a bronze method, or derived from another silver table --------------------------
    Table("venues", "silver", ("venue_id",), "venues, typed",
          source="raw_data.venues", row_count_gate=True),
    Table("shows", "silver", ("show_id",), "shows, typed; shows without their venue counted",
          source="raw_data.shows", depends_on=("venues",), row_count_gate=True),
    Table("songs", "silver", ("song_id",), "the song catalogue, typed",
          source="raw_data.songs", row_count_gate=True),
    Table("setlists", "silver", ("unique_id",), "every performance, typed; rows without their show counted",
          source="raw_data.setlists", depends_on=("shows",), row_count_gate=True),
    Table("latest", "silver", ("unique_id",), "the latest show's setlist, replaced each run",
          source="raw_data.latest"),
    Table("jamcharts", "silver", ("unique_id",), "jam charts; entries without their setlist row counted",
          source="raw_data.jamcharts", depends_on=("setlists",), row_count_gate=True),
    Table("appearances", "silver", ("show_id", "person_id", "appearance_type"), "appearances, typed",
          source="raw_data.appearances"),
    Table("people", "silver", ("person_id",), "musicians, derived from appearances (the API has no people)",
          source="silver.appearances"),
    Table("links", "silver", ("link_id",), "show links, typed",
          source="raw_data.links"),
    Table("uploads", "silver", ("upload_id",), "show uploads, typed",
          source="raw_data.uploads"),
    Table("metadata", "silver", ("metadata_key",), "setlist metadata: typed keys plus the payload",
          source="raw_data.metadata"),
    Table("album_tracks", "silver", ("album_slug", "disc_number", "position"),
          "album tracks, typed; linked to the catalogue by song slug, tracks without a catalogue song counted",
          source="raw_data.albums", depends_on=("songs",), row_count_gate=True),
    Table("albums", "silver", ("album_slug",), "albums, derived from album_tracks (the API serves tracks)",
          source="silver.album_tracks"),

    # --- gold: rebuilt from silver in gold_next, published atomically ---------------------------------------
    Table("song_performances", "gold", ("unique_id",),
          "every Goose performance with its show number, gap, debut and bustout flags"),
    Table("album_tracks", "gold", ("album_slug", "disc_number", "position"),
          "every track of Goose's albums with its song, whether it is a cover, and its song's live plays",
          depends_on=("song_performances",)),
    Table("song_stats", "gold", ("song_id", "song_name"),
          "career statistics per song, whether it is a cover, its first studio release",
          depends_on=("song_performances", "album_tracks")),
    Table("album_stats", "gold", ("album_slug",),
          "per studio album: tracks played live, live performances, most/least played, played in full",
          depends_on=("song_performances", "album_tracks")),
    Table("show_summary", "gold", ("show_id",), "one row per show, with its readable setlist",
          depends_on=("song_performances",)),
    Table("venue_stats", "gold", ("venue_id",), "shows, songs, debuts and bustouts per venue",
          depends_on=("song_performances", "show_summary")),
    Table("year_stats", "gold", ("year",), "shows, songs, debuts and bustouts per year",
          depends_on=("song_performances",)),
    Table("tour_stats", "gold", ("tour_id",), "shows, songs, debuts and bustouts per tour",
          depends_on=("song_performances", "show_summary")),
    Table("segues", "gold", ("from_song_id", "from_song_name", "to_song_id", "to_song_name"),
          "how often one song went into another", depends_on=("song_performances",)),
)
# fmt: on

# Gold's steps around its tables: prepare creates gold_next, chatbot adds the readers' views and functions
# over every table, publish swaps gold_next in for gold.
GOLD_PREPARE, GOLD_CHATBOT, GOLD_PUBLISH = "prepare", "chatbot", "publish"


def tables(layer: str) -> tuple[Table, ...]:
    """The tables of ``layer`` in dependency order: each after its ``upstream``, otherwise as declared."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    pending = [t for t in TABLES if t.layer == layer]
    names = {t.name for t in pending}
    for candidate in pending:
        unknown = [u for u in candidate.upstream if u not in names]
        if unknown:
            raise ValueError(f"{candidate.qualified_name} depends on {unknown}, which are not {layer} tables")
    ordered: list[Table] = []
    while pending:
        built = {t.name for t in ordered}
        ready = next((t for t in pending if set(t.upstream) <= built), None)
        if ready is None:
            raise ValueError(f"the {layer} tables {[t.name for t in pending]} depend on each other in a cycle")
        ordered.append(ready)
        pending.remove(ready)
    return tuple(ordered)


def table(layer_or_schema: str, name: str) -> Table:
    """The table ``name`` of a layer (or its schema); a clear error for any other name (e.g. one from a URL)."""
    layer = {schema: layer for layer, schema in SCHEMAS.items()}.get(layer_or_schema, layer_or_schema)
    for candidate in TABLES:
        if candidate.layer == layer and candidate.name == name:
            return candidate
    known = ", ".join(t.name for t in tables(layer)) if layer in LAYERS else ""
    raise KeyError(f"no {layer} table {name!r}; the {layer} tables are: {known}")


def names(layer: str) -> tuple[str, ...]:
    return tuple(t.name for t in tables(layer))


METHODS: tuple[str, ...] = names("bronze")
SILVER_TABLES: tuple[str, ...] = names("silver")
GOLD_TABLES: tuple[str, ...] = names("gold")
GOLD_STEPS: tuple[str, ...] = (GOLD_PREPARE, *GOLD_TABLES, GOLD_CHATBOT, GOLD_PUBLISH)
DAG_IDS: dict[str, str] = {layer: f"elgoose_{layer}" for layer in LAYERS}
