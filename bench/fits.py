"""time = fixed + per-record, fitted per layer across the scales of one run (least squares; exact for two).

x is the number of records served, all endpoints together (the manifest's count at that scale), the same
for every layer; y is the layer's seconds in that run (``bronze``: the pulls in bronze's child process;
``silver``, ``gold``: ``run_layer(conn, "silver")``, ``run_gold``). The fixed term is what a run costs before it has any
data (requests, transactions, statements, temporary tables); the per-record term is what the data costs.
"""

from __future__ import annotations

FIXED_MAX_S = 0.3  # the fixed per-run cost of bronze + silver


def _layers(run: dict) -> dict[str, float]:
    out = {
        "bronze": run["bronze"]["seconds"],
        "silver": run["silver"]["seconds"],
        "gold": run["gold"]["seconds"],
        "bronze + silver": run["bronze"]["seconds"] + run["silver"]["seconds"],
    }
    if "dlt" in run:  # the same load as one fresh process each, in-process time (bench/dlt_compare.py)
        out["bronze + silver, one fresh process"] = run["dlt"]["ours"]["first"]["seconds"]
        out["dlt rest_api, one fresh process"] = run["dlt"]["dlt"]["first"]["seconds"]
    return out


def line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of ``points`` (x, y)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - slope * mx, slope


def fit(runs: list[dict]) -> dict | None:
    """Fixed seconds and microseconds per record of each layer (None with fewer than two scales)."""
    scales = sorted({r["scale"] for r in runs})
    if len(scales) < 2:
        return None
    by = {r["scale"]: r for r in runs}
    records = {s: sum(by[s]["manifest"]["records"].values()) for s in scales}
    layers: dict[str, dict] = {}
    for name in _layers(by[scales[0]]):
        if not all(name in _layers(by[s]) for s in scales):
            continue
        fixed, slope = line([(records[s], _layers(by[s])[name]) for s in scales])
        layers[name] = {"fixed_seconds": fixed, "per_record_us": slope * 1e6}
    fixed = layers["bronze + silver"]["fixed_seconds"]
    # Over three scales the largest decides the line; the two smallest show the fixed term best.
    smallest = [(records[s], _layers(by[s])["bronze + silver"]) for s in scales[:2]]
    return {
        "scales": scales,
        "records": {f"{s}x": n for s, n in records.items()},
        "method": "least squares" if len(scales) > 2 else "exact line through two points",
        "layers": layers,
        "target": {
            "fixed_max_seconds": FIXED_MAX_S,
            "bronze_silver_fixed_seconds": fixed,
            "smallest_scales": scales[:2],
            "smallest_scales_fixed_seconds": line(smallest)[0],
            # a negative fixed term is no measurement: the time grew faster than linearly over the scales
            "met": 0 <= fixed < FIXED_MAX_S,
        },
    }


def render(fitted: dict | None) -> list[str]:
    if not fitted:
        return ["Fixed + per-record fit: needs at least two scales in one run.", ""]
    scales = ", ".join(f"{s}x" for s in fitted["scales"])
    out = [
        f"## Fixed and per-record costs ({fitted['method']} over {scales})",
        "",
        "time = fixed + per-record × records served (all endpoints). Bronze runs in a fresh child process at "
        "every scale; silver and gold run in the bench's own process, so at the first scale only they also pay "
        "its one-time costs (compiling and splitting each SQL file once per process, tens of ms), which "
        'the fit counts as fixed. The two "one fresh process" rows (first loads, `bench/dlt_compare.py`) pay '
        "every start-up cost at every scale (in-process time: imports excluded).",
        "",
        "| layer | fixed per run | per record |",
        "|---|---|---|",
    ]
    for name, layer in fitted["layers"].items():
        out.append(f"| {name} | {layer['fixed_seconds']:.3f} s | {layer['per_record_us']:.1f} µs |")
    return [*out, ""]


def target_line(fitted: dict | None) -> str:
    head = f"- Fixed per-run cost of bronze + silver under {FIXED_MAX_S} s"
    if not fitted:
        return f"{head}: not measured (needs two scales)"
    target = fitted["target"]
    fixed = target["bronze_silver_fixed_seconds"]
    mark = "met" if target["met"] else ("**not measured**" if fixed < 0 else "**not met**")
    fresh = fitted["layers"].get("bronze + silver, one fresh process")
    also = f"; as one fresh process per run: {fresh['fixed_seconds']:.3f} s" if fresh else ""
    scales = ", ".join(f"{s}x" for s in fitted["scales"])
    if len(fitted["scales"]) > 2:
        small = ", ".join(f"{s}x" for s in target["smallest_scales"])
        also += f"; over {small} alone: {target['smallest_scales_fixed_seconds']:.3f} s"
    if fixed < 0:
        also += "; a negative fixed term: the time grew faster than linearly over these scales"
    return f"{head}: {mark} ({fixed:.3f} s, fitted over {scales}{also})"
