"""Interactive dashboard for officials: ``python run.py dashboard`` or ``solara run sim/views/app.py``.

Choose a scenario and set the policy levers, press Reset to start a run with them, then Step or
Play month by month. The page shows the region's map, the service measures with the pilot
period marked, what happened and why the councils voted as they did (built from the run's
records), and beside the one run the outcomes of :data:`REPLICATES` runs with the same settings
(computed in the background through :mod:`sim.run.runner`), so the run is seen as one of many.

A county scenario (``scenario.kind == "county"``: many negotiations in one model) gets its own
view: the county map of the initiative's sectors (:class:`sim.views.maps.CountyMap`), the county mean
and worst municipality of each measure, one line per negotiation (:func:`sim.views.narrative.county_narrative`),
the negotiations running, stopped and agreed, and the county outcomes of the runs (``county_row``
means with t intervals, per-area shares with a joint office); large scenarios get
:data:`REPLICATES_LARGE` runs.

Every control is generated from the parameter catalogue (:mod:`sim.inputs.params`): the levers
(``Spec.lever``) first, each with its meaning, unit and report section; the behavioural
parameters in a collapsed "advanced" panel. Step, Play and Reset are Mesa's ``ModelController``.
"""

from __future__ import annotations

import html
import json
import threading
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.analysis.answers import render
from sim.analysis.results import compare_rows, county_outcomes
from sim.analysis.stats import t_interval, wilson
from sim.core.model import MEASURES, CooperationModel
from sim.core.outcomes import area_rows, county_row
from sim.inputs.calendar import month_label
from sim.inputs.errors import InputError
from sim.inputs.lang import LANGUAGES, TERMS, meaning, term
from sim.inputs.params import Spec, by_name, load_defaults
from sim.inputs.scenario import Scenario, available_scenarios
from sim.inputs.settings import to_toml
from sim.inputs.vocab import NONE, EventKind, Phase
from sim.run.codebook import UNITS, outcome_label
from sim.run.runner import Job, execute, replicate_seed
from sim.views import maps, plots
from sim.views.narrative import (  # noqa: F401 (the dashboard's API)
    county_narrative,
    describe_vote,
    narrative,
    negotiation_title,
    vote_reasons,
    when,
)

#: Runs with the dashboard's settings whose outcomes are shown beside the single run.
REPLICATES = 100
#: A scenario with more municipalities than this is "large" (a national county scenario: about 0.6 s a run) ...
LARGE = 100
#: ... and gets this many runs in the background instead (about 12 s rather than a minute for 425 municipalities).
REPLICATES_LARGE = 20
#: Pause between months when playing (ms).
PLAY_INTERVAL_MS = 100
#: Line colours of the municipalities (tab10) and dash patterns, so a line on another stays visible.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
DASHES = ("", "6 3", "2 2", "8 3 2 3")
CAPTION = "font-size: 12px; color: #555; line-height: 1.3"


# --- settings: the catalogue's levers and behavioural parameters ---------------------------------
@cache
def catalogue_defaults() -> dict[str, Any]:
    """The catalogue's default values (``scenarios/defaults.toml``), read once."""
    return load_defaults().as_dict()


def lever_keys() -> list[str]:
    """The policy levers in catalogue order (every ``Spec`` with ``lever=True``)."""
    return [k for k, s in by_name().items() if s.lever]


def advanced_keys() -> dict[str, list[str]]:
    """Behavioural parameters by catalogue group (the validation-only switch is left out)."""
    groups: dict[str, list[str]] = {}
    for key, spec in by_name().items():
        if not spec.lever and spec.group != "validation":
            groups.setdefault(spec.group, []).append(key)
    return groups


def default_settings() -> dict[str, Any]:
    """The dashboard's settings before any change: first scenario, seed 1, catalogue defaults."""
    defaults = catalogue_defaults()
    keys = [*lever_keys(), *(k for keys in advanced_keys().values() for k in keys)]
    return {"scenario": available_scenarios()[0], "rng": "1", **{k: defaults[k] for k in keys}}


def parse_seed(text: str | int | None) -> int:
    """The base seed typed in the seed box (a whole number; anything else draws a fresh one)."""
    text = str(text).strip()
    if text.isdigit():
        return int(text)
    # Fresh entropy from the operating system; the seed is then shown, so the run can be repeated.
    return int(np.random.SeedSequence().entropy % 2**32)


class DashboardModel(CooperationModel):
    """``CooperationModel`` with the dashboard's settings: the seed as text, every control as a keyword.

    The run is replicate 0 of :func:`replicate_rows` for the same settings (same scenario,
    overrides and ``SeedSequence(seed, spawn_key=(0,))``), so it is one of the runs in the
    distribution shown beside it.

    Attributes:
        settings: Every control's value, as the controls hold them (``scenario``, ``rng``, keys).
        seed: The base seed.
        overrides: The parameters that differ from the catalogue's defaults.
    """

    def __init__(self, scenario: str | None = None, rng: str | int | None = "1", **kwargs: Any) -> None:
        defaults = catalogue_defaults()
        name = scenario or available_scenarios()[0]
        # Only what differs from the defaults: equal settings give one key (and one background
        # computation), and a saved settings file lists the changes only.
        overrides = {k: v for k, v in kwargs.items() if k not in defaults or v != defaults[k]}
        seed = parse_seed(rng)
        super().__init__(name, rng=replicate_seed(seed, 0), **overrides)  # Mesa wants keyword arguments
        self.seed, self.overrides = seed, overrides
        self.settings = {**default_settings(), **kwargs, "scenario": name, "rng": str(rng)}

    def step(self) -> None:
        """One month; nothing once the run is over (Step pressed at the end must not run past the horizon)."""
        if self.running:
            super().step()

    @property
    def key(self) -> str:
        """What decides the distribution: scenario, seed and overrides."""
        # Sorted and as text: the same settings in any order give one key, so the background runs
        # are not redone when nothing that decides them changed.
        return json.dumps([self.scenario.name, self.seed, sorted(self.overrides.items())], default=str)


