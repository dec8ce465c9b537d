"""Plots for reports: every figure the CLI writes.

Outcome shares, fan charts, a negotiation timeline, a region map, comparisons, sensitivity
indices and PRIM boxes. Every function returns a matplotlib Figure built inside a style context, so importing this
module changes no global setting (a notebook's own plots keep working); :func:`save` writes PNG
and SVG. Plots read records (vote and event rows), never sentences, and show the vocabulary's
plain-language labels, never its codes. Each figure is laid out to be read at 1600 px width with
no overlapping text (``tests/test_figures.py`` checks every figure the CLI writes).
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import answers
from sim.analysis.answers import differs, figure_order, headline, short_table, unit_words
from sim.analysis.experiments import SENSITIVITY_OUTCOMES
from sim.inputs.lang import lever_note, month_words, names, term
from sim.inputs.params import by_name
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import NONE, Cause, EventKind
from sim.run.codebook import outcome_label, outcome_unit
from sim.views.borders import Projection, draw_borders

PALETTE = ("#1b9e77", "#386cb0", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d")
NONE_COLOUR = "#bbbbbb"
#: Widest PNG written (px): every figure is laid out to be read at this width.
WIDTH_PX = 1600
#: Units of the service measures, for axis and tick labels.
MEASURE_UNITS = {
    "competence": "0-1",
    "capacity": "FTE per FTE needed",
    "vulnerability": "chance a task goes unserved when one person is away",
}
STYLE = {
    "text.parse_math": False,
    "font.size": 10,
    "axes.titlesize": 11,
    "figure.dpi": 110,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@contextmanager
def _style() -> Iterator[Any]:
    import matplotlib.pyplot as plt

    # A context, not plt.rcParams.update: a notebook that imports this module keeps its own style.
    with plt.rc_context(STYLE):
        yield plt


def form_colour(scenario: Scenario, form: str) -> str:
    """Colour of a form (by its place in the vocabulary); grey for no arrangement."""
    names = scenario.params.vocab.form_names
    # By the form's place in the vocabulary: a form has one colour in every figure, and a form
    # added as data gets one without code.
    return PALETTE[names.index(form) % len(PALETTE)] if form in names else NONE_COLOUR


def form_label(scenario: Scenario, form: str, lang: str = "en") -> str:
    """Plain-language name of a form (the vocabulary's label; in bokmål the term of :mod:`sim.inputs.lang`)."""
    if lang != "en":
        return term(form if form in scenario.params.vocab.form_names else NONE, lang)
    return scenario.params.vocab.form(form).label if form in scenario.params.vocab.form_names else "own service"


def sector_label(scenario: Scenario, sector: str, lang: str = "en") -> str:
    """Plain-language name of a sector (the vocabulary's label, or its term in ``lang``)."""
    labels = {s.name: s.label for s in scenario.params.vocab.sectors}
    return labels.get(sector, sector) if lang == "en" else term(sector, lang)


#: Why a process stopped, in plain words (one entry per :class:`sim.inputs.vocab.Cause`; words in ``sim.inputs.lang``).
CAUSES: dict[str, str] = {c: term(f"cause.{c}") for c in Cause}


def cause_label(cause: str, lang: str = "en") -> str:
    """Plain-language reason for a stop (the cause code itself if it is not a known cause)."""
    return term(f"cause.{cause}", lang) if cause in CAUSES else str(cause).replace("_", " ")


def _month_date(month: str | int) -> pd.Timestamp:
    """First day of a month given as ``YYYY-MM`` or as a month index (year * 12 + month - 1)."""
    if isinstance(month, str):
        return pd.Period(month, "M").to_timestamp()
    return pd.Timestamp(year=int(month) // 12, month=int(month) % 12 + 1, day=1)


def _date_axis(ax, max_ticks: int = 6) -> None:
    """Readable month ticks: at most ``max_ticks``, concise labels (``2015``, ``Apr``, ...)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=2, maxticks=max_ticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def _list(value: Any) -> list[str]:
    """A record's list field (a list, or a JSON array as in the CSV files); [] when empty."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        out = json.loads(value)
    except json.JSONDecodeError:
        return [value]
    return [str(v) for v in out] if isinstance(out, list) else [str(out)]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def save_dpi(fig) -> float:
    """The dpi :func:`save` writes a figure at: its own, or less so the PNG is at most :data:`WIDTH_PX` wide."""
    fig.canvas.draw()  # lay out at the figure's own dpi, then measure what "tight" will keep
    inches = max(fig.get_figwidth(), fig.get_tightbbox().width) + 0.2  # + pad_inches on both sides
    return min(fig.dpi, (WIDTH_PX - 2) / inches)


def save(fig, path_stem: Path) -> list[Path]:
    """Save a figure as PNG and SVG; return the paths. The PNG is at most :data:`WIDTH_PX` wide."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")]
    for text in fig.findobj(Text):  # names are plain text: "$...$" in a name is not TeX (titles set late)
        text.set_parse_math(False)
    with plt.rc_context({"text.parse_math": False}):  # tick labels made while drawing, too
        # The PNG is scaled down to WIDTH_PX by its dpi, not laid out again, so text placed at the
        # figure's own size keeps its place (tests/test_figures.py saves at the same dpi).
        dpi = save_dpi(fig)  # measures the drawn figure: after the texts are plain
        for p in paths:
            fig.savefig(p, bbox_inches="tight", dpi=dpi)
    plt.close(fig)
    return paths


def outcome_shares(summary: pd.DataFrame, title: str):
    """Bar chart of outcome shares with 95 % intervals."""
    s = summary[summary["kind"] == "share"]
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(s) + 1.4), layout="constrained")
        y = np.arange(len(s))
        # matplotlib refuses negative error-bar lengths, and rounding can make one a hair below zero.
        err = np.clip(np.vstack([s["value"] - s["ci_low"], s["ci_high"] - s["value"]]), 0, None)
        ax.barh(y, s["value"], xerr=err, color=PALETTE[1], capsize=3)
        ax.set_yticks(y, s["label"])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        n = int(s["n"].iloc[0]) if len(s) else 0
        ax.set_xlabel(f"Share of {n} replicates (95 % Wilson score interval)")
        ax.set_title(title)
    return fig


def _comparison_kind(table: pd.DataFrame) -> tuple[str, list[str]]:
    """Scenario kind and sectors of a comparison table, read from its outcome names."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    if any(o.startswith("offices_") for o in outcomes):
        return "county", [o.removeprefix("offices_") for o in outcomes if o.startswith("offices_")]
    return "region", [o.removeprefix("formal_") for o in outcomes if o.startswith("formal_")]


def comparison(table: pd.DataFrame, title: str, lang: str = "en", most: int = 9):
    """Variant minus baseline with 95 % intervals: one panel per outcome, one row per variant.

    The panels are the scenario kind's headline outcomes that differ in some variant
    (:func:`sim.analysis.answers.short_table`; all headline outcomes when none differs), the sector with the
    clearest difference first (:func:`sim.analysis.answers.figure_order`), at most ``most``,
    each on its own axis in its own unit (shares in percentage points), with a zero line. The
    figure is 14 inches wide (1,540 px as saved), the variants' levers are listed under the panels,
    and the title gives the number of paired replicates and the interval methods.
    """
    kind, sectors = _comparison_kind(table)
    short = short_table(table, kind, sectors)
    names = list(dict.fromkeys(short["outcome"])) or [o for o in headline(kind, sectors) if o in set(table["outcome"])]
    names = figure_order(table, names)[:most]
    variants = list(dict.fromkeys(table["variant_name"]))
    ncols = min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    panel = 0.42 * len(variants) + 1.5
    with _style() as plt:
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(14, panel * nrows + 1.2 + 0.25 * len(variants)), squeeze=False, layout="constrained"
        )
        for k, ax in enumerate(axes.flat):
            if k >= len(names):
                ax.set_axis_off()
                continue
            name = names[k]
            t = table[table["outcome"] == name].set_index("variant_name").reindex(variants)
            scale = 100.0 if t["kind"].iloc[0] == "share" else 1.0
            d = t["difference"].to_numpy(float) * scale
            lo, hi = t["ci_low"].to_numpy(float) * scale, t["ci_high"].to_numpy(float) * scale
            err = np.clip(np.vstack([d - lo, hi - d]), 0, None)
            y = np.arange(len(variants))
            ax.axvline(0, color="black", lw=0.8, zorder=1)
            ax.errorbar(d, y, xerr=np.nan_to_num(err), fmt="none", ecolor=PALETTE[2], capsize=3, zorder=2)
            moved = np.array([differs(r) for r in t.reset_index().to_dict("records")])
            # Filled only where the interval excludes 0: the eye goes to the differences that are not chance.
            ax.scatter(d, y, s=36, color=np.where(moved, PALETTE[2], "white"), edgecolor=PALETTE[2], zorder=3)
            if np.nanmax(np.abs(np.r_[lo, hi, d])) >= 10_000:
                ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: answers.number(x, 0, lang)))
            ax.set_yticks(y, [_wrap(v, 22) for v in variants] if k % ncols == 0 else [])
            ax.set_ylim(len(variants) - 0.5, -0.5)
            ax.grid(axis="x", color="#dddddd", lw=0.6)
            ax.set_axisbelow(True)
            ax.xaxis.set_major_locator(plt.MaxNLocator(4))
            ax.set_title(_wrap(outcome_label(name, lang), 40), fontsize=10)
            unit = unit_words(name, lang, difference=True) if scale == 100.0 else outcome_unit(name, lang)
            ax.set_xlabel(_wrap(unit, 44), fontsize=9)
        levers = [
            f"{v}: {lever_note(table.loc[table['variant_name'] == v, 'overrides'].iloc[0], lang)}" for v in variants
        ]
        levers.append(term("filled", lang))
        fig.supxlabel("\n".join(_wrap(text, 150) for text in levers), fontsize=9, ha="center")
        methods = "; ".join(f"{k}: {m}" for k, m in dict(zip(table["kind"], table["method"], strict=True)).items())
        fig.suptitle(
            _wrap(f"{title} ({int(table['n'].iloc[0])} {term('paired', lang)}); {term('effect_axis', lang)}", 120)
            + "\n"
            + _wrap(f"{term('intervals', lang).capitalize()}: {methods}", 140),
        )
    return fig


