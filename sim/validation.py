"""Pattern-oriented validation: the report's patterns as tests on replicate outcomes.

The patterns themselves (ids, cases, thresholds, arguments) are data in
``scenarios/patterns.toml``; this module holds only generic predicates, so no municipality or
region name appears in code.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.params import FORMS, SECTORS, read_toml
from sim.runner import Job, run_rows
from sim.scenario import SCENARIO_DIR

PATTERNS_FILE = SCENARIO_DIR / "patterns.toml"
FORMAL_FORMS = FORMS[2:]


@dataclass(frozen=True)
class Pattern:
    """One validation pattern (see ``scenarios/patterns.toml``)."""

    id: str
    case: str
    kind: str
    threshold: float
    description: str
    test: str
    args: dict[str, Any]


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial share."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


# --- generic predicates on outcome rows -----------------------------------------------------
def formal_agreement(row, sector, form, min_members):
    """A formal agreement of ``form`` for ``sector`` with at least ``min_members`` members."""
    members = [m for m in row[f"members_{sector}"].split(";") if m]
    return row[f"form_{sector}"] == form and len(members) >= min_members


def no_formal(row, sectors):
    """No formal agreement in any of ``sectors``."""
    return all(row[f"form_{s}"] not in FORMAL_FORMS for s in sectors)


def host_is(row, sector, municipality):
    """``municipality`` hosts the formal arrangement for ``sector``."""
    return row[f"form_{sector}"] in FORMAL_FORMS and row[f"host_{sector}"] == municipality


def not_member(row, sector, municipality):
    """A formal arrangement for ``sector`` exists and ``municipality`` is not in it."""
    return row[f"form_{sector}"] in FORMAL_FORMS and municipality not in row[f"members_{sector}"].split(";")


def voted_on(row, sectors):
    """Some proposal voted on covered exactly ``sectors``."""
    wanted = "+".join(s for s in SECTORS if s in sectors)
    return wanted in row["voted_sectors"].split(";")


def stall_cause(row, cause):
    """The process stalled with the recorded ``cause``."""
    return row["stall_cause"] == cause


def network(row, sectors):
    """An informal network of all members covers ``sectors``, and nothing is formal."""
    n_members = row["n_members"]
    return all(row[f"form_{s}"] == "network" and len(row[f"members_{s}"].split(";")) == n_members
               for s in sectors) and no_formal(row, SECTORS)


def competence_not_capacity(row, min_competence_rise, max_capacity_change):
    """From the main project's start to the pilot's end: competence up, capacity flat.

    Exact test: ``competence_pilot_end - competence_main_start >= min_competence_rise`` and
    ``|capacity_pilot_end / capacity_main_start - 1| <= max_capacity_change`` (means over all
    members and sectors; no main project means the pattern fails).
    """
    if not row["main_project_start"]:
        return False
    rise = row["competence_pilot_end"] - row["competence_main_start"]
    change = abs(row["capacity_pilot_end"] / row["capacity_main_start"] - 1)
    return rise >= min_competence_rise and change <= max_capacity_change


def vulnerability_contrast(formal_row, network_row, sector, min_formal_drop, max_network_drop):
    """Pilot end -> horizon: the formal office's vulnerability falls clearly, the network's not.

    Exact test: the formal case has a formal arrangement for ``sector`` at the horizon and
    ``v_horizon <= (1 - min_formal_drop) * v_pilot_end`` for it; the network case has
    ``v_horizon > (1 - max_network_drop) * v_pilot_end``.
    """
    fa, fb = formal_row[f"vulnerability_{sector}_pilot_end"], formal_row[f"vulnerability_{sector}_horizon"]
    na, nb = network_row[f"vulnerability_{sector}_pilot_end"], network_row[f"vulnerability_{sector}_horizon"]
    return (formal_row[f"form_{sector}_horizon"] in FORMAL_FORMS
            and fb <= (1 - min_formal_drop) * fa and nb > (1 - max_network_drop) * na)


PREDICATES = {f.__name__: f for f in (formal_agreement, no_formal, host_is, not_member, voted_on,
                                      stall_cause, network, competence_not_capacity)}
CROSS_CASE = {"vulnerability_contrast": vulnerability_contrast}


def load_patterns(path: Path = PATTERNS_FILE) -> list[Pattern]:
    """Read and check the pattern file."""
    raw = read_toml(path)
    out = []
    for i, item in enumerate(raw.get("pattern", [])):
        args = {k: v for k, v in item.items()
                if k not in ("id", "case", "kind", "threshold", "description", "test")}
        for key in ("id", "case", "kind", "threshold", "description", "test"):
            if key not in item:
                raise InputError(path, f"pattern[{i}].{key}", "missing key")
        if item["test"] not in PREDICATES and item["test"] not in CROSS_CASE:
            raise InputError(path, f"pattern[{i}].test", f"unknown test {item['test']!r}")
        out.append(Pattern(item["id"], item["case"], item["kind"], float(item["threshold"]),
                           item["description"], item["test"], args))
    return out


def pattern_cases(patterns: list[Pattern]) -> list[str]:
    """The scenario names the patterns need, in file order."""
    cases: list[str] = []
    for p in patterns:
        names = [p.args["formal_case"], p.args["network_case"]] if p.test in CROSS_CASE else [p.case]
        cases += [c for c in names if c not in cases]
    return cases


def evaluate(patterns: list[Pattern], rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Score every pattern on rows grouped by case (lists aligned by replicate index)."""
    n = len(next(iter(rows.values())))
    hits: dict[str, list[bool]] = {}
    for p in patterns:
        if p.test in CROSS_CASE:
            a, b = rows[p.args["formal_case"]], rows[p.args["network_case"]]
            args = {k: v for k, v in p.args.items() if k not in ("formal_case", "network_case")}
            hits[p.id] = [CROSS_CASE[p.test](x, y, **args) for x, y in zip(a, b, strict=True)]
        else:
            hits[p.id] = [PREDICATES[p.test](r, **p.args) for r in rows[p.case]]
    results = []
    for p in patterns:
        k = sum(hits[p.id])
        share = k / n
        results.append({"id": p.id, "case": p.case, "kind": p.kind, "description": p.description,
                        "share": share, "ci95": list(wilson(k, n)), "threshold": p.threshold,
                        "passed": share >= p.threshold})
    primary = [p.id for p in patterns if p.kind == "primary"]
    joint_k = sum(all(hits[i][r] for i in primary) for r in range(n))
    return {"patterns": results, "joint": {"share": joint_k / n, "ci95": list(wilson(joint_k, n))}}