def replicates_for(scenario: Scenario) -> int:
    """Runs in the distribution: :data:`REPLICATES`, or :data:`REPLICATES_LARGE` above :data:`LARGE` municipalities."""
    return REPLICATES if len(scenario.names) <= LARGE else REPLICATES_LARGE


def is_county(model: CooperationModel) -> bool:
    """True for a county scenario (many negotiations in one model, ``sim.inputs.county``)."""
    return model.scenario.kind == "county"


def replicate_rows(
    model: DashboardModel,
    replicates: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[dict[str, Any]] | None:
    """Outcome rows of ``replicates`` runs with the model's settings (in this process, via ``sim.run.runner``).

    Args:
        model: The dashboard's model (its scenario, overrides and seed are used).
        replicates: Number of runs (default :func:`replicates_for` the scenario); replicate 0 is
            the dashboard's own run. A county run's row also carries its ``areas.csv`` rows
            under ``"areas"``.
        on_progress: Called with the number of runs done.
        cancel: Stop early (returning None) once this is set.
    """
    replicates = replicates or replicates_for(model.scenario)
    path = str(model.scenario.path) if model.scenario.path else model.scenario.name
    overrides = tuple(sorted(model.overrides.items()))
    jobs = [Job(r, path, r, model.seed, overrides) for r in range(replicates)]
    rows = []
    # In this process, in the page's background thread: no pool forked from the web server, and
    # a change of settings can cancel between two runs.
    for result in execute(jobs, workers=1, progress=False):
        if cancel is not None and cancel.is_set():
            return None
        rows.append({**result["row"], "areas": result["areas"]} if "areas" in result else result["row"])
        # Every fifth run: each progress update re-renders part of the page.
        if on_progress is not None and (len(rows) % 5 == 0 or len(rows) == replicates):
            on_progress(len(rows))
    return rows


# --- what the run shows -------------------------------------------------------------------------
def current_arrangements(model: CooperationModel) -> dict[str, Any]:
    """The arrangement in force per sector, in the shape of an outcome row (for the map)."""
    row = {}
    for sector in model.p.sectors:
        live = [a for a in model.arrangements if sector.index in a.sectors and a.ended is None]
        # model.arrangements is in decision order: the latest one still in force is what the map shows.
        arr = live[-1] if live else None
        row[f"form_{sector.name}"] = arr.form.name if arr else NONE
        row[f"members_{sector.name}"] = json.dumps(list(arr.members) if arr else [], ensure_ascii=False)
        row[f"host_{sector.name}"] = (arr.host or "") if arr else ""
    return row


def shown_month(model: CooperationModel) -> str:
    """The month the dashboard shows: the next month to simulate, or the horizon once the run is over."""
    return month_label(model.month if model.running else model.scenario.horizon)


def distribution(rows: list[dict[str, Any]], scenario: Scenario) -> dict[str, Any]:
    """Shares of the arrangement at the horizon per sector, and of stops and their causes, over runs."""
    n = len(rows)
    sectors = {s.name: Counter(str(r[f"form_{s.name}_horizon"]) for r in rows) for s in scenario.params.vocab.sectors}
    stalls = Counter(str(r["stall_cause"]) for r in rows if str(r["stall_cause"]))
    return {"n": n, "sectors": sectors, "stalls": stalls}


def outcome_key(row: dict[str, Any], scenario: Scenario) -> tuple[str, ...]:
    """A run's outcome: the arrangement at the horizon per sector."""
    return tuple(str(row[f"form_{s.name}_horizon"]) for s in scenario.params.vocab.sectors)


# --- county scenarios: many negotiations in one model --------------------------------------------
def initiative_sectors(scenario: Scenario) -> list[str]:
    """The sectors a county map and distribution are about: the initiative's (§4), else every sector."""
    sectors = scenario.params.vocab.sectors
    chosen = scenario.initiative.sectors if scenario.initiative else ()
    return [sectors[s].name for s in chosen] or [s.name for s in sectors]


def municipality_forms(model: CooperationModel, sectors: list[str]) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Per sector, the form each municipality is in now (``none`` if none) and the hosts (for the county map)."""
    index = {s.name: s.index for s in model.p.sectors}
    # model.month is the next month to simulate; the map shows the one just simulated.
    month = model.month - 1
    forms: dict[str, list[str]] = {}
    hosts: dict[str, set[str]] = {}
    for name in sectors:
        s = index[name]
        arrs = [m.arrangement[s] for m in model.municipalities]
        live = [a if a is not None and a.live(month) else None for a in arrs]
        forms[name] = [a.form.name if a else NONE for a in live]
        hosts[name] = {a.host for a in live if a and a.host}
    return forms, hosts


def negotiation_counts(model: CooperationModel) -> dict[str, int]:
    """Negotiations so far (``all``), split into ``running``, ``agreed`` and ``stopped``.

    The three add up to ``all``: a negotiation still at work counts as running (even one that
    already agreed on some sectors); one that is over counts as agreed if it reached an agreement
    (or the state named a host), else as stopped.
    """
    agreed = {e.region for e in model.events if e.kind in (EventKind.AGREEMENT, EventKind.STATE_DECISION)}
    running = [p.phase not in (Phase.STALLED, Phase.DONE) for p in model.negotiations]
    over = [p.region.name in agreed for p, r in zip(model.negotiations, running, strict=True) if not r]
    return {"all": len(running), "running": sum(running), "agreed": sum(over), "stopped": len(over) - sum(over)}


def county_outcome_keys(scenario: Scenario) -> dict[str, str]:
    """The county outcomes the dashboard shows (initiative sectors first), key -> label (``county_row`` columns)."""
    labels = county_outcomes(scenario.params.vocab)
    keys = [
        f"{k}_{s}" if k != "vulnerability" else f"vulnerability_{s}_mean"
        for s in initiative_sectors(scenario)
        for k in ("offices", "covered", "residents", "vulnerability")
    ]
    return {k: labels[k] for k in [*keys, "stalls", "state_decisions", "merged"]}


def county_distribution(rows: list[dict[str, Any]], scenario: Scenario) -> dict[str, Any]:
    """Means over runs with 95 % t intervals, and per area the runs with a joint office (initiative sectors)."""
    means = {k: t_interval([float(r[k]) for r in rows]) for k in county_outcome_keys(scenario)}
    offices = {
        s: [
            (area.name, sum(a[f"covered_{s}"] > 0 for r in rows for a in r["areas"] if a["area"] == area.name))
            for area in scenario.areas
        ]  # fmt: skip
        for s in initiative_sectors(scenario)
    }
    return {"n": len(rows), "means": means, "offices": offices}


def _number(key: str, value: float) -> str:
    if key.startswith("vulnerability"):
        return f"{value:.3f}"
    if key.startswith("residents"):
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.1f}" if value != round(value) else f"{value:.0f}"


def county_distribution_html(
    dist: dict[str, Any], model: CooperationModel, rows: list[dict[str, Any]], lang: str = "en"
) -> str:
    """County outcomes over runs (mean, 95 % t interval, this run) and per-area shares with a joint office.

    This run is replicate 0 of ``rows``: at the end its values are ``rows[0]``; before the end
    they are the values so far (``county_row`` of the model now).
    """
    sc, n = model.scenario, dist["n"]
    finished = not model.running
    if finished:
        mine, areas_now = rows[0], {a["area"]: a for a in rows[0]["areas"]}
    # Before the first step there is nothing to show for this run yet.
    elif model.month > sc.start:
        mine, areas_now = county_row(model), {a["area"]: a for a in area_rows(model)}
    else:
        mine, areas_now = None, {}
    which = term("ds.at_end" if finished else "ds.so_far", lang)
    head = term("ds.county_head", lang).format(name=html.escape(sc.name), when=when(sc.horizon, lang), n=n, which=which)
    columns = "".join(f"<th>{term(k, lang)}</th>" for k in ("ds.outcome", "ds.mean", "ds.this_run_column"))
    out = [
        f'<div style="{CAPTION}">{head}</div>',
        f'<table style="font-size:13px;border-collapse:collapse;width:100%"><tr style="text-align:left">{columns}</tr>',
    ]
    for key in county_outcome_keys(sc):
        label = outcome_label(key, lang)
        mean, lo, hi = dist["means"][key]
        to = term("to", lang)
        interval = f" ({_number(key, max(lo, 0.0))} {to} {_number(key, hi)})" if lo == lo else ""  # counts: not < 0
        this = _number(key, float(mine[key])) if mine is not None else "–"
        out.append(
            f'<tr style="border-top:1px solid #eee"><td>{html.escape(label)}</td>'
            f"<td>{_number(key, mean)}{interval}</td><td><b>{this}</b></td></tr>"
        )
    out.append("</table>")
    out += _area_bars(dist, sc, areas_now, which)
    if finished:
        out.append(f"<div style='margin-top:6px'>{term('ds.one_course', lang)}</div>")
    return "".join(out)


def _area_bars(dist: dict[str, Any], sc: Scenario, areas_now: dict[str, Any], which: str) -> list[str]:
    """Per initiative sector, the share of runs with a joint office in each area (Wilson interval; ◀ this run)."""
    n, out = dist["n"], []
    labels = {s.name: s.label for s in sc.params.vocab.sectors}
    for sector, counts in dist["offices"].items():

        def _has(area: str, sector: str = sector) -> bool:
            return bool(areas_now.get(area, {}).get(f"covered_{sector}", 0))

        out.append(
            f'<div style="margin-top:8px;font-weight:bold">Areas with a joint {html.escape(labels[sector])} '
            f"office at the end (share of {n} runs, 95 % Wilson interval; ◀ this run has one {which})</div>"
        )
        shown = [(name, k) for name, k in counts if len(counts) <= maps.MAX_NUMBERED_AREAS or k or _has(name)]
        for name, k in shown:
            lo, hi = wilson(k, n)
            has = _has(name)
            tip = f"{name}: {k} of {n} runs (95 % Wilson interval {lo:.0%} to {hi:.0%})"
            out.append(
                f'<div title="{html.escape(tip)}" style="display:flex;align-items:center;gap:6px;font-size:12px">'
                f'<div style="width:38%;overflow:hidden;white-space:nowrap">{html.escape(name)}</div>'
                f'<div style="flex:1;background:#eee;height:12px;position:relative">'
                f'<div style="width:{100 * k / n:.1f}%;background:{maps.form_colour_any()};height:12px"></div>'
                f'<div style="position:absolute;top:5px;left:{100 * lo:.1f}%;width:{100 * (hi - lo):.1f}%;'
                f'border-top:1.5px solid #000"></div></div>'
                f'<div style="width:21%;white-space:nowrap">{k / n:.0%} ({lo:.0%}–{hi:.0%}){" ◀" if has else ""}</div>'
                "</div>"
            )
        if len(shown) < len(counts):
            out.append(
                f'<div style="{CAPTION}">The other {len(counts) - len(shown)} areas had no joint '
                f"{html.escape(labels[sector])} office in any run.</div>"
            )
    return out


# --- SVG chart of the measures (cheap to redraw every month) ------------------------------------
def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** np.floor(np.log10(value))
    # The axis ends at a round number just above the data, so the grid labels read cleanly.
    return float(next(m * step for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * step >= value))


def measure_lines(model: CooperationModel) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The measures chart's lines: labels, start values ``[line, measure]``, values ``[month, line, measure]``.

    A region: one line per municipality (mean over sectors). A county (up to hundreds of
    municipalities): the county mean and the worst municipality (lowest competence and capacity,
    highest vulnerability), each municipality's value being its mean over sectors.
    """
    sc = model.scenario
    done = model.month - sc.start
    start = np.array([[np.mean(getattr(m, measure)) for measure in MEASURES] for m in model.municipalities])
    series = np.nanmean(model.history[:done], axis=2) if done else np.empty((0, len(sc.names), len(MEASURES)))
    if not is_county(model):
        return list(sc.names), start, series
    worst = np.array([m == "vulnerability" for m in MEASURES])

    def lines(values: np.ndarray) -> np.ndarray:  # [..., municipality, measure] -> [..., line, measure]
        if not values.size:
            return np.empty((0, 2, len(MEASURES)))
        low, high = np.nanmin(values, axis=-2), np.nanmax(values, axis=-2)
        return np.stack([np.nanmean(values, axis=-2), np.where(worst, high, low)], axis=-2)

    return ["county mean", "worst municipality"], lines(start), lines(series)


def measures_svg(model: CooperationModel, lang: str = "en") -> str:
    """Competence, capacity and vulnerability so far (:func:`measure_lines`), as inline SVG.

    The x axis spans the whole run from the first month, so the lines grow month by month; the
    pilot period is shaded. Before the first step each line's starting value is a dot.
    """
    sc = model.scenario
    done = model.month - sc.start
    names, start_values, series = measure_lines(model)
    w, h, left, right, top, bottom = 380, 210, 46, 10, 30, 34
    span = sc.horizon + 1 - sc.start
    panels = []
    for k, measure in enumerate(MEASURES):
        values = np.concatenate([start_values[:, k], series[:, :, k].ravel()])
        # competence and vulnerability are 0-1 (vulnerability a probability): the axis is 0-1, never more
        top_value = _nice(float(np.nanmax(values)) * 1.1) if measure == "capacity" else 1.0

        def x(t: float) -> float:
            return left + (w - left - right) * t / span

        def y(v: float, top_value: float = top_value) -> float:
            return top + (h - top - bottom) * (1 - v / top_value)

        parts = [f'<svg viewBox="0 0 {w} {h}" width="33%" role="img" aria-label="{measure}">']
        parts += _svg_frame(sc, x, y, top_value, (w, h, left, right, top, bottom))
        for i in range(len(names)):
            colour, dash = _line_style(model, i)
            if done:
                points = " ".join(f"{x(t + 0.5):.1f},{y(v):.1f}" for t, v in enumerate(series[:, i, k]))
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8" '
                    f'stroke-dasharray="{dash}"/>'
                )
            else:
                parts.append(f'<circle cx="{x(0):.1f}" cy="{y(start_values[i, k]):.1f}" r="3.5" fill="{colour}"/>')
        name = measure.capitalize() if lang == "en" else term(measure, "nb").capitalize()
        unit = plots.MEASURE_UNITS[measure] if lang == "en" else UNITS[measure]["nb"]
        title = f"{name} ({unit})"  # the unit on a line of its own, so a long one is not cut off
        parts.append(
            f'<text x="{left}" y="12" font-size="12" font-weight="bold" aria-label="{html.escape(title)}">'
            f'{html.escape(name)}</text><text x="{left}" y="25" font-size="9.5">{html.escape(unit)}</text>'
        )
        parts.append("</svg>")
        panels.append("".join(parts))
    legend = " &nbsp; ".join(
        f'<span style="white-space:nowrap"><svg width="26" height="10"><line x1="0" x2="26" y1="5" y2="5" '
        f'stroke="{_line_style(model, i)[0]}" stroke-width="2.5" stroke-dasharray="{_line_style(model, i)[1]}"/></svg> '
        f"{html.escape(name)}</span>"
        for i, name in enumerate(names)
    )
    what = (
        f"county mean and worst of {len(sc.names)} municipalities (each the mean over sectors)"
        if is_county(model)
        else "mean over sectors per municipality"
    )
    note = f"{what}; " + ("dots: values at the start (press Step or Play)" if not done else f"{done} months simulated")
    return (
        f'<div style="display:flex;gap:6px">{"".join(panels)}</div>'
        f'<div style="font-size:13px">{legend}</div><div style="{CAPTION}">{note}</div>'
    )


