"""Self-started negotiations: municipalities open talks on their own, without a County Governor (issue 21).

A county file's ``[self_start]`` table switches this on (format in ``scenarios/README.md``). Each
month every municipality that is its own unit may start a negotiation; the chance is a hazard
built from the report's mechanisms (docs/ODD.md, "Self-started negotiations"):

* **vulnerability** (§1.1 "sårbarhet", the vulnerability passages of §2): the hazard grows with
  the municipality's mean vulnerability in the sectors where it has no formal arrangement and is
  not negotiating, relative to the county's mean vulnerability at the origin; a municipality
  with nothing left to arrange starts nothing;
* **a neighbour's working office as an example** (an *estimated* mechanism: the report does not
  describe it): a formal joint office at work among the other members of its cooperation area
  multiplies the hazard by ``1 + example``;
* **the reform's afterglow** (§1.3: cooperation as the alternative once merger talks fail): for
  ``afterglow_months`` after its merger talks failed, by ``1 + afterglow``;
* **a dissolving arrangement** (an arrangement with an end date): its members look for a new one
  from the origin until ``dissolution_months`` after its end, by ``1 + dissolution``, and ask
  their former partners first.

A municipality that has taken part in a negotiation started within ``cooldown_months`` starts
none (in the §2.2 pilot a failed study in 2010 was followed by the next attempt in 2014). The starter leads; its
partners are the members of its cooperation area (former partners of a dissolving arrangement
first) that are free in the sectors on the agenda, nearest first, up to ``group_max`` members in
all; the agenda is the starter's open sectors, and the agenda setter chooses among their bundles
and forms (``sim.core.agenda``). Self-started negotiations are not funded. Every draw comes from the
model's generator, one per eligible municipality and month, in scenario order.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from sim.core import history
from sim.inputs.calendar import month_label

if TYPE_CHECKING:
    from sim.core.model import CooperationModel


def setup(model: CooperationModel) -> None:
    """State at the origin: the pilots' merger talks before it, dissolving arrangements, the hazard's reference."""
    sc = model.scenario
    for ev in sc.reform_events:
        # the talks before the origin already happened: replay them so trust and talks stand as they did then
        if ev.month < sc.start and model.p.reform_intensity > 0:
            model.log(history.apply_reform_event(model.p, ev, model._munis, ev.region or sc.name))
    model.afterglow_until = {}
    for ev in sc.reform_events:
        if ev.kind == "failed" and sc.self_start is not None:
            for name in ev.parties:
                model.afterglow_until[name] = ev.month + sc.self_start.afterglow_months
    model.former_partners = {}
    model.dissolving_until = {}
    for ex in sc.existing:
        if ex.until is not None and sc.self_start is not None:
            for name in ex.members:
                model.dissolving_until[name] = ex.until + sc.self_start.dissolution_months
                model.former_partners[name] = tuple(m for m in ex.members if m != name)
    model.last_start = {}
    model.area_of = {m: a for a in sc.areas for m in a.members}
    vul = [v for m in model._munis.values() for v in m.vulnerability]
    # the hazard's pressure is relative to the county at the origin, so ``rate`` reads as a yearly rate there;
    # the floor keeps a county with no vulnerability from dividing by zero
    model.vulnerability_ref = max(1e-9, float(np.mean(vul)))


def step(model: CooperationModel) -> None:
    """One month of self-starts (see the module docstring)."""
    ss = model.scenario.self_start
    if ss is None:
        return
    month, n = model.month, len(model.p.sectors)
    busy = _busy(model)
    area_of = model.area_of
    working = _working(model, month)
    at_work = Counter(area_of[m].name for m in working)  # members served by a working office, per area
    for name, muni in model._munis.items():
        # absorbed municipalities are no units any more; the cooldown keeps one municipality from opening a
        # negotiation every month after a failure
        if name in model.merged_into or month - model.last_start.get(name, -(10**6)) < ss.cooldown_months:
            continue
        open_ = [s for s in range(n) if not muni.formal_in(s) and (name, s) not in busy]
        if not open_:
            continue
        area = area_of[name]
        # divided by every sector, not the open ones: a municipality with fewer sectors left to arrange feels
        # less pressure
        pressure = sum(muni.vulnerability[s] for s in open_) / n / model.vulnerability_ref
        factor = 1.0
        if at_work[area.name] - (name in working) > 0:  # a neighbour's office at work
            factor *= 1 + ss.example
        if month <= model.afterglow_until.get(name, -1):
            factor *= 1 + ss.afterglow
        dissolving = month <= model.dissolving_until.get(name, -1)
        if dissolving:
            factor *= 1 + ss.dissolution
        # a monthly chance from a yearly rate (a Poisson process: never above 1 however large the factors)
        hazard = 1 - math.exp(-ss.rate / 12 * pressure * factor)
        # one draw per eligible municipality and month, whatever the hazard: a change in one municipality's
        # hazard does not shift the others' draws
        if model.rng.random() >= hazard:
            continue
        group = _partners(model, name, area, open_, busy, dissolving, ss.group_max)
        if len(group) < 2:
            continue
        _open(model, area, name, group, open_)
        for m in group:
            model.last_start[m] = month
            # a later starter this month sees these members as taken
            busy.update((m, s) for s in open_)


def _busy(model: CooperationModel) -> set[tuple[str, int]]:
    """(municipality, sector) pairs in a running negotiation (at most one negotiation per sector)."""
    return {(m, s) for p in model.negotiations if p.active for m in p.members for s in p.region.facts.sectors}


def _working(model: CooperationModel, month: int) -> set[str]:
    """Municipalities served by a formal joint office at work (not a merger) this month."""
    return {
        m
        for a in model.arrangements
        if a.ended is None and a.starts <= month and a.form.formal and not a.form.merges
        for m in a.members
    }


def _partners(
    model: CooperationModel, name: str, area, sectors: list[int], busy: set, dissolving: bool, size: int
) -> tuple[str, ...]:
    """The starter and its nearest free area partners (former partners of a dissolving arrangement first)."""
    sc = model.scenario
    former = model.former_partners.get(name, ()) if dissolving else ()
    pool = [
        m
        for m in dict.fromkeys([*former, *area.members])
        if m != name
        and m not in model.merged_into
        and not any((m, s) in busy for s in sectors)
        and not all(model._munis[m].formal_in(s) for s in sectors)
    ]
    # former partners first, then the nearest; the name breaks ties in distance
    pool.sort(key=lambda m: (m not in former, sc.distance(name, m), m))
    return (name, *pool[: size - 1])


def _open(model: CooperationModel, area, starter: str, group: tuple[str, ...], sectors: list[int]) -> None:
    names = model.p.vocab.sector_names
    label = "/".join(names[s] for s in sectors)
    # members in scenario order, as every other negotiation lists them (the starter leads wherever it stands)
    order = {m: i for i, m in enumerate(model._munis)}
    members = tuple(sorted(group, key=order.get))
    facts = replace(
        area.facts,
        name=f"{area.name}: {label}, started by {starter} {month_label(model.month)}",
        members=members,
        leader=starter,
        sectors=tuple(sectors),
        start=model.month,
        # nobody funds a self-start: its funds ended before it began
        funded_until=model.month - 1,
        offices_only=False,
    )
    model.open_negotiation(facts)
