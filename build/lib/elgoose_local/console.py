"""Progress lines for a person at a terminal."""

from __future__ import annotations

import sys
from typing import TextIO


def say(message: str, *, prefix: str = "elgoose", stream: TextIO | None = None) -> None:
    """Print ``[prefix] message`` at once (progress must show while a long step runs)."""
    print(f"[{prefix}] {message}", file=stream or sys.stdout, flush=True)