def _svg_frame(sc: Scenario, x: Callable, y: Callable, top_value: float, box: tuple[int, ...]) -> list[str]:
    """A measure panel's frame: the pilot period shaded (when the run starts within it), grid lines and years."""
    w, h, left, right, top, bottom = box
    parts = []
    pilot = sc.pilot_end + 1 - sc.start
    if pilot > 0:  # a scenario that starts after the pilots (the forecast) has no pilot period to shade
        parts.append(
            f'<rect x="{x(0):.1f}" y="{top}" width="{x(pilot) - x(0):.1f}" height="{h - top - bottom}" fill="#eef3fa"/>'
            f'<text x="{(x(0) + x(pilot)) / 2:.1f}" y="{top + 12}" font-size="10" fill="#4a6b99" '
            f'text-anchor="middle">pilot period</text>'
        )
    for frac in (0, 0.5, 1):
        v = top_value * frac
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y(v) + 3:.1f}" font-size="10" text-anchor="end">{v:g}</text>'
        )
    for year in range(sc.start // 12 + 1, (sc.horizon + 1) // 12 + 1):
        t = year * 12 - sc.start
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{h - bottom}" y2="{h - bottom + 4}" stroke="#333"/>'
            f'<text x="{x(t):.1f}" y="{h - bottom + 15}" font-size="10" text-anchor="middle">{year}</text>'
        )
    parts.append(f'<line x1="{left}" x2="{w - right}" y1="{h - bottom}" y2="{h - bottom}" stroke="#333"/>')
    return parts


