"""Policies across futures: which variant is best, and how much does choosing it cost where it is not?

A *future* is one draw of what the model does not know: every estimated scenario input (a
``{ value, low, high, source }`` entry, :attr:`sim.inputs.scenario.Scenario.estimates`) uniform within its
range (whole numbers stay whole), and one accepted parameter set of the calibration (the posterior,
``docs/calibration/posterior`` by default). Each variant (a set of ``--set`` levers, the baseline
included) runs in every future with the same replicate seeds (common random numbers), so the
variants differ only by their levers. Per future the variants are scored by one outcome (by default
the scenario kind's main one: municipalities served by a joint office for a county, the mean
vulnerability at the horizon for a pilot region); the best has regret 0, every other the shortfall from it.
Per variant: the share of futures in which it is best (ties count for each), its mean and its worst
regret (the robustness criteria of decision making under deep uncertainty: Savage's minimax
regret; Lempert, Popper and Bankes 2003). The futures are written to ``futures.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.answers import number
from sim.analysis.results import outcomes_of
from sim.analysis.stats import wilson
from sim.inputs.errors import InputError
from sim.inputs.scenario import Scenario
from sim.run.codebook import outcome_label
from sim.run.execution import Execution
from sim.run.runner import Job

#: Outcomes where less is better (every other outcome: more is better).
LOWER_IS_BETTER = ("vulnerability", "stall", "governance_dispute")


def default_outcome(scenario: Scenario) -> str:
    """The kind's main outcome, one that varies between futures and variants.

    A county: municipalities served by a joint office (first initiative sector). A pilot region:
    the mean vulnerability at the horizon (lower is better), the service measure a joint office is
    for (report §1.1). A formal agreement by the pilot's end was 0 in every sampled future of a
    pilot (issue 22), so it told the variants nothing.
    """
    if scenario.kind == "county":
        names = scenario.params.vocab.sector_names
        sector = names[scenario.initiative.sectors[0]] if scenario.initiative else names[-1]
        return f"covered_{sector}"
    return "vulnerability_horizon"


def higher_is_better(outcome: str) -> bool:
    """False for vulnerability, stops and disputes; True otherwise."""
    return not any(word in outcome for word in LOWER_IS_BETTER)


@dataclass(frozen=True)
class Future:
    """One sampled future: estimated inputs and a posterior set (None without a posterior)."""

    index: int
    estimates: tuple[tuple[str, float], ...]
    posterior_set: int | None
    parameters: tuple[tuple[str, Any], ...]


def sample_futures(scenario: Scenario, n: int, seed: int, posterior: Any = None) -> list[Future]:
    """``n`` futures drawn from ``SeedSequence(seed, spawn_key=(2**31,))`` (apart from the replicates' streams).

    Each estimated input uniform in ``[low, high]`` (rounded when its value and range are whole
    numbers), and a posterior set drawn from the equal-weight ensemble.
    """
    # A spawn key no replicate uses (replicates count up from 0), so drawing the futures never
    # shares a stream with a run, and adding futures changes no replicate's draws.
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    out = []
    for i in range(n):
        moved = []
        # Sorted: the draws follow the keys' order, not the file's, so reordering a scenario file
        # does not change the futures.
        for key, est in sorted(scenario.estimates.items()):
            value = float(rng.uniform(est.low, est.high))
            if all(float(v).is_integer() for v in (est.value, est.low, est.high)):
                value = float(round(value))
            moved.append((key, value))
        member = None
        parameters: tuple[tuple[str, Any], ...] = ()
        if posterior is not None:
            # Drawn from the equal-weight ensemble (accepted sets repeated by weight), so a uniform draw
            # follows the posterior's weights.
            member = int(posterior.ensemble[int(rng.integers(posterior.size))])
            parameters = tuple(sorted(posterior.sets[member].items()))
        out.append(Future(i, tuple(moved), member, parameters))
    return out


def _score(rows: list[dict[str, Any]], outcome: str, scenario: Scenario) -> float:
    """Mean of ``outcome`` over replicates (a binary outcome: its share)."""
    binary, _ = outcomes_of(scenario.kind, scenario.params.vocab)
    if outcome in binary:
        test = binary[outcome][1]
        return float(np.mean([bool(test(r)) for r in rows]))
    return float(np.mean([float(r[outcome]) for r in rows]))


def robust(
    scenario: Scenario,
    variants: Mapping[str, Mapping[str, Any]],
    futures: int,
    replicates: int,
    seed: int = 20161214,
    outcome: str | None = None,
    posterior: Any = None,
    execution: Execution = Execution(),
    source: str = "--variant",
) -> dict[str, Any]:
    """Every variant (and the baseline) in every future, on shared seeds; best share and regret per variant.

    Args:
        scenario: The loaded baseline scenario.
        variants: ``{name: {parameter: value}}`` (the CLI's ``--variant``).
        futures: Number of sampled futures.
        replicates: Replicates per variant and future (replicate ``r`` has the same seed everywhere).
        seed: Base seed (replicate seeds and the futures' stream).
        outcome: The outcome to score by (default :func:`default_outcome`).
        posterior: A :class:`sim.analysis.posterior.Posterior` to draw parameter sets from (None: the defaults).
        execution: Workers, scheduler, progress bar.
        source: Named in errors about a variant's parameters.

    Returns:
        ``futures`` (one row per future: its posterior set and every estimate), ``values`` (one row
        per future and variant: the outcome's mean, the best value and the regret), ``summary`` (one
        row per variant: ``best_share`` with its Wilson interval, ``mean_regret``, ``worst_regret``,
        ``mean_value``), ``outcome``, ``higher_is_better`` and ``execution``.
    """
    outcome = outcome or default_outcome(scenario)
    binary, continuous = outcomes_of(scenario.kind, scenario.params.vocab)
    if outcome not in binary and outcome not in continuous:
        known = ", ".join([*binary, *continuous])
        raise InputError("--outcome", outcome, f"not an outcome of a {scenario.kind} scenario; use one of {known}")
    arms = {"baseline": {}, **{k: dict(v) for k, v in variants.items()}}
    if "baseline" in variants:
        raise InputError(source, "baseline", "the baseline is always run; name the variant otherwise")
    parsed = {name: dict(scenario.with_overrides(ov, source).overrides) for name, ov in arms.items()}
    drawn = sample_futures(scenario, futures, seed, posterior)
    jobs = [
        # Replicate r has one seed in every future and arm: regret measures the levers, not the draws.
        Job((f.index * len(arms) + a) * replicates + r, str(scenario.path), r, seed, overrides, estimates=f.estimates)
        for f in drawn
        for a, ov in enumerate(parsed.values())  # each arm's overrides include the scenario's own
        for overrides in [tuple(sorted({**dict(f.parameters), **ov}.items()))]
        for r in range(replicates)
    ]
    used: dict[str, Any] = {}
    rows = execution.rows(jobs, len(jobs), used)
    up = higher_is_better(outcome)
    values = pd.DataFrame(_regrets(drawn, list(arms), rows, replicates, outcome, scenario, up))
    return {
        "futures": _futures_table(drawn),
        "values": values,
        "summary": _summary(values, arms),
        "outcome": outcome,
        "higher_is_better": up,
        "execution": used,
    }


def _regrets(drawn, arms: list[str], rows: list[dict], replicates: int, outcome: str, scenario, up: bool) -> list[dict]:
    """One row per future and arm: the outcome's mean, the best arm's value in that future and the regret."""
    values = []
    for f in drawn:
        scores = {}
        for a, name in enumerate(arms):
            start = (f.index * len(arms) + a) * replicates
            scores[name] = _score(rows[start : start + replicates], outcome, scenario)
        best = max(scores.values()) if up else min(scores.values())
        for name, v in scores.items():
            values.append(
                {"future": f.index, "variant": name, "value": v, "best": best, "regret": abs(best - v), "n": replicates}
            )
    return values


def _summary(values: pd.DataFrame, arms: dict[str, dict]) -> pd.DataFrame:
    """Per arm: the share of futures where it is best (Wilson interval), its mean and worst regret, its mean value."""
    summary = []
    for name, g in values.groupby("variant", sort=False):
        # A tolerance, not == 0: a tie computed in two orders can differ by a rounding error, and ties
        # count as best for each arm.
        k = int((g["regret"] <= 1e-12).sum())
        lo, hi = wilson(k, len(g))
        summary.append(
            {
                "variant": name,
                "overrides": str(arms[name]),
                "futures": len(g),
                "best_share": k / len(g),
                "best_ci_low": lo,
                "best_ci_high": hi,
                "mean_regret": float(g["regret"].mean()),
                "worst_regret": float(g["regret"].max()),
                "mean_value": float(g["value"].mean()),
            }
        )
    return pd.DataFrame(summary)


def _futures_table(drawn) -> pd.DataFrame:
    """One row per sampled future: its posterior set and every estimate and parameter it sets."""
    return pd.DataFrame(
        [
            {
                "future": f.index,
                "posterior_set": "" if f.posterior_set is None else f.posterior_set,
                **dict(f.estimates),
                **{f"parameter:{k}": v for k, v in f.parameters},
            }
            for f in drawn
        ]
    )


def save(result: dict[str, Any], folder: Path) -> list[str]:
    """Write ``futures.csv``, ``robust_values.csv`` and ``robust_summary.csv`` (figure: :mod:`sim.views.figures`)."""
    result["futures"].to_csv(folder / "futures.csv", index=False)
    result["values"].to_csv(folder / "robust_values.csv", index=False)
    result["summary"].to_csv(folder / "robust_summary.csv", index=False)
    return ["futures.csv", "robust_values.csv", "robust_summary.csv"]


def render(result: dict[str, Any], title: str, replicates: int, lang: str = "en") -> str:
    """The table and the sentence ``robust`` prints."""
    s = result["summary"]
    n = int(s["futures"].iloc[0])
    what = outcome_label(result["outcome"], lang).lower()
    better = "more" if result["higher_is_better"] else "less"
    lines = [
        f"{title}: {n} sampled futures x {replicates} replicates, same seeds; scored by {what} ({better} is better)",
        f"  {'variant':24s} {'best in':>22s} {'mean regret':>12s} {'worst regret':>13s} {'mean value':>11s}",
    ]
    for r in s.to_dict("records"):
        best = f"{r['best_share']:.0%} ({r['best_ci_low']:.0%} to {r['best_ci_high']:.0%})"
        lines.append(
            f"  {r['variant']:24s} {best:>22s} {number(r['mean_regret'], 2, lang):>12s} "
            f"{number(r['worst_regret'], 2, lang):>13s} {number(r['mean_value'], 2, lang):>11s}"
        )
    if (s["worst_regret"] <= 1e-12).all():
        lines.append(f"\nNo variant differs from the others in {what} in any of the {n} futures.")
        return "\n".join(lines)
    # Minimax regret (Savage), ties broken by mean regret, then by the order the variants were given.
    top = s.sort_values(["worst_regret", "mean_regret"], kind="stable").iloc[0]
    lines.append(
        f"\nLeast worst regret (minimax regret): {top['variant']}, best in {top['best_share']:.0%} of the futures, "
        f"at most {number(top['worst_regret'], 2, lang)} short of the best ({what})."
    )
    return "\n".join(lines)
