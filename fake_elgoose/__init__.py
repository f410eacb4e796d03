"""Fake ElGoose API server for tests, the offline demo mode and benchmarks.

>>> from fake_elgoose import FakeElGoose, load_fixtures
>>> with FakeElGoose(load_fixtures()) as srv:  # doctest: +SKIP
...     srv.base_url  # "http://127.0.0.1:PORT/api/v2"
"""

from fake_elgoose.server import (
    FAULTS,
    FIXTURE_GOLDEN_RECORDS,
    FIXTURES_DIR,
    KEY_FIELDS,
    METHODS,
    FakeElGoose,
    load_fixtures,
    load_snapshot,
)

__all__ = [
    "FAULTS",
    "FIXTURE_GOLDEN_RECORDS",
    "FIXTURES_DIR",
    "KEY_FIELDS",
    "METHODS",
    "FakeElGoose",
    "load_fixtures",
    "load_snapshot",
]
