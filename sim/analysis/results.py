"""Results of many runs: the workflows behind ``run`` and ``compare``, shared by the CLI and notebooks.

``run_scenarios`` and ``compare`` run experiments and return tables; ``Results.save`` writes them
(figures: :mod:`sim.views.figures`). Errors name the keyword
argument at fault (source ``keyword argument``); the CLI passes its own option names.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.posterior import flag_unconstrained, posterior_argument
from sim.analysis.stats import METHODS, newcombe_paired, t_interval, wilson
from sim.core.records import EVENT_COLUMNS, VOTE_COLUMNS
from sim.inputs.calendar import month_label
from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import MEASURES, Vocabulary
from sim.run.codebook import outcome_label
from sim.run.execution import Execution
from sim.run.runner import DETAIL_BYTES, ROW_BYTES, Job, check_fits

#: Continuous outcomes (means over municipalities and sectors).
CONTINUOUS: dict[str, str] = {
    f"{m}_{t}": outcome_label(f"{m}_{t}")
    for t in ("pilot_end", "horizon")
    for m in ("competence", "capacity", "vulnerability")
}


def binary_outcomes(vocab: Vocabulary) -> dict[str, tuple[str, Callable[[dict], bool]]]:
    """Binary outcomes of a vocabulary: name -> (plain-English label, test on a ``runs.csv`` row).

    "Formal", "network" and "stalled" are the outcome row's own columns (defined once, in
    ``sim.core.outcomes`` from :class:`sim.inputs.vocab.Form`).
    """
    return {
        "any_formal": (outcome_label("any_formal"), lambda r: _true(r["formal_by_pilot_end"])),
        **{
            f"formal_{s}": (outcome_label(f"formal_{s}"), lambda r, s=s: _true(r[f"formal_{s}"]))
            for s in vocab.sector_names
        },
        **{
            f"network_{s}": (outcome_label(f"network_{s}"), lambda r, s=s: _true(r[f"network_{s}"]))
            for s in vocab.sector_names
            # Without a network form the outcome would be false in every run: left out rather than reported
            # as a share of 0 that says nothing.
            if any(f.network for f in vocab.forms)
        },
        "stalled": (outcome_label("stalled"), lambda r: _true(r["stalled"])),
        "governance_dispute": (outcome_label("governance_dispute"), lambda r: r["stall_cause"] == "governance_dispute"),
    }


def county_outcomes(vocab: Vocabulary) -> dict[str, str]:
    """Outcomes of a county run (means over replicates): name -> plain-English label (§4, from the codebook)."""
    per = (
        "offices_{}",
        "covered_{}",
        "residents_{}",
        "network_members_{}",
        "vulnerability_{}_mean",
        "vulnerability_{}_worst",
    )
    names = [p.format(s) for s in vocab.sector_names for p in per] + ["merged", "stalls", "state_decisions"]
    return {n: outcome_label(n) for n in names}


def outcomes_of(kind: str, vocab: Vocabulary) -> tuple[dict[str, tuple[str, Callable]], dict[str, str]]:
    """The binary and the continuous outcomes of a scenario kind (``region`` or ``county``)."""
    if kind == "county":
        return {}, county_outcomes(vocab)
    return binary_outcomes(vocab), CONTINUOUS


def _true(value: Any) -> bool:
    # A row straight from a run holds True; one taken from a DataFrame holds numpy's True (which
    # is not `True`, but == 1); a CSV cell kept as text holds "True".
    return value is True or value == "True" or value == 1


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
        # Keyed (variant, baseline): newcombe_paired's "first" is the variant, so the interval is for
        # variant minus baseline, the sign of the difference column.
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
    # The first replicate with the mode, not any: the representative run (and its figure) is then
    # the same for any number of workers.
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
            # Counties: the offices per sector stand for the outcome (no single arrangement to compare).
            key = [tuple(r[f"offices_{s}"] for s in sc.params.vocab.sector_names) for r in rows]
            return rows[key.index(Counter(key).most_common(1)[0][0])]
        return rows[modal_replicate(rows, sc.params.vocab)]

    def area_summary(self) -> pd.DataFrame:
        """County runs: per area, the share of replicates with a joint office per sector, coverage and stalls."""
        frames = []
        for sc in self.scenarios:
            if sc.kind == "county" and len(self.areas):
                mine = self.areas[self.areas["scenario"] == sc.name]
                frames.append(area_table(mine, list(sc.params.vocab.sector_names)).assign(scenario=sc.name))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def save(self, folder: Path) -> list[str]:
        """Write the CSV tables into ``folder``; return the file names (figures: :mod:`sim.views.figures`)."""
        self.rows.to_csv(folder / "runs.csv", index=False)
        timeline = self.timeline
        if timeline.empty:  # county runs keep no timeline: the header still makes it a readable table
            columns = ["replicate", "month", "municipality", "sector", "form", *MEASURES, "scenario"]
            timeline = pd.DataFrame(columns=columns)
        timeline.to_csv(folder / "timeline.csv", index=False)
        # Reindexed to the records' columns: a run without detail still writes the header, so every
        # result folder has the same readable files.
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
            # Tables group rows by the scenario's name: two files of one region would be pooled silently.
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
    execution: Execution = Execution(),
    until: int | None = None,
    posterior: Any = None,
    **overrides: Any,
) -> Results:
    """Run replicates of scenarios (names, paths or loaded) through the experiment runner.

    ``until`` (a month index, see ``sim.inputs.scenario.month_index``) stops every run early; it must
    lie between the scenarios' start and horizon. ``posterior`` (a calibration result folder or
    :class:`sim.analysis.posterior.Posterior`) spreads the replicates over its accepted sets: replicate
    ``r`` runs with set ``r mod K`` (explicit overrides still win; ``runs.csv`` names it in a
    ``posterior_set`` column), and the intervals say so.

    Example:
        >>> res = run_scenarios(["fosen"], replicates=50, reform_intensity=0)
        >>> res.summary()
    """
    post = posterior_argument(posterior)
    loaded = load_unique(scenarios, overrides)
    check_fits(len(loaded) * replicates, DETAIL_BYTES if detail else ROW_BYTES, "keyword argument", "replicates")
    if until is not None:
        check_until(loaded, until)
        # The shortened copies are what Results and metadata.json record; the jobs carry `until` themselves.
        loaded = [sc.with_horizon(until) for sc in loaded]
    jobs = (
        Job(i * replicates + r, str(sc.path), r, seed, _overrides(sc, r, post), _tags(r, post), detail, until)
        for i, sc in enumerate(loaded)
        for r in range(replicates)
    )
    used: dict[str, Any] = {}
    results = list(execution.execute(jobs, len(loaded) * replicates, used))
    rows = pd.DataFrame([r["row"] for r in results])
    timelines = [r["timeline"].assign(scenario=r["row"]["scenario"]) for r in results if "timeline" in r]
    timeline = pd.concat(timelines, ignore_index=True) if timelines else pd.DataFrame()
    events = pd.DataFrame([e for r in results for e in r.get("events", [])])
    votes = pd.DataFrame([v for r in results for v in r.get("votes", [])])
    areas = pd.DataFrame([a for r in results for a in r.get("areas", [])])
    municipalities = pd.DataFrame([m for r in results for m in r.get("municipalities", [])])
    # Under a posterior every interval says so: it then spans parameter uncertainty as well.
    note = post.note if post else ""
    return Results(loaded, rows, timeline, events, votes, used, areas, municipalities, note)


def _tags(replicate: int, posterior: Any) -> tuple[tuple[str, Any], ...]:
    """Under a posterior, each row names the accepted set it ran with (``posterior_set``, a row of accepted.csv)."""
    return (("posterior_set", posterior.member(replicate)),) if posterior is not None else ()


def _overrides(sc: Scenario, replicate: int, posterior: Any) -> tuple[tuple[str, Any], ...]:
    """A job's overrides: the posterior set of this replicate (if any), then the scenario's own."""
    values = posterior.values(replicate) if posterior is not None else {}
    # The scenario's own overrides win over the posterior set: what the user set is what runs.
    return tuple(sorted({**values, **sc.overrides}.items()))


def compare(
    scenario: str | Path | Scenario,
    variants: Mapping[str, Mapping[str, Any]],
    replicates: int = 300,
    seed: int = 20161214,
    execution: Execution = Execution(),
    source: str = "keyword argument",
    posterior: Any = None,
) -> pd.DataFrame:
    """What-if: a baseline against named variants on the same replicate seeds (common random numbers).

    Args:
        scenario: Scenario name, path or loaded scenario (the baseline).
        variants: ``{name: {parameter: value}}``; values may be strings as on the command line.
        replicates: Replicates per arm.
        seed: Base seed.
        execution: Workers, scheduler, progress bar (the results do not depend on it).
        source: Named in errors about a variant's parameters.
        posterior: A calibration result folder or :class:`sim.analysis.posterior.Posterior`: replicate ``r``
            of every arm runs with posterior set ``r mod K`` (same set and seed in both arms of a
            pair), so the differences carry parameter uncertainty; the ``method`` column says so, and
            ``depends_on`` lists the unconstrained parameters the difference correlates with
            (:func:`sim.analysis.posterior.flag_unconstrained`).

    Returns:
        One row per (variant, outcome): baseline, variant, difference and its 95 % interval
        (Newcombe's paired hybrid score interval for shares, a paired t interval for means; the
        ``method`` column says which; see :func:`compare_rows`), ``n`` pairs, ``variant_name``
        and ``overrides``. ``attrs`` holds ``scenario`` (the loaded baseline) and ``execution``.

    Example:
        >>> compare("vaernesregionen", {"admin_only": {"allow.board_host": False}}, replicates=100)
    """
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
    used: dict[str, Any] = {}
    rows = execution.rows(jobs, len(arms) * replicates, used)
    # Rows come back in job order, so arm a's replicate r sits at a * replicates + r and pairs by
    # position with the baseline's replicate r (same seed, same posterior set).
    tables = [
        compare_rows(
            rows[:replicates], rows[a * replicates : (a + 1) * replicates], base.params.vocab, base.kind
        ).assign(variant_name=name, overrides=str(dict(ov)))
        for a, (name, ov) in enumerate(variants.items(), start=1)
    ]
    table = pd.concat(tables, ignore_index=True)
    if post is not None:
        table = _posterior_columns(table, rows, replicates, list(variants), post, base.params.vocab, base.kind)
    table.attrs.update(scenario=base, execution=used)
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


def area_table(areas: pd.DataFrame, sectors: list[str]) -> pd.DataFrame:
    """Per area over replicates: share with a formal office per sector, mean members covered, stalls.

    Args:
        areas: ``areas.csv`` rows (one per area and replicate).
        sectors: Sector names.
    """
    rows: list[dict[str, Any]] = []
    for (name, assumed), g in areas.groupby(["area", "assumed"], sort=False):
        row: dict[str, Any] = {
            "area": name,
            "assumed": bool(assumed),
            "n_members": int(g["n_members"].iloc[0]),
            "residents": int(g["residents"].iloc[0]),
            "replicates": len(g),
        }
        for s in sectors:
            # An area "has an office" in a replicate when any of its members is served by one.
            row[f"office_share_{s}"] = float((g[f"covered_{s}"] > 0).mean())
            row[f"covered_mean_{s}"] = float(g[f"covered_{s}"].mean())
            row[f"vulnerability_{s}"] = float(g[f"vulnerability_{s}"].mean())
        row["stall_share"] = float((g["stalls"] > 0).mean())
        causes: dict[str, int] = {}
        for text in g["stall_causes"]:
            for cause, n in _json_counts(text).items():
                causes[cause] = causes.get(cause, 0) + n
        row["stall_causes"] = "; ".join(f"{c} ({n})" for c, n in sorted(causes.items(), key=lambda x: -x[1]))
        rows.append(row)
    return pd.DataFrame(rows)


def _json_counts(text: Any) -> dict[str, int]:
    """A ``stall_causes`` cell (JSON ``{cause: count}``) as a dict; empty for an empty cell."""
    return json.loads(text) if isinstance(text, str) and text else {}