def _line_style(model: CooperationModel, i: int) -> tuple[str, str]:
    """Colour and dash pattern of line ``i`` (a county's worst-municipality line is red and dashed)."""
    if is_county(model):
        return ("#1f77b4", "") if i == 0 else ("#d62728", "6 3")
    return COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]


def distribution_html(
    dist: dict[str, Any], model: CooperationModel, rows: list[dict[str, Any]], lang: str = "en"
) -> str:
    """Stacked bars of the arrangement at the horizon per sector over runs, with this run's arrangement outlined."""
    sc, n = model.scenario, dist["n"]
    now = current_arrangements(model)
    finished = not model.running
    forms = [NONE, *sc.params.vocab.form_names]
    which = term("ds.at_end" if finished else "ds.so_far", lang)
    head = term("ds.head", lang).format(when=when(sc.horizon, lang), n=n, name=html.escape(sc.name), which=which)
    out = [f'<div style="{CAPTION}">{head}</div>']
    for sector in sc.params.vocab.sectors:
        counts = dist["sectors"][sector.name]
        mine = now[f"form_{sector.name}"]
        segments = []
        for form in forms:
            k = counts.get(form, 0)
            if not k:
                continue
            outline = "outline:3px solid #000;outline-offset:-3px;" if form == mine else ""
            lo, hi = wilson(k, n)
            label = f"{plots.form_label(sc, form, lang)}: " + term("ds.k_of_n", lang).format(k=k, n=n, lo=lo, hi=hi)
            colour = plots.form_colour(sc, form)
            segments.append(
                f'<div title="{html.escape(label)}" style="width:{100 * k / n:.1f}%;background:{colour};{outline}'
                f'color:#fff;font-size:12px;padding:3px;overflow:hidden;white-space:nowrap">{100 * k / n:.0f}%</div>'
            )
        words = "; ".join(
            f"{plots.form_label(sc, f, lang)} {counts[f]}" + (f" ◀ {term('ds.this_run', lang)}" if f == mine else "")
            for f in forms
            if counts.get(f)
        )
        # Before the end, this run's arrangement so far may be one that no finished run ended with.
        if mine not in counts:
            words += "; " + term("ds.in_none", lang).format(form=plots.form_label(sc, mine, lang), n=n)
        title = plots.sector_label(sc, sector.name, lang).capitalize()
        out.append(
            f'<div style="margin-top:8px;font-weight:bold">{html.escape(title)}</div>'
            f'<div style="display:flex;width:100%;border:1px solid #999">{"".join(segments)}</div>'
            f'<div style="{CAPTION}">{html.escape(words)}</div>'
        )
    stalls = dist["stalls"]
    stopped = sum(stalls.values())
    causes = "; ".join(f"{plots.cause_label(c, lang)} ({k})" for c, k in stalls.most_common())
    out.append(
        '<div style="margin-top:8px">'
        + term("ds.stopped", lang).format(stopped=stopped, n=n)
        + (f": {html.escape(causes)}" if causes else "")
        + ".</div>"
    )
    if finished and rows:
        key = outcome_key(rows[0], sc)
        k = sum(outcome_key(r, sc) == key for r in rows)
        lo, hi = wilson(k, n)
        out.append(f"<div>{term('ds.same_outcome', lang).format(k=k, n=n, lo=lo, hi=hi)}</div>")
    return "".join(out)


