"""The forecast as users read it: offices by 2020 and 2022 per area and group, hosts, why nothing happens.

:func:`forecast_rows` turns one finished run of a forecast scenario (``trondelag-2017``) into one
row per cooperation area; :func:`forecast_table` aggregates the replicates (Wilson score
intervals for every probability); :func:`group_table` lists the groups of municipalities that
form a new formal office; :func:`lever_table` compares the §4 levers against the forecast on the
same seeds (Newcombe's paired interval per area and sector); :func:`run_forecast` runs it all
and writes the folder that ``python run.py forecast`` prints.

Definitions (docs/ODD.md, "The forecast"):

* an **office** in an area and year is a formal joint arrangement (a host form; a merger is not
  one) in force in December of that year that serves at least one of the area's municipalities;
  a **new office** is one decided after the origin;
* **nothing happens** in an area when no arrangement of any form is decided for its
  municipalities over the whole run; its reason is the stop cause of the area's last stopped
  negotiation, ``still negotiating`` when one runs at the horizon, or ``no negotiation started``;
* names are those of the municipalities at the horizon (a merged municipality by its new name).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.mergers import display
from sim.records import month_label
from sim.results import METHODS, newcombe_paired, wilson
from sim.vocab import Phase

if TYPE_CHECKING:
    from sim.model import CooperationModel

#: The §4 levers of the README, compared against the forecast by ``forecast --levers``.
LEVERS: dict[str, dict[str, Any]] = {
    "initiative": {"county_initiative": True},
    "initiative_fixed_areas": {"county_initiative": True, "fixed_areas": True},
    "initiative_no_board": {"county_initiative": True, "board_form_allowed": False},
    "initiative_office_size_3": {"county_initiative": True, "initiative_office_size": 3},
    "initiative_anchored": {"county_initiative": True, "extra_political_involvement": 1},
    "mandatory_host": {"mandatory_host.agriculture": True},
    "merger_track": {"merger_track": True},
}

#: The years the forecast reports (December of each).
YEARS = (2020, 2022)
NO_START = "no negotiation started"
COUNTY = "(whole county)"
RUNNING = "still negotiating"


def _years(model: CooperationModel) -> list[int]:
    return [y for y in YEARS if y * 12 + 11 <= model.scenario.horizon] or [model.scenario.horizon // 12]


def forecast_rows(model: CooperationModel) -> list[dict[str, Any]]:
    """One row per cooperation area of a finished run (see the module docstring)."""
    sc, names = model.scenario, model.p.vocab.sector_names
    origin, before = sc.start, {ex.name for ex in sc.existing}  # arrangements in force at the origin
    rows = []
    for area in sc.areas:
        members = set(area.members)
        row: dict[str, Any] = {"area": area.name}
        for s, sector in enumerate(names):
            for y in _years(model):
                month = y * 12 + 11
                offices = [
                    a
                    for a in model.arrangements
                    if s in a.sectors
                    and a.form.formal
                    and not a.form.merges
                    and a.live(month)
                    and len(a.members) >= 2
                    and members & set(a.members)
                ]
                new = [a for a in offices if a.decided >= origin and a.region not in before]
                best = max(new, key=lambda a: (len(members & set(a.members)), -a.decided), default=None)
                row[f"office_{sector}_{y}"] = bool(offices)
                row[f"new_office_{sector}_{y}"] = bool(new)
                row[f"host_{sector}_{y}"] = display(model, best.host) if best and best.host else ""
                row[f"members_{sector}_{y}"] = (
                    json.dumps(sorted({display(model, m) for m in best.members}), ensure_ascii=False) if best else ""
                )
                row[f"form_{sector}_{y}"] = best.form.name if best else ""
        decided = [
            a for a in model.arrangements if a.decided >= origin and a.region not in before and members & set(a.members)
        ]
        talks = [n for n in model.negotiations if n.region.facts.area == area.name]
        row["negotiations"] = len(talks)
        row["first_start"] = month_label(min(n.region.facts.start for n in talks)) if talks else ""
        row["nothing"] = not decided
        stopped = [n for n in talks if n.phase == Phase.STALLED]
        if decided:
            row["why"] = ""
        elif any(n.active for n in talks):
            row["why"] = RUNNING
        elif stopped:
            row["why"] = str(stopped[-1].stall_cause)
        else:
            row["why"] = NO_START
        rows.append(row)
    return rows


def forecast_table(rows: pd.DataFrame, sectors: list[str], years: list[int]) -> pd.DataFrame:
    """Per area (and the whole county): probabilities with Wilson intervals, modal host and members, reasons.

    Args:
        rows: :func:`forecast_rows` of every replicate (a ``replicate`` column).
        sectors: Sector names, in the order to report.
        years: The years reported.
    """
    out = []
    n_total = rows["replicate"].nunique()
    for area, g in rows.groupby("area", sort=False):
        n = len(g)
        rec: dict[str, Any] = {"area": area, "replicates": n}
        for sector in sectors:
            for y in years:
                for kind in ("office", "new_office"):
                    k = int(g[f"{kind}_{sector}_{y}"].sum())
                    lo, hi = wilson(k, n)
                    rec[f"p_{kind}_{sector}_{y}"] = k / n
                    rec[f"p_{kind}_{sector}_{y}_low"], rec[f"p_{kind}_{sector}_{y}_high"] = lo, hi
                with_new = g[g[f"new_office_{sector}_{y}"]]
                group, group_share = _mode(with_new[f"members_{sector}_{y}"])
                host, host_share = _mode(with_new.loc[with_new[f"members_{sector}_{y}"] == group, f"host_{sector}_{y}"])
                rec[f"host_{sector}_{y}"], rec[f"host_share_{sector}_{y}"] = host, host_share
                rec[f"members_{sector}_{y}"], rec[f"members_share_{sector}_{y}"] = group, group_share
        k = int(g["nothing"].sum())
        lo, hi = wilson(k, n)
        rec.update(p_nothing=k / n, p_nothing_low=lo, p_nothing_high=hi)
        reasons = Counter(g.loc[g["nothing"], "why"])
        rec["why_nothing"] = "; ".join(f"{r} {c / n:.2f}" for r, c in reasons.most_common())
        rec["mean_negotiations"] = float(g["negotiations"].mean())
        out.append(rec)
    out.append(_county(rows, sectors, years))
    table = pd.DataFrame(out)
    table.attrs["method"] = f"{METHODS['share']} 95 % intervals over {n_total} replicates"
    return table


def _county(rows: pd.DataFrame, sectors: list[str], years: list[int]) -> dict[str, Any]:
    """The county row of :func:`forecast_table`: an office (new office) in any area; nothing in every area."""
    by_run = rows.groupby("replicate", sort=True)
    n = by_run.ngroups
    rec: dict[str, Any] = {"area": COUNTY, "replicates": n}
    for sector in sectors:
        for y in years:
            for kind in ("office", "new_office"):
                k = int(by_run[f"{kind}_{sector}_{y}"].any().sum())
                lo, hi = wilson(k, n)
                rec[f"p_{kind}_{sector}_{y}"] = k / n
                rec[f"p_{kind}_{sector}_{y}_low"], rec[f"p_{kind}_{sector}_{y}_high"] = lo, hi
            rec[f"host_{sector}_{y}"] = rec[f"members_{sector}_{y}"] = ""
            rec[f"host_share_{sector}_{y}"] = rec[f"members_share_{sector}_{y}"] = 0.0
    k = int(by_run["nothing"].all().sum())
    lo, hi = wilson(k, n)
    rec.update(p_nothing=k / n, p_nothing_low=lo, p_nothing_high=hi, why_nothing="")
    rec["mean_negotiations"] = float(by_run["negotiations"].sum().mean())
    return rec


def group_table(rows: pd.DataFrame, sectors: list[str], year: int, top: int = 5) -> pd.DataFrame:
    """The groups of municipalities most often served by a new formal office in ``year``, per area and sector."""
    out = []
    for area, g in rows.groupby("area", sort=False):
        n = len(g)
        for sector in sectors:
            with_new = g[g[f"new_office_{sector}_{year}"]]
            counts = Counter(zip(with_new[f"members_{sector}_{year}"], with_new[f"host_{sector}_{year}"], strict=True))
            for (members, host), k in counts.most_common(top):
                lo, hi = wilson(k, n)
                out.append(
                    {
                        "area": area,
                        "sector": sector,
                        "year": year,
                        "members": members,
                        "host": host,
                        "p": k / n,
                        "ci_low": lo,
                        "ci_high": hi,
                    }
                )
    columns = ["area", "sector", "year", "members", "host", "p", "ci_low", "ci_high"]
    return pd.DataFrame(out, columns=columns)


def lever_table(base: pd.DataFrame, variant: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Per area: a lever's paired effect on a forecast outcome (variant minus forecast, Newcombe interval)."""
    out = []
    merged = base.merge(variant, on=["area", "replicate"], suffixes=("_b", "_v"))
    for area, g in merged.groupby("area", sort=False):
        b, v = g[f"{outcome}_b"].astype(bool), g[f"{outcome}_v"].astype(bool)
        cells = Counter(zip(v, b, strict=True))
        lo, hi = newcombe_paired(cells[True, True], cells[True, False], cells[False, True], cells[False, False])
        n = len(g)
        out.append(
            {
                "area": area,
                "outcome": outcome,
                "forecast": b.sum() / n,
                "variant": v.sum() / n,
                "difference": (v.sum() - b.sum()) / n,
                "ci_low": lo,
                "ci_high": hi,
                "n": n,
                "method": METHODS["paired share"],
            }
        )
    return pd.DataFrame(out)


