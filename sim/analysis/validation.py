"""Pattern-oriented validation: the report's stories as tests on each replicate's records.

The patterns (ids, cases, thresholds, clauses) are data in ``scenarios/patterns.toml``; this
module holds only generic clauses that read a replicate's outcome row, its vote records
(``votes.csv`` rows) and its events (``events.csv`` rows), so no municipality or region name
appears in code. A story holds in a replicate when all its clauses do. ``validate(null=...)``
runs the same patterns with one mechanism removed (:class:`sim.inputs.vocab.NullModel`): a pattern is
evidence only if it fails there.
"""

from __future__ import annotations

import json
import math
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sim.analysis.posterior import posterior_argument
from sim.analysis.stats import wilson
from sim.inputs.errors import InputError
from sim.inputs.params import read_toml
from sim.inputs.scenario import SCENARIO_DIR, resolve_path
from sim.inputs.vocab import NONE, NullModel
from sim.run.execution import Execution
from sim.run.runner import Job

PATTERNS_FILE = SCENARIO_DIR / "patterns.toml"
FACTS_FILE = SCENARIO_DIR / "facts.toml"
ROLES = ("calibration", "validation")
# {"row": outcome row, "votes": [votes.csv rows], "events": [events.csv rows]}, or scored in the worker
# ({"row": some columns, "hits": {clause key: hit}}, :class:`Scorer`)
Run = dict[str, Any]


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


@dataclass(frozen=True)
class Fact:
    """One fact the report states about a pilot (``scenarios/facts.toml``), with its generic clauses."""

    id: str
    case: str
    role: str
    source: str
    statement: str
    clauses: tuple[Clause, ...]
    threshold: float = 0.6


@dataclass(frozen=True)
class Knockout:
    """A mechanism the report names as a cause of a story, switched off by parameter overrides."""

    id: str
    pattern: str
    mechanism: str
    overrides: tuple[tuple[str, Any], ...]


#: A story fails under a knock-out when its share falls below this.
KNOCKOUT_BAR = 0.2


# --- generic clauses ------------------------------------------------------------------------------
def _within(month: str, between: list[str] | None) -> bool:
    return not between or between[0] <= month <= between[1]


def _votes(run: Run) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for v in run["votes"]:
        # votes.csv has one row per council and vote; the clauses test whole votes, so group them.
        out.setdefault(int(v["vote_id"]), []).append(v)
    return out


def vote(
    run: Run,
    sectors: list[str] | None = None,
    stage: str | None = None,
    form: str | None = None,
    host: str | None = None,
    between: list[str] | None = None,
    councils: dict[str, dict[str, Any]] | None = None,
    min_against: int | None = None,
    min_no: int | None = None,
    label: str = "",
) -> bool:
    """Some vote matches: exactly ``sectors`` (if given), and ``stage``, ``form``, ``host`` and the month window.

    The named ``councils`` voted and stated as given, at least ``min_against`` councils other
    than the host voted no or preferred another form, and at least ``min_no`` of them voted no.
    """
    for rows in _votes(run).values():
        first = rows[0]
        if sectors is not None and set(json.loads(first["sectors"])) != set(sectors):
            continue
        if not _within(first["month"], between):
            continue
        if stage and first["stage"] != stage or form and first["form"] != form or host and first["host"] != host:
            continue
        by = {r["municipality"]: r for r in rows}
        if any(m not in by or any(by[m][k] != v for k, v in want.items()) for m, want in (councils or {}).items()):
            continue
        # The host is left out: it gains the office, so its yes says nothing about the partners'
        # resistance that min_against and min_no count.
        against = sum(
            r["vote"] == "no" or r["preferred_form"] != r["form"] for r in rows if r["municipality"] != first["host"]
        )
        no = sum(r["vote"] == "no" for r in rows if r["municipality"] != first["host"])
        if (min_against is None or against >= min_against) and (min_no is None or no >= min_no):
            return True
    return False


