"""Robustness: does each primary story survive every uncertain input moved one at a time?

A *corner* moves one input and leaves everything else as it is (one-at-a-time design, issue
"Calibrated, not tuned"):

- every **estimated scenario input** (``{ value, low, high, source }`` in a scenario file, listed
  in :attr:`sim.inputs.scenario.Scenario.estimates`) to its ``low`` and to its ``high`` value; it lives in
  one case's file, so only that case is re-run and the other stories keep their baseline share;
- every **switched fact** (``scenarios/switches.toml``: a case's consultant, leader or a reform
  event's month) to each other value the report allows; like an estimate it re-runs its case only,
  re-loaded with the value switched (:func:`sim.analysis.variants.load_switched`); a switch whose
  value the report states (``stated``) is marked so, and its knife-edges are no fragility;
- every **calibrated parameter** (:data:`sim.analysis.calibration.CALIBRATED`) to its posterior 5 % and
  95 % quantiles when a calibration result is given (:class:`sim.analysis.posterior.Posterior`; the CLI uses
  the committed ``docs/calibration/posterior`` by default), else to its value times ``1 - step``
  and ``1 + step`` (±25 %), clipped to the catalogue's range and rounded for whole-number
  parameters; it is shared, so every case is re-run.

Every corner runs the same replicates with the same seeds as the baseline (common random numbers),
through the one runner (:func:`sim.run.runner.execute`), and is scored with the story patterns exactly
as :func:`sim.analysis.validation.validate` scores them (:func:`sim.analysis.validation.evaluate`). A *knife-edge* is a
(story, corner) whose share falls below 0.5 (docs/ODD.md III.vi; the stories are §2.1-§2.3).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sim.analysis.posterior import CALIBRATED, ROOT, posterior_argument
from sim.analysis.validation import Pattern, as_run, evaluate, load_patterns
from sim.analysis.variants import load_switched
from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.params import by_name, load_defaults, read_toml
from sim.inputs.scenario import SCENARIO_DIR, resolve_path
from sim.run.execution import Execution
from sim.run.runner import Job

if TYPE_CHECKING:
    import pandas as pd

#: The switched facts (consultant, leader, reform events' months) and the values the report allows.
SWITCHES_FILE = SCENARIO_DIR / "switches.toml"
#: Relative step of a calibrated parameter's corners when no posterior is given.
STEP = 0.25
#: The posterior quantiles a calibrated parameter's corners go to.
QUANTILES = (0.05, 0.95)
#: A story whose share falls below this at a corner hinges on that input (a knife-edge).
KNIFE_EDGE = 0.5
#: A corner is reported when it moves a story's share by more than this.
NOTABLE_CHANGE = 0.1


@dataclass(frozen=True)
class Corner:
    """One input moved to one end of its range, everything else at its value.

    Attributes:
        kind: ``"estimate"`` (a scenario file's estimated input), ``"switch"`` (a fact of
            ``scenarios/switches.toml``) or ``"parameter"`` (calibrated).
        key: The estimate's key (``region.council_stages``) or the parameter's ``--set`` key.
        side: ``"low"`` or ``"high"`` (for a parameter: minus or plus ``step``; for a switched
            date: earlier or later); ``"other"`` for a switched categorical fact.
        baseline: The value the model uses.
        value: The value at this corner.
        case: The scenario whose file holds the estimate; ``None`` for a parameter (every case).
        source: The estimate's provenance, or how the parameter's range was set.
        stated: For a switch: the report states the value itself (a knife-edge there is no fragility).
    """

    kind: Literal["estimate", "parameter", "switch"]
    key: str
    side: str
    baseline: Any
    value: Any
    case: str | None = None
    source: str = ""
    stated: bool = False

    @property
    def name(self) -> str:
        """Unique short name: ``fosen:region.council_stages low``, ``coordination_cost high``.

        A switch is named by its value: ``CASE:region.leader=MEMBER``.
        """
        if self.kind == "switch":
            return f"{self.case}:{self.key}={_value(self.value)}"
        return f"{self.case + ':' if self.case else ''}{self.key} {self.side}"

    @property
    def moved(self) -> bool:
        """False when the range's edge is the value itself (nothing to run: the baseline holds)."""
        # Clipping to the catalogue's range can put a corner on the value itself; it is then not run,
        # and its share is the baseline's by construction, not by a second draw.
        return self.value != self.baseline

    def affects(self, case: str) -> bool:
        """True when this corner changes the runs of ``case``."""
        return self.moved and self.case in (None, case)

    def job_inputs(self) -> dict[str, Any]:
        """The :class:`sim.run.runner.Job` fields that move this input: ``overrides``, ``estimates`` or ``scenario``."""
        if self.kind == "switch":
            return {"scenario": load_switched(str(self.case), self.key, self.value)}
        field = "estimates" if self.kind == "estimate" else "overrides"
        return {field: ((self.key, self.value),)}


