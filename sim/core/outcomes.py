"""Outcomes of one run: the row of ``runs.csv`` that every analysis reads.

Measures (defined in docs/ODD.md, "Outcomes"):
    competence: 0-1, the specialist depth a service has (team size and learning).
    capacity: FTE available to a municipality's statutory tasks per FTE needed.
    vulnerability: chance that a statutory task goes unserved when one person is away.

"Formal" is :attr:`sim.inputs.vocab.Form.formal` (the host forms that can carry statutory duties);
"stalled" is a recorded stall cause. Lists are JSON arrays.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.merging import display
from sim.core.model import MEASURES, CooperationModel
from sim.core.records import Arrangement
from sim.inputs.calendar import month_label
from sim.inputs.vocab import NONE, EventKind, Phase

if TYPE_CHECKING:
    from sim.core.negotiation import ProjectOrganisation


def _mean_over(model: CooperationModel, month: int, names: list[str], sectors: list[int], measure: str) -> float:
    sc = model.scenario
    # a month before the start reads the first row, one after a shortened run its last: every column is
    # defined
    t = min(max(month, sc.start), model.month - 1) - sc.start
    idx = [sc.names.index(n) for n in names]
    values = model.history[t][np.ix_(idx, sectors)][..., MEASURES.index(measure)]
    # np.mean's own sum and division without its Python wrapper: the same number, bit for bit (issue 19)
    return float(np.add.reduce(values, axis=None) / values.size)


def _in_force(arrangements: list[Arrangement], s: int, month: int) -> Arrangement | None:
    live = [a for a in arrangements if s in a.sectors and a.live(month)]
    # the latest decided wins: a newer arrangement takes over the sector (``Arrangements.add_arrangement``)
    return live[-1] if live else None


def _sector_columns(model: CooperationModel, sector, names: list[str], arrangements: list[Arrangement]) -> dict:
    """A sector's columns of :func:`outcome_row`: its arrangement at the pilot's end and horizon, and vulnerability."""
    sc, s, name = model.scenario, sector.index, sector.name
    arr = _in_force(arrangements, s, sc.pilot_end)
    row: dict[str, Any] = {f"form_{name}": arr.form.name if arr else NONE}
    row[f"members_{name}"] = json.dumps(list(arr.members) if arr else [], ensure_ascii=False)
    row[f"host_{name}"] = (arr.host or "") if arr else ""
    row[f"decided_{name}"] = month_label(arr.decided) if arr else ""
    row[f"formal_{name}"] = bool(arr and arr.form.formal)
    row[f"network_{name}"] = bool(arr and arr.form.network)
    last = _in_force(arrangements, s, sc.horizon)
    row[f"form_{name}_horizon"] = last.form.name if last else NONE
    # over the members the arrangement serves: what it does for them, not diluted by those outside it
    group = list(last.members) if last else names
    for label, month in (("pilot_end", sc.pilot_end), ("horizon", sc.horizon)):
        row[f"vulnerability_{name}_{label}"] = _mean_over(model, month, group, [s], "vulnerability")
    row[f"vulnerability_{name}_horizon_all"] = _mean_over(model, sc.horizon, names, [s], "vulnerability")
    return row


def outcome_row(model: CooperationModel, project: ProjectOrganisation | None = None) -> dict[str, Any]:
    """Summarise a finished run as one flat dict (one row of ``runs.csv``).

    Per sector ``s``: ``form_s``, ``members_s``, ``host_s``, ``decided_s`` (the arrangement in
    force at the end of the pilot), ``form_s_horizon``, and ``vulnerability_s_pilot_end`` /
    ``_horizon`` (means over the members of the sector's arrangement at the horizon, or over
    all municipalities when there is none).

    Args:
        model: A finished run.
        project: One negotiation of a county run (a pilot inside the county): the row then
            covers its members, arrangements, votes and events only. None: the whole region.
    """
    sc, vocab = model.scenario, model.p.vocab
    if project is None:
        names, region, arrangements, events = sc.names, sc.name, model.arrangements, model.events
        votes = [v for n in model.negotiations for v in n.votes]
    else:
        names, region = list(project.region.facts.members), project.region.name
        arrangements = [a for a in model.arrangements if a.region == region]
        events = [e for e in model.events if e.region == region]
        votes = project.votes
    row: dict[str, Any] = {"scenario": region, "n_members": len(names)}
    everyone = list(range(len(vocab.sectors)))
    for sector in vocab.sectors:
        row.update(_sector_columns(model, sector, names, arrangements))
    formal_end = any(row[f"formal_{sector.name}"] for sector in vocab.sectors)
    network_end = any(row[f"network_{sector.name}"] for sector in vocab.sectors)
    stalls = [e for e in events if e.kind == EventKind.STALL]
    row["stall_cause"] = stalls[0].cause if stalls else ""
    row["stall_month"] = month_label(stalls[0].month) if stalls else ""
    row["exits"] = json.dumps([m for v in votes for m in v.exits], ensure_ascii=False)
    row["first_vote"] = month_label(votes[0].month) if votes else ""
    starts = [e.month for e in events if e.kind in (EventKind.MAIN_PROJECT_START, EventKind.NETWORK_START)]
    row["main_project_start"] = month_label(starts[0]) if starts else ""
    # without a main project the 'main start' columns read the pilot's end, so they are never empty
    start_month = starts[0] if starts else sc.pilot_end
    for measure in MEASURES:
        row[f"{measure}_main_start"] = _mean_over(model, start_month - 1, names, everyone, measure)
        row[f"{measure}_pilot_end"] = _mean_over(model, sc.pilot_end, names, everyone, measure)
        row[f"{measure}_horizon"] = _mean_over(model, sc.horizon, names, everyone, measure)
    decided = [a.decided for a in arrangements]
    start = sc.start if project is None else project.region.facts.start or sc.start
    # no agreement counts as one month past the horizon: censored, but still a number to compare
    row["months_to_agreement"] = (min(decided) if decided else sc.horizon + 1) - start
    row["n_votes"] = len(votes)
    row["formal_by_pilot_end"] = formal_end
    row["network_by_pilot_end"] = network_end
    row["stalled"] = bool(stalls)
    return row


# --- county outcomes (§4) --------------------------------------------------------------------------
def county_row(model: CooperationModel) -> dict[str, Any]:
    """One row of a county run's ``runs.csv``: the county at the horizon (§4 what-ifs).

    Per sector ``s``: ``offices_s`` (formal joint offices in force; a merger is not one),
    ``covered_s`` and ``residents_s`` (municipalities and residents they serve),
    ``residents_share_s``, ``network_members_s`` (municipalities in a network),
    ``vulnerability_s_mean`` (over every municipality) and ``vulnerability_s_worst`` (the most
    vulnerable municipality). Then ``mergers`` and ``merged`` (municipalities merged, §4.3),
    ``negotiations``, ``stalls`` (negotiations stopped at the end, where the state did not
    decide), ``stall_causes`` (JSON ``{cause: count}``) and ``state_decisions``.
    """
    sc, vocab = model.scenario, model.p.vocab
    population = {m.name: m.population for m in sc.municipalities}
    total = sum(population.values())
    t = model.month - 1 - sc.start
    row: dict[str, Any] = {"scenario": sc.name, "n_members": len(sc.names), "residents": total}
    live = [a for a in model.arrangements if a.live(sc.horizon)]
    for sector in vocab.sectors:
        s, name = sector.index, sector.name
        # a merger is counted apart (``mergers``): a merged municipality has no partner to share an office
        # with
        formal = [a for a in live if s in a.sectors and a.form.formal and not a.form.merges]
        covered = {m for a in formal for m in a.members}
        row[f"offices_{name}"] = len(formal)
        row[f"covered_{name}"] = len(covered)
        row[f"residents_{name}"] = sum(population[m] for m in covered)
        row[f"residents_share_{name}"] = row[f"residents_{name}"] / total
        row[f"network_members_{name}"] = len({m for a in live if s in a.sectors and a.form.network for m in a.members})
        vul = model.history[t, :, s, MEASURES.index("vulnerability")]
        row[f"vulnerability_{name}_mean"] = float(np.mean(vul))
        row[f"vulnerability_{name}_worst"] = float(np.max(vul))
    mergers = [a for a in live if a.form.merges]
    row["mergers"] = len(mergers)
    row["merged"] = sum(len(a.members) for a in mergers)
    stopped = [n for n in model.negotiations if n.phase == Phase.STALLED]  # stopped for good (the state did not decide)
    row["negotiations"] = len(model.negotiations)
    row["stalls"] = len(stopped)
    row["stall_causes"] = json.dumps(dict(Counter(str(n.stall_cause) for n in stopped)), sort_keys=True)
    row["state_decisions"] = sum(e.kind == EventKind.STATE_DECISION for e in model.events)
    return row


def area_rows(model: CooperationModel) -> list[dict[str, Any]]:
    """One row per cooperation area of a county run (``areas.csv``): what each area ended with.

    Per sector ``s``: ``form_s`` (the form serving most of the area's members at the horizon,
    ``none`` if none), ``host_s``, ``covered_s`` (members in a formal arrangement) and
    ``vulnerability_s`` (mean over the members). Then the stalls of the area's negotiations and
    their causes, and whether the membership is assumed.
    """
    sc, vocab = model.scenario, model.p.vocab
    t = model.month - 1 - sc.start
    live = [a for a in model.arrangements if a.live(sc.horizon)]
    population = {m.name: m.population for m in sc.municipalities}
    rows = []
    for area in sc.areas:
        members = set(area.members)
        row: dict[str, Any] = {
            "area": area.name,
            "assumed": area.assumed,
            "n_members": len(members),
            "residents": sum(population[m] for m in members),
        }
        idx = [sc.index[m] for m in area.members]
        for sector in vocab.sectors:
            s, name = sector.index, sector.name
            mine = [(len(members & set(a.members)), a) for a in live if s in a.sectors and members & set(a.members)]
            # the arrangement serving most of the area's members; ties go to the formal one
            best = max(mine, key=lambda x: (x[0], x[1].form.formal))[1] if mine else None
            row[f"form_{name}"] = best.form.name if best else NONE
            row[f"host_{name}"] = (best.host or "") if best else ""
            row[f"covered_{name}"] = len(
                {m for _, a in mine if a.form.formal and not a.form.merges for m in a.members} & members
            )
            row[f"vulnerability_{name}"] = float(np.mean(model.history[t, idx, s, MEASURES.index("vulnerability")]))
        talks = [n for n in model.negotiations if n.region.facts.area == area.name]
        stopped = [n for n in talks if n.phase == Phase.STALLED]
        row["negotiations"] = len(talks)
        row["stalls"] = len(stopped)
        row["stall_causes"] = json.dumps(dict(Counter(str(n.stall_cause) for n in stopped)), sort_keys=True)
        rows.append(row)
    return rows


def municipality_rows(model: CooperationModel) -> list[dict[str, Any]]:
    """One row per municipality of a county run at the horizon (``municipalities.csv``, the map's data).

    Per sector ``s``: ``form_s`` (the arrangement it is in, ``none`` if none), ``host_s`` and
    ``vulnerability_s``.
    """
    sc, vocab = model.scenario, model.p.vocab
    t = model.month - 1 - sc.start
    area_of = {m: a.name for a in sc.areas for m in a.members}
    rows = []
    for i, muni in enumerate(model.municipalities):
        row: dict[str, Any] = {
            "municipality": muni.name,
            "area": area_of.get(muni.name, ""),
            "population": muni.population,
        }
        for sector in vocab.sectors:
            s, name = sector.index, sector.name
            arr = muni.arrangement[s]
            live = arr is not None and arr.live(sc.horizon)
            row[f"form_{name}"] = arr.form.name if live else NONE
            row[f"host_{name}"] = (arr.host or "") if live else ""
            row[f"vulnerability_{name}"] = float(model.history[t, i, s, MEASURES.index("vulnerability")])
        rows.append(row)
    return rows


# --- forecast rows (county forecast from an origin) ------------------------------------------------
#: The years the forecast reports (December of each).
YEARS = (2020, 2022)
NO_START = "no negotiation started"
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
                # the forecast asks what is new since the origin: the county file's own offices do not count
                # as new
                new = [a for a in offices if a.decided >= origin and a.region not in before]
                # the new office serving most of the area, the earliest on ties
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
        # why an area got nothing: still talking, else the last stop's cause, else nobody started
        elif any(n.active for n in talks):
            row["why"] = RUNNING
        elif stopped:
            row["why"] = str(stopped[-1].stall_cause)
        else:
            row["why"] = NO_START
        rows.append(row)
    return rows
