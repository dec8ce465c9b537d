"""Calibration: approximate Bayesian computation over the calibrated parameters, scored on facts and stories.

Method (docs/ODD.md III.vii): ABC sequential Monte Carlo with an adaptive tolerance and one
Metropolis-Hastings move per particle and generation -- the "replenishment" algorithm of Drovandi
and Pettitt (2011, *Biometrics* 67:225), in the adaptive form of Del Moral, Doucet and Jasra (2012,
*Statistics and Computing* 22:1009), with a fixed budget per generation:

- **Prior.** Each calibrated parameter is log-uniform on a box: a factor ``factor`` (1.25 by default) below and
  above its value in the centre file (``docs/calibration/centre.json``, the earlier hand calibration),
  clipped to the catalogue's range (``Spec.low``/``Spec.high``). The sampler works in the unit cube
  of those log coordinates, where the prior is flat.
- **Generation 0**: a space-filling Latin hypercube of ``sets`` points (SALib) is the population.
- **Each set** runs ``replicates`` replicates of every scored case (the primary stories' and the
  calibration facts' cases) on common random numbers (replicate ``r`` has seed
  ``SeedSequence(seed, spawn_key=(r,))`` in every set and case) through the one runner
  (:func:`sim.run.runner.execute`; process pool or Dask), and gets the graded distance (issue 20)

      sum over calibration facts of max(0, threshold - share)
      + sum over primary stories of max(0, 0.75 - share) + max(0, 0.5 - joint share)
      + 0.1 * mean over calibration facts and stories of (1 - share)
      + 0.1 * sum over dated calibration facts of (mean month error / 12)

  (month error of a replicate: 0 when the fact is met, else the fewest months its windows must
  widen for it to be met, at most 12).

  The shortfalls below the bars dominate; the last term keeps the sets that clear every bar apart,
  so the best sets do not tie (a 0/1 story flag on 12 replicates let 8-127 sets tie at 0). Only
  the ``role = "calibration"`` facts of ``scenarios/facts.toml`` and the *primary stories* of
  ``scenarios/patterns.toml`` enter: validation facts, secondary patterns and the report's
  reasoning (comparison levers) are hold-out checks and never do.
- **Generation t > 0**: the ``keep`` share of the population with the smallest distance survives
  (ties by position) and sets the tolerance (the largest surviving distance); the others are
  replaced by survivors drawn uniformly; then every particle proposes one random-walk move
  (Gaussian, per-coordinate scale ``2.38 / sqrt(d)`` times the survivors' standard deviation,
  reflected at the cube's faces, so symmetric), the ``sets`` proposals are scored, and a move is
  accepted when its distance is within the tolerance (the Metropolis-Hastings ratio of a flat prior
  and a symmetric kernel). Weights stay equal, so nothing degenerates in 51 dimensions (importance
  weights of a population Monte Carlo did: an effective sample size of 8 of 75 in a trial).
- The **posterior** is the last population (``accepted.csv``, equal weights; a particle whose moves
  were refused appears more than once). It reports its effective sample size (Kish, copies of a
  particle merged: :func:`sim.analysis.posterior.effective_sample_size`) and how many distinct sets
  share the best distance. The **point estimate** (column ``point`` of ``accepted.csv``) is the
  accepted set with the smallest distance among those inside every 90 % interval, so it lies inside
  its own intervals (:func:`sim.analysis.posterior.point_estimate`; the best set alone fell outside
  6 of 51 intervals).

Every random number of the sampler comes from ``SeedSequence(seed, spawn_key=(generation, 1))``
drawn in this process, and the runs' seeds are fixed per replicate, so the result does not depend
on the number of workers or the scheduler. Progress is one JSON line per scored set in
``progress.jsonl`` (flushed as it is written); ``resume`` keeps the longest prefix of lines that
parse and match the sets this seed proposes, truncates the rest, and scores only what is missing,
so an interrupted run (Ctrl-C, SIGTERM or SIGKILL) resumed ends bit-identical to one that was not.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.posterior import (
    CALIBRATED,
    CONSTRAINED_BELOW,
    ROOT,
    effective_sample_size,
    point_estimate,
    tied_at_best,
    weighted_quantile,
)
from sim.analysis.validation import (
    CLAUSES,
    FACTS_FILE,
    PATTERNS_FILE,
    Clause,
    Fact,
    Pattern,
    Run,
    as_run,
    fact_hits,
    load_facts,
    load_patterns,
    score,
)
from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.params import by_name, fixed_by_screen, load_defaults, suggest
from sim.inputs.scenario import resolve_path
from sim.run.execution import Execution
from sim.run.output import PROGRAM, metadata, write_json, write_text_atomic
from sim.run.runner import Job

CENTRE_FILE = ROOT / "docs" / "calibration" / "centre.json"
PROGRESS = "progress.jsonl"
SPEC = "calibration.json"
#: The prior box: centre / FACTOR to centre * FACTOR (log-uniform), within the catalogue's range.
FACTOR = 1.25
#: A primary story's share below this adds its shortfall to the distance (issue 20's bar).
STORY_BAR = 0.75
#: The joint share of the primary stories below this adds its shortfall (issue 20's bar).
JOINT_BAR = 0.5
#: Weight of the graded term: the mean share missed over the calibration facts and stories. It keeps
#: sets that clear every bar apart (they would all tie at 0) and is small beside one bar's shortfall.
GRADE_WEIGHT = 0.1
#: Months a dated fact's windows are widened by, at most, to find how far a replicate is off its dates.
MONTH_CAP = 12
#: Weight of each dated calibration fact's mean month error (in units of ``MONTH_CAP``) in the distance.
DATE_WEIGHT = 0.1
#: Files a calibration folder holds (``--force`` replaces only such a folder).
OUTPUTS = (
    SPEC,
    PROGRESS,
    "scored.csv",
    "accepted.csv",
    "generations.csv",
    "identifiability.csv",
    "summary.md",
    "metadata.json",
)


@dataclass(frozen=True)
class Budget:
    """How much a calibration runs.

    Attributes:
        sets: Particles (and parameter sets scored) per generation.
        generations: Generations (the first is the Latin hypercube).
        replicates: Replicates of each scored case per set.
        keep: Share of the population that survives each generation (sets the tolerance).
        top: Distinct best sets of the last population re-scored at the end (0: none).
        refine: Fresh replicates per case they are re-scored on (replicates after the sampler's).
    """

    sets: int = 150
    generations: int = 12
    replicates: int = 40
    keep: float = 0.5
    top: int = 10
    refine: int = 200

    @property
    def survivors(self) -> int:
        """Particles that survive each generation (at least 2)."""
        return min(self.sets, max(2, math.ceil(self.keep * self.sets)))

    def runs(self, cases: int) -> int:
        """Simulated runs at most: sets x generations x replicates x cases, plus top x refine x cases."""
        return (self.sets * self.generations * self.replicates + self.top * self.refine) * cases


@dataclass(frozen=True)
class Prior:
    """Log-uniform box per calibrated parameter; the sampler works in its unit cube.

    Attributes:
        keys: Calibrated parameters (``--set`` keys).
        low, high: The box, within the catalogue's range (both above 0).
    """

    keys: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def around(cls, centre: dict[str, float], factor: float, keys: Sequence[str] = ()) -> Prior:
        """``centre / factor`` to ``centre * factor`` for each key, clipped to the catalogue's range."""
        specs, keys = by_name(), tuple(keys or CALIBRATED)
        low, high = [], []
        for k in keys:
            spec, c = specs[k], float(centre[k])
            if c <= 0:
                raise InputError("--centre", k, "a log-uniform prior needs a value above 0")
            low.append(max(c / factor, spec.low if spec.low is not None else -math.inf, 1e-9))
            high.append(min(c * factor, spec.high if spec.high is not None else math.inf))
        return cls(keys, tuple(low), tuple(high))

    def values(self, unit: np.ndarray) -> dict[str, float]:
        """Parameter values at a point of the unit cube (whole numbers rounded)."""
        lo, hi = np.log(self.low), np.log(self.high)
        x = np.exp(lo + np.asarray(unit, float) * (hi - lo))
        specs = by_name()
        return {
            k: int(round(v)) if specs[k].kind == "int" else float(min(max(v, a), b))
            for k, v, a, b in zip(self.keys, x, self.low, self.high, strict=True)
        }

    def unit(self, values: dict[str, float]) -> np.ndarray:
        """The unit-cube coordinates of parameter values."""
        lo, hi = np.log(self.low), np.log(self.high)
        return (np.log([values[k] for k in self.keys]) - lo) / (hi - lo)


# --- the sampler --------------------------------------------------------------------------------
def _rng(seed: int, generation: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(generation, 1)))


