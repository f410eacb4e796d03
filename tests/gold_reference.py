"""Gold as plain Python over the API rows: the independent reference the gold tests compare with.

It never looks at SQL: it filters the artist's rows, orders shows by (showdate, showorder, show_id),
identifies songs (song_id, or the decoded name of a free-text ``_custom_`` song) and counts.
Albums (one API row per track) are read the same way: ``album_track`` types one row as silver should.
"""

from __future__ import annotations

import collections
import datetime as dt
import html
import math
import re
from decimal import ROUND_HALF_UP, Decimal

GOOSE = 1
BUSTOUT = 5


def _text(value) -> str | None:
    """Silver's clean_text: decode HTML entities, trim, blank is None."""
    if value is None:
        return None
    value = html.unescape(str(value)).strip()
    return value or None


def _seconds(tracktime) -> int | None:
    if not tracktime or not str(tracktime).strip():
        return None
    parts = [int(p) for p in str(tracktime).strip().split(":")]
    return parts[0] * 3600 + parts[1] * 60 + parts[2] if len(parts) == 3 else parts[0] * 60 + parts[1]


def _is_custom(row: dict) -> bool:
    return row.get("song_id") in (None, "", 1, "1") or row.get("slug") == "_custom_"


def _song_key(row: dict) -> tuple:
    return ("name", _text(row["songname"])) if _is_custom(row) else ("id", int(row["song_id"]))


def _flag(value) -> bool | None:
    """A 0/1 flag as upstream writes it (number, numeric string, boolean); None for anything else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    return {"1": True, "true": True, "0": False, "false": False}.get(text)


def _int(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else None


def _timestamp(value) -> dt.datetime | None:
    """'YYYY-MM-DD HH:MM:SS' as UTC; the 1000-01-01 sentinel and anything else are None."""
    if not isinstance(value, str) or value.startswith("1000-01-01"):
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def release_date(text) -> dt.date | None:
    """A release date as served, with or without a time of day, when it is a calendar date."""
    pattern = r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"
    if not isinstance(text, str) or not re.fullmatch(pattern, text.strip()):
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def html_text(value) -> str | None:
    """Album notes as plain text: <br> and paragraph ends are line breaks, other tags go, entities decoded."""
    if value is None:
        return None
    text = re.sub(r"<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|h[1-6])\s*>", "\n", str(value), flags=re.IGNORECASE)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"\s*\n\s*", "\n", text)
    return html.unescape(text).strip(" \t\r\n") or None


def album_track(row: dict) -> dict:
    """One albums API row typed as silver.album_tracks should hold it (song_id aside: it needs the catalogue)."""
    album = re.fullmatch(r"/albums/([^/?#]+)", str(row.get("album_url") or ""))
    song = re.fullmatch(r"/song/([^/?#]+)", str(row.get("song_url") or ""))
    release_text = str(row.get("releasedate") or "").strip() or None
    return {
        "album_slug": album.group(1) if album else None,
        "disc_number": _int(row.get("disc_number")),
        "position": _int(row.get("position")),
        "album_title": _text(row.get("album_title")),
        "album_display_name": _text(row.get("album_displayname")),
        "artist_id": _int(row.get("artist_id")),
        "artist": _text(row.get("artist")),
        "release_date": release_date(release_text),
        "release_date_text": release_text,
        "album_notes": html_text(row.get("album_notes")),
        "is_live": _flag(row.get("islive")),
        "album_updated_at": _timestamp(row.get("album_updated_at")),
        "song_name": _text(row.get("song_name")),
        "song_slug": song.group(1) if song else None,
        "original_artist": _text(row.get("original_artist")),
        "track_seconds": _seconds(row.get("tracktime")),
        "updated_at": _timestamp(row.get("track_updated_at")),
    }


def album_track_reject(row: dict, track: dict) -> str | None:
    """Why silver quarantines this albums row, or None."""
    if track["album_slug"] is None:
        return "album_url"
    if track["disc_number"] is None:
        return "disc_number"
    if track["position"] is None:
        return "position"
    served_key = "|".join(str(row.get(k)) for k in ("album_url", "disc_number", "position"))
    if served_key != f"/albums/{track['album_slug']}|{track['disc_number']}|{track['position']}":
        return "key"
    if track["album_title"] is None:
        return "album_title"
    if track["song_name"] is None:
        return "song_name"
    return None


def album_tracks(rows: list[dict], songs: list[dict]) -> dict[tuple, dict]:
    """The newest usable version of every track, typed, with its catalogue song_id: (slug, disc, position) -> it."""
    slug_to_song: dict[str, int] = {}
    for song in songs:
        if song.get("slug") and int(song["id"]) != 1:
            slug_to_song[song["slug"]] = min(int(song["id"]), slug_to_song.get(song["slug"], int(song["id"])))
    out = {}
    for order, row in enumerate(rows):
        track = album_track(row)
        if album_track_reject(row, track):
            continue
        track["song_id"] = slug_to_song.get(track["song_slug"])
        track["order"] = order  # later rows of one pull are the newer versions
        out[(track["album_slug"], track["disc_number"], track["position"])] = track
    return out


def albums(tracks: dict[tuple, dict]) -> dict[str, dict]:
    """silver.albums from the typed tracks: the album's fields from its newest track row."""
    by_album = collections.defaultdict(list)
    for track in tracks.values():
        by_album[track["album_slug"]].append(track)
    out = {}
    for slug, ts in by_album.items():
        newest = max(ts, key=lambda t: (t["album_updated_at"] is not None, t["album_updated_at"] or 0, t["order"]))
        live_flags = [t["is_live"] for t in ts if t["is_live"] is not None]
        out[slug] = {
            "album_slug": slug,
            "title": newest["album_display_name"] or newest["album_title"],
            "album_title": newest["album_title"],
            "album_display_name": newest["album_display_name"],
            "artist_id": newest["artist_id"],
            "artist": newest["artist"],
            "release_date": newest["release_date"],
            "release_date_text": newest["release_date_text"],
            "notes": newest["album_notes"],
            "is_live": bool(live_flags) and all(live_flags),
            "track_count": len(ts),
            "disc_count": len({t["disc_number"] for t in ts}),
            "updated_at": max((t["album_updated_at"] for t in ts if t["album_updated_at"]), default=None),
        }
    return out


