"""The figures of a finished experiment, and writing them beside its tables (PNG and SVG).

Reads :class:`sim.analysis.results.Results` and other analysis results; draws with
:mod:`sim.views.plots` and :mod:`sim.views.maps`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.answers import differs, unit_words
from sim.analysis.results import Results
from sim.analysis.robustness import Robustness
from sim.inputs.calendar import month_label
from sim.inputs.lang import term
from sim.inputs.scenario import Scenario
from sim.run.codebook import outcome_label, outcome_unit
from sim.views import maps, plots
from sim.views.maps import hull, project
from sim.views.plots import _style


def _county_figures(res: Results, sc: Scenario, lang: str = "en") -> dict[str, Any]:
    stem, names = sc.path.stem, sc.params.vocab.sector_names
    # A county's figures cover the initiative's sectors (§4), the ones its levers act on.
    sectors = [names[s] for s in sc.initiative.sectors] if sc.initiative else list(names)
    figs = {}
    areas = res.area_summary()
    if len(areas):
        mine = areas[areas["scenario"] == sc.name]
        for sector in sectors:
            figs[f"{stem}-areas-{sector}"] = maps.area_outcomes(mine, sector, f"{sc.name}: {sector}, by area")
    if len(res.municipalities):
        mine = res.municipalities[res.municipalities["scenario"] == sc.name]
        for sector in sectors:
            title = f"{sc.name}: " + term("map_title", lang).format(sector=term(sector, lang))
            figs[f"{stem}-map-{sector}"] = maps.county_share_map(sc, mine, sector, title, lang)
    return figs


def figures(res: Results, lang: str = "en") -> dict[str, Any]:
    """Every figure for every scenario of a result: ``{"<file stem>-<kind>": Figure}`` (labels in ``lang``)."""
    figs = {}
    summary = res.summary()
    for sc in res.scenarios:
        stem = sc.path.stem
        if sc.kind == "county":
            figs |= _county_figures(res, sc, lang)
            continue
        figs[f"{stem}-outcomes"] = plots.outcome_shares(summary[summary["scenario"] == sc.name], f"{sc.name}: outcomes")
        if len(res.timeline):
            figs[f"{stem}-fan-charts"] = plots.fan_charts(
                res.timeline[res.timeline["scenario"] == sc.name], sc, sc.name, lang
            )
        rep = res.representative(sc.name)
        if len(res.events):
            mine = (res.events["scenario"] == sc.name) & (res.events["replicate"] == rep["replicate"])
            votes = (
                res.votes[(res.votes["scenario"] == sc.name) & (res.votes["replicate"] == rep["replicate"])]
                if len(res.votes)
                else res.votes
            )
            figs[f"{stem}-timeline"] = plots.negotiation_timeline(
                res.events[mine], votes, sc, term("tl.title", lang).format(name=sc.name), lang
            )
        # The map and the timeline show the representative replicate (the most common outcome, the
        # first such replicate), so they tell a typical story, the same for any number of workers.
        figs[f"{stem}-map"] = plots.region_map(sc, rep, sc.name)
    return figs


def save_figures(res: Results, folder: Path, lang: str = "en") -> list[str]:
    """Write every figure of ``res`` as PNG and SVG into ``folder``; return the file names."""
    return [p.name for stem, fig in figures(res, lang).items() for p in plots.save(fig, folder / stem)]


def save_comparison(table: pd.DataFrame, folder: Path, title: str, lang: str = "en") -> list[str]:
    """Write ``comparison.csv`` (every outcome, with its ``unit`` and whether it ``differs``) and the figure.

    The figure (PNG and SVG) shows the headline outcomes that differ (:func:`sim.views.plots.comparison`).
    """
    full = table.assign(
        unit=[outcome_unit(o) for o in table["outcome"]], differs=[differs(r) for r in table.to_dict("records")]
    )
    full.to_csv(folder / "comparison.csv", index=False)
    fig = plots.comparison(table, title, lang)
    return ["comparison.csv", *(p.name for p in plots.save(fig, folder / "comparison"))]


def tornado_plots(result: Robustness) -> dict[str, Any]:
    """One tornado plot per case (its primary story's share at each corner); ``{name: Figure}``."""
    t = result.table
    return {
        f"{case}-tornado": plots.tornado(
            # The parameters (no case) and this case's own estimates: another case's estimate cannot move
            # this story, and its rows would only repeat the baseline.
            t[(t["story_case"] == case) & (t["case"].isin(["", case]))],
            f"{case}: share of {story} with one input moved "
            f"({result.replicates} replicates; parameters at {result.corners_text})",
        )
        for case, story in dict.fromkeys(zip(t["story_case"], t["story"], strict=True))
    }


def save_robustness_figures(result: Robustness, folder: Path) -> list[str]:
    """Write the tornado plots of a robustness check (PNG and SVG) into ``folder``; return the file names."""
    return [p.name for name, fig in tornado_plots(result).items() for p in plots.save(fig, folder / name)]


def municipality_probabilities(result: dict[str, Any], sector: str, year: int) -> dict[str, float]:
    """Per 2016 municipality: share of replicates with a new formal office in its area (``sector``, ``year``)."""
    table = result["table"].set_index("area")
    column = f"p_new_office_{sector}_{year}"
    return {m: float(table.loc[a.name, column]) for a in result["scenario"].areas for m in a.members}


def forecast_map(result: dict[str, Any], sector: str, year: int):
    """County map: each area coloured by the probability of a new formal office in ``sector`` by ``year``.

    Municipalities at their coordinates (node size = population), areas outlined and numbered,
    each area's modal host ringed; same projection as :mod:`sim.views.maps`.
    """
    sc = result["scenario"]
    table = result["table"].set_index("area")
    facts = {m.name: m for m in sc.municipalities}
    names = list(facts)
    xy = project(np.array([facts[m].lat for m in names]), np.array([facts[m].lon for m in names]))
    pos = dict(zip(names, xy, strict=True))
    prob = municipality_probabilities(result, sector, year)
    half = (len(sc.areas) + 1) // 2
    list_height = 0.19 * (half + 1) + 0.3  # inches: the numbered areas in two columns, and the note
    with _style():
        fig, (ax, notes) = plt.subplots(
            2, 1, figsize=(10, 9 + list_height), layout="constrained", gridspec_kw={"height_ratios": [9, list_height]}
        )
        cmap = plt.get_cmap("viridis")
        for i, area in enumerate(sc.areas, start=1):
            pts = np.array([pos[m] for m in area.members])
            h = hull(pts)
            if len(h) >= 3:
                ring = np.vstack([h, h[:1]])
                ax.fill(ring[:, 0], ring[:, 1], color=cmap(prob[area.members[0]]), alpha=0.25, lw=0)
                ax.plot(ring[:, 0], ring[:, 1], color="#555555", lw=1, ls="--" if area.assumed else "-")
            centre = pts.mean(axis=0)
            ax.annotate(str(i), centre, fontsize=12, fontweight="bold", ha="center", va="center", color="#222222")
        sizes = np.array([facts[m].population for m in names])
        sc_ = ax.scatter(
            xy[:, 0], xy[:, 1], s=20 + 300 * np.sqrt(sizes / sizes.max()), c=[prob[m] for m in names],
            cmap=cmap, vmin=0, vmax=1, edgecolor="#333333", linewidth=0.5, zorder=3,
        )  # fmt: skip
        merged = {g.name: max(g.members, key=lambda m: (facts[m].population, m)) for g in sc.mergers}
        for area in sc.areas:
            host = table.loc[area.name, f"host_{sector}_{year}"]
            host = host if host in facts else merged.get(host, "")  # a merged host at its largest member
            if host in pos:
                ax.scatter(*pos[host], s=500, facecolor="none", edgecolor="#d62728", linewidth=2, zorder=4)
        fig.colorbar(sc_, ax=ax, shrink=0.7, label=f"P(new formal {sector} office in the area by {year})")
        labels = []
        for i, a in enumerate(sc.areas, start=1):
            host = table.loc[a.name, f"host_{sector}_{year}"]
            share = table.loc[a.name, f"p_new_office_{sector}_{year}"]
            held = table.loc[a.name, f"p_office_{sector}_{year}"]
            labels.append(f"{i} {a.name}: new {share:.2f}, any {held:.2f}" + (f", host {host}" if host else ""))
        notes.axis("off")
        for col, chunk in enumerate((labels[:half], labels[half:])):
            top = 1.0 - 0.3 / list_height  # under the note
            notes.text(0.5 * col, top, "\n".join(chunk), transform=notes.transAxes, fontsize=9, va="top", ha="left")
        ax.set_title(f"{sc.name}: forecast from {month_label(sc.start)}, {sector} by December {year}")
        ax.set_xlabel("km east")
        ax.set_ylabel("km north")
        ax.set_aspect("equal")
        note = "Areas numbered (dashed: assumed membership); ring: most likely host; any: an office in force"
        notes.text(0.0, 1.0, note, transform=notes.transAxes, fontsize=9, va="top", ha="left", color="#555555")
    return fig


def save_forecast_map(result: dict[str, Any], folder: Path) -> list[str]:
    """Write the forecast's county map (PNG, SVG) into ``folder``; return the file names."""
    year = result["years"][-1]
    sector = "agriculture" if "agriculture" in result["sectors"] else result["sectors"][0]
    return [p.name for p in plots.save(forecast_map(result, sector, year), folder / "forecast_map")]


def robust_figure(result: dict[str, Any], title: str, lang: str = "en"):
    """Two panels: share of futures in which each variant is best (Wilson 95 %), and its mean and worst regret."""
    s = result["summary"]
    y = np.arange(len(s))
    unit = unit_words(result["outcome"], lang)
    # Regret of a share is computed on the 0-1 scale, not in per cent of replicates.
    unit = "share 0-1" if "%" in unit else unit
    with plots._style() as plt:
        fig, (a, b) = plt.subplots(1, 2, figsize=(13, 0.5 * len(s) + 2.4), sharey=True, layout="constrained")
        err = np.clip(np.vstack([s["best_share"] - s["best_ci_low"], s["best_ci_high"] - s["best_share"]]), 0, None)
        a.barh(y, s["best_share"], color=plots.PALETTE[1], height=0.6)
        a.errorbar(s["best_share"], y, xerr=err, fmt="none", color="black", lw=1, capsize=3)
        a.set_xlim(0, 1)
        a.set_xlabel("Share of futures in which it is best (95 % Wilson interval)")
        a.set_yticks(y, [plots._wrap(v, 26) for v in s["variant"]])
        a.invert_yaxis()
        b.barh(y - 0.17, s["mean_regret"], height=0.32, color=plots.PALETTE[2], label="mean regret")
        b.barh(y + 0.17, s["worst_regret"], height=0.32, color=plots.PALETTE[3], label="worst regret")
        b.set_xlabel(plots._wrap(f"Regret: shortfall from the best variant in the same future ({unit})", 60))
        b.legend(loc="lower right", frameon=False)
        for ax in (a, b):
            ax.grid(axis="x", color="#dddddd", lw=0.6)
            ax.set_axisbelow(True)
        n = int(s["futures"].iloc[0])
        better = "more" if result["higher_is_better"] else "less"
        fig.suptitle(
            plots._wrap(
                f"{title}: {n} sampled futures, scored by {outcome_label(result['outcome'], lang).lower()} "
                f"({better} is better)",
                110,
            )
        )
    return fig


def save_robust_figure(result: dict[str, Any], folder: Path, title: str, lang: str = "en") -> list[str]:
    """Write the figure of ``robust`` (PNG, SVG) into ``folder``; return the file names."""
    return [p.name for p in plots.save(robust_figure(result, title, lang), folder / "robust")]
