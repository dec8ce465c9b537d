"""Plots for reports: outcome shares, fan charts, a negotiation timeline and a region map.

Every function returns a matplotlib Figure; :func:`save` writes PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.params import FORMS, SECTORS  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

FORM_COLOURS = {"none": "#bbbbbb", "network": "#1b9e77", "admin_host": "#386cb0",
                "board_host": "#d95f02"}
plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "figure.dpi": 110})


def save(fig, path_stem: Path) -> list[Path]:
    """Save a figure as PNG and SVG; return the paths."""
    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    return paths


def outcome_shares(summary: pd.DataFrame, title: str):
    """Bar chart of outcome shares with 95 % intervals."""
    s = summary[summary["kind"] == "share"]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(s) + 1.2))
    y = np.arange(len(s))
    err = np.clip(np.vstack([s["value"] - s["ci_low"], s["ci_high"] - s["value"]]), 0, None)
    ax.barh(y, s["value"], xerr=err, color="#386cb0", capsize=3)
    ax.set_yticks(y, s["label"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Share of replicates (95 % interval)")
    ax.set_title(title)
    return fig


def comparison(table: pd.DataFrame, title: str):
    """Differences variant - baseline with 95 % intervals, one panel per variant."""
    variants = list(dict.fromkeys(table["variant_name"]))
    fig, axes = plt.subplots(1, len(variants), figsize=(5 * len(variants), 0.3 * table["outcome"].nunique() + 1.5),
                             sharey=True, squeeze=False)
    for ax, name in zip(axes[0], variants, strict=True):
        t = table[table["variant_name"] == name]
        y = np.arange(len(t))
        err = np.clip(np.vstack([t["difference"] - t["ci_low"], t["ci_high"] - t["difference"]]), 0, None)
        ax.errorbar(t["difference"], y, xerr=err, fmt="o", color="#d95f02", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, t["label"])
        ax.set_title(name)
        ax.set_xlabel("Difference to baseline (share or mean)")
    axes[0][0].invert_yaxis()
    fig.suptitle(title)
    return fig


def fan_charts(timeline: pd.DataFrame, title: str):
    """Median and 10-90 % band over replicates per municipality: measures x sectors."""
    measures = [("competence", "Competence (0-1)"), ("capacity", "Capacity (FTE per FTE needed)"),
                ("vulnerability", "Vulnerability (chance a task goes unserved)")]
    fig, axes = plt.subplots(3, 3, figsize=(13, 9), sharex=True)
    months = pd.PeriodIndex(sorted(timeline["month"].unique()), freq="M").to_timestamp()
    colours = plt.cm.tab10.colors
    for i, (measure, label) in enumerate(measures):
        for j, sector in enumerate(SECTORS):
            ax = axes[i][j]
            sub = timeline[timeline["sector"] == sector]
            for k, (name, g) in enumerate(sub.groupby("municipality", sort=False)):
                q = g.groupby("month")[measure].quantile([0.1, 0.5, 0.9]).unstack()
                ax.fill_between(months, q[0.1], q[0.9], color=colours[k % 10], alpha=0.2, lw=0)
                ax.plot(months, q[0.5], color=colours[k % 10], lw=1.5, label=name)
            if i == 0:
                ax.set_title(sector.capitalize())
            if j == 0:
                ax.set_ylabel(label)
    axes[0][0].legend(fontsize=8, loc="best")
    for ax in axes[-1]:
        ax.set_xlabel("Month")
    fig.suptitle(f"{title}: median and 10-90 % band over replicates")
    fig.autofmt_xdate()
    return fig


def negotiation_timeline(events: pd.DataFrame, names: list[str], title: str):
    """One replicate's negotiation: proposals, votes per council, exits, decisions."""
    ev = events.copy()
    ev["date"] = pd.PeriodIndex(ev["month"], freq="M").to_timestamp()
    fig, ax = plt.subplots(figsize=(12, 0.45 * len(names) + 3))
    rows = {n: i for i, n in enumerate(names)}
    top = len(names)
    for n_event, (_, e) in enumerate(ev.iterrows()):
        if e["event"] == "vote":
            for part in e["details"].split(": ", 1)[1].split("; "):
                name, _, verdict = part.partition(": ")
                if name in rows:
                    yes = verdict.startswith("yes")
                    ax.scatter(e["date"], rows[name], marker="o" if yes else "X", s=70,
                               color="#1b9e77" if yes else "#d95f02", zorder=3)
        elif e["event"] == "exit":
            name = e["details"].split(" leaves")[0]
            if name in rows:
                ax.scatter(e["date"], rows[name], marker=">", s=90, color="black", zorder=3)
        elif e["event"] in ("proposal", "agreement", "stall", "main_project_start", "network_start",
                            "postponed", "reform", "service_start"):
            colour = {"proposal": "#386cb0", "agreement": "#1b9e77", "stall": "#d95f02",
                      "reform": "#7570b3"}.get(e["event"], "grey")
            ax.axvline(e["date"], color=colour, lw=1, alpha=0.6)
            label = e["event"].replace("_", " ")
            text = f"{label}: {e['details'][:60]}"
            ax.text(e["date"], top + 0.2 + (n_event % 4) * 0.55, text, rotation=0, fontsize=7,
                    color=colour, va="bottom")
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.7, top + 2.8)
    ax.set_xlabel("Month")
    ax.set_title(f"{title}: negotiation of one representative replicate "
                 "(o yes, x no, > exit; lines: proposals, decisions, reform events)")
    return fig