def _mode(values: pd.Series) -> tuple[str, float]:
    """The most common non-empty value and its share among the non-empty ones ("", 0 if none)."""
    counts = Counter(v for v in values if v)
    if not counts:
        return "", 0.0
    value, k = counts.most_common(1)[0]
    return value, k / sum(counts.values())


def run_forecast(
    scenario: str = "trondelag-2017",
    replicates: int = 1000,
    seed: int = 20161214,
    workers: int | None = None,
    levers: dict[str, dict[str, Any]] | None = None,
    posterior: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the forecast (and each lever on the same seeds) and return its tables.

    Args:
        scenario: A forecast scenario (a county file with ``[self_start]``).
        replicates: Replicates per arm.
        seed: Base seed (replicate ``r`` of every arm shares its stream).
        workers: Worker processes (results do not depend on it).
        levers: ``{name: {--set key: value}}`` compared against the forecast.
        posterior: A calibration result folder or :class:`sim.posterior.Posterior`: replicate ``r``
            of every arm runs with posterior set ``r mod K``.
        progress: Show a progress bar.

    Returns:
        ``{"scenario", "rows", "county", "table", "groups", "levers", "lever_areas", "execution"}``.
    """
    from sim.posterior import posterior_argument
    from sim.results import _overrides, _tags, compare_rows, load_unique
    from sim.runner import Job, execute

    post = posterior_argument(posterior)
    base = load_unique([scenario])[0]
    if base.self_start is None:
        from sim.errors import InputError

        raise InputError(base.path, "self_start", "not a forecast scenario (needs a [self_start] table)")
    levers = dict(levers or {})
    arms = [base, *(base.with_overrides(dict(ov), "--lever") for ov in levers.values())]
    jobs = [
        Job(a * replicates + r, str(sc.path), r, seed, _overrides(sc, r, post), _tags(r, post))
        for a, sc in enumerate(arms)
        for r in range(replicates)
    ]
    execution: dict[str, Any] = {}
    results = list(execute(jobs, workers=workers, progress=progress, total=len(jobs), execution=execution))
    sectors = list(base.params.vocab.sector_names)
    years = [y for y in YEARS if y * 12 + 11 <= base.horizon]
    arm_rows, arm_county = [], []
    for a in range(len(arms)):
        chunk = results[a * replicates : (a + 1) * replicates]
        arm_rows.append(pd.DataFrame([{"replicate": r["row"]["replicate"], **f} for r in chunk for f in r["forecast"]]))
        arm_county.append([r["row"] for r in chunk])
    rows = arm_rows[0]
    lever_county = [
        compare_rows(arm_county[0], arm_county[a], base.params.vocab, "county").assign(
            variant_name=name, overrides=str(dict(ov))
        )
        for a, (name, ov) in enumerate(levers.items(), start=1)
    ]
    sector = "agriculture" if "agriculture" in sectors else sectors[0]
    outcome = f"new_office_{sector}_{years[-1]}"
    lever_areas = [
        lever_table(rows, arm_rows[a], outcome).assign(variant_name=name) for a, name in enumerate(levers, start=1)
    ]
    return {
        "scenario": base,
        "rows": rows,
        "county": pd.DataFrame(arm_county[0]),
        "table": forecast_table(rows, sectors, years),
        "groups": group_table(rows, sectors, years[-1]),
        "levers": pd.concat(lever_county, ignore_index=True) if lever_county else pd.DataFrame(),
        "lever_areas": pd.concat(lever_areas, ignore_index=True) if lever_areas else pd.DataFrame(),
        "execution": execution,
        "years": years,
        "sectors": sectors,
        "posterior": post,
    }


def municipality_probabilities(result: dict[str, Any], sector: str, year: int) -> dict[str, float]:
    """Per 2016 municipality: share of replicates with a new formal office in its area (``sector``, ``year``)."""
    table = result["table"].set_index("area")
    column = f"p_new_office_{sector}_{year}"
    return {m: float(table.loc[a.name, column]) for a in result["scenario"].areas for m in a.members}


def forecast_map(result: dict[str, Any], sector: str, year: int):
    """County map: each area coloured by the probability of a new formal office in ``sector`` by ``year``.

    Municipalities at their coordinates (node size = population), areas outlined and numbered,
    each area's modal host ringed; same projection as :mod:`sim.maps`.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from sim.maps import hull, project
    from sim.plots import _style

    sc = result["scenario"]
    table = result["table"].set_index("area")
    facts = {m.name: m for m in sc.municipalities}
    names = list(facts)
    xy = project(np.array([facts[m].lat for m in names]), np.array([facts[m].lon for m in names]))
    pos = dict(zip(names, xy, strict=True))
    prob = municipality_probabilities(result, sector, year)
    with _style():
        fig, ax = plt.subplots(figsize=(10, 9), dpi=160)
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
        half = (len(labels) + 1) // 2
        for col, chunk in enumerate((labels[:half], labels[half:])):
            ax.text(0.5 * col, -0.115, "\n".join(chunk), transform=ax.transAxes, fontsize=9, va="top", ha="left")
        ax.set_title(f"{sc.name}: forecast from {month_label(sc.start)}, {sector} by December {year}")
        ax.set_xlabel("km east")
        ax.set_ylabel("km north")
        ax.set_aspect("equal")
        note = "areas numbered (dashed: assumed membership); ring: most likely host; any: an office in force"
        ax.text(0.0, -0.075, note,
                transform=ax.transAxes, fontsize=8, va="top", ha="left", color="#555555")  # fmt: skip
    return fig


def save_forecast(result: dict[str, Any], folder: Path) -> list[str]:
    """Write the forecast tables (CSV), a Markdown report and the county map (PNG, SVG) into ``folder``."""
    written = []
    for name in ("table", "groups", "rows", "county", "levers", "lever_areas"):
        frame = result[name]
        if len(frame) or name == "groups":
            file = {"table": "forecast.csv", "rows": "forecast_runs.csv", "county": "runs.csv"}.get(name, f"{name}.csv")
            frame.to_csv(folder / file, index=False)
            written.append(file)
    (folder / "forecast.md").write_text(markdown(result), encoding="utf-8")
    written.append("forecast.md")
    year = result["years"][-1]
    sector = "agriculture" if "agriculture" in result["sectors"] else result["sectors"][0]
    fig = forecast_map(result, sector, year)
    for ext in ("png", "svg"):
        fig.savefig(folder / f"forecast_map.{ext}", bbox_inches="tight")
        written.append(f"forecast_map.{ext}")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return written


def markdown(result: dict[str, Any]) -> str:
    """The forecast as a Markdown report: per area and sector, offices by each year, hosts, reasons, levers."""
    sc, table, years, sectors = result["scenario"], result["table"], result["years"], result["sectors"]
    n = int(table["replicates"].iloc[0]) if len(table) else 0
    lines = [
        f"# {sc.name}: forecast from {month_label(sc.start)} to {month_label(sc.horizon)}",
        "",
        f"{n} replicates{'; ' + result['posterior'].note if result.get('posterior') else ''};"
        " 95 % Wilson score intervals. An office: a formal joint arrangement (host form; not a merger)"
        " in force in December serving at least one of the area's municipalities; new: decided after the origin.",
        "",
    ]
    for sector in sectors:
        head = " | ".join(f"office {y} | new office {y} | host, members (share of new) {y}" for y in years)
        lines += [f"## {sector}", "", f"| area | {head} |", "|---|" + "---|---|---|" * len(years)]
        for _, r in table.iterrows():
            cells = []
            for y in years:
                p = f"p_office_{sector}_{y}"
                q = f"p_new_office_{sector}_{y}"
                who = r[f"host_{sector}_{y}"] or "-"
                group = ", ".join(json.loads(r[f"members_{sector}_{y}"])) if r[f"members_{sector}_{y}"] else ""
                share = f" ({r[f'members_share_{sector}_{y}']:.2f})" if group else ""
                cells += [
                    f"{r[p]:.2f} [{r[p + '_low']:.2f}, {r[p + '_high']:.2f}]",
                    f"{r[q]:.2f} [{r[q + '_low']:.2f}, {r[q + '_high']:.2f}]",
                    f"{who}: {group}{share}" if group else "-",
                ]
            lines.append(f"| {r['area']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Nothing happens (no arrangement decided 2017 to the horizon), and why", ""]
    lines += ["| area | P(nothing) | reasons (share of all replicates) | negotiations per run |", "|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['area']} | {r['p_nothing']:.2f} [{r['p_nothing_low']:.2f}, {r['p_nothing_high']:.2f}] | "
            f"{r['why_nothing'] or '-'} | {r['mean_negotiations']:.2f} |"
        )
    if len(result["levers"]):
        lines += ["", "## The §4 levers against this forecast (paired on the same seeds)", ""]
        lines += ["| lever | outcome | forecast | with lever | difference [95 % CI] |", "|---|---|---|---|---|"]
        keep = ("offices_agriculture", "covered_agriculture", "vulnerability_agriculture_mean", "stalls")
        for _, r in result["levers"].iterrows():
            if r["outcome"] in keep:
                lines.append(
                    f"| {r['variant_name']} | {r['label']} | {r['baseline']:.3f} | {r['variant']:.3f} | "
                    f"{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] |"
                )
    return "\n".join(lines) + "\n"
