"""Reading an ElGoose response: the envelope checks, the records cut from the body, their canonical form.

Pure functions of the bytes (no database), so they are tested on their own. Memory stays bounded whatever
the response size: the spooled body is cut into its records' raw bytes a window at a time (msgspec, in C),
never parsed whole, and a record is parsed only when the loader needs it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from typing import IO

import ijson
import msgspec
import orjson

from elgoose.api_client import ElGooseError

_ENVELOPE_SNIFF_BYTES = 4096
_BOM = b"\xef\xbb\xbf"
_JSON_SPACE = b" \t\r\n"
_HEAD_CHUNK = 64 * 1024
# Records are cut from the body this many bytes at a time; a window is decoded as one JSON array.
_WINDOW = 4 << 20
# A window that still holds no complete record at this size is not a response this loader accepts.
_MAX_PENDING = 256 << 20
_CUT_ATTEMPTS = 256


def canonical_json(record: dict) -> bytes:
    """Sorted-key compact JSON: equal content gives equal bytes, whatever the key order."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # orjson refuses lone surrogates; the stdlib escapes them instead of failing.
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def content_hash(canonical: bytes) -> str:
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def raw_hash(raw) -> str:
    """blake2b-128 of a record's bytes exactly as served (what current_versions.raw_hash remembers)."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def check_envelope_head(body: IO[bytes], url: str) -> None:
    """Reject HTML and error envelopes before streaming the records."""
    head = body.read(_ENVELOPE_SNIFF_BYTES)
    body.seek(0)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"{"):
        preview = stripped[:80].decode("utf-8", "replace")
        raise ElGooseError(f"{url} did not return JSON (body starts {preview!r}); not loading it")


def envelope_error(body: IO[bytes]) -> tuple[bool, str]:
    body.seek(0)
    error, message = False, ""
    for prefix, event, value in ijson.parse(body):
        if prefix == "error" and event in ("boolean", "number", "string"):
            error = bool(value) and value not in ("0", "false")
        elif prefix == "error_message" and event == "string":
            message = value
        elif prefix == "data" and event == "start_array":
            break
    return error, message


# --- cutting the body into records ----------------------------------------------------------------


class _Tail(msgspec.Struct):
    data: list[msgspec.Raw] = msgspec.field(default_factory=list)


_RAW_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])
_TAIL = msgspec.json.Decoder(_Tail)
_RECORD = msgspec.json.Decoder()


def _malformed(url: str, exc: Exception) -> ElGooseError:
    return ElGooseError(f"{url} returned malformed JSON: {exc}")


def _find_data_array(body: IO[bytes], url: str) -> int | None:
    """The offset just after the ``[`` that opens the envelope's top-level ``data`` array, or None.

    Scans only the envelope's head (the keys before ``data``), a chunk at a time.
    """
    body.seek(0)
    buf = body.read(_HEAD_CHUNK)
    base, pos = 0, 3 if buf.startswith(_BOM) else 0
    depth = 0
    key: bytes | None = None  # the last string seen where a key of the top-level object may stand
    value_of: bytes | None = None  # the top-level key whose value comes next

    def more() -> bool:
        nonlocal buf, base, pos
        chunk = body.read(_HEAD_CHUNK)
        if not chunk:
            return False
        base, buf, pos = base + pos, buf[pos:] + chunk, 0
        return True

    while True:
        if pos >= len(buf) and not more():
            return None
        c = buf[pos : pos + 1]
        if c in (b" ", b"\t", b"\r", b"\n"):
            pos += 1
        elif c == b'"':
            end = pos + 1
            while True:
                end = buf.find(b'"', end)
                if end < 0:
                    if not more():
                        return None
                    end = pos + 1
                    continue
                slashes = 0
                while buf[end - 1 - slashes : end - slashes] == b"\\":
                    slashes += 1
                if slashes % 2 == 0:
                    break
                end += 1
            key = buf[pos + 1 : end] if depth == 1 and value_of is None else None
            if depth == 1 and value_of is not None:
                value_of = None  # a string value
            pos = end + 1
        elif c == b":":
            if depth == 1:
                value_of, key = key, None
            pos += 1
        elif c in (b"{", b"["):
            if depth == 1 and value_of == b"data" and c == b"[":
                return base + pos + 1
            depth += 1
            pos += 1
        elif c in (b"}", b"]"):
            depth -= 1
            if depth == 1:
                value_of = None  # the end of a nested value
            pos += 1
        else:
            if depth == 1 and c == b",":
                value_of = None
            pos += 1


# A high-surrogate escape without its low half: ijson reads it (as "?"), msgspec refuses it. For cutting
# only, such an escape is swapped for one of the same length; the records keep their bytes as served.
_LONE_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})")


def _decode_items(decoder: msgspec.json.Decoder, doc: bytes):
    """Decode ``doc`` (an array, or the envelope's tail) into its records' raw bytes."""
    if b"\\ud" not in doc and b"\\uD" not in doc:
        items = decoder.decode(doc)
        return items if decoder is _RAW_ARRAY else items.data
    safe = _LONE_HIGH_SURROGATE.sub(rb"\\u0058", doc)
    if safe == doc:
        items = decoder.decode(doc)
        return items if decoder is _RAW_ARRAY else items.data
    items = decoder.decode(safe)
    items = items if decoder is _RAW_ARRAY else items.data
    # same length, same layout: find each record where it stands in the swapped copy, take the served bytes
    out, pos = [], doc.index(b"[") + 1
    for item in items:
        length = len(memoryview(item))
        while doc[pos : pos + 1] in (b" ", b"\t", b"\r", b"\n", b","):
            pos += 1
        out.append(doc[pos : pos + length])
        pos += length
    return out


def _after_separator(buf: bytes, emitted: int, url: str) -> bytes:
    """``buf`` without the white space and, between records, the comma that come before its first record."""
    buf = buf.lstrip(_JSON_SPACE)
    if emitted:
        if buf[:1] == b",":
            if buf[1:].lstrip(_JSON_SPACE)[:1] == b"]":
                raise _malformed(url, ValueError(f"trailing comma after data item {emitted}"))
            return buf[1:]
        if buf[:1] != b"]":
            raise _malformed(url, ValueError(f"expected ',' or ']' after data item {emitted}"))
    return buf


def _cut(buf: bytes, emitted: int, url: str) -> tuple[int, list] | None:
    """The longest prefix of ``buf`` that is whole records (ending at a ``}`` followed by a comma), decoded."""
    end = len(buf)
    for _ in range(_CUT_ATTEMPTS):
        i = buf.rfind(b"}", 0, end)
        if i < 0:
            return None
        j = i + 1
        while buf[j : j + 1] in (b" ", b"\t", b"\r", b"\n"):
            j += 1
        if buf[j : j + 1] == b",":
            try:
                return i + 1, _decode_items(_RAW_ARRAY, b"[" + _after_separator(buf[: i + 1], emitted, url) + b"]")
            except msgspec.DecodeError:
                pass  # that "}," was inside a string or a nested value: try the one before
        end = i
    return None


def iter_raw_records(body: IO[bytes], url: str) -> Iterator[msgspec.Raw]:
    """Every item of the envelope's ``data`` array as its raw bytes, reading a window at a time."""
    start = _find_data_array(body, url)
    if start is None:  # no data array: nothing to load, as long as the body is JSON
        body.seek(0)
        try:
            msgspec.json.decode(body.read())
        except msgspec.DecodeError as exc:
            raise _malformed(url, exc) from exc
        return
    body.seek(start)
    pending, emitted = b"", 0
    while True:
        block = body.read(_WINDOW)
        if not block:
            # the rest of the array, its "]" and the rest of the envelope: a valid object once prefixed
            try:
                items = _decode_items(_TAIL, b'{"data":[' + _after_separator(pending, emitted, url))
            except msgspec.DecodeError as exc:
                raise _malformed(url, exc) from exc
            yield from items
            return
        pending = pending + block if pending else block
        cut = _cut(pending, emitted, url)
        if cut is None:
            if len(pending) > _MAX_PENDING:
                raise _malformed(url, ValueError(f"no complete data item in {len(pending)} bytes"))
            continue
        end, items = cut
        yield from items
        emitted += len(items)
        pending = pending[end:]


def parse_record(raw: msgspec.Raw, url: str):
    """A record's value exactly as the streaming parser (ijson, floats as float) reads it."""
    try:
        return _RECORD.decode(raw)
    except msgspec.DecodeError:
        return _ijson_record(raw, url)  # what msgspec refuses but ijson reads (e.g. a lone surrogate)


def _ijson_record(raw: msgspec.Raw, url: str):
    try:
        return next(ijson.items(io.BytesIO(bytes(raw)), "", use_float=True))
    except ijson.JSONError as exc:
        raise _malformed(url, exc) from exc


def canonical(record: dict, raw: msgspec.Raw, url: str) -> bytes:
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # an integer beyond 64 bits or a lone surrogate: read it again exactly as ijson does (ijson refuses
        # such integers: the response is malformed, as it always was) and take the stdlib's canonical form
        return canonical_json(_ijson_record(raw, url))


def jsonb_text(canonical: bytes) -> str:
    # PostgreSQL's jsonb cannot hold U+0000; keep the record, mark the character (raw_json keeps it as served).
    text = canonical.decode("utf-8")
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def verbatim(raw: msgspec.Raw, canonical: bytes) -> bytes | None:
    """The record's served bytes when ``data`` cannot hold it as served (U+0000, a lone surrogate), else None."""
    if b"\\u0000" in canonical:
        return bytes(raw)
    if _SURROGATE_ESCAPE.search(raw):
        try:
            _RECORD.decode(raw)  # msgspec refuses exactly the unpaired surrogates; a pair is stored as is
        except msgspec.DecodeError:
            return bytes(raw)
    return None
