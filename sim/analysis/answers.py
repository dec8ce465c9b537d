"""One answer per question: the short table and the sentences ``compare`` prints.

A comparison table (:func:`sim.analysis.results.compare`) has one row per variant and outcome, most of
them zeros. What an official needs is the few outcomes that matter for the scenario's kind
(:func:`headline`), only where some variant moves them (:func:`differs`), with units, rounded
to what the interval supports (:func:`decimals`), and one sentence per variant
(:func:`sentence`). The full table still goes to ``comparison.csv``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable

import pandas as pd

from sim.inputs.lang import lever_note, term
from sim.run.codebook import outcome, outcome_label, outcome_unit


def headline(kind: str, sectors: Iterable[str]) -> list[str]:
    """The outcomes an official asks about, by scenario kind, in reading order.

    County (§4): per sector the joint offices, municipalities and residents served, mean and
    worst vulnerability; then negotiations stopped, hosts named by the state and municipalities
    merged. Pilot region (§2): any formal agreement, per sector formal agreement and network,
    stopped and stopped over the governance form, then the three measures at the horizon.
    """
    sectors = list(sectors)
    if kind == "county":
        per = ("offices_{}", "covered_{}", "residents_{}", "vulnerability_{}_mean", "vulnerability_{}_worst")
        return [p.format(s) for s in sectors for p in per] + ["stalls", "state_decisions", "merged"]
    return [
        "any_formal",
        *(f"formal_{s}" for s in sectors),
        *(f"network_{s}" for s in sectors),
        "stalled",
        "governance_dispute",
        "competence_horizon",
        "capacity_horizon",
        "vulnerability_horizon",
    ]


def differs(row: pd.Series | dict) -> bool:
    """The difference is not zero: its 95 % interval excludes 0 (a zero-width interval is exact)."""
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    # A single replicate has no interval (NaN): no difference is ever claimed from it.
    return (lo > 0 or hi < 0) and not (math.isnan(lo) or math.isnan(hi))


def _share(name: str) -> bool:
    found = outcome(name)
    return found is not None and found[0].unit == "share"


def decimals(low: float, high: float, default: int) -> int:
    """Decimals the interval supports: the place of the first significant digit of its width.

    A width of 0.13 gives one decimal (0.3, 0.2 to 0.4); a width of 5,800 residents gives -3
    (rounded to thousands). A zero-width or missing interval (every replicate gave the same
    number) keeps the outcome's own ``default``.
    """
    width = high - low
    if not math.isfinite(width) or width <= 0:
        return default
    # At most four decimals: a near-exact interval would otherwise print digits no reader needs.
    return min(4, -math.floor(math.log10(width)))


def number(x: float, places: int, lang: str = "en", sign: bool = False) -> str:
    """``x`` rounded to ``places`` decimals (negative: tens, hundreds...), grouped by thousands.

    English: ``+1,234.5``; bokmål: ``+1 234,5`` with a true minus sign.
    """
    x = round(x, places)
    text = f"{abs(x):,.{max(places, 0)}f}"
    if x == 0:
        mark = "±" if sign else ""
    else:
        mark = ("+" if x > 0 else "−") if sign else ("−" if x < 0 else "")
    if lang == "nb":
        text = text.replace(",", "\u00a0").replace(".", ",")  # no-break space: a number is never wrapped
    elif mark == "−":
        mark = "-"
    return mark + text


def _scaled(row: pd.Series | dict, name: str) -> tuple[float, float, float, float, float, str]:
    """baseline, variant, difference, low, high; shares as per cent of replicates."""
    keys = ("baseline", "variant", "difference", "ci_low", "ci_high")
    values = [float(row[k]) for k in keys]
    if _share(name):
        return (*(100 * v for v in values), "share")
    return (*values, "")


def unit_words(name: str, lang: str = "en", difference: bool = False) -> str:
    """Unit of an outcome in a table: shares as per cent of replicates (differences in points).

    A unit longer than a column (vulnerability's) is cut to its range (``0-1``); the codebook
    and the outcome's label carry its meaning.
    """
    if _share(name):
        if difference:
            return "prosentpoeng" if lang == "nb" else "percentage points"
        return "% av replikatene" if lang == "nb" else "% of replicates"
    unit = outcome_unit(name, lang)
    return unit if len(unit) <= 24 else unit.rsplit(", ", 1)[-1]


def cells(row: pd.Series | dict, lang: str = "en") -> dict[str, str]:
    """The printed cells of one comparison row: baseline, variant and difference with its interval."""
    name = row["outcome"]
    found = outcome(name)
    default = found[0].decimals if found else 2
    b, v, d, lo, hi, _ = _scaled(row, name)
    if _share(name):
        # Shares print as whole per cent of replicates when every pair agreed.
        default = 0
    places = decimals(lo, hi, default)
    while places < 8 and differs(row) and 0 in (round(lo, places), round(hi, places)):
        places += 1  # a difference whose interval excludes 0 must not print a limit of 0
    interval = (
        f"({number(lo, places, lang, True)} {term('to', lang)} {number(hi, places, lang, True)})"
        if math.isfinite(lo) and math.isfinite(hi) and hi > lo
        else ("(alle like)" if lang == "nb" else "(every pair the same)")
    )
    return {
        "label": outcome_label(name, lang),
        "unit": unit_words(name, lang),
        "baseline": number(b, places, lang),
        "variant": number(v, places, lang),
        "difference": number(d, places, lang, True),
        "interval": interval,
    }


def summary_cells(row: pd.Series | dict, lang: str = "en") -> dict[str, str]:
    """The printed cells of one ``summary.csv`` row: label, unit, value and its interval, rounded alike."""
    name = row["outcome"]
    found = outcome(name)
    scale = 100.0 if _share(name) else 1.0
    value, lo, hi = (scale * float(row[k]) for k in ("value", "ci_low", "ci_high"))
    places = decimals(lo, hi, 0 if _share(name) else (found[0].decimals if found else 2))
    interval = (
        f"({number(lo, places, lang)} {term('to', lang)} {number(hi, places, lang)})"
        if math.isfinite(lo) and math.isfinite(hi) and hi > lo
        else ("(alle like)" if lang == "nb" else "(every replicate the same)")
    )
    return {
        "label": outcome_label(name, lang),
        "unit": unit_words(name, lang),
        "value": number(value, places, lang),
        "interval": interval,
    }


def short_table(table: pd.DataFrame, kind: str, sectors: Iterable[str]) -> pd.DataFrame:
    """The headline rows of a comparison that differ in at least one variant (headline order)."""
    wanted = headline(kind, sectors)
    moved = {o for o, r in zip(table["outcome"], table.to_dict("records"), strict=True) if differs(r)}
    keep = [o for o in wanted if o in moved]
    t = table[table["outcome"].isin(keep)].copy()
    t["_order"] = t["outcome"].map({o: i for i, o in enumerate(keep)})
    return t.sort_values(["_order"], kind="stable").drop(columns="_order")


def _strength(row: dict) -> float:
    """How clearly a row differs: |difference| over its interval's half-width (infinite when exact)."""
    half = (float(row["ci_high"]) - float(row["ci_low"])) / 2
    # Measured in its own interval's half-widths, so outcomes of different units (per cent,
    # residents, vulnerability) can be ranked against each other.
    return math.inf if half <= 0 else abs(float(row["difference"])) / half


def figure_order(table: pd.DataFrame, names: list[str]) -> list[str]:
    """The outcomes ``names`` in the order of the figure's panels.

    Sector groups (and the county-wide outcomes as a group of their own) by their clearest
    difference in any variant; headline order within a group.
    """
    groups: dict[str, list[str]] = {}
    for name in names:
        found = outcome(name)
        groups.setdefault((found[1].get("sector", "") if found else ""), []).append(name)
    rows = table.to_dict("records")

    def clearest(group: list[str]) -> float:
        return max((_strength(r) for r in rows if r["outcome"] in group and differs(r)), default=0.0)

    # sorted() is stable: groups that tie keep headline order, so the panels do not reorder
    # between runs with equal results.
    return [n for g in sorted(groups, key=lambda g: -clearest(groups[g])) for n in groups[g]]


def _by_weight(rows: list[dict]) -> list[dict]:
    """Rows grouped by sector, the sector whose clearest difference is clearest first; headline order within.

    County-wide rows (no sector in the name) come last, so a sentence starts with where the
    variant acts most clearly (a mandatory host for agriculture: agriculture's offices first).
    """
    groups: dict[str, list[dict]] = {}
    for r in rows:
        found = outcome(r["outcome"])
        groups.setdefault((found[1].get("sector", "") if found else ""), []).append(r)
    order = sorted(groups, key=lambda g: (g == "", -max(_strength(r) for r in groups[g])))
    return [r for g in order for r in groups[g]]


def sentence(name: str, rows: pd.DataFrame, n: int, lang: str = "en", most: int = 5) -> str:
    """One sentence for one variant: its headline differences with their intervals.

    ``rows`` are the variant's rows of :func:`short_table`; only those that differ are named
    (at most ``most``, in headline order); the rest are said to be within chance.
    """
    moved = _by_weight([r for r in rows.to_dict("records") if differs(r)])
    if not moved:
        return term("no_difference", lang).format(name=name, n=n)
    parts = []
    for r in moved[:most]:
        c = cells(r, lang)
        unit = f" {unit_words(r['outcome'], lang, difference=True)}" if _share(r["outcome"]) else ""
        parts.append(f"{c['label'][0].lower() + c['label'][1:]} {c['difference']}{unit} {c['interval']}")
    tail = f"; {term('unclear', lang)}" if len(moved) < len(rows) else ""
    more = f"; {term('more_rows', lang).format(k=len(moved) - most)}" if len(moved) > most else ""
    return f"{term('changes', lang).format(name=name)}: " + "; ".join(parts) + more + tail + "."


def render(
    table: pd.DataFrame, kind: str, sectors: Iterable[str], title: str, lang: str = "en", csv: bool = True
) -> str:
    """The text ``compare`` prints: per variant a short table of its headline outcomes that differ, and a sentence."""
    sectors = list(sectors)
    short = short_table(table, kind, sectors)
    n = int(table["n"].iloc[0])
    lines = [f"{title}: {n} {term('paired', lang)}. {term('short_table' if csv else 'differ', lang)}."]
    heads = (term("outcome", lang), term("unit", lang), term("baseline", lang), term("variant", lang))
    for name, g in short.groupby("variant_name", sort=False):
        levers = lever_note(table.loc[table["variant_name"] == name, "overrides"].iloc[0], lang)
        lines += ["", textwrap.fill(f"{name}: {levers}", 110, subsequent_indent="  ")]
        rows = [cells(r, lang) for r in _by_weight([r for r in g.to_dict("records") if differs(r)])]
        if not rows:
            lines.append("  " + term("no_difference", lang).format(name=name, n=n))
            continue
        width = max([len(heads[0]), *(len(c["label"]) for c in rows)])
        uw = max([len(heads[1]), *(len(c["unit"]) for c in rows)])
        lines.append(
            f"  {heads[0]:{width}s}  {heads[1]:{uw}s}  {heads[2]:>12s}  {heads[3]:>12s}  "
            f"{term('difference', lang)} ({term('interval', lang)})"
        )
        for c in rows:
            lines.append(
                f"  {c['label']:{width}s}  {c['unit']:{uw}s}  {c['baseline']:>12s}  {c['variant']:>12s}  "
                f"{c['difference']} {c['interval']}"
            )
        lines.append(textwrap.fill(sentence(name, g, n, lang), 110, initial_indent="  ", subsequent_indent="  "))
    silent = [v for v in dict.fromkeys(table["variant_name"]) if v not in set(short["variant_name"])]
    for name in silent:
        lines += ["", term("no_difference", lang).format(name=name, n=n)]
    return "\n".join(lines)