# --- components ---------------------------------------------------------------------------------
@solara.component
def Status(model: CooperationModel, lang: str = "en"):
    """Scenario, month, and the phase and members (a region) or the negotiations so far (a county)."""
    update_counter.get()
    sc = model.scenario
    done = model.month - sc.start
    total = sc.horizon + 1 - sc.start
    state = term("st.months", lang).format(done=done, total=total) if model.running else term("st.end", lang)
    start, end, pilot_end = month_label(sc.start), month_label(sc.horizon), month_label(sc.pilot_end)
    if sc.pilot_end < sc.start:  # a county scenario that starts after the pilots (the forecast to 2022)
        pilot = term("st.after_pilots", lang).format(start=start, end=end, ended=pilot_end)
    else:
        pilot = term("st.in_pilot" if model.month <= sc.pilot_end else "st.after_pilot", lang)
        pilot += f", {start} {term('to', lang)} {pilot_end}"
    head = f"**{sc.name}** &nbsp; {term('st.month', lang)}: **{shown_month(model)}** &nbsp; ({state}; {pilot}) &nbsp; "
    if is_county(model):
        c = negotiation_counts(model)
        counts = {**c, "n": len(sc.names), "areas": len(sc.areas)}
        solara.Markdown(head + term("st.negotiations", lang).format(**counts))
        return
    project = model.project
    words = ("Fase", "Medlemmer") if lang == "nb" else ("Phase", "Members")
    solara.Markdown(head + f"{words[0]}: **{phase_text(model, lang)}** &nbsp; {words[1]}: {', '.join(project.members)}")


def phase_text(model: CooperationModel, lang: str = "en") -> str:
    """The negotiation's phase in words (``lang``), with what is already agreed (a new round is not a restart).

    After an office is agreed the project starts a new pre-project for the remaining sectors
    (:meth:`sim.core.negotiation.ProjectOrganisation.next_round`): the phase then reads "pre-project for
    the remaining sectors", followed by the arrangements agreed so far and when they open.
    """
    project, sc = model.project, model.scenario
    agreed = [a for a in model.arrangements if a.region == project.region.name]
    phase = str(project.phase)
    words = term(f"st.{phase}", lang) if f"st.{phase}" in TERMS else phase.replace("_", " ")
    if phase == Phase.PRE_PROJECT and agreed:
        words = term("st.pre_project_rest", lang)
    if not agreed:
        return words
    vocab = sc.params.vocab
    done = "; ".join(
        term("st.agreed", lang).format(
            form=plots.form_label(sc, a.form.name, lang),
            sectors=", ".join(plots.sector_label(sc, vocab.sectors[s].name, lang) for s in a.sectors),
            when=month_label(a.decided),
        )
        + (term("st.opens", lang).format(when=month_label(a.starts)) if a.starts > a.decided else "")
        for a in agreed
    )
    return f"{words} ({done})"