def first_generation(prior: Prior, n: int, seed: int) -> np.ndarray:
    """Generation 0: a Latin hypercube of ``n`` points in the unit cube (SALib)."""
    from SALib.sample import latin

    problem = {"num_vars": len(prior.keys), "names": list(prior.keys), "bounds": [[0.0, 1.0]] * len(prior.keys)}
    return np.asarray(latin.sample(problem, n, seed=_rng(seed, 0)), float)


def move_scale(survivors: np.ndarray) -> np.ndarray:
    """Per-coordinate random-walk scale: ``2.38 / sqrt(d)`` times the survivors' standard deviation."""
    d = survivors.shape[1]
    return np.maximum(2.38 / math.sqrt(d) * survivors.std(axis=0), 1e-3)


def reflect(x: np.ndarray) -> np.ndarray:
    """Fold points back into the unit cube at its faces (keeps a symmetric proposal symmetric)."""
    x = np.abs(x) % 2.0
    return np.where(x > 1, 2 - x, x)


def propose(units: np.ndarray, survivors: list[int], n: int, rng: np.random.Generator) -> tuple[list[int], np.ndarray]:
    """Replenish the population from the survivors and move every particle once.

    Returns:
        ``(parents, proposals)``: the survivors in order then ``n - len(survivors)`` drawn uniformly
        from them, and one reflected Gaussian step from each.
    """
    extra = rng.choice(len(survivors), size=n - len(survivors)) if n > len(survivors) else []
    parents = list(survivors) + [survivors[int(i)] for i in extra]
    sigma = move_scale(units[survivors])
    return parents, reflect(units[parents] + sigma * rng.standard_normal((n, units.shape[1])))


def select(entries: Sequence[dict[str, Any]], n: int) -> list[int]:
    """Positions of the ``n`` entries with the smallest distance (ties by position)."""
    return sorted(range(len(entries)), key=lambda i: (entries[i]["distance"], i))[:n]


# --- scoring ------------------------------------------------------------------------------------------
def primary_patterns() -> list[Pattern]:
    """The stories the calibration is scored by (``kind = "primary"``)."""
    return [p for p in load_patterns() if p.kind == "primary"]


def calibration_facts(facts: Sequence[Fact] | None = None) -> list[Fact]:
    """The facts the distance is scored on: ``role = "calibration"`` (validation facts never enter)."""
    return [f for f in (load_facts() if facts is None else facts) if f.role == "calibration"]


