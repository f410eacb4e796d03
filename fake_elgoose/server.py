"""A fake ElGoose API (elgoose.net ``/api/v2``) served from memory or from files.

It mirrors the behaviour of the real API that the pipeline depends on (URL shapes,
the silent 4000-row cap, the JSON envelope, HTML pages for bad methods/columns,
HTTP 403 for library-default User-Agents) and lets tests inject faults (5xx, 429,
slow or stalled responses, truncated bodies, connection resets, error envelopes,
responses of exactly 4000 rows, empty data).

Standard library + orjson only.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as _dt
import html
import http.server
import json
import os
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

import orjson

from elgoose import registry

#: The API methods served: the warehouse registry's bronze tables.
METHODS: tuple[str, ...] = registry.METHODS


def _cols(text: str) -> tuple[str, ...]:
    """Column names written as one space-separated string."""
    return tuple(text.split())


#: Column matched by ``/{method}/{id}.json``. ``None``: the method has no row id
#: (appearances, metadata), so an id path returns ``data: []``.
KEY_FIELDS: dict[str, str | None] = {
    "setlists": "uniqueid",
    "latest": "uniqueid",
    "jamcharts": "uniqueid",
    "shows": "show_id",
    "songs": "id",
    "uploads": "id",
    "venues": "venue_id",
    "links": "link_id",
    "appearances": None,
    "metadata": None,
}

_SETLIST_COLUMNS = _cols(
    "uniqueid show_id showdate showtime showtitle artist song_id songname artist_id permalink settype setnumber "
    "position tracktime transition_id transition footnote footnotes isjamchart jamchart_notes venue_id shownotes "
    "showyear showorder opener tour_id tourname soundcheck isverified slug isoriginal original_artist venuename "
    "city state country timezone isreprise isjam css_class isrecommended"
)

#: Columns the real tables are known to have. A filter on one of these is valid even
#: when the method currently has no rows; any column present in a row is valid too.
KNOWN_COLUMNS: dict[str, frozenset[str]] = {
    "setlists": frozenset(_SETLIST_COLUMNS),
    "latest": frozenset(_SETLIST_COLUMNS),
    "shows": frozenset(
        _cols(
            "show_id showdate showtime permalink artist_id artist showtitle venue_id venuename location city "
            "state country timezone tour_id tourname showorder show_year show_day show_dayname show_month "
            "show_monthname updated_at created_at show_tags"
        )
    ),
    "songs": frozenset(_cols("id name slug isoriginal original_artist created_at updated_at")),
    "venues": frozenset(_cols("venue_id venuename city state country zip capacity slug")),
    "jamcharts": frozenset(
        _cols(
            "uniqueid setnumber position footnote tracktime jamchartnote song_id isrecommended showid songname "
            "song_slug showdate artist_id artist artist_slug venuename venue_slug city state country permalink"
        )
    ),
    "appearances": frozenset(
        _cols("show_id showdate artist_id artist_name person_id personname slug appearance_type notes")
    ),
    "links": frozenset(_cols("link_id show_id description url updated_at")),
    "uploads": frozenset(_cols("id show_id showdate URL img_name upload_type attribution created_at")),
    "metadata": frozenset(
        _cols(
            "meta_name metadata_slug value data_type show_id song_id songname song_slug showdate artist_id artist "
            "permalink venuename city state country"
        )
    ),
}

DEFAULT_CAP = 4000
API_PREFIX = "/api/v2"
FAULTS = ("status", "rate_limit", "slow", "stall", "truncate", "reset", "html", "error", "exact_cap", "empty")
BLOCKED_UA_PREFIXES = (
    "python-requests",
    "python-urllib",
    "curl/",
    "wget",
    "go-http-client",
    "aiohttp",
    "httpx",
)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
FIXTURE_GOLDEN_RECORDS = FIXTURES_DIR / "golden_records.json"

_HTML_NOT_FOUND = (
    "<!DOCTYPE html>\n<html><head><title>ElGoose API</title></head>"
    "<body><h1>Error</h1><p>No results found. Invalid method or column.</p></body></html>\n"
)
_HTML_ERROR = (
    "<!DOCTYPE html>\n<html><head><title>Error</title></head>"
    "<body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>\n"
)
_HTML_FORBIDDEN = (
    "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>"
    "<body><h1>403 Forbidden</h1><p>Please send a descriptive User-Agent.</p></body></html>\n"
)


# --------------------------------------------------------------------------- loading


def _read_json(path: Path) -> Any:
    return json.loads(path.read_bytes().decode("utf-8-sig"))


def _rows_of(doc: Any, path: Path) -> list[dict]:
    if isinstance(doc, dict) and "data" in doc:
        doc = doc["data"]
    if not isinstance(doc, list):
        raise ValueError(f"{path}: expected a JSON list of rows or an envelope with 'data'")
    return doc


def load_fixtures(path: str | os.PathLike[str] | None = None) -> dict[str, list[dict]]:
    """Load the bundled hand-made fixtures: ``{method: [row, ...]}`` for every method.

    Each ``<method>.json`` in the folder is a plain JSON list of rows (an envelope
    with ``data`` is accepted too). Missing files give an empty list.
    """
    folder = Path(path) if path is not None else FIXTURES_DIR
    data: dict[str, list[dict]] = {}
    for method in METHODS:
        f = folder / f"{method}.json"
        data[method] = _rows_of(_read_json(f), f) if f.exists() else []
    return data


def slugify(text: str) -> str:
    """Lower-case ASCII slug: entities decoded, apostrophes dropped, others -> '-'."""
    text = html.unescape(text or "").lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _location(city: str, state: str, country: str) -> str:
    return ", ".join(p for p in (city, state, country) if p)


def _show_from_setlist_row(row: Mapping[str, Any]) -> dict[str, Any]:
    day = _dt.date.fromisoformat(str(row["showdate"]))
    city, state, country = row.get("city") or "", row.get("state") or "", row.get("country") or ""
    return {
        "show_id": row["show_id"],
        "showdate": row["showdate"],
        "showtime": row.get("showtime"),
        "permalink": row.get("permalink"),
        "artist_id": row.get("artist_id"),
        "artist": row.get("artist"),
        "showtitle": row.get("showtitle") or "",
        "venue_id": row.get("venue_id"),
        "venuename": row.get("venuename"),
        "location": _location(city, state, country),
        "city": city,
        "state": state,
        "country": country,
        "timezone": row.get("timezone"),
        "tour_id": row.get("tour_id"),
        "tourname": row.get("tourname"),
        "showorder": row.get("showorder"),
        "show_year": day.year,
        "show_day": day.day,
        "show_dayname": calendar.day_name[day.weekday()],
        "show_month": day.month,
        "show_monthname": calendar.month_name[day.month],
        "updated_at": None,
        "created_at": None,
        "show_tags": [],
    }


def _jamchart_from_setlist_row(row: Mapping[str, Any], venue_slugs: Mapping[Any, str]) -> dict:
    venue_slug = venue_slugs.get(row.get("venue_id")) or slugify(
        " ".join(str(row.get(k) or "").replace("&amp;", "amp") for k in ("venuename", "city", "state", "country"))
    )
    return {
        "uniqueid": row["uniqueid"],
        "setnumber": row.get("setnumber"),
        "position": row.get("position"),
        "footnote": row.get("footnote"),
        "tracktime": row.get("tracktime"),
        "jamchartnote": row.get("jamchart_notes"),
        "song_id": row.get("song_id"),
        "isrecommended": row.get("isrecommended"),
        "showid": row.get("show_id"),
        "songname": row.get("songname"),
        "song_slug": row.get("slug"),
        "showdate": row.get("showdate"),
        "artist_id": row.get("artist_id"),
        "artist": row.get("artist"),
        "artist_slug": slugify(str(row.get("artist") or "")),
        "venuename": row.get("venuename"),
        "venue_slug": venue_slug,
        "city": row.get("city"),
        "state": row.get("state"),
        "country": row.get("country"),
        "permalink": row.get("permalink"),
    }


def load_snapshot(path: str | os.PathLike[str]) -> dict[str, list[dict]]:
    """Build ``{method: rows}`` from the third-party snapshot folder (read at run time).

    The snapshot holds ``setlists_showyear_YYYY.json`` (all artists), a newer 41-key
    ``setlists_showdate_2022-06-24.json``, ``songs.json``, ``venues.json`` and a
    5-row ``shows_sample.json``; files are envelopes, possibly with a UTF-8 BOM.

    - setlists: the union of the year files in file order; rows of any
      ``setlists_showdate_*.json`` replace the rows with the same ``uniqueid``
      (in place), new ones are appended.
    - songs, venues: as given.
    - shows, jamcharts, latest are DERIVED, because the snapshot does not contain them:
      shows = the sample shows plus one row built from the first setlist row of every
      other show_id (``updated_at``/``created_at`` null, ``show_tags`` []);
      jamcharts = one jamcharts-shaped row per setlist row with ``isjamchart == 1``;
      latest = the setlist rows of the most recent Goose show (artist_id 1) by
      ``(showdate, showorder, show_id)``.
    - every other method (appearances, links, uploads, metadata, and any method added to the registry
      later): empty.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"snapshot folder not found: {folder}")

    def rows(name: str) -> list[dict]:
        f = folder / name
        return _rows_of(_read_json(f), f) if f.exists() else []

    setlists: list[dict] = []
    for f in sorted(folder.glob("setlists_showyear_*.json")):
        setlists.extend(_rows_of(_read_json(f), f))
    for f in sorted(folder.glob("setlists_showdate_*.json")):
        newer = _rows_of(_read_json(f), f)
        index = {str(r.get("uniqueid")): i for i, r in enumerate(setlists)}
        for r in newer:
            i = index.get(str(r.get("uniqueid")))
            if i is None:
                index[str(r.get("uniqueid"))] = len(setlists)
                setlists.append(r)
            else:
                setlists[i] = r

    songs = rows("songs.json")
    venues = rows("venues.json")

    shows = list(rows("shows_sample.json"))
    seen = {s.get("show_id") for s in shows}
    for r in setlists:
        if r.get("show_id") not in seen:
            seen.add(r.get("show_id"))
            shows.append(_show_from_setlist_row(r))

    venue_slugs = {v.get("venue_id"): v.get("slug") for v in venues}
    jamcharts = [_jamchart_from_setlist_row(r, venue_slugs) for r in setlists if r.get("isjamchart") == 1]

    goose = [r for r in setlists if r.get("artist_id") == 1]
    latest: list[dict] = []
    if goose:
        last = max(goose, key=lambda r: (str(r["showdate"]), r.get("showorder") or 0, r["show_id"]))
        latest = [r for r in goose if r["show_id"] == last["show_id"]]
        latest.sort(key=lambda r: r.get("position") or 0)

    held = {
        "venues": venues,
        "shows": shows,
        "songs": songs,
        "setlists": setlists,
        "latest": latest,
        "jamcharts": jamcharts,
    }
    # every other method of the registry (appearances, links, uploads, metadata, ...): none in the snapshot
    return {method: held.get(method, []) for method in METHODS}


