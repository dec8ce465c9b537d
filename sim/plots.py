"""Plots for reports: outcome shares, fan charts, a negotiation timeline and a region map.

Every function returns a matplotlib Figure built inside a style context, so importing this
module changes no global setting (a notebook's own plots keep working); :func:`save` writes PNG
and SVG. Plots read records (vote and event rows), never sentences.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario import Scenario
from sim.vocab import NONE, EventKind

PALETTE = ("#1b9e77", "#386cb0", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d")
NONE_COLOUR = "#bbbbbb"
STYLE = {"font.size": 10, "axes.titlesize": 11, "figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False}


@contextmanager
def _style() -> Iterator[Any]:
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        yield plt


def form_colour(scenario: Scenario, form: str) -> str:
    """Colour of a form (by its place in the vocabulary); grey for no arrangement."""
    names = scenario.params.vocab.form_names
    return PALETTE[names.index(form) % len(PALETTE)] if form in names else NONE_COLOUR


def form_label(scenario: Scenario, form: str) -> str:
    """Plain-language name of a form."""
    return scenario.params.vocab.form(form).label if form in scenario.params.vocab.form_names else "own service"


def save(fig, path_stem: Path) -> list[Path]:
    """Save a figure as PNG and SVG; return the paths."""
    import matplotlib.pyplot as plt

    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    return paths


def outcome_shares(summary: pd.DataFrame, title: str):
    """Bar chart of outcome shares with 95 % intervals."""
    s = summary[summary["kind"] == "share"]
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(s) + 1.4), layout="constrained")
        y = np.arange(len(s))
        err = np.clip(np.vstack([s["value"] - s["ci_low"], s["ci_high"] - s["value"]]), 0, None)
        ax.barh(y, s["value"], xerr=err, color=PALETTE[1], capsize=3)
        ax.set_yticks(y, s["label"])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        n = int(s["n"].iloc[0]) if len(s) else 0
        ax.set_xlabel(f"Share of {n} replicates (95 % interval)")
        ax.set_title(title)
    return fig


def comparison(table: pd.DataFrame, title: str):
    """Differences variant - baseline with 95 % intervals, one panel per variant."""
    variants = list(dict.fromkeys(table["variant_name"]))
    with _style() as plt:
        fig, axes = plt.subplots(
            1,
            len(variants),
            figsize=(5 * len(variants) + 2, 0.3 * table["outcome"].nunique() + 1.8),
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        for ax, name in zip(axes[0], variants, strict=True):
            t = table[table["variant_name"] == name]
            y = np.arange(len(t))
            err = np.clip(np.vstack([t["difference"] - t["ci_low"], t["ci_high"] - t["difference"]]), 0, None)
            ax.errorbar(t["difference"], y, xerr=err, fmt="o", color=PALETTE[2], capsize=3)
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_yticks(y, t["label"])
            ax.set_title(name)
            ax.set_xlabel("Variant minus baseline (share or mean)")
        axes[0][0].invert_yaxis()
        fig.suptitle(title)
    return fig


def fan_charts(timeline: pd.DataFrame, scenario: Scenario, title: str):
    """Median and 10-90 % band over replicates per municipality: measures x sectors, shared y per row."""
    measures = [
        ("competence", "Competence (0-1)"),
        ("capacity", "Capacity (FTE per FTE needed)"),
        ("vulnerability", "Vulnerability (chance a task\ngoes unserved)"),
    ]
    sectors = scenario.params.vocab.sectors
    with _style() as plt:
        fig, axes = plt.subplots(
            3,
            len(sectors),
            figsize=(4 * len(sectors) + 1, 9),
            sharex=True,
            sharey="row",
            squeeze=False,
            layout="constrained",
        )
        months = pd.PeriodIndex(sorted(timeline["month"].unique()), freq="M").to_timestamp()
        colours = plt.cm.tab10.colors
        for i, (measure, label) in enumerate(measures):
            for j, sector in enumerate(sectors):
                ax = axes[i][j]
                sub = timeline[timeline["sector"] == sector.name]
                for k, (name, g) in enumerate(sub.groupby("municipality", sort=False)):
                    q = g.groupby("month")[measure].quantile([0.1, 0.5, 0.9]).unstack()
                    ax.fill_between(months, q[0.1], q[0.9], color=colours[k % 10], alpha=0.15, lw=0)
                    ax.plot(months, q[0.5], color=colours[k % 10], lw=1.5, label=name)
                ax.axvline(
                    pd.Period(f"{scenario.pilot_end // 12}-{scenario.pilot_end % 12 + 1:02d}", "M").to_timestamp(),
                    color="grey",
                    lw=0.8,
                    ls=":",
                )
                if i == 0:
                    ax.set_title(sector.label.capitalize())
                if j == 0:
                    ax.set_ylabel(label)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), frameon=False)
        fig.suptitle(f"{title}: median and 10-90 % band over replicates (dotted: end of the pilot)")
    return fig


def negotiation_timeline(events: pd.DataFrame, votes: pd.DataFrame, scenario: Scenario, title: str):
    """One replicate's negotiation: each council's votes (yes/no), exits, proposals, decisions, stop."""
    names = scenario.names
    rows = {n: i for i, n in enumerate(names)}

    def date(month: str):
        return pd.Period(month, "M").to_timestamp()

    with _style() as plt:
        fig, ax = plt.subplots(figsize=(12, 0.5 * len(names) + 3.2), layout="constrained")
        for _, v in votes.iterrows():
            yes = v["vote"] == "yes"
            ax.scatter(
                date(v["month"]),
                rows[v["municipality"]],
                marker="o" if yes else "X",
                s=80,
                zorder=3,
                color=PALETTE[0] if yes else PALETTE[2],
                label="yes" if yes else "no",
            )
        for _, e in events[events["kind"] == EventKind.EXIT].iterrows():
            ax.scatter(
                date(e["month"]),
                rows[e["municipality"]] + 0.25,
                marker="v",
                s=60,
                color="black",
                zorder=4,
                label="leaves the project",
            )
        marks = {
            EventKind.PROPOSAL: ("proposal", PALETTE[1]),
            EventKind.AGREEMENT: ("agreement", PALETTE[0]),
            EventKind.STALL: ("stop", PALETTE[2]),
            EventKind.REFORM: ("reform event", PALETTE[3]),
            EventKind.PILOT_END: ("end of the pilot", "grey"),
        }
        for _, e in events[events["kind"].isin(list(marks))].iterrows():
            label, colour = marks[EventKind(e["kind"])]
            ax.axvline(date(e["month"]), color=colour, lw=1.2, alpha=0.7, label=label)
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(-0.7, len(names) - 0.3)
        ax.set_xlabel("Month")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(
            unique.values(),
            unique.keys(),
            loc="outside right upper" if False else "upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
        ax.set_title(f"{title}: one representative replicate")
    return fig


def _positions(scenario: Scenario) -> tuple[np.ndarray, bool]:
    """Map positions: real coordinates (km east/north of the centre) when known, else a layout from distances."""
    munis = scenario.municipalities
    if all(m.lat is not None for m in munis):
        lat0 = np.mean([m.lat for m in munis])
        x = np.array([m.lon for m in munis]) * 111.32 * np.cos(np.radians(lat0))
        y = np.array([m.lat for m in munis]) * 110.57
        return np.column_stack([x - x.mean(), y - y.mean()]), True
    names = scenario.names
    n = len(names)
    d = np.array([[scenario.distance(a, b) for b in names] for a in names])
    j = np.eye(n) - np.ones((n, n)) / n
    vals, vecs = np.linalg.eigh(-0.5 * j @ (d**2) @ j)
    order = np.argsort(vals)[::-1][:2]
    return vecs[:, order] * np.sqrt(np.maximum(vals[order], 0)), False


def region_map(scenario: Scenario, row: dict[str, Any], title: str, when: str = "at the end of the pilot"):
    """One panel per sector: members sized by population, ties coloured by form, host ringed; north up."""
    names, sectors = scenario.names, scenario.params.vocab.sectors
    pos, real = _positions(scenario)
    pops = np.array([m.population for m in scenario.municipalities])
    with _style() as plt:
        fig, axes = plt.subplots(
            1, len(sectors), figsize=(4.3 * len(sectors), 4.8), squeeze=False, layout="constrained"
        )
        for ax, sector in zip(axes[0], sectors, strict=True):
            form = row[f"form_{sector.name}"]
            members = json.loads(row[f"members_{sector.name}"]) if row[f"members_{sector.name}"] else []
            host = row[f"host_{sector.name}"] or ""
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    inside = names[a] in members and names[b] in members
                    ax.plot(
                        *zip(pos[a], pos[b], strict=True),
                        color=form_colour(scenario, form if inside else NONE),
                        lw=3 if inside else 0.6,
                        alpha=0.9 if inside else 0.4,
                        zorder=1,
                    )
            ax.scatter(
                pos[:, 0],
                pos[:, 1],
                s=40 + 400 * pops / pops.max(),
                color="#f0f0f0",
                zorder=2,
                edgecolor=["black" if n == host else "#555555" for n in names],
                linewidth=[3 if n == host else 1 for n in names],
            )
            for (x, y), n in zip(pos, names, strict=True):
                ax.annotate(
                    n + (" (host)" if n == host else ""), (x, y), xytext=(7, 5), textcoords="offset points", fontsize=9
                )
            ax.set_title(f"{sector.label.capitalize()}: {form_label(scenario, form)}")
            ax.set_aspect("equal")
            ax.margins(0.2)
            ax.set_xticks([])
            ax.set_yticks([])
            if real:
                x0, y0 = pos[:, 0].min(), pos[:, 1].min() - 0.08 * np.ptp(pos[:, 1])
                ax.plot([x0, x0 + 20], [y0, y0], color="black", lw=2)
                ax.annotate("20 km", (x0 + 10, y0), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8)
        forms = [NONE, *scenario.params.vocab.form_names]
        handles = [
            plt.Line2D([], [], color=form_colour(scenario, f), lw=3, label=form_label(scenario, f)) for f in forms
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(forms), frameon=False)
        how = "north up" if real else "layout from distances"
        fig.suptitle(f"{title}: arrangements {when} (node size = population; {how})")
    return fig


def sensitivity(table: pd.DataFrame, title: str):
    """Sobol first-order and total indices (or Morris mu*) with 95 % intervals, per outcome."""
    outcomes = [
        o
        for o in dict.fromkeys(table["outcome"])
        if table[table["outcome"] == o].drop(columns=["outcome", "parameter"]).notna().any().any()
    ]
    with _style() as plt:
        fig, axes = plt.subplots(
            1,
            max(1, len(outcomes)),
            figsize=(4.4 * max(1, len(outcomes)) + 1, 0.45 * table["parameter"].nunique() + 2),
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        for ax, name in zip(axes[0], outcomes, strict=False):
            t = table[table["outcome"] == name]
            y = np.arange(len(t))
            if "S1" in t:
                ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)", color=PALETTE[1], capsize=2)
                ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total (ST)", color=PALETTE[2], capsize=2)
                ax.set_xlabel("Sobol index (95 % interval)")
            else:
                ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color=PALETTE[1], capsize=2, label="mu*")
                ax.set_xlabel("Morris mu* (95 % interval)")
            ax.set_yticks(y, t["parameter"])
            ax.set_title(name.replace("_", " "))
        axes[0][0].invert_yaxis()
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
        fig.suptitle(title)
    return fig


def tornado(table: pd.DataFrame, title: str):
    """One story's share at each one-at-a-time corner: low and high bars around the baseline share.

    ``table`` holds one story's rows of ``sim.robustness.Robustness.table`` (a low and a high row per
    input; a missing side draws no bar). Inputs are sorted by their swing (largest on top): the span
    of the low share, the high share and the baseline.
    """
    base = float(table["baseline_share"].iloc[0])
    inputs = []
    for (case, key), g in table.groupby(["case", "key"], sort=False):
        side = {r["side"]: r for _, r in g.iterrows()}
        shares = [side[s]["share"] if s in side else base for s in ("low", "high")]
        values = " | ".join(f"{side[s]['value']:.3g}" if s in side else "-" for s in ("low", "high"))
        label = f"{key} (estimate): {values}" if case else f"{key}: {values}"
        inputs.append((max(*shares, base) - min(*shares, base), label, *shares))
    inputs.sort(key=lambda i: -i[0])
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(8.5, 0.24 * len(inputs) + 1.8), layout="constrained")
        y = np.arange(len(inputs))
        lows, highs = np.array([i[2] for i in inputs]), np.array([i[3] for i in inputs])
        ax.barh(
            y - 0.2, lows - base, 0.4, left=base, color=PALETTE[1], label="low value (estimate) / -step (parameter)"
        )
        ax.barh(
            y + 0.2, highs - base, 0.4, left=base, color=PALETTE[2], label="high value (estimate) / +step (parameter)"
        )
        ax.axvline(base, color="black", lw=0.9, label=f"baseline share {base:.3f}")
        ax.axvline(0.5, color="#b2182b", lw=0.9, ls="--", label="knife-edge: share 0.5")
        ax.set_yticks(y, [i[1] for i in inputs], fontsize=8)
        ax.set_ylim(len(inputs) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.set_xlabel("Share of replicates in which the story holds (input: low | high value)")
        ax.set_title(title, fontsize=10, wrap=True)
        fig.legend(loc="outside lower center", ncol=2, frameon=False, fontsize=8)
    return fig
