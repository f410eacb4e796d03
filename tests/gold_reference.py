"""Gold as plain Python over the API rows: the independent reference the gold tests compare with.

It never looks at SQL: it filters the artist's rows, orders shows by (showdate, showorder, show_id),
identifies songs (song_id, or the decoded name of a free-text ``_custom_`` song) and counts.
"""

from __future__ import annotations

import collections
import datetime as dt
import html
import math
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


def _round2(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _c_order(name: str) -> bytes:
    """collate "C" order: UTF-8 bytes (= code point order)."""
    return name.encode()


class Reference:
    """Gold as plain Python over the API rows (method -> rows)."""

    def __init__(self, data: dict[str, list[dict]], *, artist_id: int = GOOSE, bustout_min_gap: int = BUSTOUT):
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