# --------------------------------------------------------------------------- helpers


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    return (2, 0, str(value))


def _match(value: Any, wanted: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return wanted in (str(int(value)), str(value).lower())
    return str(value) == wanted


def _synthesize(rows: list[dict], method: str, n: int) -> list[dict]:
    """Exactly n rows: the given rows, then renumbered copies of them (or stubs)."""
    if len(rows) >= n:
        return rows[:n]
    key = KEY_FIELDS.get(method)
    out = list(rows)
    template = rows or [{key or "id": 0}]
    next_id = 1
    if key:
        nums = [int(r[key]) for r in template if str(r.get(key, "")).lstrip("-").isdigit()]
        next_id = (max(nums) + 1) if nums else 1
    copy_no = 0
    while len(out) < n:
        copy_no += 1
        for src in template:
            if len(out) >= n:
                break
            row = dict(src)
            if key:
                row[key] = str(next_id) if isinstance(src.get(key), str) else next_id
                next_id += 1
            if method in ("setlists", "latest", "jamcharts") and isinstance(row.get("position"), int):
                row["position"] = row["position"] + 1000 * copy_no
            out.append(row)
    return out


def _envelope(rows: list[dict], *, error: Any = False, message: str = "") -> bytes:
    return orjson.dumps({"error": error, "error_message": message, "data": rows})


class _Fault:
    __slots__ = ("kind", "remaining", "kw")

    def __init__(self, kind: str, remaining: int, kw: dict[str, Any]):
        self.kind, self.remaining, self.kw = kind, remaining, kw


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeElGoose

    def handle_error(self, request, client_address):  # noqa: ANN001
        if self.fake.verbose:
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as production web servers set it: with Nagle's algorithm the body's first segment waits
    # for the client's delayed ACK of the headers, 40 ms per response on Linux loopback
    disable_nagle_algorithm = True
    server_version = "FakeElGoose/1.0"
    sys_version = ""
    timeout = 60
    server: _HTTPServer

    # -- plumbing ---------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.fake.verbose:
            super().log_message(format, *args)

    def _not_allowed(self) -> None:
        self._send_simple(405, _HTML_ERROR.encode(), "text/html; charset=UTF-8", {"Allow": "GET"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    def _send_simple(
        self,
        code: int,
        body: bytes,
        ctype: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if code != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and code != 204:
            self.wfile.write(body)

    def _html(self, code: int, page: str) -> None:
        self._send_simple(code, page.encode(), "text/html; charset=UTF-8")

    # -- request ----------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        fake = self.server.fake
        split = urlsplit(self.path)
        path = split.path
        method = self._method_of(path)
        fake._record(method, self.path, dict(self.headers.items()))
        try:
            self._handle_get(fake, path, split.query, method)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    @staticmethod
    def _method_of(path: str) -> str | None:
        if not path.startswith(API_PREFIX + "/"):
            return None
        first = path[len(API_PREFIX) + 1 :].split("/", 1)[0]
        if not first:
            return None
        return unquote(first.removesuffix(".json").removesuffix(".html"))

    def _handle_get(self, fake: FakeElGoose, path: str, query: str, method: str | None) -> None:
        ua = (self.headers.get("User-Agent") or "").strip()
        if not ua or ua.lower().startswith(BLOCKED_UA_PREFIXES):
            self._html(403, _HTML_FORBIDDEN)
            return
        if path.rstrip("/") == API_PREFIX:
            self._send_simple(204, b"")
            return
        if method is None:
            self._html(404, _HTML_NOT_FOUND)
            return

        fault = fake._take_fault(method)
        kind = fault.kind if fault else None
        kw = fault.kw if fault else {}

        if kind == "slow":
            time.sleep(float(kw.get("seconds", 1.0)))
        elif kind == "status":
            code = int(kw.get("code", 500))
            body = kw.get("body", f"<html><body><h1>{code} Error</h1></body></html>\n")
            self.close_connection = True
            self._send_simple(code, str(body).encode(), "text/html; charset=UTF-8")
            return
        elif kind == "rate_limit":
            self._send_simple(
                429,
                b"<html><body><h1>429 Too Many Requests</h1></body></html>\n",
                "text/html; charset=UTF-8",
                {"Retry-After": str(kw.get("retry_after", 1))},
            )
            return
        elif kind == "html":
            self._html(200, _HTML_ERROR)
            return
        elif kind == "error":
            error: Any = 1 if kw.get("error_int") else True
            body = _envelope([], error=error, message=str(kw.get("message", "Invalid request")))
            self._send_simple(200, body, "application/json")
            return
        elif kind == "empty":
            self._send_simple(200, _envelope([]), "application/json")
            return

        resolved = self._resolve(fake, path, query, method, exact_cap=(kind == "exact_cap"))
        if resolved is None:
            self._html(200, _HTML_NOT_FOUND)
            return
        body, file_path = resolved
        size = os.path.getsize(file_path) if file_path is not None else len(body)
        self._send_body(size, body, file_path, kind, kw)

    def _resolve(
        self, fake: FakeElGoose, path: str, query: str, method: str, *, exact_cap: bool
    ) -> tuple[bytes, str | None] | None:
        """Return (body, None) or (b"", file_path); None means 'HTML not-found page'."""
        rest = path[len(API_PREFIX) + 1 :]
        if not rest.endswith(".json"):
            return None
        parts = [unquote_plus(p) for p in rest[: -len(".json")].split("/")]
        if not fake._has_method(method) or any(p == "" for p in parts):
            return None
        if len(parts) > 3:
            return None

        if len(parts) == 1 and not exact_cap:
            file_path = fake._file_for(method)
            if file_path is not None:
                return b"", file_path

        all_rows = fake._rows(method)
        if len(parts) == 1:
            rows = all_rows
        elif len(parts) == 2:
            key = KEY_FIELDS.get(method)
            rows = [r for r in all_rows if key and _match(r.get(key), parts[1])]
        else:
            col = fake._column(method, parts[1])
            if col is None:
                return None
            rows = [r for r in all_rows if _match(r.get(col), parts[2])]

        params = parse_qs(query, keep_blank_values=True)
        order_by = (params.get("order_by") or [""])[-1]
        direction = (params.get("direction") or ["asc"])[-1].lower()
        if order_by:
            col = fake._column(method, order_by)
            # docs: "sorts by a nonexistent column ... you may end up with no data in your response"
            rows = [] if col is None else sorted(rows, key=lambda r: _sort_key(r.get(col)), reverse=direction == "desc")

        if exact_cap:
            source = rows or all_rows
            rows = _synthesize(list(source), method, DEFAULT_CAP)
        else:
            limit = DEFAULT_CAP
            raw = (params.get("limit") or [""])[-1].strip()
            if raw:
                try:
                    limit = max(int(raw), 0)
                except ValueError:
                    limit = DEFAULT_CAP
            rows = rows[:limit]
        return _envelope(list(rows)), None

    # -- body delivery (with body-level faults) -----------------------------------

    def _send_body(self, size: int, body: bytes, file_path: str | None, kind: str | None, kw: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        if kind in ("truncate", "reset", "stall"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

        half = size // 2
        if kind is None or kind in ("slow", "exact_cap"):
            self._write_range(body, file_path, 0, size)
        elif kind == "stall":
            self._write_range(body, file_path, 0, half)
            time.sleep(float(kw.get("seconds", 1.0)))
            self._write_range(body, file_path, half, size)
        elif kind == "truncate":
            self._write_range(body, file_path, 0, half)
        elif kind == "reset":
            self._write_range(body, file_path, 0, half)
            self._abort()

    def _write_range(self, body: bytes, file_path: str | None, start: int, end: int) -> None:
        if end <= start:
            return
        if file_path is None:
            self.wfile.write(body[start:end])
            return
        with open(file_path, "rb") as fh:
            # zero-copy where the OS allows it; socket.sendfile falls back to chunked send()
            self.connection.sendfile(fh, offset=start, count=end - start)

    def _abort(self) -> None:
        """Close the socket with SO_LINGER 0 so the peer gets a TCP RST."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # the fd is really closed (-> RST) once rfile is closed in finish()
        self.connection.close()


# --------------------------------------------------------------------------- server


class FakeElGoose:
    """In-process fake of the ElGoose v2 API.

    ``data`` maps method -> list of rows; tests may mutate it between requests.
    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        data: Mapping[str, list[dict]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        verbose: bool = False,
    ) -> None:
        self.data: dict[str, list[dict]] = {m: [] for m in METHODS}
        if data is not None:
            self.data.update({k: v for k, v in data.items()})
        self.host = host
        self.port = port
        self.verbose = verbose
        self.requests: list[tuple[str | None, str, dict[str, str]]] = []
        self._files: dict[str, str] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeElGoose:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-elgoose-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeElGoose:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}{API_PREFIX}"

    # -- configuration ----------------------------------------------------------------

    def set_rows(self, method: str, rows: Iterable[dict]) -> None:
        """Serve these rows for ``method`` (drops a file set with :meth:`set_file`)."""
        with self._lock:
            self.data[method] = list(rows)
            self._files.pop(method, None)

    def set_file(self, method: str, path: str | os.PathLike[str] | None) -> None:
        """Serve a pre-serialized envelope file for the bare ``/{method}.json`` call.

        The file is streamed from disk in chunks, never read whole; limit/cap and
        ordering do not apply. ``None`` removes it. Filter and id paths still use
        ``data``.
        """
        with self._lock:
            if path is None:
                self._files.pop(method, None)
                return
            p = os.fspath(path)
            if not os.path.isfile(p):
                raise FileNotFoundError(p)
            self._files[method] = p

    def inject(self, method: str, fault: str, times: int = 1, **kw: Any) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``method`` ("*" = any).

        Faults for one method are consumed in the order they were queued; a
        method-specific fault wins over a "*" fault. Requests refused with 403 do
        not consume faults.

        - ``status`` (``code=500``, optional ``body``): that status, small HTML body.
        - ``rate_limit`` (``retry_after=1``): 429 with ``Retry-After``.
        - ``slow`` (``seconds=1``): sleep, then answer normally.
        - ``stall`` (``seconds=1``): headers and half the body, sleep, then the rest.
        - ``truncate``: full Content-Length, half the body, then close.
        - ``reset``: headers and half the body, then close with SO_LINGER 0 (TCP RST).
        - ``html``: HTTP 200 with an HTML error page.
        - ``error`` (``message="Invalid request"``, ``error_int=False``): HTTP 200 with
          ``{"error": true|1, "error_message": message, "data": []}``.
        - ``exact_cap``: exactly 4000 rows whatever the ``limit`` (the matching rows,
          else all rows of the method, repeated with renumbered keys when fewer).
        - ``empty``: ``data: []``.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        if times < 1:
            return
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(fault, int(times), dict(kw)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- used by the handler ------------------------------------------------------------

    def _record(self, method: str | None, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.pop(0)
                    return fault
        return None

    def _has_method(self, method: str) -> bool:
        return method in METHODS or method in self.data or method in self._files

    def _rows(self, method: str) -> list[dict]:
        return list(self.data.get(method) or [])

    def _file_for(self, method: str) -> str | None:
        with self._lock:
            return self._files.get(method)

    def _column(self, method: str, name: str) -> str | None:
        """The real column for a case-insensitive name, or None if the table has no such column."""
        wanted = name.lower()
        for col in KNOWN_COLUMNS.get(method, ()):
            if col.lower() == wanted:
                return col
        seen_shapes: set[int] = set()
        for row in self.data.get(method) or []:
            shape = hash(tuple(row))
            if shape in seen_shapes:
                continue
            seen_shapes.add(shape)
            for k in row:
                if k.lower() == wanted:
                    return k
        return None
