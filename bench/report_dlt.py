"""The report's dlt rows: ours and dlt, first load and re-run, in-process and as processes; dlt ÷ ours; targets.

The figures come from ``bench/dlt_compare.py`` (``run["dlt"]`` of each scale). "ours" is bronze + silver of
this pipeline in one fresh process (``bench/ours_child.py``), so both sides of each ratio are measured the
same way: in-process around the load after the imports, or the whole process from start to exit.
"""

from __future__ import annotations

# dlt ÷ (bronze + silver) at least this much, both in-process and as processes: {scale: (first load, re-run)}
TARGETS = {1: (1.5, 3.0), 10: (2.5, 10.0)}
PHASES = (("first", "first load"), ("rerun", "unchanged re-run"))
KINDS = (("in_process", "seconds"), ("process", "process_seconds"))


def _s(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.2f} s"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×"


def _mark(ok: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[ok]


def judge(scale: int, ratios: dict) -> dict | None:
    """Each ratio against its target at this scale (None where the issue sets none)."""
    if scale not in TARGETS:
        return None
    first, rerun = TARGETS[scale]
    out = {}
    for phase, target in (("first", first), ("rerun", rerun)):
        for kind, _ in KINDS:
            ratio = ratios[f"{phase}_{kind}"]
            out[f"{phase}_{kind}"] = {"ratio": ratio, "target": target, "met": ratio >= target}
    out["met"] = all(v["met"] for v in out.values())
    return out


def table_rows(runs: list[dict]) -> list[str]:
    """Rows of the per-scale table (nothing when the run skipped dlt)."""
    if not all("dlt" in r for r in runs):
        return []
    rows = []
    for side, label in (("ours", "**ours** (bronze + silver, one fresh process)"), ("dlt", "**dlt** `rest_api`")):
        for phase, name in PHASES:
            cells = [
                f"{_s(r['dlt'][side][phase]['seconds'])} / {_s(r['dlt'][side][phase]['process_seconds'])}" for r in runs
            ]
            rows.append(f"| {label}, {name}: in-process / process | " + " | ".join(cells) + " |")
    for phase, name in PHASES:
        cells = []
        for r in runs:
            ratios = r["dlt"]["ratios"]
            cell = f"**{_x(ratios[f'{phase}_in_process'])}** / **{_x(ratios[f'{phase}_process'])}**"
            if r["scale"] in TARGETS:
                target = TARGETS[r["scale"]][0 if phase == "first" else 1]
                met = ratios[f"{phase}_in_process"] >= target and ratios[f"{phase}_process"] >= target
                cell += f" (target ≥ {target:g}×: {_mark(met)})"
            cells.append(cell)
        rows.append(f"| **dlt ÷ ours, {name}**: in-process / process | " + " | ".join(cells) + " |")
    rows.append(
        "| process outside the load, before / after it: ours; dlt (first load) | "
        + " | ".join(
            "; ".join(
                f"{_s(r['dlt'][side]['first']['before_load_seconds'])} / "
                f"{_s(r['dlt'][side]['first']['after_load_seconds'])}"
                for side in ("ours", "dlt")
            )
            for r in runs
        )
        + " |"
    )
    rows.append(
        "| dlt loaded: setlists rows (served), loads; peak RSS dlt / ours | "
        + " | ".join(
            f"{r['dlt']['check']['setlists_rows']:,} ({r['dlt']['check']['setlists_served']:,}), "
            f"{r['dlt']['check']['loads']} loads; {r['dlt']['dlt']['first']['rss_peak_mb']:.0f} / "
            f"{r['dlt']['ours']['first']['rss_peak_mb']:.0f} MB"
            for r in runs
        )
        + " |"
    )
    return rows


def notes(runs: list[dict]) -> list[str]:
    if not all("dlt" in r for r in runs):
        return ["dlt: not measured (`--no-dlt`).", ""]
    version = runs[0]["dlt"]["dlt"]["first"].get("dlt_version", "?")
    return [
        f"dlt {version} (`bench/dlt_baseline.py`, its own virtualenv from `bench/dlt-requirements.txt`): the "
        "`rest_api` source over the same fake server and files, all 10 methods, `merge` on each method's natural "
        "key (`metadata`, which has none: `replace`), `single_page` paginator, the project's `?limit=` and "
        "User-Agent, into a fresh database of the same server; the re-run is the same pipeline (name, "
        "pipelines directory, dataset). Ours: bronze + silver in one fresh process (`bench/ours_child.py`: "
        "`run_layers`, the registry's graph of pulls and silver steps on 2 worker connections, as the DAGs run "
        "them as parallel tasks; Airflow is not imported; the API's URL given as dlt's `base_url` is) on a "
        "fresh migrated database. In-process: measured inside the process around the load, after its imports; "
        "process: wall time of the whole `python` process (start, imports, load, exit).",
        "",
    ]


def target_lines(runs: list[dict]) -> list[str]:
    by = {r["scale"]: r for r in runs}
    lines = []
    for scale, (first, rerun) in TARGETS.items():
        head = (
            f"- Bronze + silver faster than dlt at {scale}x, in-process and as processes (≥ {first:g}× a first "
            f"load, ≥ {rerun:g}× an unchanged re-run)"
        )
        run = by.get(scale)
        if run is None or "dlt" not in run:
            lines.append(f"{head}: {_mark(None)}")
            continue
        verdict = judge(scale, run["dlt"]["ratios"])
        detail = "; ".join(
            f"{name} {_x(verdict[f'{phase}_in_process']['ratio'])} in-process, "
            f"{_x(verdict[f'{phase}_process']['ratio'])} process"
            for phase, name in PHASES
        )
        lines.append(f"{head}: {_mark(verdict['met'])} ({detail})")
    return lines
