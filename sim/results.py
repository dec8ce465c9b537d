"""Results of many runs: the workflows behind ``run`` and ``compare``, shared by the CLI and notebooks.

``run_scenarios`` and ``compare`` run experiments and return tables; ``Results.save`` and
``save_comparison`` write them; ``metadata`` builds ``metadata.json``. Errors name the keyword
argument at fault (source ``keyword argument``); the CLI passes its own option names.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.runner import DETAIL_BYTES, ROW_BYTES, Job, check_fits, run_rows
from sim.scenario import Scenario, load_scenario, month_label
from sim.validation import wilson
from sim.vocab import Vocabulary

#: Continuous outcomes (means over municipalities and sectors).
CONTINUOUS: dict[str, str] = {
    f"{m}_{t}": f"Mean {m} at {t.replace('_', ' ')}"
    for t in ("pilot_end", "horizon")
    for m in ("competence", "capacity", "vulnerability")
}


def binary_outcomes(vocab: Vocabulary) -> dict[str, tuple[str, Callable[[dict], bool]]]:
    """Binary outcomes of a vocabulary: name -> (plain-English label, test on a ``runs.csv`` row).

    "Formal" and "stalled" are the outcome row's own columns (defined once, in ``sim.outcomes``).
    """
    return {
        "any_formal": ("Any formal agreement by pilot end", lambda r: _true(r["formal_by_pilot_end"])),
        **{
            f"formal_{s}": (f"Formal agreement for {s}", lambda r, s=s: _true(r[f"formal_{s}"]))
            for s in vocab.sector_names
        },
        **{
            f"network_{s}": (f"Network for {s}", lambda r, s=s: r[f"form_{s}"] == "network")
            for s in vocab.sector_names
            if "network" in vocab.form_names
        },
        "stalled": ("Process stopped", lambda r: _true(r["stalled"])),
        "governance_dispute": ("Stopped over the governance form", lambda r: r["stall_cause"] == "governance_dispute"),
    }


def county_outcomes(vocab: Vocabulary) -> dict[str, str]:
    """Outcomes of a county run (means over replicates): name -> plain-English label (§4)."""
    out = {}
    for s in vocab.sector_names:
        out |= {
            f"offices_{s}": f"Joint {s} offices (formal)",
            f"covered_{s}": f"Municipalities served by a joint {s} office",
            f"residents_{s}": f"Residents served by a joint {s} office",
            f"network_members_{s}": f"Municipalities in a network for {s}",
            f"vulnerability_{s}_mean": f"Mean {s} vulnerability at the horizon",
            f"vulnerability_{s}_worst": f"Worst {s} vulnerability at the horizon",
        }
    return out | {
        "merged": "Municipalities merged (kommuneblokk)",
        "stalls": "Negotiations stopped",
        "state_decisions": "Hosts named by the state",
    }


def outcomes_of(kind: str, vocab: Vocabulary) -> tuple[dict[str, tuple[str, Callable]], dict[str, str]]:
    """The binary and the continuous outcomes of a scenario kind (``region`` or ``county``)."""
    if kind == "county":
        return {}, county_outcomes(vocab)
    return binary_outcomes(vocab), CONTINUOUS


def _true(value: Any) -> bool:
    return value is True or value == "True" or value == 1


#: Two-sided 95 %: the standard normal quantile used by the score intervals.
Z95 = 1.959964

#: How each interval is computed (the ``method`` column of ``summary.csv`` and ``comparison.csv``).
METHODS = {
    "share": "Wilson score",
    "mean": "Student t",
    "paired share": "Newcombe hybrid score, paired (1998, method 10)",
    "paired mean": "paired Student t",
}


def t_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student t interval (``n - 1`` degrees of freedom).

    The interval is ``mean ± t(1 - (1 - level)/2, n - 1) · sd / sqrt(n)``. With fewer than two
    values there is no interval (NaN limits); with identical values it has zero width, which is
    then exact (every replicate gave the same number).

    Args:
        values: The sample (e.g. one value per replicate, or paired differences).
        level: Confidence level.

    Returns:
        ``(mean, low, high)``.
    """
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t

    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, min(mean, mean - half), max(mean, mean + half)  # bracket the mean despite rounding


