"""The figures of a finished experiment, and writing them beside its tables (PNG and SVG).

Reads :class:`sim.analysis.results.Results` and other analysis results; draws with
:mod:`sim.views.plots` and :mod:`sim.views.maps`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.results import Results
from sim.analysis.robustness import Robustness
from sim.inputs.scenario import Scenario
from sim.views import maps, plots


def _county_figures(res: Results, sc: Scenario) -> dict[str, Any]:
    stem, names = sc.path.stem, sc.params.vocab.sector_names
    sectors = [names[s] for s in sc.initiative.sectors] if sc.initiative else list(names)
    figs = {}
    areas = res.area_summary()
    if len(areas):
        mine = areas[areas["scenario"] == sc.name]
        for sector in sectors:
            figs[f"{stem}-areas-{sector}"] = maps.area_outcomes(mine, sector, f"{sc.name}: {sector}, by area")
    rep = res.representative(sc.name)
    if len(res.municipalities):
        mine = res.municipalities[
            (res.municipalities["scenario"] == sc.name) & (res.municipalities["replicate"] == rep["replicate"])
        ]
        for sector in sectors:
            figs[f"{stem}-map-{sector}"] = maps.county_map(
                sc, mine, sector, f"{sc.name}: one representative replicate (the most common number of offices)"
            )
    return figs


def figures(res: Results) -> dict[str, Any]:
    """Every figure for every scenario of a result: ``{"<file stem>-<kind>": Figure}``."""
    figs = {}
    summary = res.summary()
    for sc in res.scenarios:
        stem = sc.path.stem
        if sc.kind == "county":
            figs |= _county_figures(res, sc)
            continue
        figs[f"{stem}-outcomes"] = plots.outcome_shares(summary[summary["scenario"] == sc.name], f"{sc.name}: outcomes")
        if len(res.timeline):
            figs[f"{stem}-fan-charts"] = plots.fan_charts(
                res.timeline[res.timeline["scenario"] == sc.name], sc, sc.name
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
                res.events[mine], votes, sc, f"{sc.name}: one representative replicate (the most common outcome)"
            )
        figs[f"{stem}-map"] = plots.region_map(sc, rep, sc.name)
    return figs


def save_figures(res: Results, folder: Path) -> list[str]:
    """Write every figure of ``res`` as PNG and SVG into ``folder``; return the file names."""
    return [p.name for stem, fig in figures(res).items() for p in plots.save(fig, folder / stem)]


def save_comparison(table: pd.DataFrame, folder: Path, title: str) -> list[str]:
    """Write ``comparison.csv`` and the comparison figure (PNG and SVG) into ``folder``."""
    table.to_csv(folder / "comparison.csv", index=False)
    return ["comparison.csv", *(p.name for p in plots.save(plots.comparison(table, title), folder / "comparison"))]


def tornado_plots(result: Robustness) -> dict[str, Any]:
    """One tornado plot per case (its primary story's share at each corner); ``{name: Figure}``."""
    t = result.table
    return {
        f"{case}-tornado": plots.tornado(
            t[(t["story_case"] == case) & (t["case"].isin(["", case]))],
            f"{case}: share of {story} with one input moved "
            f"({result.replicates} replicates; parameters at {result.corners_text})",
        )
        for case, story in dict.fromkeys(zip(t["story_case"], t["story"], strict=True))
    }


def save_robustness_figures(result: Robustness, folder: Path) -> list[str]:
    """Write the tornado plots of a robustness check (PNG and SVG) into ``folder``; return the file names."""
    return [p.name for name, fig in tornado_plots(result).items() for p in plots.save(fig, folder / name)]
