"""Where the package's own files are: ``include/`` (the SQL and the golden records) ships inside the package as
``elgoose.include``, so an editable install and a built wheel find it the same way."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

INCLUDE_DIR = Path(str(files("elgoose.include")))
SQL_DIR = INCLUDE_DIR / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
GOLDEN_RECORDS = INCLUDE_DIR / "quality" / "golden_records.json"