def newcombe_paired(both: int, first_only: int, second_only: int, neither: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for a difference of paired proportions (1998, method 10).

    Each of ``n`` pairs is a (first, second) pair of yes/no outcomes, counted in the four cells of
    the paired 2x2 table. The difference is ``p1 - p2`` with ``p1 = (both + first_only) / n`` and
    ``p2 = (both + second_only) / n``. The interval combines the Wilson score intervals
    ``(l1, u1)`` and ``(l2, u2)`` of the two marginal shares ("square and add"), corrected for
    their correlation ``phi``::

        low  = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)^2)

    where ``phi = (A - n/2) / sqrt(r1 r2 c1 c2)`` if ``A = both·neither - first_only·second_only``
    exceeds ``n/2``, 0 if ``0 <= A <= n/2``, ``A / sqrt(r1 r2 c1 c2)`` if ``A < 0`` (continuity-corrected
    phi; 0 when a margin is empty). Unlike the normal (Wald) interval it never has zero width: if
    every pair moves the same way, or none moves, the Wilson limits of the margins still leave room.

    References: R. G. Newcombe (1998), Improved confidence intervals for the difference between
    binomial proportions based on paired data, Statistics in Medicine 17, 2635-2650; worked
    examples in Fagerland, Lydersen and Laake (2017), Statistical Analysis of Contingency Tables,
    chapter 8.

    Args:
        both: Pairs with yes in both.
        first_only: Pairs with yes in the first only.
        second_only: Pairs with yes in the second only.
        neither: Pairs with no in both.
        z: Standard normal quantile (1.96 for 95 %).

    Returns:
        ``(low, high)`` for ``p1 - p2``.
    """
    n = both + first_only + second_only + neither
    if n == 0:
        return (-1.0, 1.0)
    k1, k2 = both + first_only, both + second_only
    p1, p2 = k1 / n, k2 / n
    l1, u1 = wilson(k1, n, z)
    l2, u2 = wilson(k2, n, z)
    margins = k1 * (n - k1) * k2 * (n - k2)
    a = both * neither - first_only * second_only
    if margins == 0 or 0 <= a <= n / 2:
        phi = 0.0
    else:
        phi = (a - n / 2 if a > n / 2 else a) / math.sqrt(margins)
    d = p1 - p2
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = d + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, min(d, low)), min(1.0, max(d, high))  # bracket the difference despite rounding


def summarise(rows: list[dict[str, Any]], vocab: Vocabulary, kind: str = "region") -> pd.DataFrame:
    """Outcome shares and means over replicates, each with a 95 % interval.

    Shares (``kind == "share"``) get the Wilson score interval; means (``kind == "mean"``) the
    Student t interval with ``n - 1`` degrees of freedom (:func:`t_interval`). The ``method``
    column names the interval.

    Returns:
        One row per outcome: ``outcome, label, kind, value, ci_low, ci_high, n, method``.
    """
    out = []
    binary, continuous = outcomes_of(kind, vocab)
    for name, (label, test) in binary.items():
        k = sum(bool(test(r)) for r in rows)
        lo, hi = wilson(k, len(rows))
        out.append(
            {
                "outcome": name,
                "label": label,
                "kind": "share",
                "value": k / len(rows),
                "ci_low": lo,
                "ci_high": hi,
                "n": len(rows),
                "method": METHODS["share"],
            }
        )
    for name, label in continuous.items():
        mean, lo, hi = t_interval([float(r[name]) for r in rows])
        out.append(
            {
                "outcome": name,
                "label": label,
                "kind": "mean",
                "value": mean,
                "ci_low": lo,
                "ci_high": hi,
                "n": len(rows),
                "method": METHODS["mean"],
            }
        )
    return pd.DataFrame(out)


def compare_rows(
    base: list[dict[str, Any]], variant: list[dict[str, Any]], vocab: Vocabulary, kind: str = "region"
) -> pd.DataFrame:
    """Paired comparison on common random numbers: variant minus baseline with a 95 % interval.

    Replicate ``r`` of the baseline and of the variant share their seed, so they form a pair.
    Shares: the difference of the paired proportions with Newcombe's hybrid score interval
    (:func:`newcombe_paired`), which has width even when every pair moves the same way. Means:
    the mean of the paired differences with a Student t interval (:func:`t_interval`).

    Returns:
        One row per outcome: ``outcome, label, kind`` (``share`` or ``mean``), ``baseline``,
        ``variant``, ``difference``, ``ci_low``, ``ci_high``, ``n`` (pairs) and ``method``.
    """
    out = []
    n = len(base)
    binary, continuous = outcomes_of(kind, vocab)
    for name, (label, test) in binary.items():
        b = [bool(test(r)) for r in base]
        v = [bool(test(r)) for r in variant]
        cells = Counter(zip(v, b, strict=True))
        lo, hi = newcombe_paired(cells[True, True], cells[True, False], cells[False, True], cells[False, False])
        out.append(
            {
                "outcome": name,
                "label": label,
                "kind": "share",
                "baseline": sum(b) / n,
                "variant": sum(v) / n,
                "difference": (sum(v) - sum(b)) / n,
                "ci_low": lo,
                "ci_high": hi,
                "n": n,
                "method": METHODS["paired share"],
            }
        )
    for name, label in continuous.items():
        b = [float(r[name]) for r in base]
        v = [float(r[name]) for r in variant]
        diff, lo, hi = t_interval([y - x for x, y in zip(b, v, strict=True)])
        out.append(
            {
                "outcome": name,
                "label": label,
                "kind": "mean",
                "baseline": math.fsum(b) / n,
                "variant": math.fsum(v) / n,
                "difference": diff,
                "ci_low": lo,
                "ci_high": hi,
                "n": n,
                "method": METHODS["paired mean"],
            }
        )
    return pd.DataFrame(out)


def modal_replicate(rows: list[dict[str, Any]], vocab: Vocabulary) -> int:
    """Index of the first replicate with the most common final arrangement (representative)."""
    key = [tuple(r[f"form_{s}"] for s in vocab.sector_names) + (r["stall_cause"],) for r in rows]
    mode = Counter(key).most_common(1)[0][0]
    return key.index(mode)


@dataclass
class Results:
    """Replicates of one or more scenarios: tables that convert to DataFrames and plot themselves.

    Attributes:
        scenarios: The resolved scenarios that were run.
        rows: One row per replicate (``runs.csv``).
        timeline: Tidy monthly state (``timeline.csv``); empty unless run with ``detail``.
        events: Event records (``events.csv``); empty unless run with ``detail``.
        votes: Every council's vote (``votes.csv``); empty unless run with ``detail``.
        execution: How the runs were executed: ``scheduler``, ``workers``, ``chunk_size``.
        areas: County runs: one row per area and replicate (``areas.csv``).
        municipalities: County runs with ``detail``: one row per municipality and replicate
            (``municipalities.csv``, the map's data).
        note: Appended to every interval's ``method`` (e.g. "replicates over K posterior sets").
    """

    scenarios: list
    rows: pd.DataFrame
    timeline: pd.DataFrame
    events: pd.DataFrame
    votes: pd.DataFrame = field(default_factory=pd.DataFrame)
    execution: dict[str, Any] = field(default_factory=dict)
    areas: pd.DataFrame = field(default_factory=pd.DataFrame)
    municipalities: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = ""

    def _rows_of(self, name: str) -> list[dict[str, Any]]:
        return self.rows[self.rows["scenario"] == name].to_dict("records")

    def summary(self) -> pd.DataFrame:
        """Outcome shares (Wilson) and means (Student t) with 95 % intervals, per scenario (see :func:`summarise`)."""
        table = pd.concat(
            [
                summarise(self._rows_of(sc.name), sc.params.vocab, sc.kind).assign(scenario=sc.name)
                for sc in self.scenarios
            ]
        )
        if self.note:
            table["method"] = table["method"] + "; " + self.note
        return table

    def representative(self, name: str) -> dict[str, Any]:
        """The outcome row of the representative replicate of a scenario (the most common outcome)."""
        sc = next(s for s in self.scenarios if s.name == name)
        rows = self._rows_of(name)
        if sc.kind == "county":
            key = [tuple(r[f"offices_{s}"] for s in sc.params.vocab.sector_names) for r in rows]
            return rows[key.index(Counter(key).most_common(1)[0][0])]
        return rows[modal_replicate(rows, sc.params.vocab)]

    def area_summary(self) -> pd.DataFrame:
        """County runs: per area, the share of replicates with a joint office per sector, coverage and stalls."""
        from sim.maps import area_summary

        frames = []
        for sc in self.scenarios:
            if sc.kind == "county" and len(self.areas):
                mine = self.areas[self.areas["scenario"] == sc.name]
                frames.append(area_summary(mine, list(sc.params.vocab.sector_names)).assign(scenario=sc.name))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _county_plots(self, sc) -> dict[str, Any]:
        from sim import maps

        stem, names = sc.path.stem, sc.params.vocab.sector_names
        sectors = [names[s] for s in sc.initiative.sectors] if sc.initiative else list(names)
        figs = {}
        areas = self.area_summary()
        if len(areas):
            mine = areas[areas["scenario"] == sc.name]
            for sector in sectors:
                figs[f"{stem}-areas-{sector}"] = maps.area_outcomes(mine, sector, f"{sc.name}: {sector}, by area")
        rep = self.representative(sc.name)
        if len(self.municipalities):
            mine = self.municipalities[
                (self.municipalities["scenario"] == sc.name) & (self.municipalities["replicate"] == rep["replicate"])
            ]
            for sector in sectors:
                figs[f"{stem}-map-{sector}"] = maps.county_map(
                    sc, mine, sector, f"{sc.name}: one representative replicate (the most common number of offices)"
                )
        return figs

    def plots(self) -> dict[str, Any]:
        """Every plot for every scenario: ``{"<file stem>-<kind>": Figure}``."""
        from sim import plots

        figs = {}
        summary = self.summary()
        for sc in self.scenarios:
            stem = sc.path.stem
            if sc.kind == "county":
                figs |= self._county_plots(sc)
                continue
            figs[f"{stem}-outcomes"] = plots.outcome_shares(
                summary[summary["scenario"] == sc.name], f"{sc.name}: outcomes"
            )
            if len(self.timeline):
                figs[f"{stem}-fan-charts"] = plots.fan_charts(
                    self.timeline[self.timeline["scenario"] == sc.name], sc, sc.name
                )
            rep = self.representative(sc.name)
            if len(self.events):
                mine = (self.events["scenario"] == sc.name) & (self.events["replicate"] == rep["replicate"])
                votes = (
                    self.votes[(self.votes["scenario"] == sc.name) & (self.votes["replicate"] == rep["replicate"])]
                    if len(self.votes)
                    else self.votes
                )
                figs[f"{stem}-timeline"] = plots.negotiation_timeline(
                    self.events[mine], votes, sc, f"{sc.name}: one representative replicate (the most common outcome)"
                )
            figs[f"{stem}-map"] = plots.region_map(sc, rep, sc.name)
        return figs

    def save(self, folder: Path, plots: bool = True) -> list[str]:
        """Write the CSV tables (and every plot as PNG and SVG) into ``folder``; return the file names."""
        from sim.records import EVENT_COLUMNS, VOTE_COLUMNS

        self.rows.to_csv(folder / "runs.csv", index=False)
        timeline = self.timeline
        if timeline.empty:  # county runs keep no timeline: the header still makes it a readable table
            from sim.vocab import MEASURES

            columns = ["replicate", "month", "municipality", "sector", "form", *MEASURES, "scenario"]
            timeline = pd.DataFrame(columns=columns)
        timeline.to_csv(folder / "timeline.csv", index=False)
        self.events.reindex(columns=list(EVENT_COLUMNS)).to_csv(folder / "events.csv", index=False)
        self.votes.reindex(columns=list(VOTE_COLUMNS)).to_csv(folder / "votes.csv", index=False)
        self.summary().to_csv(folder / "summary.csv", index=False)
        names = ["runs.csv", "timeline.csv", "events.csv", "votes.csv", "summary.csv"]
        if len(self.areas):
            self.areas.to_csv(folder / "areas.csv", index=False)
            self.area_summary().to_csv(folder / "area_summary.csv", index=False)
            names += ["areas.csv", "area_summary.csv"]
        if len(self.municipalities):
            self.municipalities.to_csv(folder / "municipalities.csv", index=False)
            names.append("municipalities.csv")
        if plots:
            from sim import plots as plotting

            for stem, fig in self.plots().items():
                names += [p.name for p in plotting.save(fig, folder / stem)]
        return names


def load_unique(
    scenarios: Iterable[str | Path | Scenario],
    overrides: Mapping[str, Any] | None = None,
    source: str = "keyword argument",
) -> list[Scenario]:
    """Load scenarios (names, paths or loaded) with overrides; refuse the same file or region twice.

    Raises:
        InputError: a bad scenario or override, or a duplicate (two runs of one region would be
            pooled into one summary).
    """
    if isinstance(scenarios, str | Path | Scenario):
        scenarios = [scenarios]
    loaded: list[Scenario] = []
    for item in scenarios:
        if isinstance(item, Scenario):
            sc = item.with_overrides(dict(overrides), source) if overrides else item
        else:
            sc = load_scenario(item, dict(overrides or {}), source)
        for other in loaded:
            if other.path.resolve() == sc.path.resolve():
                raise InputError(sc.path, "-", "scenario given twice")
            if other.name == sc.name:
                raise InputError(sc.path, "region.name", f"{sc.name!r} is also the region of {other.path}")
        loaded.append(sc)
    if not loaded:
        raise InputError(source, "scenarios", "give at least one scenario")
    return loaded


def check_until(scenarios: list[Scenario], until: int, source: str = "keyword argument", key: str = "until") -> None:
    """Refuse a stop month before a scenario's start or after its horizon."""
    for sc in scenarios:
        if until < sc.start:
            raise InputError(source, key, f"is before {sc.name}'s start {month_label(sc.start)}")
        if until > sc.horizon:
            raise InputError(source, key, f"is after {sc.name}'s horizon {month_label(sc.horizon)}")


def run_scenarios(
    scenarios: list,
    replicates: int = 100,
    seed: int = 20161214,
    detail: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    until: int | None = None,
    posterior: Any = None,
    **overrides: Any,
) -> Results:
    """Run replicates of scenarios (names, paths or loaded) through the experiment runner.

    ``until`` (a month index, see ``sim.scenario.month_index``) stops every run early; it must
    lie between the scenarios' start and horizon. ``posterior`` (a calibration result folder or
    :class:`sim.posterior.Posterior`) spreads the replicates over its accepted sets: replicate
    ``r`` runs with set ``r mod K`` (explicit overrides still win; ``runs.csv`` names it in a
    ``posterior_set`` column), and the intervals say so.

    Example:
        >>> res = run_scenarios(["fosen"], replicates=50, reform_intensity=0)
        >>> res.summary()
    """
    from sim.posterior import posterior_argument

    post = posterior_argument(posterior)
    loaded = load_unique(scenarios, overrides)
    check_fits(len(loaded) * replicates, DETAIL_BYTES if detail else ROW_BYTES, "keyword argument", "replicates")
    if until is not None:
        check_until(loaded, until)
        loaded = [sc.with_horizon(until) for sc in loaded]
    jobs = (
        Job(i * replicates + r, str(sc.path), r, seed, _overrides(sc, r, post), _tags(r, post), detail, until)
        for i, sc in enumerate(loaded)
        for r in range(replicates)
    )
    from sim.runner import execute

    execution: dict[str, Any] = {}
    results = list(
        execute(
            jobs,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            total=len(loaded) * replicates,
            execution=execution,
        )
    )
    rows = pd.DataFrame([r["row"] for r in results])
    timelines = [r["timeline"].assign(scenario=r["row"]["scenario"]) for r in results if "timeline" in r]
    timeline = pd.concat(timelines, ignore_index=True) if timelines else pd.DataFrame()
    events = pd.DataFrame([e for r in results for e in r.get("events", [])])
    votes = pd.DataFrame([v for r in results for v in r.get("votes", [])])
    areas = pd.DataFrame([a for r in results for a in r.get("areas", [])])
    municipalities = pd.DataFrame([m for r in results for m in r.get("municipalities", [])])
    note = post.note if post else ""
    return Results(loaded, rows, timeline, events, votes, execution, areas, municipalities, note)


def _tags(replicate: int, posterior: Any) -> tuple[tuple[str, Any], ...]:
    """Under a posterior, each row names the accepted set it ran with (``posterior_set``, a row of accepted.csv)."""
    return (("posterior_set", posterior.member(replicate)),) if posterior is not None else ()


def _overrides(sc: Scenario, replicate: int, posterior: Any) -> tuple[tuple[str, Any], ...]:
    """A job's overrides: the posterior set of this replicate (if any), then the scenario's own."""
    values = posterior.values(replicate) if posterior is not None else {}
    return tuple(sorted({**values, **sc.overrides}.items()))


def compare(
    scenario: str | Path | Scenario,
    variants: Mapping[str, Mapping[str, Any]],
    replicates: int = 300,
    seed: int = 20161214,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    source: str = "keyword argument",
    posterior: Any = None,
) -> pd.DataFrame:
    """What-if: a baseline against named variants on the same replicate seeds (common random numbers).

    Args:
        scenario: Scenario name, path or loaded scenario (the baseline).
        variants: ``{name: {parameter: value}}``; values may be strings as on the command line.
        replicates: Replicates per arm.
        seed: Base seed.
        workers: Worker processes.
        scheduler: Dask scheduler address.
        progress: Show a progress bar.
        source: Named in errors about a variant's parameters.
        posterior: A calibration result folder or :class:`sim.posterior.Posterior`: replicate ``r``
            of every arm runs with posterior set ``r mod K`` (same set and seed in both arms of a
            pair), so the differences carry parameter uncertainty; the ``method`` column says so, and
            ``depends_on`` lists the unconstrained parameters the difference correlates with
            (:func:`sim.posterior.flag_unconstrained`).

    Returns:
        One row per (variant, outcome): baseline, variant, difference and its 95 % interval
        (Newcombe's paired hybrid score interval for shares, a paired t interval for means; the
        ``method`` column says which; see :func:`compare_rows`), ``n`` pairs, ``variant_name``
        and ``overrides``. ``attrs`` holds ``scenario`` (the loaded baseline) and ``execution``.

    Example:
        >>> compare("vaernesregionen", {"admin_only": {"allow.board_host": False}}, replicates=100)
    """
    from sim.posterior import posterior_argument

    post = posterior_argument(posterior)
    base = load_unique([scenario])[0]
    if not variants:
        raise InputError(source, "variants", "give at least one variant")
    arms = [base, *(base.with_overrides(dict(ov), source) for ov in variants.values())]
    check_fits(len(arms) * replicates, ROW_BYTES, "keyword argument", "replicates")
    jobs = (
        Job(a * replicates + r, str(sc.path), r, seed, _overrides(sc, r, post))
        for a, sc in enumerate(arms)
        for r in range(replicates)
    )
    execution: dict[str, Any] = {}
    rows = run_rows(
        jobs, workers=workers, scheduler=scheduler, progress=progress, total=len(arms) * replicates, execution=execution
    )
    tables = [
        compare_rows(
            rows[:replicates], rows[a * replicates : (a + 1) * replicates], base.params.vocab, base.kind
        ).assign(variant_name=name, overrides=str(dict(ov)))
        for a, (name, ov) in enumerate(variants.items(), start=1)
    ]
    table = pd.concat(tables, ignore_index=True)
    if post is not None:
        table = _posterior_columns(table, rows, replicates, list(variants), post, base.params.vocab, base.kind)
    table.attrs.update(scenario=base, execution=execution)
    return table


def _differences(
    base: list[dict[str, Any]], variant: list[dict[str, Any]], vocab: Vocabulary, kind: str = "region"
) -> dict[str, Any]:
    """Per outcome, variant minus baseline in every replicate (shares as 0/1)."""
    import numpy as np

    binary, continuous = outcomes_of(kind, vocab)
    out = {
        name: np.array([float(bool(test(v))) - float(bool(test(b))) for b, v in zip(base, variant, strict=True)])
        for name, (_, test) in binary.items()
    }
    for name in continuous:
        out[name] = np.array([float(v[name]) - float(b[name]) for b, v in zip(base, variant, strict=True)])
    return out


def _posterior_columns(
    table: pd.DataFrame,
    rows: list[dict[str, Any]],
    replicates: int,
    names: list[str],
    post: Any,
    vocab: Vocabulary,
    kind: str = "region",
) -> pd.DataFrame:
    """Say in ``method`` that the intervals span the posterior; add ``posterior_sets`` and ``depends_on``."""
    from sim.posterior import flag_unconstrained

    base = rows[:replicates]
    flags = {}
    for a, name in enumerate(names, start=1):
        diffs = _differences(base, rows[a * replicates : (a + 1) * replicates], vocab, kind)
        for outcome, d in diffs.items():
            flags[(name, outcome)] = "; ".join(f"{k} (r={r:+.2f})" for k, r in flag_unconstrained(d, post))
    table = table.copy()
    table["method"] = table["method"] + "; " + post.note
    table["posterior_sets"] = post.size
    table["depends_on"] = [flags[(v, o)] for v, o in zip(table["variant_name"], table["outcome"], strict=True)]
    return table


def save_comparison(table: pd.DataFrame, folder: Path, title: str) -> list[str]:
    """Write ``comparison.csv`` and the comparison plot (PNG and SVG) into ``folder``."""
    from sim import plots

    table.to_csv(folder / "comparison.csv", index=False)
    return ["comparison.csv", *(p.name for p in plots.save(plots.comparison(table, title), folder / "comparison"))]


def scenario_parameters(sc: Scenario) -> dict[str, Any]:
    """A scenario's resolved parameters as a flat JSON-ready dict (the one place that reads them)."""
    return sc.params.as_dict()


def metadata(
    scenarios: Iterable[Scenario],
    *,
    seed: int,
    replicates: int,
    started: datetime,
    execution: Mapping[str, Any] | None = None,
    command: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The content of ``metadata.json``.

    Version, command, scenarios (file, SHA-256, parameters), seeds, how the runs were executed
    (scheduler, workers, chunk size) and times.

    Args:
        scenarios: The resolved scenarios that were run.
        seed: Base seed.
        replicates: Replicates per scenario (or per sample).
        started: When the work started.
        execution: ``scheduler``, ``workers`` and ``chunk_size`` (as filled in by ``sim.runner.execute``).
        command: The command line (default: this process's).
        **extra: More keys (variants, sweep design...).
    """
    from importlib.metadata import PackageNotFoundError, version

    from sim.output import PROGRAM, provenance

    try:
        pkg = version("imc-sim")
    except PackageNotFoundError:
        pkg = "0.1.0 (not installed)"
    execution = dict(execution or {})
    finished = datetime.now()
    return {
        "program": PROGRAM,
        "package_version": pkg,
        **provenance(),
        "command_line": command if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]],
        "scenarios": [
            {"name": sc.name, "file": str(sc.path), "sha256": sc.sha256, "parameters": scenario_parameters(sc)}
            for sc in scenarios
        ],
        "base_seed": seed,
        "replicate_seeds": "numpy.random.SeedSequence(base_seed, spawn_key=(replicate,)) for "
        f"replicate in 0..{replicates - 1}",
        "replicates": replicates,
        "scheduler": execution.get("scheduler"),
        "workers": execution.get("workers"),
        "chunk_size": execution.get("chunk_size"),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 2),
        **extra,
    }