def lever_effects(tables: dict[str, pd.DataFrame], outcomes: list[str], title: str):
    """Several levers in several cases on one figure: variant minus baseline with 95 % intervals.

    One panel per outcome (shares: paired Newcombe intervals; means: paired t), one row per
    variant (named by its variant name), one colour and marker per case, a zero line for "no
    difference". ``tables`` maps a case's name to its :func:`sim.analysis.results.compare` table.
    """
    cases = list(tables)
    variants = list(dict.fromkeys(v for t in tables.values() for v in t["variant_name"]))
    markers = ("o", "s", "D", "^", "v")
    first = next(iter(tables.values()))
    labels = {o: first.loc[first["outcome"] == o, "label"].iloc[0] for o in outcomes}
    kinds = {o: first.loc[first["outcome"] == o, "kind"].iloc[0] for o in outcomes}
    with _style() as plt:
        fig, axes = plt.subplots(
            1,
            len(outcomes),
            figsize=(4.2 * len(outcomes) + 2.6, 0.55 * len(variants) * max(1, len(cases) / 2) + 2.2),
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        # The cases side by side within a variant's row, so their intervals never hide one another.
        offsets = np.linspace(-0.25, 0.25, len(cases)) if len(cases) > 1 else [0.0]
        for ax, outcome in zip(axes[0], outcomes, strict=True):
            ax.axvline(0, color="black", lw=0.8, zorder=1)
            for c, case in enumerate(cases):
                t = tables[case]
                # Reindexed: a case without this variant leaves its row empty, not shifting the others up.
                t = t[t["outcome"] == outcome].set_index("variant_name").reindex(variants)
                y = np.arange(len(variants)) + offsets[c]
                err = np.clip(np.vstack([t["difference"] - t["ci_low"], t["ci_high"] - t["difference"]]), 0, None)
                ax.errorbar(
                    t["difference"],
                    y,
                    xerr=err,
                    fmt=markers[c % len(markers)],
                    color=PALETTE[c % len(PALETTE)],
                    capsize=3,
                    zorder=2,
                    label=case,
                )
            if kinds[outcome] == "share":
                # The full possible range of a difference in shares, the same in every panel, so the size of an
                # effect reads alike across outcomes.
                ax.set_xlim(-1.05, 1.05)
                ax.set_xlabel("Difference in share of runs\n(variant minus baseline, 95 % interval)", fontsize=9)
            else:
                ax.set_xlabel("Difference in mean\n(variant minus baseline, 95 % interval)", fontsize=9)
            ax.xaxis.set_major_locator(plt.MaxNLocator(5))
            ax.grid(axis="x", color="#dddddd", lw=0.6)
            ax.set_axisbelow(True)
            ax.set_title(_wrap(labels[outcome], 34), fontsize=10)
            ax.set_yticks(range(len(variants)), [_wrap(v, 28) for v in variants])
            ax.set_ylim(len(variants) - 0.5, -0.5)
        handles, names = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncol=len(cases), frameon=False)
        n = int(first["n"].iloc[0])
        fig.suptitle(_wrap(f"{title} ({n} paired runs per arm, same seeds)", 90))
    return fig