def _region_map(scenario: Scenario) -> plots.RegionMap:
    """A map figure the page keeps (released from pyplot's registry, so a new run frees the old one)."""
    import matplotlib.pyplot as plt

    figure = plots.RegionMap(scenario, scenario.name)
    plt.close(figure.figure)
    return figure


@solara.component
def RegionMap(model: CooperationModel):
    """The map: built once per run, recoloured (and re-rendered) only when an arrangement changes."""
    update_counter.get()
    figure = solara.use_memo(lambda: _region_map(model.scenario), [model])
    row = current_arrangements(model)
    # Redrawn only when an arrangement changes: rendering the figure every month would make Play
    # stutter, and most months change nothing on the map.
    key = json.dumps(row, sort_keys=True)
    solara.use_memo(lambda: figure.update(row, "now"), [figure, key])
    solara.FigureMatplotlib(figure.figure, dependencies=[figure, key], format="png", dpi=100)


def _county_map(scenario: Scenario) -> maps.CountyMap:
    """The county map for the initiative's sectors, kept by the page (released from pyplot's registry)."""
    import matplotlib.pyplot as plt

    sectors = initiative_sectors(scenario)
    figure = maps.CountyMap(
        scenario, sectors, scenario.name, figsize=(4.8 * len(sectors) + 4.2, 6.6), node_scale=0.5, legend_right=True
    )
    plt.close(figure.figure)
    return figure


@solara.component
def CountyMap(model: CooperationModel):
    """The county map: built once per run, recoloured (and re-rendered) only when an arrangement changes."""
    update_counter.get()
    figure = solara.use_memo(lambda: _county_map(model.scenario), [model])
    forms, hosts = municipality_forms(model, figure.sectors)
    key = json.dumps([forms, sorted((s, sorted(h)) for s, h in hosts.items())], ensure_ascii=False)
    solara.use_memo(lambda: figure.update(forms, hosts, "now"), [figure, key])
    solara.FigureMatplotlib(figure.figure, dependencies=[figure, key], format="png", dpi=90)


@solara.component
def Map(model: CooperationModel):
    """The region map or, for a county scenario, the county map."""
    if is_county(model):
        CountyMap(model)
    else:
        RegionMap(model)


@solara.component
def Measures(model: CooperationModel, lang: str = "en"):
    """Competence, capacity and vulnerability so far, per municipality, with the pilot period shaded."""
    update_counter.get()
    solara.HTML(tag="div", unsafe_innerHTML=measures_svg(model, lang))


@solara.component
def Narrative(model: CooperationModel, lang: str = "en"):
    """What happened so far and why the councils voted as they did, in plain words (``lang``)."""
    update_counter.get()
    paragraphs = county_narrative(model, lang) if is_county(model) else narrative(model, lang)
    if not paragraphs:
        paragraphs = [term("nv.nothing", lang)]
    body = "".join(f"<p style='margin:0 0 6px 0'>{html.escape(p)}</p>" for p in paragraphs)
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=["run-narrative"], style="max-height:430px;overflow:auto")


# Kept for users of the previous dashboard: the event log is now the narrative.
EventLog = Narrative


@solara.component
def Distribution(model: DashboardModel, progress: solara.Reactive[int], result: solara.Reactive[Any], lang: str = "en"):
    """The outcomes of :func:`replicates_for` runs with the same settings, with progress while they run."""
    update_counter.get()
    key, rows = result.value if result.value else (None, None)
    n = replicates_for(model.scenario)
    fewer = term("ds.fewer", lang).format(k=len(model.scenario.names)) if n < REPLICATES else ""
    solara.Markdown(term("ds.same_settings", lang).format(n=n) + fewer)
    # Rows of older settings are not shown beside this run: they would describe another experiment.
    if key != model.key or rows is None:
        solara.ProgressLinear(value=100 * progress.value / n)
        solara.Text(term("ds.running", lang).format(n=n, k=progress.value), classes=["replicate-progress"])
        return
    if is_county(model):
        html_text = county_distribution_html(county_distribution(rows, model.scenario), model, rows, lang)
    else:
        html_text = distribution_html(distribution(rows, model.scenario), model, rows, lang)
    solara.HTML(tag="div", unsafe_innerHTML=html_text, classes=["replicate-distribution"])


def slider_step(spec: Spec, default: float) -> float:
    """The coarsest power-of-ten step, at most 1/50 of the range, that has the default on its grid.

    A slider snaps its value to its grid; a default off the grid would silently change the run.
    """
    span = spec.high - spec.low
    exponent = int(np.floor(np.log10(span / 50)))
    for k in range(exponent, -7, -1):
        step = 10.0**k
        if abs((default - spec.low) / step - round((default - spec.low) / step)) < 1e-6:
            return step
    return 10.0**-6


def _value_text(spec: Spec, value: Any) -> str:
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "choice":
        return str(value).replace("_", " ")
    unit = f" {spec.unit}" if spec.unit not in ("", "-") else ""
    return f"{value:g}{unit}" if isinstance(value, int | float) else f"{value}{unit}"


