"""Benchmark data: the real snapshot's shape, scaled up to 1x, 10x, 100x with new, non-colliding ids.

1x is exactly what ``fake_elgoose.load_snapshot`` builds from ``<repo>/../shared/elgoose/snapshot``
(the third-party snapshot is read from there at run time and never copied into the project). Scale k
is k copies of every show: copy c gets new ids (``uniqueid + c * 10^a``, ``show_id + c * 10^b``, ...)
and its dates shifted by ``c * YEAR_STEP`` years, a multiple of 4 longer than the data's span, so the
copies follow one another and the total order of shows ``(showdate, showorder, show_id)`` stays the
real one within each copy. Songs and venues are the same catalogue at every scale; ``latest`` is the
latest show of the last copy.

Without the snapshot the bundled hand-made fixtures are scaled instead (and the bench says so).

Files are written once into ``bench/data/<source>-<scale>x/`` (git-ignored) and reused:

    <method>.json         the envelope the fake server streams (``set_file``)
    <method>.jsonl        the same records, one JSON object per line (the floor baseline's input)
    change/<method>.json  the served data after a small change: one new show (setlists, shows,
                          jamcharts appended; latest replaced by the new show)
    manifest.json         counts, bytes, source, generator version
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import sys
from pathlib import Path

import orjson

from fake_elgoose import METHODS

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_DIR = ROOT.parent / "shared" / "elgoose" / "snapshot"
DATA_DIR = ROOT / "bench" / "data"
GENERATOR_VERSION = 2

# Which fields of each method carry an id family, a date or a year (everything else is copied as is).
ROW, SHOW, LINK, UPLOAD, DATE, YEAR = "row", "show", "link", "upload", "date", "year"
FIELDS: dict[str, dict[str, str]] = {
    "setlists": {"uniqueid": ROW, "show_id": SHOW, "showdate": DATE, "showyear": YEAR},
    "latest": {"uniqueid": ROW, "show_id": SHOW, "showdate": DATE, "showyear": YEAR},
    "shows": {"show_id": SHOW, "showdate": DATE, "show_year": YEAR},
    "jamcharts": {"uniqueid": ROW, "showid": SHOW, "showdate": DATE},
    "appearances": {"show_id": SHOW, "showdate": DATE},
    "links": {"link_id": LINK, "show_id": SHOW},
    "uploads": {"id": UPLOAD, "show_id": SHOW, "showdate": DATE},
    "metadata": {"show_id": SHOW, "showdate": DATE},
}
CATALOGUES = ("songs", "venues", "albums")  # not scaled: more shows of the same songs, venues and records
CHANGED = ("setlists", "shows", "jamcharts", "latest")
ENVELOPE_HEAD = b'{"error":false,"error_message":"","data":['
ENVELOPE_TAIL = b"]}"


def base_data() -> tuple[str, Path, dict[str, list[dict]]]:
    """The 1x data: the real snapshot, or (clearly announced) the bundled fixtures."""
    from fake_elgoose import FIXTURES_DIR, load_fixtures, load_snapshot

    if SNAPSHOT_DIR.is_dir():
        return "snapshot", SNAPSHOT_DIR, load_snapshot(SNAPSHOT_DIR)
    print(
        f"[bench] WARNING: the real ElGoose snapshot is not at {SNAPSHOT_DIR}; falling back to scaling the "
        f"bundled hand-made fixtures ({FIXTURES_DIR}). The figures will NOT show real-size behaviour.",
        file=sys.stderr,
        flush=True,
    )
    return "fixtures", FIXTURES_DIR, load_fixtures()


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _add(value, offset: int):
    """value + offset, keeping its JSON type (ints stay ints, numeric strings stay strings)."""
    n = _as_int(value)
    if n is None or offset == 0:
        return value
    return str(n + offset) if isinstance(value, str) else n + offset


def _shift_date(value, years: int):
    if not isinstance(value, str) or years == 0:
        return value
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    try:
        shifted = day.replace(year=day.year + years)
    except ValueError:  # 29 February into a non-leap century year
        shifted = day.replace(year=day.year + years, day=28)
    return shifted.isoformat() + value[10:]


class Scaler:
    """Maps a base row to its copy ``c``: ids offset by c * offset of their family, dates by c * step years."""

    def __init__(self, data: dict[str, list[dict]]):
        maxima: dict[str, int] = {}
        years: list[int] = []
        for method, fields in FIELDS.items():
            for row in data.get(method, []):
                for field, family in fields.items():
                    value = row.get(field)
                    if family == DATE:
                        if isinstance(value, str) and value[:4].isdigit():
                            years.append(int(value[:4]))
                    elif family != YEAR and (n := _as_int(value)) is not None:
                        maxima[family] = max(maxima.get(family, 0), n)
        self.offsets = {family: 10 ** len(str(top)) for family, top in maxima.items()}
        span = (max(years) - min(years) + 1) if years else 1
        self.year_step = 4 * math.ceil(span / 4) if span % 4 else span + 4
        if self.year_step <= span:
            self.year_step += 4

    def row(self, method: str, row: dict, copy: int) -> dict:
        if copy == 0:
            return row
        out = dict(row)
        for field, family in FIELDS.get(method, {}).items():
            if field not in out:
                continue
            if family == DATE:
                out[field] = _shift_date(out[field], copy * self.year_step)
            elif family == YEAR:
                out[field] = _add(out[field], copy * self.year_step)
            else:
                out[field] = _add(out[field], copy * self.offsets.get(family, 0))
        return out


def _write_envelope(path: Path, rows_bytes) -> tuple[int, int]:
    count = 0
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(ENVELOPE_HEAD)
        for blob in rows_bytes:
            if count:
                f.write(b",")
            f.write(blob)
            count += 1
        f.write(ENVELOPE_TAIL)
    return count, path.stat().st_size


def _append_to_envelope(source: Path, target: Path, rows: list[dict], source_count: int) -> None:
    """``target`` = ``source`` with ``rows`` appended to its data, streamed (never read whole)."""
    size = source.stat().st_size
    with open(source, "rb") as src, open(target, "wb") as dst:
        remaining = size - len(ENVELOPE_TAIL)
        while remaining > 0:
            block = src.read(min(remaining, 8 << 20))
            dst.write(block)
            remaining -= len(block)
        for i, row in enumerate(rows):
            if source_count or i:
                dst.write(b",")
            dst.write(orjson.dumps(row))
        dst.write(ENVELOPE_TAIL)


def _jsonl_line(blob: bytes) -> bytes:
    # PostgreSQL's jsonb cannot hold U+0000 (bronze marks it the same way)
    return (blob.replace(b"\\u0000", b"\\ufffd") if b"\\u0000" in blob else blob) + b"\n"


def data_dir(source: str, scale: int) -> Path:
    return DATA_DIR / f"{source}-{scale}x"


def ensure(scale: int, *, regenerate: bool = False) -> tuple[Path, dict]:
    """Generate the files of ``scale`` unless a complete set of this generator version is there."""
    source, source_dir, base = base_data()
    folder = data_dir(source, scale)
    manifest_path = folder / "manifest.json"
    if not regenerate and manifest_path.exists():
        manifest = orjson.loads(manifest_path.read_bytes())
        current = manifest.get("version") == GENERATOR_VERSION and manifest.get("scale") == scale
        if current and set(manifest.get("records", ())) == set(METHODS):  # a method added since: generate again
            return folder, manifest
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "change").mkdir(parents=True)
    scaler = Scaler(base)
    counts: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for method in METHODS:
        rows = base.get(method, [])
        if method in CATALOGUES:
            copies = [(0, rows)]
        elif method == "latest":
            copies = [(scale - 1, rows)]
        else:
            copies = [(c, rows) for c in range(scale)]
        with open(folder / f"{method}.jsonl", "wb", buffering=1 << 20) as jsonl:

            def blobs(copies=copies, method=method, jsonl=jsonl):
                for c, rows in copies:
                    for row in rows:
                        blob = orjson.dumps(scaler.row(method, row, c))
                        jsonl.write(_jsonl_line(blob))
                        yield blob

            counts[method], sizes[method] = _write_envelope(folder / f"{method}.json", blobs())

    change = one_new_show(base, scaler, scale)
    for method in CHANGED:
        if method == "latest":
            _write_envelope(folder / "change" / "latest.json", (orjson.dumps(r) for r in change["latest"]))
        else:
            _append_to_envelope(
                folder / f"{method}.json", folder / "change" / f"{method}.json", change[method], counts[method]
            )
    manifest = {
        "version": GENERATOR_VERSION,
        "scale": scale,
        "source": source,
        "source_dir": str(source_dir),
        "records": counts,
        "bytes": sizes,
        "year_step": scaler.year_step,
        "offsets": scaler.offsets,
        "change": {m: len(change[m]) for m in CHANGED},
        "change_show_id": change["show_id"],
    }
    manifest_path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return folder, manifest


def one_new_show(base: dict[str, list[dict]], scaler: Scaler, scale: int) -> dict:
    """One more Goose show after every served one: the base data's latest show as copy ``scale``."""
    latest = base.get("latest") or []
    if latest:
        show_id = latest[0]["show_id"]
    else:
        goose = [r for r in base["setlists"] if r.get("artist_id") == 1]
        show_id = max(goose, key=lambda r: (str(r["showdate"]), r.get("showorder") or 0, r["show_id"]))["show_id"]
    setlists = [r for r in base["setlists"] if r.get("show_id") == show_id]
    uniqueids = {str(r.get("uniqueid")) for r in setlists}
    return {
        "show_id": _add(show_id, scale * scaler.offsets.get(SHOW, 0)),
        "setlists": [scaler.row("setlists", r, scale) for r in setlists],
        "shows": [scaler.row("shows", r, scale) for r in base["shows"] if r.get("show_id") == show_id],
        "jamcharts": [
            scaler.row("jamcharts", r, scale) for r in base["jamcharts"] if str(r.get("uniqueid")) in uniqueids
        ],
        "latest": [scaler.row("latest", r, scale) for r in latest],
    }