def fact_thresholds(facts: Sequence[Fact] | None = None) -> dict[str, float]:
    """Each calibration fact's bar (its ``threshold``, 0.6 by default)."""
    return {f.id: f.threshold for f in calibration_facts(facts)}


def scored_cases() -> list[str]:
    """The cases a scored set runs: those of the primary stories and of the calibration facts, in file order."""
    return list(dict.fromkeys([*(p.case for p in primary_patterns()), *(f.case for f in calibration_facts())]))


def distance(
    stories: dict[str, float],
    joint: float,
    facts: dict[str, float],
    thresholds: dict[str, float] | None = None,
    dates: dict[str, float] | None = None,
) -> float:
    """The graded ABC distance (module docstring) of one set's shares.

    Args:
        stories: Share of replicates telling each primary story.
        joint: Share telling all of them at once.
        facts: Share of replicates meeting each *calibration* fact.
        thresholds: Each fact's bar (default :func:`fact_thresholds`).
        dates: Mean month error of each dated calibration fact (:func:`month_errors`).

    Returns:
        The shortfalls below the bars (facts: their threshold; stories :data:`STORY_BAR`; joint
        :data:`JOINT_BAR`) plus :data:`GRADE_WEIGHT` times the mean share missed over facts and
        stories, plus :data:`DATE_WEIGHT` times each dated fact's mean month error over :data:`MONTH_CAP`.
    """
    bars = fact_thresholds() if thresholds is None else thresholds
    short = sum(max(0.0, bars[k] - v) for k, v in facts.items())
    short += sum(max(0.0, STORY_BAR - s) for s in stories.values()) + max(0.0, JOINT_BAR - joint)
    missed = [1.0 - v for v in (*facts.values(), *stories.values())]
    late = DATE_WEIGHT * sum((dates or {}).values()) / MONTH_CAP
    return short + GRADE_WEIGHT * sum(missed) / len(missed) + late


def _shift(month: str, k: int) -> str:
    m = int(month[:4]) * 12 + int(month[5:7]) - 1 + k
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def widened(fact: Fact, months: int) -> tuple[Clause, ...]:
    """The fact's clauses with every month window of a positive clause widened by ``months`` on both sides.

    A ``no_*`` clause keeps its window (widening it would make it stricter, not looser).
    """
    out = []
    for c in fact.clauses:
        args = dict(c.args)
        for key in ("between", "decided_between"):
            if args.get(key) and not c.test.startswith("no_"):
                args[key] = [_shift(args[key][0], -months), _shift(args[key][1], months)]
        out.append(Clause(c.test, args))
    return tuple(out)


def dated(fact: Fact) -> bool:
    """True when a positive clause of the fact has a month window (its month error is graded)."""
    return any(
        not c.test.startswith("no_") and (c.args.get("between") or c.args.get("decided_between")) for c in fact.clauses
    )


def month_errors(fact: Fact, runs: list[Run], hits: list[bool]) -> list[int]:
    """Per replicate: 0 when the fact is met, else the fewest months its windows must widen to meet it.

    Capped at :data:`MONTH_CAP` (also when it fails for another reason than its dates).
    """
    wider = [widened(fact, k) for k in range(1, MONTH_CAP + 1)]
    out = []
    for run, hit in zip(runs, hits, strict=True):
        k = (
            0
            if hit
            else next(
                (k for k, cs in enumerate(wider, 1) if all(CLAUSES[c.test](run, **c.args) for c in cs)), MONTH_CAP
            )
        )
        out.append(k)
    return out


def replicate_hits(runs: dict[str, list[Run]], facts: Sequence[Fact] | None = None) -> dict[str, dict[str, list[bool]]]:
    """Per replicate: which primary stories hold (and all at once), which calibration facts are met.

    Args:
        runs: One record per replicate of each scored case (lists aligned by replicate).
        facts: The fact table (default ``scenarios/facts.toml``); only its calibration facts are read.

    Returns:
        ``{"stories": {id: hits}, "joint": {"joint": hits}, "facts": {id: hits}, "dates": {id: month
        errors}}`` (dates: the dated calibration facts, :func:`month_errors`).
    """
    stories = {p.id: score(p, runs[p.case], None)[0] for p in primary_patterns()}
    n = len(next(iter(stories.values())))
    joint = [all(h[r] for h in stories.values()) for r in range(n)]
    mine = calibration_facts(facts)
    met = {f.id: fact_hits(f, runs[f.case]) for f in mine}
    dates = {f.id: month_errors(f, runs[f.case], met[f.id]) for f in mine if dated(f)}
    return {"stories": stories, "joint": {"joint": joint}, "facts": met, "dates": dates}