def _flat(sub: pd.DataFrame, measure: str) -> bool:
    """True when a panel's replicates do not spread: every municipality and month the same in all of them."""
    spread = sub.groupby(["municipality", "month"])[measure].agg(lambda v: v.max() - v.min())
    # A tolerance: means over sectors of equal runs can differ in the last bit.
    return not (len(spread) and float(spread.max()) > 1e-9)


def fan_charts(timeline: pd.DataFrame, scenario: Scenario, title: str, lang: str = "en"):
    """Median and 10-90 % band over replicates per municipality: measures x sectors, shared y per row.

    Municipalities differ in colour and line style, so a line that lies on another stays visible.
    A panel whose replicates do not differ (no band to draw) says so in its title, and the figure's
    title says why when no arrangement formed in any replicate (a measure changes only with one).
    """
    styles = ("-", "--", "-.", ":")
    sectors = scenario.params.vocab.sectors
    flat = []
    with _style() as plt:
        fig, axes = plt.subplots(
            3,
            len(sectors),
            figsize=(4 * len(sectors) + 1.5, 9.4),
            sharex=True,
            sharey="row",
            squeeze=False,
            layout="constrained",
        )
        months = pd.PeriodIndex(sorted(timeline["month"].unique()), freq="M").to_timestamp()
        colours = plt.cm.tab10.colors
        for i, measure in enumerate(("competence", "capacity", "vulnerability")):
            for j, sector in enumerate(sectors):
                ax = axes[i][j]
                sub = timeline[timeline["sector"] == sector.name]
                for k, (name, g) in enumerate(sub.groupby("municipality", sort=False)):
                    # The 10-90 % band shows how far replicates spread (what one run may look like), not an
                    # interval for the mean, which would shrink with more replicates.
                    q = g.groupby("month")[measure].quantile([0.1, 0.5, 0.9]).unstack()
                    ax.fill_between(months, q[0.1], q[0.9], color=colours[k % 10], alpha=0.2, lw=0)
                    ax.plot(months, q[0.5], color=colours[k % 10], lw=1.6, ls=styles[k % len(styles)], label=name)
                flat.append(_flat(sub, measure))
                heading = [sector_label(scenario, sector.name, lang).capitalize()] if i == 0 else []
                ax.set_title("\n".join(heading + ([term("fan.flat", lang)] if flat[-1] else [])), fontsize=9.5)
                # The line sits at the first month after the pilot: the pilot's last month is still inside it.
                ax.axvline(_month_date(scenario.pilot_end + 1), color="grey", lw=0.8, ls=":")
                _date_axis(ax, max_ticks=5)
                if j == 0:
                    ax.set_ylabel(term(f"fan.{measure}", lang))
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), frameon=False)
        n = timeline["replicate"].nunique() if "replicate" in timeline else 1
        head = _wrap(term("fan.title", lang).format(name=title, n=n), 120)
        none = "form" in timeline and (timeline["form"].astype(str) == NONE).all()
        fig.suptitle(head + ("\n" + term("fan.why_flat", lang) if any(flat) and none else ""))
    return fig


#: Event kinds drawn as vertical lines in the timeline: legend term and colour (others: grey).
TIMELINE_MARKS: dict[str, tuple[str, str]] = {
    EventKind.PROPOSAL: ("tl.proposal", PALETTE[1]),
    EventKind.AGREEMENT: ("tl.agreement", PALETTE[0]),
    EventKind.STALL: ("tl.stall", PALETTE[2]),
    EventKind.REFORM: ("tl.reform", PALETTE[3]),
}
OTHER_STEP = ("tl.other", "#9a9a9a")