class KnifeEdge(NamedTuple):
    """A story that falls below :data:`KNIFE_EDGE` at one corner."""

    story: str
    corner: str
    share: float


@dataclass(frozen=True)
class Robustness:
    """The corners' results.

    Attributes:
        table: One row per (corner, story): ``corner, kind, key, case, side, baseline_value, value,
            story, story_case, share, ci_low, ci_high, baseline_share, change, rerun`` (``rerun`` is
            False where the corner cannot change the story, whose share is then the baseline's).
        baseline: Each primary story's share with nothing moved.
        replicates: Replicates per case and corner; ``seed`` the base seed; ``step`` the parameters' step.
        runs: Model runs done; ``seconds`` the wall time.
        basis: How the parameters' corners were set (``±25 %`` or the posterior's quantiles and folder).
    """

    table: pd.DataFrame
    baseline: dict[str, float]
    replicates: int
    seed: int
    step: float
    runs: int
    seconds: float
    basis: str = ""

    @property
    def corners_text(self) -> str:
        """Words for the parameters' corners, for titles and tables."""
        return self.basis or f"±{self.step:.0%} (no posterior)"

    @property
    def knife_edges(self) -> list[KnifeEdge]:
        """Every (story, corner) whose share is below :data:`KNIFE_EDGE`, lowest first."""
        # A stable sort on three keys: ties come out in one order on every machine, so the generated
        # docs do not change between runs with equal results.
        t = self.table[self.table["share"] < KNIFE_EDGE].sort_values(["share", "story", "corner"], kind="stable")
        return [KnifeEdge(r.story, r.corner, float(r.share)) for r in t.itertuples()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, baseline shares, every row and the knife-edges."""
        return {
            "replicates": self.replicates,
            "seed": self.seed,
            "step": self.step,
            "basis": self.corners_text,
            "runs": self.runs,
            "seconds": self.seconds,
            "baseline": self.baseline,
            "corners": self.table.to_dict("records"),
            "knife_edges": [e._asdict() for e in self.knife_edges],
        }

    def notable(self, change: float = NOTABLE_CHANGE) -> pd.DataFrame:
        """Rows whose share moves by more than ``change`` or falls below :data:`KNIFE_EDGE`, by story and size."""
        t = self.table
        t = t[(t["change"].abs() > change) | (t["share"] < KNIFE_EDGE)].copy()
        t["size"] = t["change"].abs()
        return t.sort_values(["story", "size"], ascending=[True, False], kind="stable").drop(columns="size")


def primary_patterns() -> list[Pattern]:
    """The primary stories of ``scenarios/patterns.toml`` (the ones robustness is about)."""
    return [p for p in load_patterns() if p.kind == "primary"]


def _clip(value: float, low: float | None, high: float | None) -> float:
    return min(max(value, low if low is not None else value), high if high is not None else value)


def build_corners(
    cases: Sequence[str] | None = None,
    keys: Sequence[str] = CALIBRATED,
    step: float = STEP,
    quantiles: dict[str, tuple[float, float]] | None = None,
    basis: str = "",
) -> list[Corner]:
    """Every one-at-a-time corner: each estimate of each case at low and high, each parameter at its two ends.

    Args:
        cases: Scenario names whose estimates to move (default: the cases of the primary stories).
        keys: Calibrated parameters to move (``--set`` keys).
        step: Relative step of a parameter (0.25 = ±25 %) where ``quantiles`` has none, clipped to
            the catalogue's range; whole-number parameters are rounded.
        quantiles: ``{key: (low, high)}``, e.g. the posterior's 5 % and 95 % quantiles; the corners
            go there instead of ±``step``.
        basis: Where ``quantiles`` come from (recorded in each corner's ``source``).

    Returns:
        The estimates' and switches' corners (case by case, in file order), then the parameters' (in ``keys`` order).
    """
    cases = list(dict.fromkeys(cases if cases is not None else [p.case for p in primary_patterns()]))
    corners = []
    for case in cases:
        for key, est in load_scenario(case).estimates.items():
            corners += [
                Corner("estimate", key, side, est.value, value, case, est.source)
                for side, value in (("low", est.low), ("high", est.high))
            ]
        corners += switch_corners(case)
    values, specs = load_defaults().as_dict(), by_name()
    for key in keys:
        spec, base = specs[key], values[key]
        ends = (quantiles or {}).get(key)
        for i, side in enumerate(("low", "high")):
            if ends is not None:
                value, source = ends[i], f"posterior {QUANTILES[i]:.0%} quantile ({basis})"
            else:
                # A relative step, so parameters of any scale move by a comparable amount.
                value = base * (1 - step if side == "low" else 1 + step)
                source = f"{'-' if side == 'low' else '+'}{step:.0%} (no posterior)"
            value = _clip(value, spec.low, spec.high)
            # Clip first, then round: the catalogue's bounds of a whole-number parameter are whole, so the
            # rounded value stays inside them.
            value = int(round(value)) if spec.kind == "int" else float(value)
            corners.append(Corner("parameter", key, side, base, value, None, source))
    return corners


def read_switches(path: Path = SWITCHES_FILE) -> list[dict[str, Any]]:
    """The ``[[switch]]`` tables of ``scenarios/switches.toml``, checked: case, key, values, stated, source."""
    out = []
    for i, item in enumerate(read_toml(path).get("switch", [])):
        for key in ("case", "key", "values", "stated", "source"):
            if key not in item:
                raise InputError(path, f"switch[{i}].{key}", "missing key")
        if not isinstance(item["values"], list) or not item["values"]:
            raise InputError(path, f"switch[{i}].values", "needs a list of one or more values")
        out.append(item)
    return out


def switch_corners(case: str, path: Path = SWITCHES_FILE) -> list[Corner]:
    """The switched facts of ``case``, one corner per other value; each loaded once here, so a bad value fails early."""
    raw = read_toml(resolve_path(case))
    corners = []
    for item in (s for s in read_switches(path) if s["case"] == case):
        table, _, rest = item["key"].partition(".")
        index, _, field = rest.partition(".")
        baseline = (
            raw["region"][rest] if table == "region" else raw.get(table, [{}] * (int(index) + 1))[int(index)][field]
        )
        for value in item["values"]:
            load_switched(case, item["key"], value)
            # A date moves earlier (low) or later (high); a categorical input has no order (other).
            side = ("low" if value < baseline else "high") if field == "date" else "other"
            corners.append(Corner("switch", item["key"], side, baseline, value, case, item["source"], item["stated"]))
    return corners


def posterior_quantiles(posterior: Any) -> dict[str, tuple[float, float]]:
    """Each calibrated parameter's posterior 5 % and 95 % quantiles (:data:`QUANTILES`)."""
    low, high = (posterior.quantiles(q) for q in QUANTILES)
    return {k: (low[k], high[k]) for k in posterior.keys}


def _groups(corners: Sequence[Corner], cases: Sequence[str]) -> list[tuple[Corner | None, str]]:
    """The (corner, case) run sets: the baseline of every case, then every corner on the cases it changes."""
    # An estimate lives in one case's file, so it re-runs that case only; a parameter re-runs every
    # case. Runs that cannot change are never made.
    return [(None, c) for c in cases] + [(k, c) for k in corners for c in cases if k.affects(c)]


def _jobs(groups: list[tuple[Corner | None, str]], replicates: int, seed: int) -> Iterator[Job]:
    for g, (corner, case) in enumerate(groups):
        moved = corner.job_inputs() if corner else {}
        for r in range(replicates):
            # Replicate r has the same seed at every corner and at the baseline (common random numbers): a
            # change in a share is the moved input's, not a different draw's.
            where = {"scenario": str(resolve_path(case)), **moved}
            yield Job(g * replicates + r, replicate=r, base_seed=seed, detail="records", **where)


def run_corners(
    corners: Sequence[Corner],
    replicates: int = 200,
    seed: int = 20161214,
    execution: Execution = Execution(),
    patterns: Sequence[Pattern] | None = None,
    step: float = STEP,
    used: dict[str, Any] | None = None,
    basis: str = "",
) -> Robustness:
    """Run the baseline and every corner on common random numbers and score the primary stories.

    Results stream from the runner and are scored one (corner, case) set at a time, so memory holds
    one set's records only. They do not depend on the number of workers nor on the scheduler.

    Args:
        corners: From :func:`build_corners`.
        replicates: Replicates per case and corner (replicate ``r`` has the same seed everywhere).
        seed: Base seed (as ``validate``'s).
        execution: Workers, scheduler, progress bar.
        patterns: The stories to score (default: the primary stories).
        step: The parameters' relative step the corners were built with (recorded for the reports).
        used: If given, filled with the scheduler, workers and chunk size used.
        basis: How the parameters' corners were set (for the reports; empty: ±``step``).

    Returns:
        A :class:`Robustness` with one row per (corner, story).
    """
    import pandas as pd

    t0 = time.perf_counter()
    patterns = list(patterns if patterns is not None else primary_patterns())
    cases = list(dict.fromkeys(p.case for p in patterns))
    groups = _groups(corners, cases)
    scored: dict[tuple[str | None, str], dict[str, Any]] = {}  # (corner name, story) -> evaluate's entry
    results = execution.execute(_jobs(groups, replicates, seed), len(groups) * replicates, used)
    for corner, case in groups:
        # execute() yields in job order, so the next `replicates` results are this group's: one group's
        # records in memory at a time, however many corners there are.
        runs = [as_run(next(results)) for _ in range(replicates)]
        stories = [p for p in patterns if p.case == case]
        for entry in evaluate(stories, {(case, ()): runs})["patterns"]:
            scored[(corner.name if corner else None, entry["id"])] = entry
    baseline = {p.id: scored[(None, p.id)]["share"] for p in patterns}
    rows = [_row(k, p, scored, baseline) for k in corners for p in patterns]
    seconds = round(time.perf_counter() - t0, 2)
    return Robustness(pd.DataFrame(rows), baseline, replicates, seed, step, len(groups) * replicates, seconds, basis)


def _row(k: Corner, p: Pattern, scored: dict, baseline: dict[str, float]) -> dict[str, Any]:
    """One (corner, story) row of the table; a corner that moves nothing of the story's case keeps the baseline."""
    rerun = k.affects(p.case)
    entry = scored[(k.name if rerun else None, p.id)]
    return {
        "corner": k.name,
        "kind": k.kind,
        "stated": k.stated,
        "key": k.key,
        "case": k.case or "",
        "side": k.side,
        "baseline_value": k.baseline,
        "value": k.value,
        "story": p.id,
        "story_case": p.case,
        "share": entry["share"],
        "ci_low": entry["ci95"][0],
        "ci_high": entry["ci95"][1],
        "baseline_share": baseline[p.id],
        # Rounded: 0.7 - 0.6 is 0.09999999999999998 in floating point, and a change of exactly
        # NOTABLE_CHANGE must compare as what it is.
        "change": round(entry["share"] - baseline[p.id], 12),
        "rerun": rerun,
    }


def robustness(
    replicates: int = 200,
    seed: int = 20161214,
    execution: Execution = Execution(),
    step: float = STEP,
    used: dict[str, Any] | None = None,
    posterior: Any = None,
) -> Robustness:
    """Build every corner (:func:`build_corners`) and run it (:func:`run_corners`); arguments as there.

    ``posterior`` (a :class:`sim.analysis.posterior.Posterior` or its folder) sets each calibrated parameter's
    corners to its posterior 5 % and 95 % quantiles; without one they are ±``step``.

    Example:
        >>> result = robustness(replicates=200, posterior="docs/calibration/posterior")
        >>> result.knife_edges  # [KnifeEdge(story, corner, share), ...]
    """
    post = posterior_argument(posterior)
    where = _shown(post.folder) if post else ""
    basis = f"posterior 5 %/95 % quantiles of {where}" if post else ""
    quantiles = posterior_quantiles(post) if post else None
    corners = build_corners(step=step, quantiles=quantiles, basis=where)
    return run_corners(corners, replicates, seed, execution, step=step, used=used, basis=basis)


def _shown(folder: Path) -> str:
    """A posterior folder as the reports name it: relative to the project when inside it."""
    folder = Path(folder).resolve()
    return str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder)


# --- reporting -------------------------------------------------------------------------------------
def _value(v: Any) -> str:
    """A corner's value as shown: a number to 4 digits, a switch's value as written (``false``, ``external``)."""
    if isinstance(v, bool):
        return str(v).lower()
    return f"{v:.4g}" if isinstance(v, int | float) else str(v)


def format_table(result: Robustness, change: float = NOTABLE_CHANGE) -> str:
    """Corners that move a story by more than ``change`` or below 0.5, then the knife-edges (plain text)."""
    rows = result.notable(change)
    lines = [
        f"robustness: one input at a time; estimates at low/high, calibrated parameters at "
        f"{result.corners_text}; {result.replicates} replicates per corner, same seeds as the baseline",
        f"{'pilot story':24s} {'corner (input moved)':44s} {'value':>19s} {'held in':>7s} {'before':>6s} "
        f"{'change':>7s}",
    ]
    for r in rows.itertuples():
        moved = f"{_value(r.baseline_value)} -> {_value(r.value)}"
        lines.append(
            f"{r.story:24s} {r.corner:44s} {moved:>19s} {r.share:7.3f} {r.baseline_share:6.3f} {r.change:+7.3f}"
        )
    if rows.empty:
        lines.append(f"(no corner moves a story by more than {change:g} or below {KNIFE_EDGE:g})")
    edges = result.knife_edges
    lines.append(f"knife-edges (share below {KNIFE_EDGE:g}): " + ("none" if not edges else str(len(edges))))
    lines += [f"  {e.story:24s} {e.corner:44s} {e.share:.3f}" for e in edges]
    n_corners = result.table["corner"].nunique()
    lines.append(f"{n_corners} corners, {result.runs:,} runs, {result.seconds:.1f} s")
    lines.append(
        "held in: share of replicates (0-1) in which the pilot's story holds with the input moved; "
        "before: the share at the baseline; change: held in minus before"
    )
    return "\n".join(lines)


def markdown(result: Robustness) -> str:
    """The "Robustness" section of ``docs/validation.md``: share per corner and story, and the knife-edges."""
    t = result.table
    stories = list(dict.fromkeys(t["story"]))
    lines = [
        "",
        "## Robustness",
        "",
        "Each primary story with one input moved at a time: every estimated scenario input at its low and "
        "high value, every switched fact of `scenarios/switches.toml` (consultant, leader, reform events' "
        "months) at each other value the report allows (*stated*: the report gives the value itself), "
        "every calibrated parameter at "
        f"{result.corners_text} (one at a time, the others at their "
        f"point estimates; clipped to the catalogue's range). {result.replicates} replicates per corner with the "
        "baseline's seeds; an "
        "estimate is re-run only in its own case (the other stories keep the baseline share). "
        f"**Bold**: below {KNIFE_EDGE:g} (a knife-edge); *italic*: moved by more than {NOTABLE_CHANGE:g}. "
        f"{t['corner'].nunique()} corners, {result.runs:,} runs, {result.seconds:.0f} s.",
        "",
        "| corner | kind | value | " + " | ".join(f"`{s}`" for s in stories) + " |",
        "|---|---|---|" + "---|" * len(stories),
        "| baseline | | | " + " | ".join(f"{result.baseline[s]:.3f}" for s in stories) + " |",
    ]
    for name, g in t.groupby("corner", sort=False):
        first = g.iloc[0]
        cells = []
        for s in stories:
            r = g[g["story"] == s].iloc[0]
            text = f"{r['share']:.3f}"
            cells.append(
                f"**{text}**" if r["share"] < KNIFE_EDGE else f"*{text}*" if abs(r["change"]) > NOTABLE_CHANGE else text
            )
        moved = f"{_value(first['baseline_value'])} → {_value(first['value'])}"
        kind = first["kind"] + (" (stated)" if first.get("stated", False) else "")
        lines.append(f"| `{name}` | {kind} | {moved} | " + " | ".join(cells) + " |")
    edges = result.knife_edges
    lines += ["", "### Knife-edges", ""]
    if not edges:
        lines.append(f"None: every primary story stays at or above {KNIFE_EDGE:g} at every corner.")
    else:
        lines += ["| story | corner | share |", "|---|---|---|"]
        lines += [f"| `{e.story}` | `{e.corner}` | {e.share:.3f} |" for e in edges]
    return "\n".join(lines) + "\n"


def save(result: Robustness, folder: Path) -> list[str]:
    """Write ``robustness.csv`` into ``folder``; return the file names (figures: :mod:`sim.views.figures`)."""
    result.table.to_csv(folder / "robustness.csv", index=False)
    return ["robustness.csv"]
