"""Pattern-oriented validation: the report's stories as tests on each replicate's records.

The patterns (ids, cases, thresholds, clauses) are data in ``scenarios/patterns.toml``; this
module holds only generic clauses that read a replicate's outcome row, its vote records
(``votes.csv`` rows) and its events (``events.csv`` rows), so no municipality or region name
appears in code. A story holds in a replicate when all its clauses do. ``validate(null=...)``
runs the same patterns with one mechanism removed (:class:`sim.vocab.NullModel`): a pattern is
evidence only if it fails there.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.params import read_toml
from sim.runner import Job, execute
from sim.scenario import SCENARIO_DIR, resolve_path
from sim.vocab import NONE, NullModel

PATTERNS_FILE = SCENARIO_DIR / "patterns.toml"
Run = dict[str, Any]  # {"row": outcome row, "votes": [votes.csv rows], "events": [events.csv rows]}


@dataclass(frozen=True)
class Clause:
    """One condition of a story: a generic test and its arguments."""

    test: str
    args: dict[str, Any]

    @property
    def label(self) -> str:
        """Short text for tables."""
        return self.args.get("label") or self.test


@dataclass(frozen=True)
class Pattern:
    """A validation pattern: a story of one case (or a comparison of two runs)."""

    id: str
    case: str
    kind: str
    threshold: float
    description: str
    clauses: tuple[Clause, ...]
    variant: tuple[tuple[str, Any], ...] = ()  # overrides of the comparison run, for ``contrast``


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial share.

    The limits are clamped to bracket the share itself: at 0 or ``n`` successes the formula's
    limit equals the share up to a rounding error (``1 - 1e-16``), which would otherwise put the
    share just outside its own interval (and give plots negative error bars).
    """
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


# --- generic clauses ------------------------------------------------------------------------------
def _within(month: str, between: list[str] | None) -> bool:
    return not between or between[0] <= month <= between[1]


def _votes(run: Run) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for v in run["votes"]:
        out.setdefault(int(v["vote_id"]), []).append(v)
    return out


def vote(
    run: Run,
    sectors: list[str],
    stage: str | None = None,
    form: str | None = None,
    host: str | None = None,
    between: list[str] | None = None,
    councils: dict[str, dict[str, Any]] | None = None,
    min_against: int | None = None,
    label: str = "",
) -> bool:
    """Some vote matches: exactly ``sectors``, and ``stage``, ``form``, ``host`` and the month window.

    The named ``councils`` voted and stated as given, and at least ``min_against`` councils other
    than the host voted no or preferred another form.
    """
    for rows in _votes(run).values():
        first = rows[0]
        if set(json.loads(first["sectors"])) != set(sectors) or not _within(first["month"], between):
            continue
        if stage and first["stage"] != stage or form and first["form"] != form or host and first["host"] != host:
            continue
        by = {r["municipality"]: r for r in rows}
        if any(m not in by or any(by[m][k] != v for k, v in want.items()) for m, want in (councils or {}).items()):
            continue
        against = sum(
            r["vote"] == "no" or r["preferred_form"] != r["form"] for r in rows if r["municipality"] != first["host"]
        )
        if min_against is None or against >= min_against:
            return True
    return False


def exited(run: Run, municipality: str, label: str = "") -> bool:
    """``municipality`` voted no and left the project."""
    return municipality in json.loads(run["row"]["exits"])


def arrangement(
    run: Run,
    sector: str,
    form: str,
    host: str | None = None,
    members: list[str] | None = None,
    decided_between: list[str] | None = None,
    label: str = "",
) -> bool:
    """At the end of the pilot ``sector`` is under ``form`` (with this host, these members, decided in the window)."""
    row = run["row"]
    return (
        row[f"form_{sector}"] == form
        and (host is None or row[f"host_{sector}"] == host)
        and (members is None or set(json.loads(row[f"members_{sector}"])) == set(members))
        and (decided_between is None or _within(row[f"decided_{sector}"], decided_between))
    )


def event(run: Run, kind: str, between: list[str], sectors: list[str] | None = None, label: str = "") -> bool:
    """An event of ``kind`` (covering ``sectors``) happened within the month window."""
    return any(
        e["kind"] == kind
        and _within(e["month"], between)
        and (sectors is None or set(sectors) <= set(json.loads(e["sectors"])))
        for e in run["events"]
    )


