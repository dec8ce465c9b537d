"""Face validity: directional expectations as paired experiments (issue 20, Build 5).

The expectations are data (``scenarios/directions.toml``): a case, a change of parameters, an
outcome column of ``runs.csv`` and the direction the report or plain domain logic expects. Each
is run on the same seeds as the case at the defaults (common random numbers) through the one
runner, and judged by the 95 % interval of the paired mean difference.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis.variants import load_split, read_splits, split_folder
from sim.inputs.errors import InputError
from sim.inputs.params import load_defaults, read_toml
from sim.inputs.scenario import SCENARIO_DIR, resolve_path
from sim.run.execution import Execution
from sim.run.runner import Job

DIRECTIONS_FILE = SCENARIO_DIR / "directions.toml"
EXPECTS = ("higher", "lower", "not_higher", "not_lower")


@dataclass(frozen=True)
class Direction:
    """One directional expectation: change ``overrides`` in ``case``; ``measure`` should move as ``expect``."""

    id: str
    case: str
    overrides: tuple[tuple[str, Any], ...]
    measure: str
    expect: str
    reason: str
    equals: str | None = None
    split: str | None = None


def load_directions(path: Path = DIRECTIONS_FILE) -> list[Direction]:
    """Read and check the expectations; ``scale`` factors are applied to the default values."""
    raw = read_toml(path)
    defaults = load_defaults().as_dict()
    out = []
    for i, item in enumerate(raw.get("direction", [])):
        for key in ("id", "case", "measure", "expect", "reason"):
            if key not in item:
                raise InputError(path, f"direction[{i}].{key}", "missing key")
        if item["expect"] not in EXPECTS:
            raise InputError(path, f"direction[{i}].expect", f"must be one of {', '.join(EXPECTS)}")
        overrides = dict(item.get("set", {}))
        for key, factor in item.get("scale", {}).items():
            if key not in defaults or not isinstance(defaults[key], int | float) or isinstance(defaults[key], bool):
                raise InputError(path, f"direction[{i}].scale.{key}", "not a numeric parameter")
            # Relative to the default, so an expectation stays meaningful when a default is recalibrated.
            overrides[key] = defaults[key] * factor
        if not overrides:
            raise InputError(path, f"direction[{i}]", "needs `set` or `scale`")
        out.append(
            Direction(
                item["id"],
                item["case"],
                tuple(sorted(overrides.items())),
                item["measure"],
                item["expect"],
                item["reason"],
                item.get("equals"),
                item.get("split"),
            )
        )
        if item.get("split") is not None and item["split"] not in read_splits(path):
            raise InputError(path, f"direction[{i}].split", f"no [split.{item['split']}] table")
    return out


def measure(row: dict[str, Any], key: str, equals: str | None = None) -> float | None:
    """The measure of one run: a number, 0/1, a list's length, a month count, or None (no value)."""
    value = row[key]
    if equals is not None:
        return float(value == equals)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.startswith("["):
        return float(len(json.loads(value)))
    if isinstance(value, str) and len(value) == 7 and value[4] == "-":
        # A month (YYYY-MM) as the model's month count, so "earlier" and "later" are differences;
        # an empty cell (the event never happened) is None and its pair is left out.
        return float(int(value[:4]) * 12 + int(value[5:]) - 1)
    return None


def paired(base: list[float | None], variant: list[float | None]) -> dict[str, Any]:
    """Paired mean difference (variant - baseline) with its 95 % normal interval, over pairs with both values."""
    diffs = [v - b for b, v in zip(base, variant, strict=True) if b is not None and v is not None]
    n = len(diffs)
    if n == 0:
        return {"n": 0, "diff": math.nan, "ci95": [math.nan, math.nan], "base": math.nan}
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1)) if n > 1 else 0.0
    # A normal interval: at the default 200 pairs it is 0.6 % narrower than Student t's; for a
    # few dozen pairs stats.t_interval would be the right one.
    half = 1.959964 * sd / math.sqrt(n)
    # The baseline mean over the same pairs as the difference, so the two can be read together.
    kept = [b for b, v in zip(base, variant, strict=True) if b is not None and v is not None]
    return {"n": n, "diff": mean, "ci95": [mean - half, mean + half], "base": sum(kept) / n}


def holds(expect: str, ci95: list[float]) -> bool:
    """Whether the interval of the paired difference agrees with the expectation."""
    lo, hi = ci95
    if math.isnan(lo):
        return False
    # "not_higher" holds unless the interval lies wholly above 0: a weaker claim than "lower"
    # (no clear rise), which a change with no effect also meets.
    return {"higher": lo > 0, "lower": hi < 0, "not_higher": lo <= 0, "not_lower": hi >= 0}[expect]