def stated(
    run: Run,
    key: str,
    equals: str | None = None,
    differs: str | None = None,
    every: bool = False,
    stage: str | None = None,
    sectors: list[str] | None = None,
    form: str | None = None,
    partners: bool = False,
    label: str = "",
) -> bool:
    """What councils stated at a vote: every council's ``key`` equals ``equals`` (or differs from ``differs``).

    The votes considered are those with ``stage``, exactly ``sectors`` and ``form`` (each if given);
    with ``partners`` only councils other than the vote's host count. With ``every`` the statement
    must hold at every such vote (and there must be one), else at some such vote.
    """
    found = []
    for rows in _votes(run).values():
        first = rows[0]
        if sectors is not None and set(json.loads(first["sectors"])) != set(sectors):
            continue
        if stage and first["stage"] != stage or form and first["form"] != form:
            continue
        said = [r[key] for r in rows if not (partners and r["municipality"] == first["host"])]
        found.append(
            # bool(said): a vote with no council left to count (only the host, with partners) proves nothing.
            all((equals is None or s == equals) and (differs is None or s != differs) for s in said) and bool(said)
        )
    return bool(found) and (all(found) if every else any(found))


def no_vote(run: Run, forms: list[str], label: str = "") -> bool:
    """No option of the ``forms`` was ever put to the councils."""
    return not any(v["form"] in forms for v in run["votes"])


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


def event(
    run: Run,
    kind: str,
    between: list[str],
    sectors: list[str] | None = None,
    exact: bool = False,
    form: str | None = None,
    host: str | None = None,
    label: str = "",
) -> bool:
    """An event of ``kind`` (covering ``sectors``, exactly them if ``exact``; with ``form``, ``host``) in the window."""
    return any(
        e["kind"] == kind
        and _within(e["month"], between)
        and (sectors is None or (set.__eq__ if exact else set.__le__)(set(sectors), set(json.loads(e["sectors"]))))
        and (form is None or e["form"] == form)
        and (host is None or e["host"] == host)
        for e in run["events"]
    )


def no_event(run: Run, kind: str, between: list[str], label: str = "") -> bool:
    """No event of ``kind`` within the month window."""
    return not any(e["kind"] == kind and _within(e["month"], between) for e in run["events"])


def no_arrangement(run: Run, sectors: list[str], formal_only: bool = False, label: str = "") -> bool:
    """At the end of the pilot none of ``sectors`` is under an arrangement (a formal one, if ``formal_only``)."""
    row = run["row"]
    # "Formal" is read from the row (one definition, in the model's outcomes), never from form names,
    # so a form added as data is judged the same way.
    return all(not row[f"formal_{s}"] if formal_only else row[f"form_{s}"] == NONE for s in sectors)


def stalled(run: Run, cause: str, by: str, label: str = "") -> bool:
    """The process stopped by month ``by`` with the recorded ``cause``."""
    row = run["row"]
    return row["stall_cause"] == cause and row["stall_month"] <= by