def summarise(hits: dict[str, dict[str, list[bool]]], thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """Shares and distance of one set from its :func:`replicate_hits`."""
    share = {part: {k: sum(h) / len(h) for k, h in group.items()} for part, group in hits.items()}
    stories, joint, facts, dates = share["stories"], share["joint"]["joint"], share["facts"], share["dates"]
    return {
        "stories": stories,
        "joint": joint,
        "facts": facts,
        "dates": dates,
        "distance": distance(stories, joint, facts, thresholds, dates),
    }


def score_runs(runs: dict[str, list[Run]], facts: Sequence[Fact] | None = None) -> dict[str, Any]:
    """``{"stories", "joint", "facts", "distance"}`` of one set's runs (validation facts are not read)."""
    return summarise(replicate_hits(runs, facts), fact_thresholds(facts))


def set_hits(
    points: Sequence[dict[str, Any]],
    replicates: int,
    seed: int,
    execution: Execution = Execution(),
    used: dict[str, Any] | None = None,
    first: int = 0,
) -> Iterator[dict[str, dict[str, list[bool]]]]:
    """Run every set on the scored cases; yield its :func:`replicate_hits`, in order, as its runs finish.

    Replicates are numbered ``first`` to ``first + replicates - 1`` (their seeds follow the number).
    """
    cases = scored_cases()
    paths = [str(resolve_path(c)) for c in cases]
    per_set = len(cases) * replicates

    def jobs() -> Iterator[Job]:
        for i, pt in enumerate(points):
            overrides = tuple(sorted(pt.items()))
            for c, case in enumerate(paths):
                for r in range(replicates):
                    job = (i * len(cases) + c) * replicates + r
                    yield Job(job, case, first + r, seed, overrides, detail="records")

    results = execution.execute(jobs(), len(points) * per_set, used)
    facts = load_facts()
    for _ in points:
        out = [as_run(next(results)) for _ in range(per_set)]
        yield replicate_hits({c: out[i * replicates : (i + 1) * replicates] for i, c in enumerate(cases)}, facts)
    results.close()


def score_sets(
    points: Sequence[dict[str, Any]],
    replicates: int,
    seed: int,
    execution: Execution = Execution(),
    used: dict[str, Any] | None = None,
    first: int = 0,
) -> Iterator[dict[str, Any]]:
    """Run every set on the scored cases; yield ``{"stories", "joint", "facts", "distance"}`` per set, in order."""
    bars = fact_thresholds()
    for hits in set_hits(points, replicates, seed, execution, used, first):
        yield summarise(hits, bars)


def refine_top(population: Sequence[dict[str, Any]], keys: Sequence[str], budget: Budget, seed: int, *run: Any):
    """Re-score the ``budget.top`` distinct best sets of the last population on ``budget.refine`` fresh replicates.

    The fresh replicates (numbered after the sampler's) carry no selection, so the re-scored
    distance has no winner's curse and, on many more replicates, separates sets the sampler's
    replicates left tied.

    Returns:
        ``{(generation, index): scored set}`` for the re-scored sets.
    """
    if not (budget.top and budget.refine):
        return {}
    top: dict[tuple[int, int], dict[str, Any]] = {}
    for i in select(population, len(population)):
        e = population[i]
        top.setdefault((e["generation"], e["index"]), e)
        if len(top) == budget.top:
            break
    points = [dict(zip(keys, e["point"], strict=True)) for e in top.values()]
    scored = score_sets(points, budget.refine, seed, *run, first=budget.replicates)
    return dict(zip(top, scored, strict=True))


# --- progress file: one JSON line per scored set ------------------------------------------------------
def _read_progress(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Every complete, parseable line of ``path`` as ``(byte offset of its start, entry)``, up to the first bad one.

    The file is truncated after the last good line (a line cut by a kill is dropped).
    """
    if not (path.exists() or path.is_symlink()):
        return []
    if path.is_symlink() or not path.is_file():
        raise InputError(path, "--resume", "is not a regular file; remove it to start the calibration again")
    ids, bars = {p.id for p in primary_patterns()}, fact_thresholds()
    when = {f.id for f in calibration_facts() if dated(f)}
    kept, offset = [], 0
    try:
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except (ValueError, UnicodeDecodeError):
                    break
                if not (line.endswith(b"\n") and _entry_ok(entry, ids, bars, when)):
                    break
                kept.append((offset, entry))
                offset += len(line)
        if offset != path.stat().st_size:
            os.truncate(path, offset)
    except OSError as exc:
        raise InputError(path, "--resume", f"cannot read or repair it: {exc.strerror or exc}") from None
    return kept


def _number(x: Any) -> bool:
    return type(x) in (int, float) and math.isfinite(x)


def _entry_ok(entry: Any, ids: set[str], bars: dict[str, float], when: set[str]) -> bool:
    """True when a progress line is a whole scored set: every field of the right type, the distance its own.

    A line that is not (damaged, edited, from another version) is treated like a line cut by a kill:
    it and everything after it are scored again.
    """
    try:
        stories, facts, dates = entry["stories"], entry["facts"], entry["dates"]
        return (
            type(entry["generation"]) is int
            and type(entry["index"]) is int
            and isinstance(entry["point"], list)
            and all(_number(x) for x in entry["point"])
            and set(stories) == ids
            and isinstance(facts, dict)
            and set(facts) == set(bars)
            and isinstance(dates, dict)
            and set(dates) == when
            and all(_number(v) for v in (*stories.values(), *facts.values(), *dates.values()))
            and _number(entry["joint"])
            and _number(entry["distance"])
            and math.isclose(entry["distance"], distance(stories, entry["joint"], facts, bars, dates), abs_tol=1e-9)
        )
    except (KeyError, TypeError, AttributeError, ZeroDivisionError):
        return False


class Progress:
    """The scored sets kept in ``progress.jsonl``, checked generation by generation against the proposals."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = _read_progress(path)

    def kept(self, generation: int, points: Sequence[list[float]]) -> list[dict[str, Any]]:
        """The kept entries of ``generation`` that match ``points`` in order; anything after a mismatch is cut."""
        mine = [(o, e) for o, e in self.lines if e["generation"] == generation]
        good = []
        for (offset, e), i in zip(mine, range(len(points)), strict=False):
            if e["index"] != i or e["point"] != points[i]:
                self._cut(offset)
                break
            good.append(e)
        else:
            if len(mine) > len(points):
                self._cut(mine[len(points)][0])
        return good

    def _cut(self, offset: int) -> None:
        os.truncate(self.path, offset)
        self.lines = [(o, e) for o, e in self.lines if o < offset]


# --- the procedure --------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spec(prior: Prior, budget: Budget, seed: int, centre: dict[str, float], factor: float) -> dict[str, Any]:
    """What defines a calibration (``calibration.json``); a resume must match it exactly."""
    cases = scored_cases()
    return {
        "program": PROGRAM,
        "procedure": (
            "sim.analysis.calibration: ABC sequential Monte Carlo, fixed budget per generation, adaptive tolerance; "
            "graded distance over the calibration facts and the primary stories"
        ),
        "seed": seed,
        "budget": asdict(budget),
        "factor": factor,
        "centre": {k: centre[k] for k in prior.keys},
        "prior": {k: [lo, hi] for k, lo, hi in zip(prior.keys, prior.low, prior.high, strict=True)},
        "patterns_sha256": _sha256(PATTERNS_FILE),
        "facts_sha256": _sha256(FACTS_FILE),
        "facts": [f.id for f in calibration_facts()],
        "scenarios_sha256": {c: load_scenario(c).sha256 for c in cases},
        "vocabulary": load_defaults().vocab.names,  # sim.analysis.posterior refuses a posterior of another
    }


def staging_folder(out: Path) -> Path:
    """Where ``--force`` builds a new calibration beside the finished one it will replace."""
    return out.parent / f".{out.name}.imc-next"


def _prepare(out: Path, the_spec: dict[str, Any], resume: bool, force: bool) -> tuple[Path, bool]:
    """Check ``out`` for a new run or a resume; return the folder to work in and whether it is finished.

    A new calibration with ``--force`` over a finished one works in :func:`staging_folder` and replaces
    ``out`` only when it is complete (:func:`_replace`), so an interrupted ``--force`` leaves the old
    result intact; ``--resume`` finishes such a staged calibration first.
    """
    staging = staging_folder(out)
    try:
        if resume:
            if force:
                raise InputError("--resume", "--force", "give one of them")
            work = staging if staging.is_dir() and not staging.is_symlink() else out
            spec_file = work / SPEC
            try:
                found = json.loads(spec_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise InputError(
                    out, "--resume", f"no calibration to resume here ({SPEC} missing or unreadable)"
                ) from None
            if found != the_spec:
                raise InputError(
                    spec_file, "--resume", "the calibration here was started with other arguments or inputs"
                )
            return work, (work / "metadata.json").is_file()
        work = out
        if out.is_symlink() or out.exists() and (not out.is_dir() or any(out.iterdir())):
            if not force:
                raise InputError(out, "--out", "exists and is not empty (use --resume to finish it, or --force)")
            _check_ours(out)
            if staging.is_symlink() or staging.exists():
                if staging.is_dir() and not staging.is_symlink() and any(staging.iterdir()):
                    _check_ours(staging)
                shutil.rmtree(staging) if staging.is_dir() and not staging.is_symlink() else staging.unlink()
            work = staging
        work.mkdir(parents=True, exist_ok=True)
        _write_atomic(work / SPEC, json.dumps(the_spec, indent=1) + "\n")
    except OSError as exc:
        raise InputError(out, "--out", f"cannot create or write it: {exc.strerror or exc}") from None
    return work, False


def _replace(out: Path, work: Path) -> None:
    """Move a finished calibration from ``work`` to ``out``, replacing the old one only now."""
    if work == out:
        return
    trash = out.parent / f".{out.name}.imc-old-{os.getpid()}-{time.time_ns()}"
    if out.exists() or out.is_symlink():
        os.rename(out, trash)
    os.rename(work, out)
    shutil.rmtree(trash, ignore_errors=True)


def _check_ours(out: Path) -> None:
    """Refuse to replace anything but a calibration folder of this program."""
    try:
        ours = json.loads((out / SPEC).read_text(encoding="utf-8")).get("program") == PROGRAM
    except (OSError, ValueError, AttributeError):
        ours = False
    names = {p.name for p in out.iterdir()} if out.is_dir() and not out.is_symlink() else {None}
    if not ours or not names <= set(OUTPUTS) or any((out / n).is_dir() for n in names if n):
        raise InputError(out, "--out", "is not a calibration folder of this program; refusing to replace it")


def _write_atomic(path: Path, text: str) -> None:
    write_text_atomic(path, text)


def _say(text: str) -> None:
    print(text, flush=True)


def run_generations(
    out: Path,
    prior: Prior,
    budget: Budget,
    seed: int,
    execution: Execution = Execution(),
    used: dict[str, Any] | None = None,
    say=None,
) -> list[dict[str, Any]]:
    """Score every generation (resuming from ``out/progress.jsonl``); return what each generation did.

    Returns:
        Per generation: ``scored`` (the sets scored: ``generation, index, point, unit, stories,
        facts, joint, distance``), ``population`` (the particles after it, entries of ``scored``
        lists), ``tolerance`` (None for generation 0) and ``moved`` (share of moves accepted).
    """
    say = say or _say
    store = Progress(out / PROGRESS)
    units, population, history, t0 = None, None, [], time.perf_counter()
    for g in range(budget.generations):
        tolerance, parents = None, None
        if population is None:
            unit = first_generation(prior, budget.sets, seed)
        else:
            survivors = select(population, budget.survivors)
            tolerance = population[survivors[-1]]["distance"]
            parents, unit = propose(units, survivors, budget.sets, _rng(seed, g))
        entries = _score_generation(out, store, g, prior, unit, budget, seed, execution, used)
        resumed = sum(e.pop("kept", False) for e in entries)
        if parents is None:
            population, units, moved = entries, unit, None
        else:
            ok = [e["distance"] <= tolerance for e in entries]
            population = [e if k else population[p] for e, k, p in zip(entries, ok, parents, strict=True)]
            units = np.array([e["unit"] for e in population])
            moved = sum(ok) / len(ok)
        history.append({"scored": entries, "population": population, "tolerance": tolerance, "moved": moved})
        say(_generation_line(g, budget, history[-1], resumed, time.perf_counter() - t0))
    return history


def _score_generation(
    out: Path, store: Progress, g: int, prior: Prior, unit: np.ndarray, budget: Budget, seed: int, *run: Any
) -> list[dict[str, Any]]:
    """The scored sets of generation ``g``: those kept in the progress file, then the rest, appended to it."""
    points = [prior.values(u) for u in unit]
    rows = [[p[k] for k in prior.keys] for p in points]
    entries = [{**e, "kept": True} for e in store.kept(g, rows)]
    start = len(entries)
    with open(out / PROGRESS, "a", encoding="utf-8") as fh:
        for i, scored in enumerate(score_sets(points[start:], budget.replicates, seed, *run)):
            entry = {"generation": g, "index": start + i, "point": rows[start + i], **scored}
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            entries.append(entry)
    for e, u in zip(entries, unit, strict=True):
        e["unit"] = u
    return entries


def _generation_line(g: int, budget: Budget, step: dict[str, Any], resumed: int, seconds: float) -> str:
    pop = step["population"]
    best = min(e["distance"] for e in pop)
    shares = " ".join(f"{s} {np.median([e['stories'][s] for e in pop]):.2f}" for s in pop[0]["stories"])
    text = f"generation {g + 1}/{budget.generations}: {len(step['scored'])} sets scored"
    text += f" ({resumed} kept from before)" if resumed else ""
    if step["tolerance"] is not None:
        text += f", tolerance {step['tolerance']:.3f}, moves accepted {step['moved']:.0%}"
    distinct = len({(e["generation"], e["index"]) for e in pop})
    return text + f"; population: best {best:.3f}, {distinct} distinct, median {shares}; {seconds:.0f} s"


# --- results ----------------------------------------------------------------------------------------------
def _flat(entry: dict[str, Any], keys: Sequence[str], facts: bool = False) -> dict[str, Any]:
    return {
        "generation": entry["generation"],
        "index": entry["index"],
        "distance": entry["distance"],
        **entry["stories"],
        "joint": entry["joint"],
        **dict(zip(keys, entry["point"], strict=True)),
        **({f"fact:{k}": v for k, v in entry["facts"].items()} if facts else {}),
        **({f"months_off:{k}": v for k, v in entry["dates"].items()} if facts else {}),
    }


def identifiability(accepted, prior: Prior, centre: dict[str, float], point: dict[str, float]):
    """Per parameter: posterior median and 90 % interval, and its width over the prior's (in log coordinates).

    ``ratio`` = (log q95 - log q05) / (0.9 (log high - log low)): about 1 when the cases leave the
    parameter where the prior had it, small when they pin it down; ``constrained`` when below
    :data:`sim.analysis.posterior.CONSTRAINED_BELOW`.
    """
    import pandas as pd

    specs, w, rows = by_name(), accepted["weight"].to_numpy(float), []
    for k, lo, hi in zip(prior.keys, prior.low, prior.high, strict=True):
        v = accepted[k].to_numpy(float)
        q05, q50, q95 = (weighted_quantile(v, w, q) for q in (0.05, 0.5, 0.95))
        ratio = (math.log(q95) - math.log(q05)) / (0.9 * (math.log(hi) - math.log(lo)))
        rows.append(
            {
                "parameter": k,
                "catalogue_low": specs[k].low,
                "catalogue_high": specs[k].high,
                "prior_low": lo,
                "prior_high": hi,
                "centre": centre[k],
                "point": float(point[k]),
                "median": q50,
                "q05": q05,
                "q95": q95,
                "ratio": round(ratio, 6),
                "constrained": bool(ratio < CONSTRAINED_BELOW),
            }
        )
    return pd.DataFrame(rows)


_POINT_WORDS = {
    "best inside": (
        "the accepted set with the smallest re-scored distance (else distance) among those inside every 90 % interval"
    ),
    "nearest the median, clipped": (
        "no accepted set lies inside every 90 % interval: the set nearest the posterior median in the prior's "
        "unit cube, each value clipped into its interval (not itself a scored set)"
    ),
}


def _scored_on(meta: dict[str, Any]) -> list[str]:
    """The summary's paragraph on what the distance was scored on and how the posterior came out."""
    facts, free = meta["facts"], len(meta["prior"])
    tied = meta["tied_at_best"]
    return [
        f"Distance (graded, `sim.analysis.calibration.distance`): the shortfall of each calibration fact's share "
        f"below its threshold, of each primary story's below {STORY_BAR} and of the joint share below {JOINT_BAR}, "
        f"plus {GRADE_WEIGHT} x the mean share missed over the facts and stories, plus {DATE_WEIGHT} x each dated "
        f"fact's mean month error (months its windows must widen to meet it, at most {MONTH_CAP}) over "
        f"{MONTH_CAP}. Scored on the {len(facts)} "
        f"calibration facts of `scenarios/facts.toml` ({', '.join(f'`{f}`' for f in facts)}) and the primary "
        "stories; the validation facts never enter.",
        "",
        f"Free parameters: {free}, against {len(facts)} calibration facts (not all independent: several read "
        "the same vote or date) and 3 stories; the parameters no fact constrains are fixed "
        "(`scenarios/defaults.toml`, `[calibration] fixed`).",
        "",
        f"The {meta['budget']['top']} distinct best sets of the last population were re-scored on "
        f"{meta['budget']['refine']} fresh replicates (numbered after the sampler's; `accepted.csv`: `refined`); "
        "the re-scored distance ranks the point estimate and decides the ties.",
        "",
        f"Effective sample size (Kish, of the particles' equal weights with a repeated particle's copies merged "
        f"into one set): {meta['effective_sample_size']:.1f} of {meta['accepted']} particles. Best distance: "
        + ("not tied (one set)." if tied == 1 else f"**tied** between {tied} distinct sets."),
    ]


def summary_markdown(ident, generations, meta: dict[str, Any]) -> str:
    """``summary.md`` (docs/calibration/posterior-summary.md): the posterior per parameter and the budget."""
    import pandas as pd

    b = meta["budget"]
    lines = [
        "# Posterior summary (generated by `python run.py calibrate`)",
        "",
        f"Command: `{' '.join(['python', *meta['command_line']])}`",
        "",
        f"ABC sequential Monte Carlo (replenishment, one Metropolis-Hastings move per particle and generation; "
        f"`sim/analysis/calibration.py`): {b['generations']} generations x {b['sets']} parameter sets x "
        f"{b['replicates']} replicates x {meta['cases']} cases = {meta['runs']:,} simulated runs; the best "
        f"{b['keep']:.0%} of each population survive and set the tolerance; seed {meta['base_seed']}; "
        f"{meta['seconds']:.0f} s with {meta['workers']} workers. Prior: log-uniform from value/{meta['factor']:g} "
        f"to value x{meta['factor']:g} around the centre (`metadata.json`: `centre`; by default "
        "`docs/calibration/centre.json`), within the catalogue's range. "
        f"The posterior is the last population: {meta['accepted']} particles, {meta['distinct']} distinct sets.",
        "",
        *_scored_on(meta),
        "",
        "| generation | tolerance | moves accepted | best distance | distinct | "
        + " | ".join(f"`{s}` (median)" for s in meta["stories"])
        + " |",
        "|---|---|---|---|---|" + "---|" * len(meta["stories"]),
    ]
    for r in generations.to_dict("records"):
        tol = "" if pd.isna(r["tolerance"]) else f"{r['tolerance']:.3f}"
        moved = "" if pd.isna(r["moves_accepted"]) else f"{r['moves_accepted']:.0%}"
        lines.append(
            f"| {r['generation']} | {tol} | {moved} | {r['best']:.3f} | {r['distinct']} | "
            + " | ".join(f"{r[s.replace('.', '_')]:.2f}" for s in meta["stories"])
            + " |"
        )
    lines += [
        "",
        f"Per parameter: point estimate ({_POINT_WORDS[meta['point_rule']]}; its values go into "
        f"`scenarios/defaults.toml`), weighted posterior median and 90 % interval, and the interval's width "
        f"over the prior's in log coordinates (`ratio`; below {CONSTRAINED_BELOW} = constrained by the facts).",
        "",
        "| parameter | prior | point | median | 90 % interval | ratio | constrained |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in ident.itertuples(index=False):
        lines.append(
            f"| `{r.parameter}` | {r.prior_low:.4g}–{r.prior_high:.4g} | {r.point:.4g} | {r.median:.4g} | "
            f"[{r.q05:.4g}, {r.q95:.4g}] | {r.ratio:.2f} | {'yes' if r.constrained else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def _generation_rows(history: list[dict[str, Any]], stories: list[str]) -> list[dict[str, Any]]:
    """One row per generation for ``generations.csv``: tolerance, moves, best distance, median story shares."""
    rows = []
    for g, step in enumerate(history):
        pop = step["population"]
        rows.append(
            {
                "generation": g,
                "sets": len(step["scored"]),
                "tolerance": step["tolerance"],
                "moves_accepted": step["moved"],
                "best": min(e["distance"] for e in pop),
                "distinct": len({(e["generation"], e["index"]) for e in pop}),
                **{s.replace(".", "_"): float(np.median([e["stories"][s] for e in pop])) for s in stories},
            }
        )
    return rows


def write_results(
    out: Path,
    history: list[dict[str, Any]],
    prior: Prior,
    budget: Budget,
    centre: dict[str, float],
    refined: dict[tuple[int, int], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write ``scored.csv``, ``accepted.csv``, ``generations.csv``, ``identifiability.csv``; return a summary.

    ``refined`` (:func:`refine_top`) fills ``accepted.csv``'s ``refined`` column (the distance on the
    fresh replicates; empty for sets not re-scored), which ranks the point estimate and the ties.
    """
    import pandas as pd

    keys = prior.keys
    scored = pd.DataFrame([_flat(e, keys, facts=True) for step in history for e in step["scored"]])
    last = history[-1]["population"]
    order = select(last, len(last))
    accepted = pd.DataFrame([_flat(last[i], keys) for i in order])
    accepted.insert(0, "set", range(len(accepted)))
    accepted.insert(3, "weight", 1 / len(accepted))
    refined = refined or {}
    again = [refined.get((last[i]["generation"], last[i]["index"])) for i in order]
    accepted.insert(5, "refined", [e["distance"] if e else np.nan for e in again])
    row, point, rule = point_estimate(accepted, keys, prior.low, prior.high)
    accepted.insert(6, "point", [int(i == row) for i in range(len(accepted))])
    stories = list(last[0]["stories"])
    gens = _generation_rows(history, stories)
    generations = pd.DataFrame(gens)
    ident = identifiability(accepted, prior, centre, point)
    tables = (("scored", scored), ("accepted", accepted), ("generations", generations), ("identifiability", ident))
    for name, table in tables:
        _write_atomic(out / f"{name}.csv", table.to_csv(index=False))
    return {
        "accepted": len(accepted),
        "distinct": int(gens[-1]["distinct"]),
        "stories": stories,
        "best": {**accepted.iloc[row].to_dict(), **point},
        "point": point,
        "point_rule": rule,
        "point_facts": (again[row] or last[order[row]])["facts"],
        "point_refined": again[row],
        "ess": round(effective_sample_size(accepted), 2),
        "tied": tied_at_best(accepted),
        "identifiability": ident,
        "generations": generations,
    }


def load_centre(path: Path) -> dict[str, float]:
    """Read a centre file (JSON object of calibrated parameter values) and check every value.

    Raises:
        InputError: unreadable, not an object, an unknown key, a value outside the catalogue's range,
            or a calibrated parameter missing.
    """
    try:
        centre = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, "--centre", f"cannot read a JSON object of parameters ({exc})") from None
    if not isinstance(centre, dict):
        raise InputError(path, "--centre", "expected a JSON object of parameters")
    specs, fixed = by_name(), fixed_by_screen()
    centre = {k: v for k, v in centre.items() if k not in fixed}  # fixed by the screen: the centre's value is unused
    for key, value in centre.items():
        if key not in CALIBRATED:
            raise InputError(path, key, "not a calibrated parameter" + suggest(key, CALIBRATED))
        spec = specs[key]
        problem = spec.check(float(value) if spec.kind == "float" and type(value) is int else value)
        if problem:
            raise InputError(path, key, problem)
    missing = [k for k in CALIBRATED if k not in centre]
    if missing:
        raise InputError(path, missing[0], "missing: the centre needs every calibrated parameter")
    return centre


def _metadata(
    the_spec: dict[str, Any], result: dict[str, Any], budget: Budget, started, used, command, seconds: float
) -> dict[str, Any]:
    """The calibration's ``metadata.json``: the run's record, its spec (prior, centre, hashes) and its result."""
    cases = list(the_spec["scenarios_sha256"])
    return metadata(
        [load_scenario(c) for c in cases],
        seed=the_spec["seed"],
        replicates=budget.replicates,
        started=started,
        execution=used,
        command=command,
        procedure=the_spec["procedure"],
        budget=asdict(budget),
        cases=len(cases),
        runs=budget.runs(len(cases)),
        accepted=result["accepted"],
        distinct=result["distinct"],
        factor=the_spec["factor"],
        centre=the_spec["centre"],
        prior=the_spec["prior"],
        patterns_sha256=the_spec["patterns_sha256"],
        stories=result["stories"],
        facts=the_spec["facts"],
        facts_sha256=the_spec["facts_sha256"],
        effective_sample_size=result["ess"],
        tied_at_best=result["tied"],
        point=result["point"],
        point_rule=result["point_rule"],
        point_facts=result["point_facts"],
        point_refined=result["point_refined"],
        elapsed_seconds=seconds,
    )


def calibrate(
    out: Path,
    budget: Budget = Budget(),
    seed: int = 20161214,
    centre: dict[str, float] | None = None,
    factor: float = FACTOR,
    execution: Execution = Execution(),
    resume: bool = False,
    force: bool = False,
    command: list[str] | None = None,
    say=None,
) -> dict[str, Any]:
    """Run (or resume) the calibration into ``out`` and write its result files and ``metadata.json``.

    Args:
        out: Result folder (worked in place so that it can be resumed).
        budget: Sets per generation, generations, replicates, keep share.
        seed: Base seed of the runs and of the sampler.
        centre: Centre of the prior box (default: ``docs/calibration/centre.json``).
        factor: The prior box spans ``centre / factor`` to ``centre * factor`` (within the catalogue).
        execution: Workers, scheduler, progress bar (the result does not depend on it).
        resume: Finish an interrupted calibration in ``out`` (its arguments must match).
        force: Replace ``out`` if it is a calibration folder of this program.
        command: The command line recorded in ``metadata.json``.
        say: Where the one-line progress reports go.

    Returns:
        ``{"accepted", "distinct", "stories", "best", "identifiability", "generations", "seconds", "runs",
        "complete"}``.
    """
    say = say or _say
    t0, started = time.perf_counter(), datetime.now()
    centre = centre if centre is not None else load_centre(CENTRE_FILE)
    prior = Prior.around(centre, factor)
    the_spec = spec(prior, budget, seed, centre, factor)
    out = Path(os.path.abspath(out))
    cases = list(the_spec["scenarios_sha256"])
    final, (out, finished) = out, _prepare(out, the_spec, resume, force)
    if finished:
        _replace(final, out)
        say(f"{final} holds a finished calibration; nothing to do")
        return {"complete": True, "seconds": 0.0, "runs": 0}
    used: dict[str, Any] = {}
    history = run_generations(out, prior, budget, seed, execution, used, say)
    refined = refine_top(history[-1]["population"], prior.keys, budget, seed, execution, used)
    result = write_results(out, history, prior, budget, centre, refined)
    seconds = round(time.perf_counter() - t0, 1)
    meta = _metadata(the_spec, result, budget, started, used, command, seconds)
    meta["seconds"] = seconds
    _write_atomic(out / "summary.md", summary_markdown(result["identifiability"], result["generations"], meta))
    write_json(out / "metadata.json", meta)
    (out / PROGRESS).unlink(missing_ok=True)
    _replace(final, out)
    return {**result, "seconds": seconds, "runs": budget.runs(len(cases)), "complete": False}
