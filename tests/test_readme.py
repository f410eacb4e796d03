"""The README's chatbot questions are answered, on the bundled fixtures, exactly as the README says."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import load_bronze

from elgoose.layers import run_gold, run_layer

README = Path(__file__).resolve().parents[1] / "README.md"


def chatbot_rows() -> list[tuple[str, str, list[str]]]:
    section = README.read_text().split("## The chatbot's questions", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"^\| (.+?) \| `(.+?)` \| (.+) \|$", line)
        if match:
            question, query, answer = match.groups()
            rows.append((question, query, [a.replace("\\|", "|") for a in answer.split("<br>")]))
    return rows


def render(row: tuple) -> str:
    return " | ".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in row)


def test_readme_chatbot_answers_hold(warehouse, fixture_data):
    load_bronze(warehouse, fixture_data)
    run_layer(warehouse, "silver")
    run_gold(warehouse)
    rows = chatbot_rows()
    assert len(rows) >= 8, "the README's chatbot table was not found"
    queries = " ".join(query for _, query, _ in rows)
    for asked in ("gold.song_albums(", "is_cover", "least_played_song", "played_in_full_dates"):
        assert asked in queries, f"the README no longer asks about {asked}"
    for question, query, answer in rows:
        got = [render(r) for r in warehouse.execute(query).fetchall()]
        assert got == answer, question
