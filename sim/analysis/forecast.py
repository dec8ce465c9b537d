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

import ast
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.answers import sentence, short_table
from sim.analysis.posterior import posterior_argument
from sim.analysis.results import _overrides, _tags, compare_rows, load_unique
from sim.analysis.stats import METHODS, newcombe_paired, wilson
from sim.inputs.calendar import month_label
from sim.inputs.errors import InputError
from sim.inputs.lang import lever_note
from sim.run.execution import Execution
from sim.run.runner import Job

#: The row of the whole county in the forecast table.
COUNTY = "(whole county)"

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
                # The host is the most common one of the most common group, so host and members are a pair
                # that occurred together, not two modes from different runs.
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
                # Counted per run, not summed over areas: the areas of one run are not independent (they share
                # the county's initiative and reforms), so the county's chance is read from the runs themselves.
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
    # Paired by replicate: replicate r of the forecast and of the lever share their seed.
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
    # Empty values are runs without a new office in the area; they have no host or group to count.
    counts = Counter(v for v in values if v)
    if not counts:
        return "", 0.0
    value, k = counts.most_common(1)[0]
    return value, k / sum(counts.values())


def _lever_tables(base, levers: dict, arm_rows: list, arm_county: list, outcome: str) -> tuple[pd.DataFrame, ...]:
    """Each lever against the forecast, paired by replicate: county outcomes, and ``outcome`` per area."""
    county = [
        compare_rows(arm_county[0], arm_county[a], base.params.vocab, "county").assign(
            variant_name=name, overrides=str(dict(ov))
        )
        for a, (name, ov) in enumerate(levers.items(), start=1)
    ]
    areas = [
        lever_table(arm_rows[0], arm_rows[a], outcome).assign(variant_name=name)
        for a, name in enumerate(levers, start=1)
    ]
    return (
        pd.concat(county, ignore_index=True) if county else pd.DataFrame(),
        pd.concat(areas, ignore_index=True) if areas else pd.DataFrame(),
    )


def run_forecast(
    scenario: str = "trondelag-2017",
    replicates: int = 1000,
    seed: int = 20161214,
    execution: Execution = Execution(progress=False),
    levers: dict[str, dict[str, Any]] | None = None,
    posterior: Any = None,
) -> dict[str, Any]:
    """Run the forecast (and each lever on the same seeds) and return its tables.

    Args:
        scenario: A forecast scenario (a county file with ``[self_start]``).
        replicates: Replicates per arm.
        seed: Base seed (replicate ``r`` of every arm shares its stream).
        execution: Workers and progress bar (results do not depend on it; local workers only).
        levers: ``{name: {--set key: value}}`` compared against the forecast.
        posterior: A calibration result folder or :class:`sim.analysis.posterior.Posterior`: replicate ``r``
            of every arm runs with posterior set ``r mod K``.

    Returns:
        ``{"scenario", "rows", "county", "table", "groups", "levers", "lever_areas", "execution"}``.
    """
    post = posterior_argument(posterior)
    base = load_unique([scenario])[0]
    if base.self_start is None:
        raise InputError(base.path, "self_start", "not a forecast scenario (needs a [self_start] table)")
    levers = dict(levers or {})
    arms = [base, *(base.with_overrides(dict(ov), "--lever") for ov in levers.values())]
    jobs = [
        Job(a * replicates + r, str(sc.path), r, seed, _overrides(sc, r, post), _tags(r, post))
        for a, sc in enumerate(arms)
        for r in range(replicates)
    ]
    used: dict[str, Any] = {}
    results = list(execution.execute(jobs, len(jobs), used))
    sectors = list(base.params.vocab.sector_names)
    from sim.core.outcomes import YEARS  # here, not at the top: the CLI's process need not load Mesa (issue 19)

    years = [y for y in YEARS if y * 12 + 11 <= base.horizon]  # "by year y": December of y, inside the horizon
    arm_rows, arm_county = [], []  # results come in job order: arm a's replicates are one block, in order
    for a in range(len(arms)):
        chunk = results[a * replicates : (a + 1) * replicates]
        arm_rows.append(pd.DataFrame([{"replicate": r["row"]["replicate"], **f} for r in chunk for f in r["forecast"]]))
        arm_county.append([r["row"] for r in chunk])
    rows = arm_rows[0]
    sector = "agriculture" if "agriculture" in sectors else sectors[0]
    lever_county, lever_areas = _lever_tables(base, levers, arm_rows, arm_county, f"new_office_{sector}_{years[-1]}")
    return {
        "scenario": base,
        "rows": rows,
        "county": pd.DataFrame(arm_county[0]),
        "table": forecast_table(rows, sectors, years),
        "groups": group_table(rows, sectors, years[-1]),
        "levers": lever_county,
        "lever_areas": lever_areas,
        "execution": used,
        "years": years,
        "sectors": sectors,
        "posterior": post,
    }


def where(areas: pd.DataFrame, lever: str) -> str:
    """Where one lever acts: the areas whose paired difference in a new office excludes 0, largest first.

    Args:
        areas: :func:`lever_table` rows of every lever (``variant_name`` column).
        lever: The lever's name.
    """
    # Only areas whose interval excludes 0, as answers.differs decides county-wide: with dozens of
    # areas, some differences within chance would otherwise read as effects.
    rows = areas[(areas["variant_name"] == lever) & ((areas["ci_low"] > 0) | (areas["ci_high"] < 0))]
    rows = rows.reindex(rows["difference"].abs().sort_values(ascending=False).index)
    if rows.empty:
        return "no area's chance of a new office changes clearly (every interval includes 0)"
    parts = [
        f"{r['area']} {100 * r['difference']:+.0f} points ({100 * r['ci_low']:+.0f} to {100 * r['ci_high']:+.0f};"
        f" {100 * r['forecast']:.0f} % -> {100 * r['variant']:.0f} %)"
        for _, r in rows.iterrows()
    ]
    return "; ".join(parts) + "; elsewhere no clear change"