def network(run: Run, sectors: list[str], label: str = "") -> bool:
    """An informal network of all members covers ``sectors`` at the end of the pilot, and nothing is formal."""
    row = run["row"]
    return not row["formal_by_pilot_end"] and all(
        row[f"network_{s}"] and len(json.loads(row[f"members_{s}"])) == row["n_members"] for s in sectors
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


def change(
    run: Run,
    measure: str,
    min_abs: float | None = None,
    max_abs: float | None = None,
    min_rel: float | None = None,
    max_rel: float | None = None,
    label: str = "",
) -> bool:
    """Change of ``measure`` (mean over members and sectors) from the main project's start to the pilot's end.

    ``min_abs``/``max_abs`` bound the difference, ``min_rel``/``max_rel`` the relative change
    (``end / start - 1``). No main project (or network) means the clause fails.
    """
    row = run["row"]
    if not row["main_project_start"]:
        return False
    start, end = row[f"{measure}_main_start"], row[f"{measure}_pilot_end"]
    # From zero any rise is an infinite relative change: min_rel is then met and max_rel fails.
    rel = end / start - 1 if start else math.inf
    return (
        (min_abs is None or end - start >= min_abs)
        and (max_abs is None or end - start <= max_abs)
        and (min_rel is None or rel >= min_rel)
        and (max_rel is None or rel <= max_rel)
    )


def contrast_column(sector: str) -> str:
    """The outcome column a ``contrast`` clause on ``sector`` compares."""
    return f"vulnerability_{sector}_horizon_all"


def contrast(run: Run, other: Run, sector: str, min_difference: float, label: str = "") -> bool:
    """The case's own arrangement leaves ``sector`` less vulnerable at the horizon than the comparison run.

    Both runs share the seed; the comparison differs only by the pattern's ``variant`` (e.g. only
    networks allowed), so the difference is the mechanism's, not the group's.
    """
    key = contrast_column(sector)
    # Positive when the case's own arrangement leaves the sector less vulnerable than the variant.
    return other["row"][key] - run["row"][key] >= min_difference


CLAUSES: dict[str, Callable[..., bool]] = {
    f.__name__: f
    for f in (
        vote,
        stated,
        no_vote,
        exited,
        arrangement,
        event,
        no_event,
        no_arrangement,
        stalled,
        network,
        competence_not_capacity,
        change,
        contrast,
    )
}


def clause_key(c: Clause) -> str:
    """A clause's identity in a scored run's ``hits`` (its test and arguments)."""
    return json.dumps([c.test, c.args], sort_keys=True, default=str)


def holds(c: Clause, key: str, run: Run) -> Any:
    """Whether clause ``c`` (of key ``key``) holds in ``run``: its hit scored in the worker, else tested here."""
    hits = run.get("hits")
    return hits[key] if hits is not None else CLAUSES[c.test](run, **c.args)


@dataclass(frozen=True)
class Scorer:
    """Scores a run in the worker (``Job.reduce``): the hits of ``clauses`` and the outcome columns ``keep``.

    A scored run is ``{"index", "row": {column: value for keep}, "hits": {clause key: hit}}``;
    :func:`holds` reads a clause's hit from it, so the run's events and votes never leave the
    worker (issue 19: the main process keeps 4 x 1000 small runs, not their records). The hits
    are those the records give, wherever the run is scored.
    """

    clauses: tuple[Clause, ...]
    keep: tuple[str, ...]

    def __call__(self, result: dict[str, Any]) -> dict[str, Any]:
        """The scored run of one runner result (``detail="records"``)."""
        run, row = as_run(result), result["row"]
        hits = {clause_key(c): CLAUSES[c.test](run, **c.args) for c in self.clauses}
        return {"index": result["index"], "row": {k: row[k] for k in self.keep if k in row}, "hits": hits}


def scorer(patterns: list[Pattern], facts: list[Fact], case: str | None) -> Scorer:
    """The :class:`Scorer` of a case's runs: every clause of its patterns and facts but ``contrast``.

    ``contrast`` compares two runs, so it is tested in the main process on the columns kept from
    every run; ``case`` None scores nothing else (a comparison variant's runs only lend them).
    """
    clauses = [c for p in patterns if p.case == case for c in p.clauses] + [
        c for f in facts if f.case == case for c in f.clauses
    ]
    own = {clause_key(c): c for c in clauses if c.test != "contrast"}
    keep = {contrast_column(c.args["sector"]) for p in patterns for c in p.clauses if c.test == "contrast"}
    return Scorer(tuple(own.values()), tuple(sorted(keep)))


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


def load_facts(path: Path = FACTS_FILE) -> list[Fact]:
    """Read and check the fact table (``scenarios/facts.toml``)."""
    raw = read_toml(path)
    out, seen = [], set()
    for i, item in enumerate(raw.get("fact", [])):
        for key in ("id", "case", "role", "source", "statement", "clauses"):
            if key not in item:
                raise InputError(path, f"fact[{i}].{key}", "missing key")
        if item["role"] not in ROLES:
            raise InputError(path, f"fact[{i}].role", f"must be one of {', '.join(ROLES)}, got {item['role']!r}")
        if item["id"] in seen:
            raise InputError(path, f"fact[{i}].id", f"duplicate id {item['id']!r}")
        seen.add(item["id"])
        clauses = []
        for j, c in enumerate(item["clauses"]):
            # A fact is scored on the case's runs alone; contrast needs a paired variant run, which facts
            # do not have.
            if c.get("test") not in CLAUSES or c.get("test") == "contrast":
                raise InputError(path, f"fact[{i}].clauses[{j}].test", f"unknown test {c.get('test')!r}")
            clauses.append(Clause(c["test"], {k: v for k, v in c.items() if k != "test"}))
        out.append(
            Fact(
                item["id"],
                item["case"],
                item["role"],
                item["source"],
                item["statement"],
                tuple(clauses),
                float(item.get("threshold", 0.6)),
            )
        )
    return out


def fact_hits(fact: Fact, runs: list[Run]) -> list[bool]:
    """Per replicate: does every clause of the fact hold?"""
    keys = [clause_key(c) for c in fact.clauses]
    return [all(holds(c, k, r) for c, k in zip(fact.clauses, keys, strict=True)) for r in runs]


def evaluate_facts(facts: list[Fact], runs: dict[tuple[str, tuple], list[Run]]) -> list[dict[str, Any]]:
    """Score every fact whose case was run: share of replicates where it holds, with its Wilson interval."""
    out = []
    for f in facts:
        if (f.case, ()) not in runs:
            continue
        hits = fact_hits(f, runs[(f.case, ())])
        k, n = sum(hits), len(hits)
        out.append(
            {
                "id": f.id,
                "case": f.case,
                "role": f.role,
                "source": f.source,
                "statement": f.statement,
                "share": k / n,
                "ci95": list(wilson(k, n)),
                "threshold": f.threshold,
                "passed": k / n >= f.threshold,
            }
        )
    return out


def load_knockouts(path: Path = PATTERNS_FILE) -> list[Knockout]:
    """Read the ``[[knockout]]`` tables of the pattern file (each names a story pattern)."""
    raw = read_toml(path)
    ids = {p["id"] for p in raw.get("pattern", [])}
    out = []
    for i, item in enumerate(raw.get("knockout", [])):
        for key in ("id", "pattern", "mechanism", "overrides"):
            if key not in item:
                raise InputError(path, f"knockout[{i}].{key}", "missing key")
        if item["pattern"] not in ids:
            raise InputError(path, f"knockout[{i}].pattern", f"unknown pattern {item['pattern']!r}")
        out.append(Knockout(item["id"], item["pattern"], item["mechanism"], tuple(sorted(item["overrides"].items()))))
    return out


def knockouts(replicates: int = 1000, seed: int = 20161214, execution: Execution = Execution()) -> list[dict[str, Any]]:
    """Score each story with each mechanism the report names as its cause switched off (issue 20, Build 6).

    Each knock-out re-runs its story's case with its overrides on the same seeds as
    :func:`validate`; the story is evidence for the mechanism only if it then fails (share below
    :data:`KNOCKOUT_BAR`).
    """
    patterns = {p.id: p for p in load_patterns()}
    kos = load_knockouts()
    # The same seeds as validate(): replicate r with and without the mechanism is one pair, so a fall
    # in the share is the mechanism's, not a different draw's.
    scorers = [scorer([patterns[k.pattern]], [], patterns[k.pattern].case) for k in kos]
    jobs = [
        Job(
            i * replicates + r,
            str(resolve_path(patterns[k.pattern].case)),
            r,
            seed,
            k.overrides,
            detail="records",
            reduce=scorers[i],
        )
        for i, k in enumerate(kos)
        for r in range(replicates)
    ]
    out = list(execution.execute(jobs))
    results = []
    for i, k in enumerate(kos):
        hits, per_clause = score(patterns[k.pattern], out[i * replicates : (i + 1) * replicates], None)
        n = sum(hits)
        results.append(
            {
                "id": k.id,
                "pattern": k.pattern,
                "mechanism": k.mechanism,
                "overrides": dict(k.overrides),
                "share": n / len(hits),
                "ci95": list(wilson(n, len(hits))),
                "fails": n / len(hits) < KNOCKOUT_BAR,
                "clauses": per_clause,
            }
        )
    return results


def format_knockouts(results: list[dict[str, Any]]) -> str:
    """The knock-outs as plain text."""
    lines = [f"mechanism knock-outs (the story must fail: share < {KNOCKOUT_BAR})"]
    lines.append(f"{'knock-out':44s} {'story':24s} {'share':>6s}  {'95% CI':15s} fails")
    for k in results:
        lo, hi = k["ci95"]
        lines.append(
            f"{k['id']:44s} {k['pattern']:24s} {k['share']:6.3f}  [{lo:.3f}, {hi:.3f}]  {'yes' if k['fails'] else 'NO'}"
        )
    return "\n".join(lines)


def pattern_cases(patterns: list[Pattern]) -> list[tuple[str, tuple]]:
    """The (case, variant) groups the patterns need, in file order (one run set each)."""
    # Each case once, then the comparison variants. The order only places the jobs: a run's stream
    # depends on its replicate alone, so adding a pattern changes no other pattern's runs.
    groups = list(dict.fromkeys((p.case, ()) for p in patterns))
    return groups + [g for g in dict.fromkeys((p.case, p.variant) for p in patterns if p.variant) if g not in groups]


def score(p: Pattern, runs: list[Run], others: list[Run] | None) -> tuple[list[bool], dict[str, float]]:
    """Which runs tell the pattern's story, and the share of runs meeting each clause.

    Args:
        p: The pattern.
        runs: One record per replicate of the pattern's case.
        others: The paired runs of the pattern's comparison variant (``contrast`` clauses), or None.
    """
    per_clause = {}
    hits = [True] * len(runs)
    for c in p.clauses:
        key = clause_key(c)
        ok = (
            [contrast(r, o, **c.args) for r, o in zip(runs, others, strict=True)]
            if c.test == "contrast"
            else [holds(c, key, r) for r in runs]
        )
        per_clause[c.label] = sum(ok) / len(ok)
        # A story holds when every clause holds in the same replicate, not when each clause's share
        # passes: the clauses of one story are far from independent.
        hits = [h and k for h, k in zip(hits, ok, strict=True)]
    return hits, per_clause


def evaluate(patterns: list[Pattern], runs: dict[tuple[str, tuple], list[Run]]) -> dict[str, Any]:
    """Score every pattern on runs grouped by (case, variant) (lists aligned by replicate index)."""
    results, hits_by_id = [], {}
    for p in patterns:
        others = runs[(p.case, p.variant)] if p.variant else None
        hits, per_clause = score(p, runs[(p.case, ())], others)
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
    # Counted, not multiplied: replicate r of every case shares its seed and, under a posterior, its
    # parameter set, so the joint share says whether one set tells every pilot's story at once.
    joint_k = sum(all(hits_by_id[i][r] for i in primary) for r in range(n))
    return {"patterns": results, "joint": {"share": joint_k / n, "ci95": list(wilson(joint_k, n))}}


def as_run(result: dict[str, Any]) -> Run:
    """A runner result (``detail="records"``) as a run to score: its outcome row, votes and events."""
    return {"row": result["row"], "votes": result["votes"], "events": result["events"]}


def validate(
    replicates: int = 1000,
    seed: int = 20161214,
    execution: Execution = Execution(),
    overrides: dict[str, Any] | None = None,
    null: NullModel | str = NullModel.NONE,
    posterior: Any = None,
) -> dict[str, Any]:
    """Run every case ``replicates`` times and score the patterns.

    Args:
        replicates: Replicates per case.
        seed: Base seed (replicate ``r`` of every case shares its seed).
        execution: Workers, scheduler, progress bar (the shares do not depend on it).
        overrides: Parameter overrides for every case.
        null: Remove one mechanism (a :class:`NullModel`); every primary pattern should fail.
        posterior: A calibration result (:class:`sim.analysis.posterior.Posterior` or its folder): replicate
            ``r`` of every case runs with the posterior set ``r mod K`` (``overrides`` still win),
            so the shares carry parameter uncertainty as well as the stochastic one.

    Returns:
        ``{"replicates", "seed", "null", "patterns": [...], "joint": {...}, "seconds"}`` and, under a
        posterior, ``"posterior": {"folder", "sets", "note"}``.
    """
    t0 = time.perf_counter()
    post = posterior_argument(posterior)
    patterns = load_patterns()
    base = {**(overrides or {}), "null_model": str(NullModel(null))}
    facts = load_facts()
    groups = pattern_cases(patterns)
    # Facts are scored on the patterns' runs where they share a case; only other cases add runs.
    groups += [g for g in dict.fromkeys((f.case, ()) for f in facts) if g not in groups]
    # Each run is scored in its worker; a variant's runs only lend their columns to ``contrast``.
    scorers = {(case, var): scorer(patterns, facts, None if var else case) for case, var in groups}
    jobs = [
        Job(
            g * replicates + r,
            str(resolve_path(case)),
            r,
            seed,
            # The pattern's variant wins over the user's overrides and the null model, which win over the
            # posterior set: a comparison stays the comparison it names. Sorted: the runner caches by it.
            tuple(sorted({**(post.values(r) if post else {}), **base, **dict(var)}.items())),
            detail="records",
            reduce=scorers[case, var],
        )
        for g, (case, var) in enumerate(groups)
        for r in range(replicates)
    ]
    out = list(execution.execute(jobs))
    runs = {g: out[i * replicates : (i + 1) * replicates] for i, g in enumerate(groups)}
    result = {"replicates": replicates, "seed": seed, "null": str(NullModel(null)), **evaluate(patterns, runs)}
    result["facts"] = evaluate_facts(facts, runs)
    if post:
        result["posterior"] = {"folder": str(post.folder), "sets": post.size, "note": post.note}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def validate_county(
    county: str,
    replicates: int = 200,
    seed: int = 20161214,
    threshold: float = 0.6,
    execution: Execution = Execution(),
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score the pilots' primary stories inside a county run (the county model anchored where it can be checked).

    The bar is the county issue's (each primary story at least 0.6 inside the county), below the
    stories' own bars for the pilots alone, since the county runs add other negotiations.

    Each pilot of the county file runs among all the county's municipalities; its story is
    scored on its own negotiation's records (:func:`sim.run.runner.pilot_runs`). Secondary patterns
    (comparisons between runs) are not scored here.

    Returns:
        The :func:`evaluate` result for the primary patterns of the county's pilots, each with
        ``threshold`` as its bar, plus ``replicates``, ``seed``, ``county`` and ``seconds``.
    """
    t0 = time.perf_counter()
    path = resolve_path(county)
    items = tuple(sorted((overrides or {}).items()))
    jobs = [Job(r, str(path), r, seed, items, detail="pilots") for r in range(replicates)]
    out = list(execution.execute(jobs))
    stems = {stem for o in out for stem in o["pilots"]}
    # Only pilots that started before the run ended are in stems (pilot_runs), so a short county
    # run scores fewer stories rather than failing the missing ones.
    patterns = [replace(p, threshold=threshold) for p in load_patterns() if p.kind == "primary" and p.case in stems]
    runs = {(stem, ()): [o["pilots"][stem] for o in out] for stem in stems}
    result = {"replicates": replicates, "seed": seed, "county": county, **evaluate(patterns, runs)}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


#: A pattern's kind in plain words (``kind`` in ``scenarios/patterns.toml``).
KIND_WORDS = {"primary": "a pilot's own story", "secondary": "a comparison of two runs"}
#: What the validation table's columns mean (printed under the table and above it in ``docs/validation.md``).
TABLE_KEY = (
    "Held in: share of the replicates (0-1) in which every clause of the pattern holds, with its 95 % "
    "Wilson interval. Needed: the share a pattern must reach to pass. A pilot's own story (a primary "
    "pattern) is what the report says happened in one pilot; a comparison of two runs (a secondary "
    "pattern) is a claim about a mechanism, scored on paired runs with the same seeds. Joint: every "
    "pilot's story holds in the same replicate."
)


def _kind(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)


def format_table(result: dict[str, Any], clauses: bool = False) -> str:
    """The validation table as plain text (with each clause's share when ``clauses``), then what the columns mean."""
    title = "" if result.get("null", "none") == "none" else f"null model (one mechanism removed): {result['null']}\n"
    head = f"{'pattern':32s} {'kind':25s} {'held in':>7s}  {'95 % interval':15s} {'needed':>6s}  result"
    lines = [title + head]
    for p in result["patterns"]:
        lo, hi = p["ci95"]
        lines.append(
            f"{p['id']:32s} {_kind(p['kind']):25s} {p['share']:7.3f}  [{lo:.3f}, {hi:.3f}]  "
            f"{p['threshold']:6.2f}  {'pass' if p['passed'] else 'FAIL'}"
        )
        if clauses:
            lines += [f"    {label:54s} {share:6.3f}" for label, share in p["clauses"].items()]
    lo, hi = result["joint"]["ci95"]
    joint = "joint: every pilot's story, same replicate"
    lines.append(f"{joint:58s} {result['joint']['share']:7.3f}  [{lo:.3f}, {hi:.3f}]")
    lines.append(f"{result['replicates']} replicates per case, base seed {result['seed']}, {result['seconds']:.1f} s")
    lines += textwrap.wrap(TABLE_KEY, 110)
    if "posterior" in result:
        post = result["posterior"]
        lines.append(f"{post['note']}: {post['folder']}")
    return "\n".join(lines)


def format_facts(result: dict[str, Any]) -> str:
    """The fact table as plain text: calibration and validation facts apart."""
    lines = []
    for role in ROLES:
        rows = [f for f in result.get("facts", []) if f["role"] == role]
        if not rows:
            continue
        met = sum(f["passed"] for f in rows)
        lines += ["", f"{role} facts ({met} of {len(rows)} met; a fact is met when it holds in a share of 0.6 or more)"]
        lines.append(f"{'fact':44s} {'held in':>7s}  {'95 % interval':15s} result")
        for f in rows:
            lo, hi = f["ci95"]
            verdict = "met" if f["passed"] else "NOT MET"
            lines.append(f"{f['id']:44s} {f['share']:7.3f}  [{lo:.3f}, {hi:.3f}]  {verdict}")
    return "\n".join(lines)


def facts_markdown(result: dict[str, Any]) -> str:
    """The two fact tables of ``docs/validation.md`` (calibration, then validation facts)."""
    lines = []
    for role in ROLES:
        rows = [f for f in result.get("facts", []) if f["role"] == role]
        if not rows:
            continue
        met = sum(f["passed"] for f in rows)
        lines += [
            "",
            f"### {role.capitalize()} facts ({met} of {len(rows)} met)",
            "",
            "| fact | report | statement | held in (share of replicates) | 95 % interval | met (>= 0.6) |",
            "|---|---|---|---|---|---|",
        ]
        for f in rows:
            lo, hi = f["ci95"]
            lines.append(
                f"| `{f['id']}` | {f['source']} | {f['statement']} | {f['share']:.3f} | [{lo:.3f}, {hi:.3f}] | "
                f"{'yes' if f['passed'] else 'NO'} |"
            )
    return "\n".join(lines)


def _stories_markdown(result: dict[str, Any], command: str) -> list[str]:
    """The head of ``docs/validation.md`` and its table of patterns, each with its clauses' shares."""
    posterior = (
        f" Replicate r runs with posterior set r mod {result['posterior']['sets']} of "
        f"`{result['posterior']['folder']}`, so the shares and their 95 % intervals carry parameter and "
        "stochastic uncertainty."
        if "posterior" in result
        else ""
    )
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
        "Patterns and their exact clauses: `scenarios/patterns.toml`, `sim/analysis/validation.py`, "
        "docs/ODD.md III.vi." + posterior,
        "",
        TABLE_KEY + " A clause row gives the share of replicates in which that one clause holds.",
        "",
        "| pattern | kind | held in (share of replicates) | 95 % interval | needed to pass | result |",
        "|---|---|---|---|---|---|",
    ]
    for p in result["patterns"]:
        lo, hi = p["ci95"]
        lines.append(
            f"| `{p['id']}` | {_kind(p['kind'])} | {p['share']:.3f} | [{lo:.3f}, {hi:.3f}] | {p['threshold']:.2f} | "
            f"{'pass' if p['passed'] else 'FAIL'} |"
        )
        lines += [f"| &nbsp;&nbsp; {label} | clause | {share:.3f} | | | |" for label, share in p["clauses"].items()]
    lo, hi = result["joint"]["ci95"]
    lines.append(
        f"| every pilot's story in the same replicate | joint | {result['joint']['share']:.3f} | "
        f"[{lo:.3f}, {hi:.3f}] | | |"
    )
    return lines


def _knockouts_markdown(knockouts: list[dict[str, Any]]) -> list[str]:
    """The mechanism knock-outs section of ``docs/validation.md``."""
    lines = [
        "",
        "## Mechanism knock-outs",
        "",
        "The null models (next section) test specificity. These switch off, one at a time, a mechanism the "
        "report names as a cause of a pilot's story (`[[knockout]]` in `scenarios/patterns.toml`); the story "
        f"must fail (held in a share below {KNOCKOUT_BAR}) for it to be evidence of that mechanism.",
        "",
        "| knock-out | pattern | mechanism (report) | overrides | held in | 95 % interval | story fails |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in knockouts:
        lo, hi = k["ci95"]
        sets = ", ".join(f"`{a}={b}`" for a, b in k["overrides"].items())
        lines.append(
            f"| `{k['id']}` | `{k['pattern']}` | {k['mechanism']} | {sets} | {k['share']:.3f} | "
            f"[{lo:.3f}, {hi:.3f}] | {'yes' if k['fails'] else 'NO'} |"
        )
    return lines


def _nulls_markdown(result: dict[str, Any], nulls: list[dict[str, Any]]) -> list[str]:
    """The null models section of ``docs/validation.md``: each pilot's story with one mechanism removed."""
    ids = [p["id"] for p in result["patterns"] if p["kind"] == "primary"]
    lines = [
        "",
        "## Null models",
        "",
        "Each pilot's own story must fail (held in a share of the replicates below 0.2) when one mechanism is "
        "removed. Cells: share of replicates in which the story holds.",
        "",
        "| null model (mechanism removed) | " + " | ".join(f"`{i}`" for i in ids) + " | all fail |",
        "|---|" + "---|" * (len(ids) + 1),
    ]
    for n in nulls:
        shares = {p["id"]: p["share"] for p in n["patterns"]}
        ok = all(shares[i] < 0.2 for i in ids)
        cells = " | ".join(f"{shares[i]:.3f}" for i in ids)
        lines.append(f"| {n['null']} | {cells} | {'yes' if ok else 'NO'} |")
    return lines


def markdown(result: dict[str, Any], command: str, nulls: list[dict[str, Any]] | None = None) -> str:
    """``docs/validation.md``: the patterns with each clause's share, the facts, the knock-outs and the null models."""
    lines = _stories_markdown(result, command)
    if result.get("facts"):
        lines += [
            "",
            "## The report's facts (`scenarios/facts.toml`)",
            "",
            "Each fact is one statement of the report about a pilot, read from the same replicates; "
            "`calibration` facts may score parameter sets, `validation` facts are held out (chosen before any "
            "calibration run on them).",
            facts_markdown(result),
        ]
    if result.get("knockouts"):
        lines += _knockouts_markdown(result["knockouts"])
    if nulls:
        lines += _nulls_markdown(result, nulls)
    return "\n".join(lines) + "\n"