@solara.component
def Control(key: str, value: Any, on_value: Callable[[str, Any], None], lang: str = "en"):
    """One catalogue parameter: its meaning (a lever's in ``lang``), value, unit and report section, then the input."""
    spec, defaults = by_name()[key], catalogue_defaults()
    words = meaning(key, lang)
    unit = spec.unit if spec.unit not in ("", "-") else "none"
    help_text = (
        f"{words}. Unit: {unit}. Allowed: {spec.range_text}. "
        f"Report section: {spec.section or 'none'}. Key: {key} (--set {key}=...)."
    )

    def set_value(v: Any) -> None:
        on_value(key, v)

    section = f" · report {spec.section}" if spec.section and spec.section != "-" else ""
    caption = f"Value: {_value_text(spec, value)} · unit: {unit} · range: {spec.range_text}{section}"
    box = "margin-bottom: 10px; padding-bottom: 6px; border-bottom: 1px solid #e4e4e4"
    with solara.Tooltip(help_text):
        with solara.Column(gap="0px", style=box, classes=["catalogue-control"]):
            if spec.kind == "bool":
                solara.Checkbox(label=words, value=bool(value), on_value=set_value, style="margin-top:0")
                solara.Text(caption, style=CAPTION, classes=["control-value"])
                return
            solara.Text(words, style="font-size: 14px; line-height: 1.3")
            solara.Text(caption, style=CAPTION, classes=["control-value"])
            if spec.kind == "choice":
                solara.Select(label="", values=list(spec.choices), value=value, on_value=set_value, dense=True)
            elif spec.kind == "int":
                solara.SliderInt(
                    "", value=int(value), min=int(spec.low), max=int(spec.high), on_value=set_value, thumb_label=False
                )
            else:
                solara.SliderFloat(
                    "",
                    value=float(value),
                    min=spec.low,
                    max=spec.high,
                    step=slider_step(spec, defaults[key]),
                    on_value=set_value,
                    thumb_label=False,
                )


