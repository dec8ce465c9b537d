"""Calibration: a reproducible search for parameter values under which the report's stories emerge.

The procedure is a local random search (Solis-Wets style, one step): ``points`` parameter sets
are drawn around a centre by multiplying each calibrated parameter by ``exp(u)``,
``u ~ U(-spread, spread)`` (clipped to the catalogue's range); every set runs ``replicates``
replicates of each primary story's case on common random numbers, and is scored by

    sum over stories of min(share, 0.9) + joint share + 0.3 * sum over stories of mean clause share

(the clause term rewards partial stories, so a search can climb towards a story that does not
yet emerge). Only the *primary stories* of ``scenarios/patterns.toml`` enter the score: secondary
patterns and the report's reasoning (the comparison levers) are hold-out checks and never do.
The best set is written with every scored set and the metadata needed to reproduce it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.params import by_name, load_defaults
from sim.runner import Job, execute
from sim.scenario import resolve_path
from sim.validation import _score, load_patterns

#: Parameters the calibration moves (the rest are facts, levers or documented estimates).
CALIBRATED = (
    "hosting_value",
    "coordination_cost",
    "steering_value",
    "control_share.admin_host",
    "control_share.board_host",
    "sensitivity.planning",
    "sensitivity.environment",
    "board_experience_weight",
    "leader_weight",
    "consultant_neutrality",
    "failure_cost",
    "failure_stake",
    "complexity",
    "belief_uncertainty",
    "w_capacity",
    "w_competence",
    "w_robustness",
    "loss_aversion",
    "distance_cost",
    "job_loss_fear",
    "solidarity_weight",
    "pre_project_months",
    "main_project_months",
    "vote_noise",
    "trust_weight",
    "merger_trust_damage",
    "min_prospect",
    "admin_control_weight",
    "bundle_synergy",
    "involvement_per_stage",
    "involvement_steering_group",
    "network_competence_gain",
    "running_cost.network",
    "vote_trust_damage",
    "decision_attention",
    "attention_drain",
    "maturation_rate",
    "council_control_value",
    "cohesion.planning",
    "failed_attempt_penalty",
    "trust_need.network",
    "shared_post_trust",
    "history_trust",
    "base_trust",
    "reform_afterglow_months",
    "political_readiness_start",
    "duration_noise",
    "council_months",
    "funding_speedup",
    "sensitivity_noise",
    "political_readiness_noise",
)


def perturb(
    centre: dict[str, Any], points: int, spread: float, seed: int, keys: Sequence[str] = CALIBRATED
) -> list[dict[str, Any]]:
    """The centre and ``points - 1`` multiplicative perturbations of it, within the catalogue's ranges."""
    specs, rng = by_name(), np.random.default_rng(seed)
    base = {k: centre[k] for k in keys}
    out = [dict(base)]
    for _ in range(points - 1):
        pt = {}
        for k in keys:
            spec, value = specs[k], centre[k]
            value = value * np.exp(rng.uniform(-spread, spread)) if value != 0 else rng.uniform(0, 0.3)
            value = float(min(max(value, spec.low), spec.high))
            pt[k] = int(round(value)) if spec.kind == "int" else value
        out.append(pt)
    return out


def score_points(
    points: list[dict[str, Any]], replicates: int, seed: int, workers: int | None = None, progress: bool = True
) -> list[dict[str, Any]]:
    """Run every point on the primary stories' cases and score it (see the module docstring)."""
    patterns = [p for p in load_patterns() if p.kind == "primary"]
    cases = [str(resolve_path(p.case)) for p in patterns]
    jobs = [
        Job((i * len(cases) + c) * replicates + r, case, r, seed, tuple(sorted(pt.items())), detail="records")
        for i, pt in enumerate(points)
        for c, case in enumerate(cases)
        for r in range(replicates)
    ]
    out = list(execute(jobs, workers=workers, progress=progress))
    scored = []
    for i, pt in enumerate(points):
        entry: dict[str, Any] = {"point": pt, "stories": {}, "clauses": {}}
        hits_all, partial = [], 0.0
        for c, p in enumerate(patterns):
            chunk = out[(i * len(cases) + c) * replicates : (i * len(cases) + c + 1) * replicates]
            hits, per = _score(p, [{"row": o["row"], "votes": o["votes"], "events": o["events"]} for o in chunk], None)
            entry["stories"][p.id], entry["clauses"][p.id] = sum(hits) / replicates, per
            partial += sum(per.values()) / len(per)
            hits_all.append(hits)
        entry["joint"] = sum(all(h[r] for h in hits_all) for r in range(replicates)) / replicates
        entry["objective"] = sum(min(s, 0.9) for s in entry["stories"].values()) + entry["joint"] + 0.3 * partial
        scored.append(entry)
    return sorted(scored, key=lambda e: -e["objective"])


def calibrate(
    out: Path,
    centre: dict[str, Any] | None = None,
    points: int = 240,
    replicates: int = 16,
    spread: float = 0.2,
    seed: int = 6,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Search around ``centre`` (default: the shared values) and write ``out/calibration.json``.

    Returns:
        The best entry: ``{"point", "stories", "clauses", "joint", "objective"}``.
    """
    t0 = time.perf_counter()
    start = load_defaults().as_dict()
    start.update(centre or {})
    scored = score_points(perturb(start, points, spread, seed), replicates, seed, workers, progress)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "procedure": "sim.calibration (local random search)",
        "points": points,
        "replicates": replicates,
        "spread": spread,
        "seed": seed,
        "centre": {k: start[k] for k in CALIBRATED},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "calibration.json").write_text(
        json.dumps({"metadata": meta, "best": scored[0], "scored": scored}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return scored[0]