def no_arrangement(run: Run, sectors: list[str], formal_only: bool = False, label: str = "") -> bool:
    """At the end of the pilot none of ``sectors`` is under an arrangement (a formal one, if ``formal_only``)."""
    row = run["row"]
    return all(not row[f"formal_{s}"] if formal_only else row[f"form_{s}"] == NONE for s in sectors)


def stalled(run: Run, cause: str, by: str, label: str = "") -> bool:
    """The process stopped by month ``by`` with the recorded ``cause``."""
    row = run["row"]
    return row["stall_cause"] == cause and row["stall_month"] <= by


def network(run: Run, sectors: list[str], label: str = "") -> bool:
    """An informal network of all members covers ``sectors`` at the end of the pilot, and nothing is formal."""
    row = run["row"]
    return not row["formal_by_pilot_end"] and all(
        row[f"form_{s}"] == "network" and len(json.loads(row[f"members_{s}"])) == row["n_members"] for s in sectors
    )


def competence_not_capacity(run: Run, min_competence_rise: float, max_capacity_change: float, label: str = "") -> bool:
    """From the main project's start to the pilot's end: competence up, capacity nearly flat.

    Exact test: ``competence_pilot_end - competence_main_start >= min_competence_rise`` and
    ``|capacity_pilot_end / capacity_main_start - 1| <= max_capacity_change`` (means over all
    members and sectors; no main project means the clause fails).
    """
    row = run["row"]
    if not row["main_project_start"]:
        return False
    rise = row["competence_pilot_end"] - row["competence_main_start"]
    return (
        rise >= min_competence_rise
        and abs(row["capacity_pilot_end"] / row["capacity_main_start"] - 1) <= max_capacity_change
    )


def contrast(run: Run, other: Run, sector: str, min_difference: float, label: str = "") -> bool:
    """The case's own arrangement leaves ``sector`` less vulnerable at the horizon than the comparison run.

    Both runs share the seed; the comparison differs only by the pattern's ``variant`` (e.g. only
    networks allowed), so the difference is the mechanism's, not the group's.
    """
    key = f"vulnerability_{sector}_horizon_all"
    return other["row"][key] - run["row"][key] >= min_difference


CLAUSES: dict[str, Callable[..., bool]] = {
    f.__name__: f
    for f in (vote, exited, arrangement, event, no_arrangement, stalled, network, competence_not_capacity, contrast)
}


def load_patterns(path: Path = PATTERNS_FILE) -> list[Pattern]:
    """Read and check the pattern file."""
    raw = read_toml(path)
    out = []
    for i, item in enumerate(raw.get("pattern", [])):
        for key in ("id", "case", "kind", "threshold", "description", "clauses"):
            if key not in item:
                raise InputError(path, f"pattern[{i}].{key}", "missing key")
        clauses = []
        for j, c in enumerate(item["clauses"]):
            if c.get("test") not in CLAUSES:
                raise InputError(path, f"pattern[{i}].clauses[{j}].test", f"unknown test {c.get('test')!r}")
            clauses.append(Clause(c["test"], {k: v for k, v in c.items() if k != "test"}))
        out.append(
            Pattern(
                item["id"],
                item["case"],
                item["kind"],
                float(item["threshold"]),
                item["description"],
                tuple(clauses),
                tuple(sorted(item.get("variant", {}).items())),
            )
        )
    return out


def pattern_cases(patterns: list[Pattern]) -> list[tuple[str, tuple]]:
    """The (case, variant) groups the patterns need, in file order (one run set each)."""
    groups = list(dict.fromkeys((p.case, ()) for p in patterns))
    return groups + [g for g in dict.fromkeys((p.case, p.variant) for p in patterns if p.variant) if g not in groups]


def _score(p: Pattern, runs: list[Run], others: list[Run] | None) -> tuple[list[bool], dict[str, float]]:
    per_clause = {}
    hits = [True] * len(runs)
    for c in p.clauses:
        fn = CLAUSES[c.test]
        ok = (
            [fn(r, o, **c.args) for r, o in zip(runs, others, strict=True)]
            if c.test == "contrast"
            else [fn(r, **c.args) for r in runs]
        )
        per_clause[c.label] = sum(ok) / len(ok)
        hits = [h and k for h, k in zip(hits, ok, strict=True)]
    return hits, per_clause