def validate(replicates: int = 1000, seed: int = 20161214, workers: int | None = None,
             scheduler: str | None = None, progress: bool = True,
             overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every case ``replicates`` times and score the patterns.

    Returns:
        ``{"replicates", "seed", "patterns": [...], "joint": {...}, "seconds", "rows"}``.
    """
    t0 = time.perf_counter()
    patterns = load_patterns()
    cases = pattern_cases(patterns)
    items = tuple(sorted((overrides or {}).items()))
    jobs = [Job(i * replicates + r, case, r, seed, items)
            for i, case in enumerate(cases) for r in range(replicates)]
    flat = run_rows(jobs, workers=workers, scheduler=scheduler, progress=progress)
    rows = {case: flat[i * replicates:(i + 1) * replicates] for i, case in enumerate(cases)}
    result = {"replicates": replicates, "seed": seed, **evaluate(patterns, rows)}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["rows"] = rows
    return result


def format_table(result: dict[str, Any]) -> str:
    """The validation table as plain text."""
    lines = [f"{'pattern':46s} {'kind':9s} {'share':>6s}  {'95% CI':15s} {'thr':>5s}  result"]
    for p in result["patterns"]:
        lo, hi = p["ci95"]
        lines.append(f"{p['id']:46s} {p['kind']:9s} {p['share']:6.3f}  [{lo:.3f}, {hi:.3f}]  "
                     f"{p['threshold']:5.2f}  {'pass' if p['passed'] else 'FAIL'}")
    lo, hi = result["joint"]["ci95"]
    lines.append(f"{'joint: all primary patterns, same replicate':46s} {'':9s} "
                 f"{result['joint']['share']:6.3f}  [{lo:.3f}, {hi:.3f}]")
    lines.append(f"{result['replicates']} replicates per case, base seed {result['seed']}, "
                 f"{result['seconds']:.1f} s")
    return "\n".join(lines)