def _round2(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _c_order(name: str) -> bytes:
    """collate "C" order: UTF-8 bytes (= code point order)."""
    return name.encode()


class Reference:
    """Gold as plain Python over the API rows (method -> rows)."""

    def __init__(self, data: dict[str, list[dict]], *, artist_id: int = GOOSE, bustout_min_gap: int = BUSTOUT):
        self.artist_id = artist_id
        by_uid = {int(r["uniqueid"]): r for r in data["setlists"] if r.get("artist_id") == artist_id}
        rows = list(by_uid.values())
        self.catalogue = {int(s["id"]): s for s in data.get("songs", [])}
        jam_uids = {int(j["uniqueid"]) for j in data.get("jamcharts", [])}

        shows = collections.defaultdict(list)
        for r in rows:
            shows[int(r["show_id"])].append(r)
        for show_rows in shows.values():
            show_rows.sort(key=lambda r: (int(r["position"]), int(r["uniqueid"])))

        def show_order(show_id):
            first = shows[show_id][0]
            order = first.get("showorder")
            return (first["showdate"], math.inf if order is None else int(order), show_id)

        self.show_ids = sorted(shows, key=show_order)
        self.show_number = {show_id: i + 1 for i, show_id in enumerate(self.show_ids)}
        self.show_rows = {show_id: shows[show_id] for show_id in self.show_ids}
        self.total_shows = len(self.show_ids)
        performances = [r for show_id in self.show_ids for r in shows[show_id]]

        latest_row = {}
        for r in performances:
            latest_row[_song_key(r)] = r
        self.latest_row = latest_row

        self.perf: dict[int, dict] = {}
        last_show: dict[tuple, int] = {}
        seen: set[tuple] = set()
        for show_id in self.show_ids:
            show_rows = shows[show_id]
            sets = collections.defaultdict(list)
            for r in show_rows:
                sets[r.get("setnumber")].append(int(r["uniqueid"]))
            for r in show_rows:
                key, number, uid = _song_key(r), self.show_number[show_id], int(r["uniqueid"])
                if (key, number) in seen:
                    gap = 0
                else:
                    seen.add((key, number))
                    gap = number - last_show[key] if key in last_show else None
                    last_show[key] = number
                set_uids = sets[r.get("setnumber")]
                self.perf[uid] = {
                    "unique_id": uid,
                    "show_id": show_id,
                    "show_date": dt.date.fromisoformat(r["showdate"]),
                    "show_number": number,
                    "set_number": r.get("setnumber"),
                    "position": int(r["position"]),
                    "song_id": key[1] if key[0] == "id" else None,
                    "song_name": self.song_name(key),
                    "gap": gap,
                    "is_debut": gap is None,
                    "is_bustout": gap is not None and gap >= bustout_min_gap,
                    "track_seconds": _seconds(r.get("tracktime")),
                    "is_jamchart": r.get("isjamchart") == 1 or uid in jam_uids,
                    "is_encore": str(r.get("setnumber")).startswith("e"),
                    "opens_set": set_uids[0] == uid,
                    "closes_set": set_uids[-1] == uid,
                    "transition": r.get("transition") or "",
                    "key": key,
                }

        self.tracks = album_tracks(data.get("albums", []), list(self.catalogue.values()))
        self.albums = albums(self.tracks)

    def shows_of_song(self, song_id: int | None) -> list[int]:
        """The artist's shows, in order, at which the catalogue song was played."""
        if song_id is None:
            return []
        played = {p["show_id"] for p in self.perf.values() if p["key"] == ("id", song_id)}
        return [show_id for show_id in self.show_ids if show_id in played]

    def album_track_stats(self) -> dict[tuple, dict]:
        """gold.album_tracks: every track of the artist's albums, with its song's live plays."""
        out = {}
        for key, t in self.tracks.items():
            album = self.albums[t["album_slug"]]
            if album["artist_id"] != self.artist_id:
                continue
            shows = self.shows_of_song(t["song_id"])
            dates = [self.perf_show_date(show_id) for show_id in shows]
            original = t["original_artist"]
            out[key] = {
                "album_slug": t["album_slug"],
                "album_title": album["title"],
                "release_date": album["release_date"],
                "release_date_text": album["release_date_text"],
                "album_is_live": album["is_live"],
                "disc_number": t["disc_number"],
                "position": t["position"],
                "song_id": t["song_id"],
                "song_name": _text(self.catalogue[t["song_id"]]["name"]) if t["song_id"] else t["song_name"],
                "original_artist": original,
                "is_cover": original is not None
                and (album["artist"] is None or original.lower() != album["artist"].lower()),
                "track_seconds": t["track_seconds"],
                "times_played": len(shows),
                "first_played_date": dates[0] if dates else None,
                "last_played_date": dates[-1] if dates else None,
            }
        return out

    def _album_track_stats(self) -> list[dict]:
        if not hasattr(self, "_track_stats"):
            self._track_stats = list(self.album_track_stats().values())
        return self._track_stats

    def perf_show_date(self, show_id: int) -> dt.date:
        return dt.date.fromisoformat(self.show_rows[show_id][0]["showdate"])

    def album_stats(self) -> dict[str, dict]:
        """gold.album_stats: one row per studio album of the artist."""
        by_album = collections.defaultdict(list)
        for t in self.album_track_stats().values():
            if not t["album_is_live"]:
                by_album[t["album_slug"]].append(t)
        out = {}
        for slug, ts in by_album.items():
            ts.sort(key=lambda t: (t["disc_number"], t["position"]))
            songs = {t["song_id"]: t["times_played"] for t in ts if t["song_id"] is not None}
            most = sorted(ts, key=lambda t: (-t["times_played"], t["disc_number"], t["position"]))[0]
            least = sorted(ts, key=lambda t: (t["times_played"], t["disc_number"], t["position"]))[0]
            in_full = []
            if all(t["song_id"] is not None for t in ts):
                for show_id in self.show_ids:
                    played = {p["song_id"] for p in self.perf.values() if p["show_id"] == show_id}
                    if set(songs) <= played:
                        in_full.append(self.perf_show_date(show_id))
            out[slug] = {
                "album_slug": slug,
                "album_title": ts[0]["album_title"],
                "release_date": ts[0]["release_date"],
                "release_date_text": ts[0]["release_date_text"],
                "track_count": len(ts),
                "track_list": ", ".join(t["song_name"] for t in ts),
                "tracks_played_live": sum(t["times_played"] > 0 for t in ts),
                "live_performances": sum(songs.values()),
                "most_played_song": most["song_name"],
                "most_played_times": most["times_played"],
                "least_played_song": least["song_name"],
                "least_played_times": least["times_played"],
                "times_played_in_full": len(in_full),
                "played_in_full": bool(in_full),
                "played_in_full_dates": in_full,
            }
        return out

    def song_album_facts(self, key: tuple) -> dict:
        """song_stats' album columns: is_cover (the catalogue's flag first) and the first studio release."""
        song_id = key[1] if key[0] == "id" else None
        if song_id is not None and song_id in self.catalogue:
            flag = _flag(self.catalogue[song_id].get("isoriginal"))
        else:
            flag = _flag(self.latest_row[key].get("isoriginal"))
        tracks = [t for t in self._album_track_stats() if song_id is not None and t["song_id"] == song_id]
        albums_say_cover = any(t["is_cover"] for t in tracks) if tracks else None
        is_cover = albums_say_cover if flag is None else not flag
        studio = sorted(
            (t for t in tracks if not t["album_is_live"]),
            key=lambda t: (
                t["release_date"] is None,
                t["release_date"] or dt.date.min,
                _c_order(t["album_slug"]),
                t["disc_number"],
                t["position"],
            ),
        )
        first = studio[0] if studio else None
        return {
            "is_cover": is_cover,
            "first_studio_album": first["album_title"] if first else None,
            "first_studio_album_slug": first["album_slug"] if first else None,
            "first_studio_release_date": first["release_date"] if first else None,
        }

    def song_name(self, key: tuple) -> str:
        if key[0] == "id" and key[1] in self.catalogue:
            return _text(self.catalogue[key[1]]["name"])
        return _text(self.latest_row[key]["songname"])

    def performances_of(self, key: tuple) -> list[dict]:
        return [p for p in self.perf.values() if p["key"] == key]

    def song_stats(self) -> dict[tuple, dict]:
        out = {}
        for key in {p["key"] for p in self.perf.values()}:
            ps = sorted(self.performances_of(key), key=lambda p: (p["show_number"], p["position"]))
            gaps = [p["gap"] for p in ps if p["gap"]]
            times = [p["track_seconds"] for p in ps if p["track_seconds"] is not None]
            if key[0] == "id" and key[1] in self.catalogue:
                song = self.catalogue[key[1]]
                is_original, original_artist = song.get("isoriginal") == 1, _text(song.get("original_artist"))
            else:
                row = self.latest_row[key]
                is_original, original_artist = row.get("isoriginal") == 1, _text(row.get("original_artist"))
            song_id = key[1] if key[0] == "id" else None
            out[(song_id, self.song_name(key))] = {
                "song_id": song_id,
                "song_name": self.song_name(key),
                "is_original": is_original,
                "original_artist": original_artist,
                "times_played": len({p["show_id"] for p in ps}),
                "debut_date": ps[0]["show_date"],
                "last_played_date": ps[-1]["show_date"],
                "current_gap": self.total_shows - ps[-1]["show_number"],
                "avg_gap": _round2(sum(gaps), len(gaps)) if gaps else None,
                "max_gap": max(gaps) if gaps else None,
                "jamchart_count": sum(p["is_jamchart"] for p in ps),
                "times_opened": sum(p["opens_set"] and not p["is_encore"] for p in ps),
                "times_closed": sum(p["closes_set"] and not p["is_encore"] for p in ps),
                "times_encore": sum(p["is_encore"] for p in ps),
                "total_track_seconds": sum(times) if times else None,
                "longest_track_seconds": max(times) if times else None,
                "last_show_id": ps[-1]["show_id"],
                **self.song_album_facts(key),
            }
        return out

    def top(self, n: int) -> list[tuple]:
        stats = self.song_stats().values()
        ranked = sorted(
            stats,
            key=lambda s: (-s["times_played"], _c_order(s["song_name"]), s["song_id"] is None, s["song_id"] or 0),
        )
        return [(s["song_id"], s["song_name"], s["times_played"]) for s in ranked[:n]]

    def setlist_text(self, show_id: int) -> str:
        rows = [self.perf[int(r["uniqueid"])] for r in self.show_rows[show_id]]
        sets = collections.OrderedDict()
        for p in rows:
            sets.setdefault(p["set_number"], []).append(p)
        parts = []
        for set_number, ps in sets.items():
            if set_number is None:
                label = "Set ?"
            elif set_number == "e":
                label = "Encore"
            elif set_number.startswith("e"):
                label = f"Encore {set_number[1:]}"
            else:
                label = f"Set {set_number}"
            text = ""
            for i, p in enumerate(ps):
                mark = p["transition"].strip()
                text += p["song_name"]
                if i < len(ps) - 1:
                    text += ", " if mark in ("", ",") else f" {mark} "
            parts.append(f"{label}: {text}")
        return "; ".join(parts)

    def segues(self) -> collections.Counter:
        out = collections.Counter()
        for show_id in self.show_ids:
            ps = [self.perf[int(r["uniqueid"])] for r in self.show_rows[show_id]]
            for this, following in zip(ps, ps[1:], strict=False):
                if this["transition"].strip() in (">", "->") and this["set_number"] == following["set_number"]:
                    out[(this["song_name"], following["song_name"])] += 1
        return out