def evaluate(patterns: list[Pattern], runs: dict[tuple[str, tuple], list[Run]]) -> dict[str, Any]:
    """Score every pattern on runs grouped by (case, variant) (lists aligned by replicate index)."""
    results, hits_by_id = [], {}
    for p in patterns:
        others = runs[(p.case, p.variant)] if p.variant else None
        hits, per_clause = _score(p, runs[(p.case, ())], others)
        hits_by_id[p.id] = hits
        k, n = sum(hits), len(hits)
        results.append(
            {
                "id": p.id,
                "case": p.case,
                "kind": p.kind,
                "description": p.description,
                "share": k / n,
                "ci95": list(wilson(k, n)),
                "threshold": p.threshold,
                "passed": k / n >= p.threshold,
                "clauses": per_clause,
            }
        )
    primary = [p.id for p in patterns if p.kind == "primary"]
    n = len(next(iter(hits_by_id.values())))
    joint_k = sum(all(hits_by_id[i][r] for i in primary) for r in range(n))
    return {"patterns": results, "joint": {"share": joint_k / n, "ci95": list(wilson(joint_k, n))}}


def validate(
    replicates: int = 1000,
    seed: int = 20161214,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    null: NullModel | str = NullModel.NONE,
    posterior: Any = None,
) -> dict[str, Any]:
    """Run every case ``replicates`` times and score the patterns.

    Args:
        replicates: Replicates per case.
        seed: Base seed (replicate ``r`` of every case shares its seed).
        workers: Worker processes (default: all cores).
        scheduler: Dask scheduler address.
        progress: Show a progress bar.
        overrides: Parameter overrides for every case.
        null: Remove one mechanism (a :class:`NullModel`); every primary pattern should fail.
        posterior: A calibration result (:class:`sim.posterior.Posterior` or its folder): replicate
            ``r`` of every case runs with the posterior set ``r mod K`` (``overrides`` still win),
            so the shares carry parameter uncertainty as well as the stochastic one.

    Returns:
        ``{"replicates", "seed", "null", "patterns": [...], "joint": {...}, "seconds"}`` and, under a
        posterior, ``"posterior": {"folder", "sets", "note"}``.
    """
    from sim.posterior import posterior_argument

    t0 = time.perf_counter()
    post = posterior_argument(posterior)
    patterns = load_patterns()
    base = {**(overrides or {}), "null_model": str(NullModel(null))}
    groups = pattern_cases(patterns)
    jobs = [
        Job(
            g * replicates + r,
            str(resolve_path(case)),
            r,
            seed,
            tuple(sorted({**(post.values(r) if post else {}), **base, **dict(var)}.items())),
            detail="records",
        )
        for g, (case, var) in enumerate(groups)
        for r in range(replicates)
    ]
    out = list(execute(jobs, workers=workers, scheduler=scheduler, progress=progress))
    runs = {
        g: [
            {"row": o["row"], "votes": o["votes"], "events": o["events"]}
            for o in out[i * replicates : (i + 1) * replicates]
        ]
        for i, g in enumerate(groups)
    }
    result = {"replicates": replicates, "seed": seed, "null": str(NullModel(null)), **evaluate(patterns, runs)}
    if post:
        result["posterior"] = {"folder": str(post.folder), "sets": post.size, "note": post.note}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def validate_county(
    county: str,
    replicates: int = 200,
    seed: int = 20161214,
    threshold: float = 0.6,
    workers: int | None = None,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Score the pilots' primary stories inside a county run (the county model anchored where it can be checked).

    The bar is the county issue's (each primary story at least 0.6 inside the county), below the
    stories' own bars for the pilots alone, since the county runs add other negotiations.

    Each pilot of the county file runs among all the county's municipalities; its story is
    scored on its own negotiation's records (:func:`sim.runner.pilot_runs`). Secondary patterns
    (comparisons between runs) are not scored here.

    Returns:
        The :func:`evaluate` result for the primary patterns of the county's pilots, each with
        ``threshold`` as its bar, plus ``replicates``, ``seed``, ``county`` and ``seconds``.
    """
    t0 = time.perf_counter()
    path = resolve_path(county)
    items = tuple(sorted((overrides or {}).items()))
    jobs = [Job(r, str(path), r, seed, items, detail="pilots") for r in range(replicates)]
    out = list(execute(jobs, workers=workers, scheduler=scheduler, progress=progress))
    stems = {stem for o in out for stem in o["pilots"]}
    patterns = [replace(p, threshold=threshold) for p in load_patterns() if p.kind == "primary" and p.case in stems]
    runs = {(stem, ()): [o["pilots"][stem] for o in out] for stem in stems}
    result = {"replicates": replicates, "seed": seed, "county": county, **evaluate(patterns, runs)}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def format_table(result: dict[str, Any], clauses: bool = False) -> str:
    """The validation table as plain text (with each clause's share when ``clauses``)."""
    title = "" if result.get("null", "none") == "none" else f"null model: {result['null']}\n"
    lines = [title + f"{'pattern':40s} {'kind':9s} {'share':>6s}  {'95% CI':15s} {'thr':>5s}  result"]
    for p in result["patterns"]:
        lo, hi = p["ci95"]
        lines.append(
            f"{p['id']:40s} {p['kind']:9s} {p['share']:6.3f}  [{lo:.3f}, {hi:.3f}]  "
            f"{p['threshold']:5.2f}  {'pass' if p['passed'] else 'FAIL'}"
        )
        if clauses:
            lines += [f"    {label:36s} {share:6.3f}" for label, share in p["clauses"].items()]
    lo, hi = result["joint"]["ci95"]
    lines.append(
        f"{'joint: all primary stories, same replicate':40s} {'':9s} {result['joint']['share']:6.3f}  "
        f"[{lo:.3f}, {hi:.3f}]"
    )
    lines.append(f"{result['replicates']} replicates per case, base seed {result['seed']}, {result['seconds']:.1f} s")
    if "posterior" in result:
        post = result["posterior"]
        lines.append(f"95 % Wilson intervals; {post['note']}: {post['folder']}")
    return "\n".join(lines)


def markdown(result: dict[str, Any], command: str, nulls: list[dict[str, Any]] | None = None) -> str:
    """``docs/validation.md``: the stories with each clause's share, and the null models."""
    lines = [
        "# Validation (generated)",
        "",
        "Made by:",
        "",
        "```",
        command,
        "```",
        "",
        f"{result['replicates']} replicates per case, base seed {result['seed']}, {result['seconds']:.1f} s. "
        "Stories and their exact clauses: `scenarios/patterns.toml`, `sim/validation.py`, docs/ODD.md III.vi."
        + (
            f" Replicate r runs with posterior set r mod {result['posterior']['sets']} of "
            f"`{result['posterior']['folder']}`, so the shares and their 95 % intervals carry parameter and "
            "stochastic uncertainty."
            if "posterior" in result
            else ""
        ),
        "",
        "| pattern | kind | share | 95 % interval | threshold | result |",
        "|---|---|---|---|---|---|",
    ]
    for p in result["patterns"]:
        lo, hi = p["ci95"]
        lines.append(
            f"| `{p['id']}` | {p['kind']} | {p['share']:.3f} | [{lo:.3f}, {hi:.3f}] | {p['threshold']:.2f} | "
            f"{'pass' if p['passed'] else 'FAIL'} |"
        )
        lines += [f"| &nbsp;&nbsp; {label} | clause | {share:.3f} | | | |" for label, share in p["clauses"].items()]
    lo, hi = result["joint"]["ci95"]
    lines.append(
        f"| all primary stories in the same replicate | joint | {result['joint']['share']:.3f} | "
        f"[{lo:.3f}, {hi:.3f}] | | |"
    )
    if nulls:
        ids = [p["id"] for p in result["patterns"] if p["kind"] == "primary"]
        lines += [
            "",
            "## Null models",
            "",
            "Each primary story must fail (share below 0.2) when one mechanism is removed.",
            "",
            "| null model | " + " | ".join(f"`{i}`" for i in ids) + " | all fail |",
            "|---|" + "---|" * (len(ids) + 1),
        ]
        for n in nulls:
            shares = {p["id"]: p["share"] for p in n["patterns"]}
            ok = all(shares[i] < 0.2 for i in ids)
            lines.append(
                f"| {n['null']} | " + " | ".join(f"{shares[i]:.3f}" for i in ids) + f" | {'yes' if ok else 'NO'} |"
            )
    return "\n".join(lines) + "\n"