def _vote_words(event, votes: pd.DataFrame | None, lang: str) -> str:
    """``first vote (yes: A and B; no: C)`` from the replicate's vote rows of the event's month."""
    stage, yes, no, mine = term("ev.vote", lang), [], [], pd.DataFrame()
    if votes is not None and len(votes):
        mine = votes[votes["month"] == event["month"]]
        if len(mine):
            stage = term(f"ev.{mine['stage'].iloc[0]}_vote", lang)
        yes = list(mine.loc[mine["vote"] == "yes", "municipality"])
        no = list(mine.loc[mine["vote"] != "yes", "municipality"])
    if no:
        sides = term("ev.sides", lang).format(yes=names(yes, lang) or term("ev.none", lang), no=names(no, lang))
        for _, v in mine.iterrows():
            if backs_form_names_other_host(v):
                key = "ev.names_itself" if v["named_host"] == v["municipality"] else "ev.names_host"
                sides += "; " + term(key, lang).format(who=v["municipality"], host=v["named_host"])
    else:
        sides = term("ev.all_yes", lang).format(yes=names(yes, lang)) if yes else ""
    return stage + (f" ({sides})" if sides else "")


def new_round(event, earlier: pd.DataFrame, scenario: Scenario, lang: str = "en") -> str:
    """A pre-project that is not the region's first: the new round on the remaining sectors, and what started it.

    After a joint office opens (or a network's pilot period ends) the project starts again on
    the sectors not yet agreed (:meth:`sim.core.negotiation.ProjectOrganisation.next_round`); ``earlier``
    are the region's events before it.
    """
    done = {s for _, e in earlier[earlier["kind"] == EventKind.SERVICE_START].iterrows() for s in _list(e["sectors"])}
    rest = [sector_label(scenario, s, lang) for s in scenario.params.vocab.sector_names if s not in done]
    key = "ev.new_round" if (earlier["kind"] == EventKind.SERVICE_START).any() else "ev.new_round_network"
    return term(key, lang).format(sectors=names(rest, lang), members=names(_list(event.get("members")), lang))


def describe_event(
    event: dict[str, Any] | pd.Series,
    scenario: Scenario,
    votes: pd.DataFrame | None = None,
    lang: str = "en",
    earlier: pd.DataFrame | None = None,
) -> str:
    """One event record in plain words (``lang``), built from its fields (never from its ``text``).

    Args:
        event: A row of ``events.csv`` (``kind, sectors, form, host, members, municipality, cause, value``).
        scenario: The scenario (for the vocabulary's labels).
        votes: The replicate's votes; a ``vote`` event is described with its stage and each side.
        lang: ``en`` or ``nb``.
        earlier: The region's events before this one; a second pre-project is then told as a new
            round on the remaining sectors (:func:`new_round`).
    """
    kind, form, host = str(event["kind"]), str(event.get("form") or ""), str(event.get("host") or "")
    sectors = names([sector_label(scenario, s, lang) for s in _list(event.get("sectors"))], lang)
    members = names(_list(event.get("members")), lang)
    option = ""
    if form:
        option = term("ev.option", lang).format(form=form_label(scenario, form, lang), sectors=sectors)
        option += term("ev.hosted", lang).format(host=host) if host else ""
    if kind == EventKind.VOTE:
        return _vote_words(event, votes, lang)
    if kind == EventKind.REFORM:
        return f"{term('ev.reform.' + str(event.get('cause')), lang)}: {members}"
    if kind == EventKind.PRE_PROJECT_START and earlier is not None:
        if (earlier["kind"] == EventKind.PRE_PROJECT_START).any():
            return new_round(event, earlier, scenario, lang)
    words = term(f"ev.{kind}", lang)
    if "{option}" in words and not option:  # "the councils agree on {option}" -> "the councils agree"
        return words.split(" {option}")[0].rstrip(":").removesuffix(" on").removesuffix(" om")
    return words.format(
        option=option,
        members=members,
        who=str(event.get("municipality") or ""),
        cause=cause_label(str(event.get("cause")), lang),
    ).replace(" ()", "")


def _levels(positions: list[float], gap: float) -> list[int]:
    """Stack labels at sorted ``positions`` on the lowest level where they keep ``gap`` from the previous one."""
    last: list[float] = []
    out = []
    for x in positions:
        # Greedy, lowest level first: the fewest levels that keep badges apart, so the strip stays low.
        for level, prev in enumerate(last):
            if x - prev >= gap:
                last[level] = x
                out.append(level)
                break
        else:
            last.append(x)
            out.append(len(last) - 1)
    return out


