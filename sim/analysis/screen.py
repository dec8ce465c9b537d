"""Which calibrated parameters does any calibration fact constrain? A one-at-a-time screen (issue 20).

Procedure (docs/ODD.md III.vii): every parameter is moved alone to each end of its calibration prior
box (its value in ``scenarios/defaults.toml`` divided and multiplied by ``factor``, within the
catalogue's range) and the set is scored with the graded distance of :mod:`sim.analysis.calibration`
on ``replicates`` replicates of the scored cases, with the same seeds as the unmoved defaults
(common random numbers). The *effect* at an end is the change of the distance from the defaults';
its *noise* is the paired bootstrap standard error of that change (``boots`` resamples of the
replicates, drawn from ``SeedSequence(seed, spawn_key=(0, 2))``). A parameter is **constrained**
when the change exceeds :data:`Z` times its noise and :data:`MIN_EFFECT` at either end; otherwise moving it across the
whole prior box changes nothing the facts can see, and it is fixed at its documented value
(``[calibration] fixed`` of ``scenarios/defaults.toml``) instead of being called calibrated.

Run it with ``python benchmarks/screen_parameters.py`` (``--replicates``, ``--workers``, ``--out``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.analysis.calibration import (
    DATE_WEIGHT,
    FACTOR,
    GRADE_WEIGHT,
    JOINT_BAR,
    MONTH_CAP,
    STORY_BAR,
    Prior,
    distance,
    fact_thresholds,
    set_hits,
    summarise,
)
from sim.analysis.posterior import CALIBRATED
from sim.inputs.params import by_name, load_defaults
from sim.run.execution import Execution

#: A parameter is constrained when its effect on the distance exceeds this many standard errors ...
Z = 2.0
#: ... and is at least this large: a share point of one fact below its bar (a change of the graded
#: term alone, which moves no fact across its bar, is below 0.005 for a whole fact's share).
MIN_EFFECT = 0.01


def bootstrap_distances(hits: dict[str, dict[str, list[bool]]], samples: np.ndarray) -> np.ndarray:
    """The graded distance of one set on each resample of its replicates (rows of ``samples``).

    Same formula as :func:`sim.analysis.calibration.distance`, in arrays.
    """
    bars = fact_thresholds()
    facts = np.array([hits["facts"][k] for k in bars], float)[:, samples].mean(axis=-1)
    stories = np.array(list(hits["stories"].values()), float)[:, samples].mean(axis=-1)
    joint = np.array(hits["joint"]["joint"], float)[samples].mean(axis=-1)
    short = np.maximum(0.0, np.array(list(bars.values()))[:, None] - facts).sum(axis=0)
    short += np.maximum(0.0, STORY_BAR - stories).sum(axis=0) + np.maximum(0.0, JOINT_BAR - joint)
    missed = np.concatenate([1.0 - facts, 1.0 - stories])
    late = np.zeros(len(samples))
    if hits["dates"]:
        late = np.array(list(hits["dates"].values()), float)[:, samples].mean(axis=-1).sum(axis=0)
    return short + GRADE_WEIGHT * missed.mean(axis=0) + DATE_WEIGHT * late / MONTH_CAP


def screen_points(keys: Sequence[str], factor: float) -> tuple[Prior, list[dict[str, Any]]]:
    """The prior box around the defaults and the sets to score: the defaults, then each key low and high."""
    defaults, specs = load_defaults().as_dict(), by_name()
    prior = Prior.around(defaults, factor, keys)
    points: list[dict[str, Any]] = [{}]
    for k, lo, hi in zip(prior.keys, prior.low, prior.high, strict=True):
        for v in (lo, hi):
            points.append({k: int(round(v)) if specs[k].kind == "int" else float(v)})
    return prior, points


def screen(
    keys: Sequence[str] = (),
    replicates: int = 100,
    seed: int = 20161214,
    factor: float = FACTOR,
    execution: Execution = Execution(),
    boots: int = 400,
) -> list[dict[str, Any]]:
    """Screen each parameter (module docstring); one row per parameter, in the order of ``keys``.

    Returns:
        ``parameter, value, low, high, distance_low, distance_high, change_low, change_high,
        se_low, se_high, z, constrained, fact`` (the fact or story whose share moves most) per key,
        after a first row for the defaults (``parameter = "(defaults)"``).
    """
    keys = tuple(keys or CALIBRATED)
    prior, points = screen_points(keys, factor)
    hits = list(set_hits(points, replicates, seed, execution))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, 2)))
    samples = rng.integers(0, replicates, size=(boots, replicates))
    base, base_boot = summarise(hits[0]), bootstrap_distances(hits[0], samples)
    rows = [{"parameter": "(defaults)", "distance": base["distance"]}]
    for i, k in enumerate(keys):
        ends = [summarise(hits[1 + 2 * i]), summarise(hits[2 + 2 * i])]
        change = [e["distance"] - base["distance"] for e in ends]
        se = [float(np.std(bootstrap_distances(hits[j], samples) - base_boot)) for j in (1 + 2 * i, 2 + 2 * i)]
        zs = [abs(c) / s if s > 0 else (np.inf if c else 0.0) for c, s in zip(change, se, strict=True)]
        z = max(zs)
        constrained = any(q > Z and abs(c) >= MIN_EFFECT for q, c in zip(zs, change, strict=True))
        rows.append(
            {
                "parameter": k,
                "value": load_defaults().as_dict()[k],
                "low": points[1 + 2 * i][k],
                "high": points[2 + 2 * i][k],
                "distance_low": ends[0]["distance"],
                "distance_high": ends[1]["distance"],
                "change_low": change[0],
                "change_high": change[1],
                "se_low": se[0],
                "se_high": se[1],
                "z": float(z),
                "constrained": constrained,
                "fact": _most_moved(base, ends),
            }
        )
    return rows


def _most_moved(base: dict[str, Any], ends: list[dict[str, Any]]) -> str:
    """The fact or story whose share moves most between the two ends and the defaults."""
    shares = {**base["facts"], **base["stories"]}
    moved = {k: max(abs({**e["facts"], **e["stories"]}[k] - v) for e in ends) for k, v in shares.items()}
    best = max(moved, key=lambda k: (moved[k], k))
    return f"{best} ({moved[best]:+.2f})" if moved[best] else ""


def markdown(rows: list[dict[str, Any]], replicates: int, factor: float) -> str:
    """The screen's table: one line per parameter, constrained ones first."""
    head = rows[0]
    body = sorted(rows[1:], key=lambda r: (not r["constrained"], -r["z"], r["parameter"]))
    kept = sum(r["constrained"] for r in body)
    lines = [
        f"# Parameter screen ({replicates} replicates per end, prior box value/{factor:g} to value x{factor:g})",
        "",
        f"Distance at the defaults: {head['distance']:.4f}. A parameter is constrained when moving it to an end "
        f"of its box changes the graded distance by more than {Z:g} paired bootstrap standard errors and by "
        f"at least {MIN_EFFECT:g} (`sim/analysis/screen.py`). Constrained: {kept} of {len(body)}.",
        "",
        "| parameter | low | high | change at low | change at high | z | constrained | share moved most |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in body:
        lines.append(
            f"| `{r['parameter']}` | {r['low']:.4g} | {r['high']:.4g} | {r['change_low']:+.4f} ± {r['se_low']:.4f} | "
            f"{r['change_high']:+.4f} ± {r['se_high']:.4f} | {min(r['z'], 999):.1f} | "
            f"{'yes' if r['constrained'] else 'no'} | {r['fact']} |"
        )
    return "\n".join(lines) + "\n"


__all__ = ["MIN_EFFECT", "Z", "bootstrap_distances", "distance", "markdown", "screen", "screen_points"]