def directions(
    replicates: int = 200,
    seed: int = 20161214,
    execution: Execution = Execution(),
    only: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run every expectation (or those whose id contains a word of ``only``) against its case at the defaults.

    An expectation with ``split`` runs in that split vocabulary (``[split.NAME]``, :mod:`sim.analysis.variants`):
    its baseline is the split case at the defaults.

    Returns:
        ``{"replicates", "seed", "seconds", "directions": [{id, case, overrides, measure, expect,
        reason, n, base, diff, ci95, holds}]}``.
    """
    t0 = time.perf_counter()
    items = [d for d in load_directions() if not only or any(o in d.id for o in only)]
    # Each case runs once at the defaults (in its vocabulary) and serves as the baseline of all its expectations.
    groups = list(
        dict.fromkeys([(d.case, (), d.split) for d in items] + [(d.case, d.overrides, d.split) for d in items])
    )
    with tempfile.TemporaryDirectory() as tmp:
        scenarios = _scenarios(groups, Path(tmp))
        jobs = [
            Job(g * replicates + r, scenarios[g], r, seed, () if groups[g][2] else groups[g][1])
            for g in range(len(groups))
            for r in range(replicates)
        ]
        out = list(execution.execute(jobs))
    rows = {g: [o["row"] for o in out[i * replicates : (i + 1) * replicates]] for i, g in enumerate(groups)}
    results = []
    for d in items:
        base = [measure(r, d.measure, d.equals) for r in rows[(d.case, (), d.split)]]
        var = [measure(r, d.measure, d.equals) for r in rows[(d.case, d.overrides, d.split)]]
        stats = paired(base, var)
        results.append(
            {
                "id": d.id,
                "case": d.case + (f" ({d.split} split)" if d.split else ""),
                "overrides": {k: round(v, 6) if isinstance(v, float) else v for k, v in d.overrides},
                "measure": d.measure + (f" == {d.equals}" if d.equals else ""),
                "expect": d.expect,
                "reason": d.reason,
                **stats,
                "holds": holds(d.expect, stats["ci95"]),
            }
        )
    return {
        "replicates": replicates,
        "seed": seed,
        "directions": results,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _scenarios(groups: list[tuple[str, Any, str | None]], folder: Path) -> dict[int, Any]:
    """Each group's scenario: a name, or, in a split vocabulary, the case loaded with its change from a split folder."""
    splits = read_splits()
    made: dict[str, Path] = {}
    out: dict[int, Any] = {}
    for g, (case, over, split) in enumerate(groups):
        if split is None:
            out[g] = str(resolve_path(case))
            continue
        if split not in made:
            made[split] = split_folder(splits[split], folder / split)
        # Overrides name the split vocabulary's keys, so they are applied at load time with its defaults.
        out[g] = load_split(case, made[split], dict(over))
    return out


def format_directions(result: dict[str, Any]) -> str:
    """The expectations as plain text."""
    rows = result["directions"]
    lines = [
        f"directional expectations ({sum(r['holds'] for r in rows)} of {len(rows)} hold; paired, "
        f"{result['replicates']} replicates, base seed {result['seed']})",
        f"{'expectation':66s} {'expect':10s} {'baseline':>9s} {'diff':>8s}  {'95% CI':19s} holds",
    ]
    for r in rows:
        lo, hi = r["ci95"]
        lines.append(
            f"{r['id']:66s} {r['expect']:10s} {r['base']:9.3f} {r['diff']:+8.3f}  [{lo:+.3f}, {hi:+.3f}]  "
            f"{'yes' if r['holds'] else 'NO'}"
        )
    lines.append(f"{result['seconds']:.1f} s")
    return "\n".join(lines)


def markdown(result: dict[str, Any], command: str) -> str:
    """The expectations as a markdown section."""
    rows = result["directions"]
    lines = [
        "## Face validity: directional expectations",
        "",
        "Made by:",
        "",
        "```",
        command,
        "```",
        "",
        f"{sum(r['holds'] for r in rows)} of {len(rows)} hold. Each row runs its case with the change and at the "
        f"defaults on the same {result['replicates']} seeds (base seed {result['seed']}); `diff` is the paired mean "
        "difference (change minus defaults) with its 95 % interval. Table and reasons: `scenarios/directions.toml`.",
        "",
        "| expectation | case | change | measure | expect | at defaults | diff | 95 % interval | holds | reason |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lo, hi = r["ci95"]
        change = ", ".join(f"`{k}={v}`" for k, v in r["overrides"].items())
        lines.append(
            f"| `{r['id']}` | {r['case']} | {change} | `{r['measure']}` | {r['expect']} | {r['base']:.3f} | "
            f"{r['diff']:+.3f} | [{lo:+.3f}, {hi:+.3f}] | {'yes' if r['holds'] else 'NO'} | {r['reason']} |"
        )
    return "\n".join(lines) + "\n"