def negotiation_timeline(events: pd.DataFrame, votes: pd.DataFrame, scenario: Scenario, title: str, lang: str = "en"):
    """One replicate's negotiation: each council's votes (yes/no) and exits, and the numbered steps.

    Top: a strip of numbered steps (one number per month with events; lines coloured by kind).
    Middle: one row per municipality with its votes (yes: green dot, no: orange cross; a no that
    backs the form but names another host: a diamond) and its exit (black triangle above the
    vote). Bottom: the numbered list of what happened, in plain words (``lang``). The legend sits
    outside the data, on the right.
    """
    rows = scenario.names
    entries, lines = _timeline_entries(events, votes, scenario, lang)
    months = [month for _, month, _ in entries]
    n_lines = sum(line.count("\n") + 1 for line in lines)
    span = (scenario.horizon - scenario.start + 1) or 1
    gap = max(1.0, math.ceil(span * 0.42 / 8.0))  # a number badge is ~0.4 in wide on ~8 in of axis
    levels = _levels([_month_index(m) for m in months], gap)
    n_levels = max(levels, default=0) + 1
    heights = [0.32 * n_levels + 0.25, 0.42 * len(rows) + 0.6, 0.165 * n_lines + 0.1]
    with _style() as plt:
        fig, (strip, ax, notes) = plt.subplots(
            3, 1, figsize=(12.0, sum(heights) + 1.3), layout="constrained", gridspec_kw={"height_ratios": heights}
        )
        strip.sharex(ax)
        pad = pd.Timedelta(days=30.4 * gap / 2)  # room for a number badge at either end
        ax.set_xlim(_month_date(scenario.start) - pad, _month_date(scenario.horizon + 1) + pad)
        for a in (strip, ax):
            a.axvline(_month_date(scenario.pilot_end + 1), color="black", lw=1.0, ls=":", zorder=1)
        _draw_steps(strip, ax, events, entries, levels, n_levels, lang)
        _draw_votes(ax, votes, events, {n: i for i, n in enumerate(rows)}, lang)
        ax.plot([], [], color="black", lw=1.0, ls=":", label=term("tl.pilot_end", lang))
        ax.set_yticks(range(len(rows)), rows)
        ax.set_ylim(len(rows) - 0.5, -0.75)
        _date_axis(ax, max_ticks=8)
        ax.set_xlabel(term("tl.month", lang))
        strip.set_ylim(n_levels - 0.5, -0.6)
        strip.set_yticks([])
        strip.tick_params(axis="x", labelbottom=False, bottom=False)
        for side in ("left", "right", "top"):
            strip.spines[side].set_visible(False)
        strip.set_title(_wrap(title, 110), loc="left")
        notes.axis("off")
        text = notes.text(0, 1, "\n".join(lines), va="top", ha="left", fontsize=9, transform=notes.transAxes)
        text.set_in_layout(False)
        _timeline_legend(fig, ax, lang)
    return fig


def _timeline_legend(fig, ax, lang: str) -> None:
    """The timeline's legend, right of the data: votes and exits first, then the kinds of step."""
    handles, labels = ax.get_legend_handles_labels()
    # Every vote marker carries a label; one legend entry per label.
    unique = dict(zip(labels, handles, strict=True))
    keys = ["tl.yes", "tl.no", "tl.other_host", "tl.exit", *(m[0] for m in TIMELINE_MARKS.values()), OTHER_STEP[0]]
    order = [term(k, lang) for k in keys]
    shown = sorted(unique, key=lambda k: order.index(k) if k in order else len(order))
    labels = [_wrap(k, 26) for k in shown]  # a narrow legend leaves the list of steps its width
    fig.legend([unique[k] for k in shown], labels, loc="outside right upper", frameon=False)


def _timeline_entries(events: pd.DataFrame, votes: pd.DataFrame, scenario: Scenario, lang: str = "en"):
    """Numbered steps (one per month with events) and their wrapped plain-language lines."""
    events = events.reset_index(drop=True)  # positions: the events before one are ``events.iloc[:i]``
    months = sorted(set(events["month"])) if len(events) else []
    entries = []
    for number, month in enumerate(months, start=1):
        mine = events[events["month"] == month]
        texts = (
            # Only the same region's earlier events: another region's pre-project in a county does not
            # make this one a "new round".
            describe_event(e, scenario, votes, lang, events.iloc[:i][events["region"].iloc[:i] == e["region"]])
            for i, e in mine.iterrows()
        )
        # dict.fromkeys: a sentence that two events of one month both produce is told once, in the
        # order the events happened.
        entries.append((number, month, "; ".join(dict.fromkeys(texts))))
    lines = [
        textwrap.fill(
            f"{number:>2d}. {month_words(_month_index(month), lang, short=True)}: {text}",
            118,
            subsequent_indent="      ",
            break_on_hyphens=False,
        )
        for number, month, text in entries
    ]
    return entries, lines


def _draw_steps(strip, ax, events: pd.DataFrame, entries, levels, n_levels: int, lang: str = "en") -> None:
    """The numbered step badges on the strip and a line per step through the vote rows."""
    for (number, month, _), level in zip(entries, levels, strict=True):
        kinds = set(events.loc[events["month"] == month, "kind"])
        label, colour = next((TIMELINE_MARKS[k] for k in TIMELINE_MARKS if k in kinds), OTHER_STEP)
        when = _month_date(month)
        ax.axvline(when, color=colour, lw=1.2, alpha=0.8, zorder=1, label=term(label, lang))
        strip.vlines(when, level - 0.3, n_levels, color=colour, lw=1.2, alpha=0.8)
        strip.text(
            when,
            level,
            str(number),
            ha="center",
            va="center",
            fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": colour},
        )


def backs_form_names_other_host(vote: dict[str, Any] | pd.Series) -> bool:
    """A no that backs the proposed form but names another host (itself or a third council).

    Read from the vote row's ``governance_form`` (the formal form the council backs, §2.2) and
    ``named_host`` (the host it names, §2.1): a pilot member that backed the administrative host
    model and named itself as host (report §2.1) did not vote against the model.
    """
    if vote["vote"] == "yes":
        return False
    named = str(vote.get("named_host", "") or "")
    return str(vote.get("governance_form", "")) == str(vote.get("form", "")) and named not in (
        "",
        "nan",
        str(vote.get("host", "")),
    )


def _draw_votes(ax, votes: pd.DataFrame, events: pd.DataFrame, rows: dict[str, int], lang: str = "en") -> None:
    """Each council's votes and its exit (a triangle above the vote).

    Yes is a dot, no a cross; a no from a council that backs the proposed form but names another
    host (:func:`backs_form_names_other_host`) is a diamond, so backing the model is not shown as
    opposing it.
    """
    for _, v in votes.iterrows():
        marker, colour, label = (
            ("o", PALETTE[0], "tl.yes")
            if v["vote"] == "yes"
            else ("D", PALETTE[3], "tl.other_host")
            if backs_form_names_other_host(v)
            else ("X", PALETTE[2], "tl.no")
        )
        ax.scatter(
            _month_date(v["month"]),
            rows[v["municipality"]],
            marker=marker,
            s=70,
            zorder=3,
            color=colour,
            label=term(label, lang),
        )
    exits = events[events["kind"] == EventKind.EXIT] if len(events) else pd.DataFrame()
    for _, e in exits.iterrows():
        ax.scatter(
            _month_date(e["month"]),
            rows[e["municipality"]] - 0.36,
            marker="v",
            s=45,
            color="black",
            zorder=4,
            label=term("tl.exit", lang),
        )


