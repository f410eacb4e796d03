"""The ElGoose API methods pulled into bronze, and how each record's natural key is read.

To add an endpoint: add it here, add its table to a new migration under
``include/sql/migrations/``, and (for silver) a ``include/sql/silver/<table>.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    method: str
    key_fields: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"{self.method}.json"

    def external_id(self, record: dict) -> str | None:
        """The record's natural key as text, or None when a key field is missing or empty."""
        if not self.key_fields:
            return None
        parts = []
        for field in self.key_fields:
            value = record.get(field)
            if value is None or value == "" or isinstance(value, (dict, list, bool)):
                return None
            parts.append(str(value))
        return "|".join(parts)


ENDPOINTS: dict[str, Endpoint] = {
    e.method: e
    for e in (
        Endpoint("venues", ("venue_id",)),
        Endpoint("shows", ("show_id",)),
        Endpoint("songs", ("id",)),
        Endpoint("setlists", ("uniqueid",)),
        Endpoint("latest", ("uniqueid",)),
        Endpoint("jamcharts", ("uniqueid",)),
        # appearances have no row id: a person appears at a show in a role
        Endpoint("appearances", ("show_id", "person_id", "appearance_type")),
        Endpoint("links", ("link_id",)),
        Endpoint("uploads", ("id",)),
        # albums are served one row per track, keyed by (album slug, disc, position); the slug is inside
        # album_url ("/albums/<slug>"), so the key reads album_url as served: "/albums/moon-cabin|1|1"
        Endpoint("albums", ("album_url", "disc_number", "position")),
        # metadata's shape is unverified upstream; its rows are keyed by content alone
        Endpoint("metadata", ()),
    )
}
METHODS: tuple[str, ...] = tuple(ENDPOINTS)