def _positions(scenario: Scenario) -> np.ndarray:
    """2-D positions from the distance table by classical multidimensional scaling."""
    names = scenario.names
    n = len(names)
    d = np.array([[scenario.distance(a, b) for b in names] for a in names])
    j = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * j @ (d ** 2) @ j
    vals, vecs = np.linalg.eigh(b)
    order = np.argsort(vals)[::-1][:2]
    return vecs[:, order] * np.sqrt(np.maximum(vals[order], 0))


def region_map(scenario: Scenario, row: dict[str, Any], title: str, when: str = "at the end of the pilot"):
    """Map-like network: node size = population, edges coloured by form, host ringed."""
    names = scenario.names
    pos = _positions(scenario)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
    for ax, sector in zip(axes, SECTORS, strict=True):
        form = row[f"form_{sector}"]
        members = [m for m in str(row[f"members_{sector}"]).split(";") if m]
        host = row[f"host_{sector}"] if isinstance(row[f"host_{sector}"], str) else ""
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                inside = names[a] in members and names[b] in members
                ax.plot(*zip(pos[a], pos[b], strict=True), color=FORM_COLOURS[form if inside else "none"],
                        lw=3 if inside else 0.8, alpha=0.9 if inside else 0.4, zorder=1)
        pops = np.array([m.population for m in scenario.municipalities])
        ax.scatter(pos[:, 0], pos[:, 1], s=40 + 400 * pops / pops.max(), color="#f0f0f0",
                   edgecolor=["black" if n == host else "#555555" for n in names],
                   linewidth=[3 if n == host else 1 for n in names], zorder=2)
        for (x, y), n in zip(pos, names, strict=True):
            ax.annotate(n + (" (host)" if n == host else ""), (x, y), xytext=(6, 6),
                        textcoords="offset points", fontsize=8)
        ax.set_title(f"{sector.capitalize()}: {form.replace('_', ' ')}")
        ax.set_aspect("equal")
        ax.margins(0.25)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [plt.Line2D([], [], color=c, lw=3, label=f.replace("_", " ")) for f, c in FORM_COLOURS.items()
               if f in FORMS]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False)
    fig.suptitle(f"{title}: arrangements {when} (node size = population; layout from straight-line distances)")
    return fig


def sensitivity(table: pd.DataFrame, title: str):
    """Sobol first-order and total indices (or Morris mu*) with 95 % intervals, per outcome."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), 0.45 * table["parameter"].nunique() + 1.8),
                             sharey=True, squeeze=False)
    for ax, name in zip(axes[0], outcomes, strict=True):
        t = table[table["outcome"] == name]
        y = np.arange(len(t))
        if "S1" in t:
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)", color="#386cb0", capsize=2)
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total (ST)", color="#d95f02", capsize=2)
            ax.set_xlabel("Sobol index (95 % interval)")
        else:
            ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color="#386cb0", capsize=2, label="mu*")
            ax.set_xlabel("Morris mu* (95 % interval)")
        ax.set_yticks(y, t["parameter"])
        ax.set_title(name.replace("_", " "))
    axes[0][0].invert_yaxis()
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    return fig