def _month_index(month: str) -> int:
    period = pd.Period(month, "M")
    return period.year * 12 + period.month - 1


def _positions(scenario: Scenario) -> tuple[np.ndarray, bool]:
    """Map positions: real coordinates (km east/north of the centre) when known, else a layout from distances."""
    munis = scenario.municipalities
    if all(m.lat is not None for m in munis):
        lat0 = np.mean([m.lat for m in munis])
        # An equirectangular projection about the region's mean latitude: km east and north, accurate
        # enough over the tens of km of one region.
        x = np.array([m.lon for m in munis]) * 111.32 * np.cos(np.radians(lat0))
        y = np.array([m.lat for m in munis]) * 110.57
        return np.column_stack([x - x.mean(), y - y.mean()]), True
    names = scenario.names
    n = len(names)
    d = np.array([[scenario.distance(a, b) for b in names] for a in names])
    # Without coordinates: classical multidimensional scaling (Torgerson) of the distances, the two
    # largest eigenvectors of the double-centred squared distances. Road distances are not exactly
    # Euclidean, so a negative eigenvalue is clipped to 0 below.
    j = np.eye(n) - np.ones((n, n)) / n
    vals, vecs = np.linalg.eigh(-0.5 * j @ (d**2) @ j)
    order = np.argsort(vals)[::-1][:2]
    return vecs[:, order] * np.sqrt(np.maximum(vals[order], 0)), False


class RegionMap:
    """The region map as a figure built once, whose arrangements can be redrawn cheaply.

    One panel per sector: members sized by population, ties coloured by form, host ringed; north
    up. The layout, the names, the scale bar and the legend are drawn once; :meth:`update` only
    recolours the ties, the host rings and the titles (the dashboard calls it when an
    arrangement changes).
    """

    def __init__(self, scenario: Scenario, title: str) -> None:
        self.scenario, self.title = scenario, title
        names, sectors = scenario.names, scenario.params.vocab.sectors
        pos, self.real = _positions(scenario)
        pops = np.array([m.population for m in scenario.municipalities])
        self.pairs = [(a, b) for a in range(len(names)) for b in range(a + 1, len(names))]
        self.ties: list[list[Any]] = []
        self.nodes: list[Any] = []
        self.labels: list[list[Any]] = []
        with _style() as plt:
            self.figure, axes = plt.subplots(
                1, len(sectors), figsize=(4.3 * len(sectors), 4.8), squeeze=False, layout="constrained"
            )
            self.axes = list(axes[0])
            sizes = 40 + 400 * pops / pops.max()  # marker area in points^2
            middle = (pos[:, 0].min() + pos[:, 0].max()) / 2
            for ax in self.axes:
                self.ties.append(
                    [
                        ax.plot(*zip(pos[a], pos[b], strict=True), color=NONE_COLOUR, lw=0.6, zorder=1)[0]
                        for a, b in self.pairs
                    ]
                )
                self.nodes.append(
                    ax.scatter(
                        pos[:, 0], pos[:, 1], s=sizes, color="#f0f0f0", zorder=2, edgecolor="#555555", linewidth=1
                    )
                )
                texts = []
                for (x, y), n, size in zip(pos, names, sizes, strict=True):
                    inward = 1 if x <= middle else -1  # labels point towards the middle, so none runs off the map
                    texts.append(
                        ax.annotate(
                            n,
                            (x, y),
                            xytext=(inward * (np.sqrt(size) / 2 + 3), 4),
                            textcoords="offset points",
                            ha="left" if inward > 0 else "right",
                            fontsize=9,
                        )
                    )
                self.labels.append(texts)
                ax.set_aspect("equal")
                ax.margins(0.2)
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if self.real:
                    self._borders(ax, pos)
                    x0, y0 = pos[:, 0].min(), pos[:, 1].min() - 0.08 * np.ptp(pos[:, 1])
                    ax.plot([x0, x0 + 20], [y0, y0], color="black", lw=2)
                    ax.annotate(
                        "20 km", (x0 + 10, y0), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8
                    )
            forms = [NONE, *scenario.params.vocab.form_names]
            handles = [
                plt.Line2D([], [], color=form_colour(scenario, f), lw=3, label=form_label(scenario, f)) for f in forms
            ]
            self.figure.legend(handles=handles, loc="outside lower center", ncol=len(forms), frameon=False)

    def _borders(self, ax, pos: np.ndarray) -> None:
        """Municipality borders and the coast under the nodes (the county map's, Kartverket credited)."""
        munis = self.scenario.municipalities
        proj = Projection(np.array([m.lat for m in munis]), np.array([m.lon for m in munis]))
        shapes, _ = draw_borders(ax, self.scenario.names, proj, dict.fromkeys(self.scenario.names, "#fafafa"), 8.0)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        pad = 0.2 * max(np.ptp(pos[:, 0]), np.ptp(pos[:, 1]), 1.0)  # room for the names and the scale bar
        ax.set_xlim(min(x0, pos[:, 0].min() - pad), max(x1, pos[:, 0].max() + pad))
        ax.set_ylim(min(y0, pos[:, 1].min() - pad), max(y1, pos[:, 1].max() + pad))
        self.credit = bool(shapes)

    def update(self, row: dict[str, Any], when: str = "at the end of the pilot") -> RegionMap:
        """Show the arrangements of an outcome row (``form_s``, ``members_s``, ``host_s`` per sector)."""
        sc, names = self.scenario, self.scenario.names
        for k, sector in enumerate(sc.params.vocab.sectors):
            form = row[f"form_{sector.name}"]
            members = json.loads(row[f"members_{sector.name}"]) if row[f"members_{sector.name}"] else []
            host = row[f"host_{sector.name}"] or ""
            for line, (a, b) in zip(self.ties[k], self.pairs, strict=True):
                inside = names[a] in members and names[b] in members
                line.set(
                    color=form_colour(sc, form if inside else NONE),
                    lw=3 if inside else 0.6,
                    alpha=0.9 if inside else 0.4,
                )
            self.nodes[k].set_edgecolor(["black" if n == host else "#555555" for n in names])
            self.nodes[k].set_linewidth([3 if n == host else 1 for n in names])
            for text, n in zip(self.labels[k], names, strict=True):
                text.set_text(n + (" (host)" if n == host else ""))
            self.axes[k].set_title(f"{sector.label.capitalize()}: {form_label(sc, form)}")
        how = "north up" if self.real else "layout from distances"
        credit = "\nBorders: Kartverket (CC BY 4.0), municipalities of 2019" if getattr(self, "credit", False) else ""
        self.figure.suptitle(f"{self.title}: arrangements {when} (node size = population; {how}){credit}")
        return self


