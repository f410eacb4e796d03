"""The runs chart, drawn on the server as SVG: rows fetched, new, updated and deleted per run.

The counts of one run span five orders of magnitude (a full pull fetches ~100,000 records and updates a
handful), so the bars share a logarithmic axis: a run that deleted 3 rows still shows a bar. The template
draws the geometry computed here; every label reaches the page through Jinja's autoescaping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SERIES = (
    ("fetched", "fetched from the API"),
    ("new", "new in silver"),
    ("updated", "updated in silver"),
    ("deleted", "deleted in silver"),
)
WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 46
MAX_GROUP_WIDTH = 80


@dataclass(frozen=True)
class Bar:
    series: str
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class RunLabel:
    x: float
    label: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_right: int
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[RunLabel]
    series: tuple[tuple[str, str], ...]
    empty: bool


def _short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000:
        return f"{n / 1_000:g}k"
    return str(n)


def runs_chart(runs: list[dict]) -> Chart:
    """Bars for ``runs`` (oldest first), each with the counts named in ``SERIES``."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    largest = max((int(run[key] or 0) for run in runs for key, _ in SERIES), default=0)
    decades = max(1, math.ceil(math.log10(largest + 1)))

    def height_of(value: int) -> float:
        return plot_height * math.log10(value + 1) / decades

    # Gridlines at 0, 10, 100, ...: a bar of value v ends at log10(v + 1), within 5% of log10(v) from 10 up.
    ticks = [Tick(baseline - plot_height * d / decades, _short(10**d) if d else "0") for d in range(decades + 1)]
    bars: list[Bar] = []
    labels: list[RunLabel] = []
    if runs:
        group = min(plot_width / len(runs), MAX_GROUP_WIDTH)  # a few runs: narrow bars, not a wall of colour
        bar_width = group * 0.8 / len(SERIES)
        every = math.ceil(len(runs) / 10)  # at most ten run labels under the axis
        for i, run in enumerate(runs):
            started = run["started_at"].strftime("%m-%d %H:%M") if run.get("started_at") else "?"
            for j, (key, description) in enumerate(SERIES):
                value = int(run[key] or 0)
                h = height_of(value)
                bars.append(
                    Bar(
                        series=key,
                        x=LEFT + i * group + group * 0.1 + j * bar_width,
                        y=baseline - h,
                        width=bar_width,
                        height=h,
                        title=f"{run['run_key']} ({started} UTC): {value:,} {description}",
                    )
                )
            if i % every == 0:
                labels.append(RunLabel(LEFT + (i + 0.5) * group, started, run["run_key"]))
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, baseline, bars, ticks, labels, SERIES, not runs)