#: The columns of :func:`digest`: outcome (of the first sector, agriculture), heading, decimals.
DIGEST = (
    ("offices_{}", "joint offices", 2),
    ("covered_{}", "municipalities served", 2),
    ("vulnerability_{}_mean", "mean vulnerability", 3),
    ("stalls", "negotiations stopped", 1),
)


def digest(levers: pd.DataFrame, sector: str = "agriculture") -> str:
    """The levers in one Markdown table (the one the README quotes): forecast, then each lever's difference.

    Args:
        levers: ``levers.csv`` of ``forecast --levers``.
        sector: The sector of the per-sector columns.
    """
    names = [(o.format(sector), head, d) for o, head, d in DIGEST]

    def num(x: float, d: int, sign: bool = True) -> str:
        # A true minus sign: as wide as the plus, so the table's columns line up.
        return f"{x:{'+' if sign else ''}.{d}f}".replace("-", "\u2212")

    first = levers[levers["variant_name"] == levers["variant_name"].iloc[0]].set_index("outcome")
    lines = [
        "| lever (from January 2017) | " + " | ".join(h for _, h, _ in names) + " |",
        "|---" * (len(names) + 1) + "|",
        "| forecast (no lever) | " + " | ".join(num(first.loc[o, "baseline"], d, False) for o, _, d in names) + " |",
    ]
    for _, g in levers.groupby("variant_name", sort=False):
        g = g.set_index("outcome")
        overrides = ast.literal_eval(str(g["overrides"].iloc[0]))
        label = " + ".join(f"`{k}`" if v is True else f"`{k}={str(v).lower()}`" for k, v in overrides.items())
        cells = [
            f"{num(g.loc[o, 'difference'], d)} [{num(g.loc[o, 'ci_low'], d)}, {num(g.loc[o, 'ci_high'], d)}]"
            for o, _, d in names
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def answer(result: dict[str, Any]) -> list[str]:
    """The short answer first: per lever, what it adds to the forecast county-wide and where (Markdown lines).

    County-wide: :func:`sim.analysis.answers.sentence` over the headline outcomes that differ (every
    sector). Where: :func:`where` on ``lever_areas`` (a new office of its sector by the horizon year).
    """
    levers, areas = result["levers"], result["lever_areas"]
    if not len(levers):
        return []
    sectors = result["sectors"]
    n = int(levers["n"].iloc[0])
    short = short_table(levers, "county", sectors)
    outcome = str(areas["outcome"].iloc[0]) if len(areas) else ""
    lines = [
        "## The answer: what each lever adds to this forecast",
        "",
        f"Paired on the same {n} seeds; 95 % intervals; only differences whose interval excludes 0 are named."
        f" Where: the areas whose chance of `{outcome}` (forecast_runs.csv) changes, in percentage points"
        " (lever_areas.csv has every area; levers.csv every outcome).",
        "",
    ]
    for name in dict.fromkeys(levers["variant_name"]):
        rows = short[short["variant_name"] == name]
        note = lever_note(levers.loc[levers["variant_name"] == name, "overrides"].iloc[0])
        lines += [f"- **{name}** ({note}). {sentence(name, rows, n)}", f"  Where: {where(areas, name)}."]
    sector = outcome.removeprefix("new_office_").rsplit("_", 1)[0] if outcome else result["sectors"][0]
    return [*lines, "", f"In {sector}, December {result['years'][-1]}:", "", digest(levers, sector)]


def markdown(result: dict[str, Any]) -> str:
    """The forecast as a Markdown report: the levers' answer, then per area and sector offices, hosts, reasons."""
    sc, table, years, sectors = result["scenario"], result["table"], result["years"], result["sectors"]
    n = int(table["replicates"].iloc[0]) if len(table) else 0
    ends = [f"{ex.name} (until {month_label(ex.until)})" for ex in sc.existing if ex.until is not None]
    lines = [
        f"# {sc.name}: forecast from {month_label(sc.start)} to {month_label(sc.horizon)}",
        "",
        f"{n} replicates{'; ' + result['posterior'].note if result.get('posterior') else ''};"
        " 95 % Wilson score intervals. An office: a formal joint arrangement (host form; not a merger)"
        " in force in December serving at least one of the area's municipalities; new: decided after the origin."
        + (f" Arrangements in force at the origin that end by their own decision: {', '.join(ends)}." if ends else ""),
        "",
        *answer(result),
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


def save_tables(result: dict[str, Any], folder: Path) -> list[str]:
    """Write the forecast tables (CSV) and the Markdown report into ``folder`` (the map: :mod:`sim.views.figures`)."""
    written = []
    for name in ("table", "groups", "rows", "county", "levers", "lever_areas"):
        frame = result[name]
        # groups.csv is written even when empty (no new office in any run): the folder then always
        # holds the same files.
        if len(frame) or name == "groups":
            file = {"table": "forecast.csv", "rows": "forecast_runs.csv", "county": "runs.csv"}.get(name, f"{name}.csv")
            frame.to_csv(folder / file, index=False)
            written.append(file)
    (folder / "forecast.md").write_text(markdown(result), encoding="utf-8")
    written.append("forecast.md")
    return written
