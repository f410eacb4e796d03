"""The project checkout the local tools work in: its ``dags/`` and ``plugins/`` folders, and ``.local/`` for state.

The package ``elgoose`` finds its own files through ``elgoose.resources``; only these tools need a checkout.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PROJECT_DIR_VARIABLE = "ELGOOSE_PROJECT_DIR"


def _is_project(folder: Path) -> bool:
    return (folder / "dags").is_dir() and (folder / "pyproject.toml").is_file()


@functools.cache
def project_dir() -> Path:
    """ELGOOSE_PROJECT_DIR, else the checkout this package was installed from (editable), else the current folder."""
    candidates = [os.environ.get(PROJECT_DIR_VARIABLE), Path(__file__).resolve().parents[1], Path.cwd()]
    for candidate in candidates:
        if candidate and _is_project(Path(candidate)):
            return Path(candidate).resolve()
    raise SystemExit(
        f"no project checkout found (a folder with dags/ and pyproject.toml): run from the project's folder "
        f"or set {PROJECT_DIR_VARIABLE}"
    )


def local_dir() -> Path:
    """Where the local tools keep their state: the embedded PostgreSQL, Airflow's home, logs."""
    return project_dir() / ".local"