def region_map(scenario: Scenario, row: dict[str, Any], title: str, when: str = "at the end of the pilot"):
    """One panel per sector: members sized by population, ties coloured by form, host ringed; north up."""
    return RegionMap(scenario, title).update(row, when).figure


def _sensitivity_outcome_label(name: str) -> str:
    return SENSITIVITY_OUTCOMES.get(name, name.replace("_", " "))


def parameter_label(key: str, width: int = 36) -> str:
    """A parameter's plain-language label from the catalogue, wrapped to ``width`` characters.

    The catalogue's meaning without its parenthetical asides (``"Value of a lower vulnerability"``
    for ``w_robustness``); a key the catalogue does not know is shown in words.
    """
    import re

    spec = by_name().get(key)
    if spec is None:
        return _wrap(key.replace("_", " ").replace(".", ": "), width)
    # Parenthetical asides dropped: an axis label has room for the meaning only.
    text = re.sub(r"\s*\([^)]*\)", "", spec.meaning).strip() or spec.meaning
    return _wrap(text[0].upper() + text[1:], width)


def sensitivity(table: pd.DataFrame, title: str):
    """Sobol first-order and total indices (or Morris mu*) with 95 % intervals, one panel per outcome.

    An outcome that is constant in every sample has no panel; it is named in the note under the
    figure, with the table's warnings (``table.attrs["warnings"]``, see
    :func:`sim.analysis.experiments.sobol_warnings`).
    """
    index_cols = [c for c in ("S1", "ST", "mu_star") if c in table]
    has_index = table[index_cols].notna().any(axis=1) if index_cols else pd.Series(False, index=table.index)
    outcomes = list(dict.fromkeys(table.loc[has_index, "outcome"]))
    constant = [o for o in dict.fromkeys(table["outcome"]) if o not in outcomes]
    notes = list(table.attrs.get("warnings", []))
    if constant and not any(n.startswith("constant") for n in notes):
        notes.append("constant outcome, no indices: " + ", ".join(constant))
    for name in constant:  # outcomes named in words, not by their column
        notes = [n.replace(name, f"'{_sensitivity_outcome_label(name).lower()}'") for n in notes]
    params = list(dict.fromkeys(table["parameter"]))
    labels = [parameter_label(p) for p in params]
    row_height = 0.17 * max((label.count("\n") + 1 for label in labels), default=1) + 0.2
    cols = max(1, len(outcomes))
    with _style() as plt:
        fig, axes = plt.subplots(
            1,
            cols,
            figsize=(3.6 * cols + 4.0, max(0.5, row_height) * len(params) + 2.6 + 0.2 * len(notes)),
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        for ax, name in zip(axes[0], outcomes, strict=False):
            t = table[table["outcome"] == name].set_index("parameter").reindex(params)
            y = np.arange(len(t))
            if "S1" in t:
                ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)", color=PALETTE[1], capsize=2)
                ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total (ST)", color=PALETTE[2], capsize=2)
                ax.set_xlabel("Sobol index\n(share of variance, 95 % interval)", fontsize=9)
            else:
                ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color=PALETTE[1], capsize=2, label="mu*")
                ax.set_xlabel("Morris mu* (mean absolute\nelementary effect, 95 % interval)", fontsize=9)
            ax.axvline(0, color="black", lw=0.8)
            ax.xaxis.set_major_locator(plt.MaxNLocator(4))
            ax.set_yticks(y, labels, fontsize=9)
            ax.set_ylim(len(params) - 0.5, -0.5)
            ax.set_title(_wrap(_sensitivity_outcome_label(name), 26), fontsize=10)
        if not outcomes:
            axes[0][0].axis("off")
            axes[0][0].text(0.5, 0.5, "every outcome is constant: nothing to apportion", ha="center", va="center")
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside right upper", frameon=False)
        fig.suptitle(_wrap(title, 100))
        if notes:
            note = "\n".join(_wrap("Note: " + n, int(13 * (3.6 * cols + 4.0))) for n in notes)
            fig.supxlabel(note, fontsize=8.5, ha="left", x=0.01)
    return fig