@solara.component
def Settings(model: DashboardModel, params: solara.Reactive[dict], lang: str = "en"):
    """Scenario and seed, the policy levers, and the behavioural parameters (collapsed)."""
    values = params.value

    def on_value(key: str, value: Any) -> None:
        params.value = {**params.value, key: value}

    # Changes wait for Reset: a run whose parameters changed halfway would be no run the model
    # (or `run --set-file`) can reproduce from its start.
    changed = [k for k, v in values.items() if model.settings.get(k) != v]
    if changed:
        names = ", ".join(meaning(k, lang) for k in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        solara.Warning(
            f"Changed, not yet applied: {names}{more}. Press Reset to restart the run with the new settings.",
            classes=["pending-changes"],
        )
    else:
        solara.Text(
            "The run uses these settings. A change takes effect when you press Reset (the run restarts).",
            style=CAPTION,
        )
    with solara.Card("Scenario"):
        solara.Select(
            label="Scenario",
            values=available_scenarios(),
            value=values["scenario"],
            on_value=lambda v: on_value("scenario", v),
        )
        solara.InputText(
            label="Seed (whole number; the same seed gives the same run)",
            value=str(values["rng"]),
            on_value=lambda v: on_value("rng", v),
        )
    with solara.Card("Policy levers"):
        for key in lever_keys():
            Control(key, values[key], on_value, lang)
    Advanced(values, on_value)


@solara.component
def Advanced(values: dict[str, Any], on_value: Callable[[str, Any], None]):
    """The behavioural parameters in a collapsed panel; its controls exist only while it is open.

    Rendering some ninety controls that nobody sees would slow every Step of the page.
    """
    expanded = solara.use_reactive(False)
    title = "Advanced: behavioural parameters (estimates; change with care)"
    with solara.v.ExpansionPanels(
        v_model=0 if expanded.value else None, on_v_model=lambda m: expanded.set(m == 0), class_="advanced-panel"
    ):
        with solara.v.ExpansionPanel():
            solara.v.ExpansionPanelHeader(children=[title])
            with solara.v.ExpansionPanelContent():
                if expanded.value:
                    for group, keys in advanced_keys().items():
                        solara.Markdown(f"**{group.capitalize()}**")
                        for key in keys:
                            Control(key, values[key], on_value)


@solara.component
def Dashboard(initial: DashboardModel | None = None):
    """The page: settings and Step/Play/Reset on the left; map, measures, replicates and narrative on the right."""
    first = solara.use_memo(lambda: initial or DashboardModel(rng="1"), [])
    model = solara.use_reactive(first)
    params = solara.use_reactive(dict(first.settings))
    progress = solara.use_reactive(0)
    result = solara.use_reactive(None)
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    current = model.value

    def compute(cancel: threading.Event) -> None:
        progress.set(0)
        rows = replicate_rows(current, on_progress=progress.set, cancel=cancel)
        if rows is not None and not cancel.is_set():
            result.set((current.key, rows))

    # Restarted only when the scenario, seed or overrides change (the key), not on every Step.
    solara.use_thread(compute, dependencies=[current.key], intrusive_cancel=False)

    lang = solara.use_reactive("en")
    with solara.AppBar():
        solara.AppBarTitle(term("app_title", lang.value))
    with solara.Columns([3, 9], gutters_dense=True):
        with solara.Column():
            with solara.Card(term("run", lang.value)):
                solara.ToggleButtonsSingle(value=lang, values=list(LANGUAGES), classes=["language-switch"])
                ModelController(
                    model,
                    model_parameters=params,
                    play_interval=play_interval,
                    render_interval=render_interval,
                    use_threads=use_threads,
                )
            SpeedAndExport(current, play_interval)
            Settings(current, params, lang.value)
        with solara.Column():
            Status(current, lang.value)
            with solara.Card():
                Map(current)
            with solara.Card(term("service_measures", lang.value)):
                Measures(current, lang.value)
            with solara.Columns([5, 7]):
                with solara.Card():
                    Distribution(current, progress, result, lang.value)
                with solara.Card(term("what_happened", lang.value)):
                    Narrative(current, lang.value)
            Paired(current, result, lang.value)


def paired_text(
    model: DashboardModel,
    base_rows: list[dict[str, Any]],
    changes: dict[str, Any],
    lang: str = "en",
    cancel: threading.Event | None = None,
) -> str | None:
    """The baseline's runs against a variant's on the same seeds: the short answer of ``compare``.

    The variant is the model's settings plus ``changes``; replicate ``r`` of both uses the same
    seed, so the differences are paired (Newcombe for shares, paired t for means;
    :func:`sim.analysis.results.compare_rows`), and the text is :func:`sim.analysis.answers.render`'s.

    Raises:
        InputError: a change the catalogue refuses (unknown key, value out of range).
    """
    sc = model.scenario
    variant = sc.with_overrides({**model.overrides, **changes}, "variant")
    path = str(sc.path) if sc.path else sc.name
    overrides = tuple(sorted(variant.overrides.items()))
    rows = []
    jobs = [Job(r, path, r, model.seed, overrides) for r in range(len(base_rows))]
    for result in execute(jobs, workers=1, progress=False):
        if cancel is not None and cancel.is_set():
            return None
        rows.append(result["row"])
    # The county rows carry their areas for the dashboard; compare_rows wants outcome columns only.
    base = [{k: v for k, v in r.items() if k != "areas"} for r in base_rows]
    table = compare_rows(base, rows, sc.params.vocab, sc.kind).assign(variant_name="variant", overrides=str(changes))
    return render(table, sc.kind, sc.params.vocab.sector_names, sc.name, lang, csv=False)


@solara.component
def Paired(model: DashboardModel, result: solara.Reactive[Any], lang: str = "en"):
    """Baseline beside one variant on shared seeds: pick a lever and a value, press Compare."""
    update_counter.get()
    lever = solara.use_reactive(lever_keys()[0])
    value = solara.use_reactive("")
    asked = solara.use_reactive(None)
    answer = solara.use_reactive("")
    key, rows = result.value if result.value else (None, None)

    def work(cancel: threading.Event) -> None:
        # The variant is compared with the baseline's rows already computed in the background, on the
        # same seeds, so only the variant's runs are made here.
        if asked.value is None or rows is None or key != model.key:
            return
        try:
            text = paired_text(model, rows, dict([asked.value]), lang, cancel)
        except InputError as exc:
            text = str(exc)
        if text is not None:
            answer.set(text)

    solara.use_thread(work, dependencies=[asked.value, key, model.key, lang], intrusive_cancel=False)
    with solara.Card(
        "Utgangspunkt mot en variant (samme frø)" if lang == "nb" else "Baseline against a variant (same seeds)",
        classes=["paired"],
    ):
        solara.Select(label="Lever", values=lever_keys(), value=lever)
        spec = by_name()[lever.value]
        solara.InputText(label=f"Value ({spec.range_text})", value=value)
        solara.Button(
            "Compare", on_click=lambda: (answer.set("running..."), asked.set((lever.value, value.value.strip())))
        )
        if rows is None or key != model.key:
            solara.Text("Waiting for the baseline's runs.", style=CAPTION)
        elif answer.value:
            style = "font-size:12px;white-space:pre-wrap"
            solara.HTML(tag="pre", unsafe_innerHTML=html.escape(answer.value), style=style, classes=["paired-answer"])


#: Play speeds: label -> milliseconds between months.
SPEEDS = {"slow (1 month a second)": 1000, "normal": PLAY_INTERVAL_MS, "fast": 20}


def settings_toml(model: DashboardModel) -> str:
    """The run's settings as a file ``python run.py run --set-file`` reads back (changed keys only)."""
    return to_toml(model.scenario.path.stem, model.seed, dict(model.overrides))


def view_csv(model: CooperationModel) -> str:
    """What the measures panel shows, as CSV: month, municipality, sector, form and the three measures."""
    return model.timeline().to_csv(index=False)


def map_png(model: CooperationModel) -> bytes:
    """The map as it is on the screen, as PNG bytes."""
    import io

    import matplotlib.pyplot as plt

    if is_county(model):
        sectors = initiative_sectors(model.scenario)
        figure = maps.CountyMap(model.scenario, sectors, model.scenario.name)
        forms, hosts = municipality_forms(model, sectors)
        fig = figure.update(forms, hosts, "now").figure
    else:
        # A fresh figure for the download: the page's own stays as it is on the screen.
        fig = plots.RegionMap(model.scenario, model.scenario.name).update(current_arrangements(model), "now").figure
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=plots.save_dpi(fig))
    plt.close(fig)
    return buffer.getvalue()


@solara.component
def SpeedAndExport(model: DashboardModel, play_interval: solara.Reactive[int]):
    """Play speed, and downloads of the current view (CSV, map PNG) and of the settings (TOML for ``--set-file``)."""
    update_counter.get()
    speed = next((k for k, ms in SPEEDS.items() if ms == play_interval.value), "normal")
    with solara.Card("Speed and export", classes=["speed-export"]):
        solara.Select(
            label="Play speed", values=list(SPEEDS), value=speed, on_value=lambda k: play_interval.set(SPEEDS[k])
        )
        stem = f"{model.scenario.path.stem}-{shown_month(model)}"
        solara.FileDownload(
            lambda: view_csv(model).encode("utf-8"), filename=f"{stem}.csv", label="Measures so far (CSV)"
        )
        solara.FileDownload(lambda: map_png(model), filename=f"{stem}-map.png", label="Map (PNG)")
        solara.FileDownload(
            lambda: settings_toml(model).encode("utf-8"),
            filename=f"{model.scenario.path.stem}-settings.toml",
            label="Settings (TOML for run --set-file)",
        )


def make_page(model: CooperationModel | None = None):
    """The dashboard page (a fresh model unless one is given)."""
    return Dashboard(model)


page = make_page()