def prim_tradeoff(box, title: str):
    """PRIM's peeling trajectory: density against coverage, coloured by restricted dimensions; the chosen box ringed.

    Args:
        box: An EMA Workbench ``PrimBox`` (as returned by :func:`sim.analysis.experiments.discover`).
        title: Figure title.
    """
    trajectory = box.peeling_trajectory
    base_rate = float(np.asarray(box.prim.y).mean())
    chosen = trajectory.iloc[int(box._cur_box)]
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
        dims = trajectory["res_dim"].astype(int)
        cmap = plt.get_cmap("viridis", dims.max() + 1)
        points = ax.scatter(trajectory["coverage"], trajectory["density"], c=dims, cmap=cmap, s=30, zorder=2)
        # Whole numbers of dimensions at the middle of their colour band.
        points.set_clim(-0.5, dims.max() + 0.5)
        ax.scatter(
            [chosen["coverage"]], [chosen["density"]], s=160, facecolor="none", edgecolor="black", lw=1.5, zorder=3
        )
        ax.axhline(base_rate, color="grey", lw=0.8, ls="--", zorder=1)
        ax.annotate(
            f"base rate {base_rate:.2f}",
            (0.02, base_rate),
            xycoords=("axes fraction", "data"),
            xytext=(0, -4),
            textcoords="offset points",
            va="top",
            fontsize=9,
            color="grey",
        )
        high = chosen["density"] > 0.8  # label below the ring near the top, above it elsewhere
        ax.annotate(
            f"chosen box: coverage {chosen['coverage']:.2f}, density {chosen['density']:.2f}",
            (chosen["coverage"], chosen["density"]),
            xytext=(-12, -12 if high else 12),
            textcoords="offset points",
            ha="right",
            va="top" if high else "bottom",
            fontsize=9,
        )
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("Coverage (share of the runs of interest inside the box)")
        ax.set_ylabel("Density (share of the box's runs\nthat are of interest)")
        bar = fig.colorbar(points, ax=ax, ticks=range(int(dims.max()) + 1))
        bar.set_label("Restricted dimensions")
        ax.set_title(_wrap(title, 80))
    return fig


def prim_box(stats: dict[str, Any], limits: pd.DataFrame, title: str):
    """The chosen PRIM box: for each restricted dimension, its limits within the sampled range.

    Args:
        stats: Box statistics (see :func:`sim.analysis.experiments.box_summary`).
        limits: The restricted dimensions with ``lower``, ``upper``, ``sampled_low``,
            ``sampled_high``, ``qp_lower`` and ``qp_upper``.
        title: Figure title.
    """

    def fmt(v: float) -> str:
        return f"{v:.3g}"

    def qp(v: float) -> str:
        return f"{v:.2g}" if np.isfinite(v) else "-"

    with _style() as plt:
        fig, ax = plt.subplots(figsize=(9, 0.75 * len(limits) + 2.4), layout="constrained")
        for y, (_, r) in enumerate(limits.iterrows()):
            span = (r["sampled_high"] - r["sampled_low"]) or 1.0
            # Each limit as a share of its sampled range, so dimensions of any unit share one axis.
            lo, hi = (r["lower"] - r["sampled_low"]) / span, (r["upper"] - r["sampled_low"]) / span
            ax.plot([0, 1], [y, y], color="#cccccc", lw=6, solid_capstyle="butt", zorder=1)
            ax.plot([lo, hi], [y, y], color=PALETTE[1], lw=6, solid_capstyle="butt", zorder=2)
            close = hi - lo < 0.15  # put the upper limit above the bar, so the two numbers cannot collide
            ax.annotate(fmt(r["lower"]), (lo, y), xytext=(0, -9), textcoords="offset points", ha="center", va="top")
            ax.annotate(
                fmt(r["upper"]),
                (hi, y),
                xytext=(0, 9 if close else -9),
                textcoords="offset points",
                ha="center",
                va="bottom" if close else "top",
            )
        labels = [
            f"{name}\nsampled {fmt(r['sampled_low'])} to {fmt(r['sampled_high'])}; "
            f"quasi-p {qp(r['qp_lower'])} / {qp(r['qp_upper'])}"
            for name, r in limits.iterrows()
        ]
        ax.set_yticks(range(len(limits)), labels, fontsize=9)
        ax.set_ylim(len(limits) - 0.4, -0.6)
        ax.set_xlim(-0.05, 1.05)
        ax.set_xticks([0, 1], ["lowest sampled", "highest sampled"])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        fig.suptitle(
            _wrap(
                f"{title}: coverage {stats['coverage']:.2f}, density {stats['density']:.2f} "
                f"(base rate {stats['base_rate']:.2f}); {stats['restricted']} restricted dimensions "
                "(quasi-p for the lower / upper limit)",
                90,
            )
        )
    return fig


def _short(value: Any) -> str:
    """A corner's value on a tornado's label: a number to 3 digits, a date as written."""
    return f"{value:.3g}" if isinstance(value, int | float) else str(value)


def tornado(table: pd.DataFrame, title: str):
    """One story's share at each one-at-a-time corner: low and high bars around the baseline share.

    ``table`` holds one story's rows of ``sim.analysis.robustness.Robustness.table`` (a low and a high row per
    input; a missing side draws no bar). Inputs are sorted by their swing (largest on top): the span
    of the low share, the high share and the baseline.
    """
    base = float(table["baseline_share"].iloc[0])
    if "kind" in table:
        # A switched fact (consultant, leader) has no low and high value; it is in the tables, not here.
        table = table[(table["kind"] != "switch") | table["key"].str.endswith(".date")]
    inputs = []
    for (case, key), g in table.groupby(["case", "key"], sort=False):
        side = {r["side"]: r for _, r in g.iterrows()}
        # A missing side (a corner clipped onto the value itself) draws no bar: its share is the baseline.
        shares = [side[s]["share"] if s in side else base for s in ("low", "high")]
        values = " | ".join(_short(side[s]["value"]) if s in side else "-" for s in ("low", "high"))
        label = f"{key} (estimate): {values}" if case else f"{key}: {values}"
        inputs.append((max(*shares, base) - min(*shares, base), label, *shares))
    # Largest swing on top (a stable sort: equal swings keep the table's order).
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
