"""The municipal reform's decided mergers as scheduled events (report §1.3, §2.1).

The mergers come from the county file (:mod:`sim.inputs.mergers`). On a merger (:func:`apply_due`)
the most populous member carries on as the merged municipality (its name in the model stays;
``display`` gives the new name):

* it takes over its members' staff and population (need follows population), the best of their
  competence, their population-weighted sensitivity and readiness, and their relations (trust);
* it takes over their arrangements and memberships: per sector it stays in the arrangement that
  serves the larger part of the merged population; an arrangement all of whose members merge
  becomes the new municipality's own service; one that loses members goes on for those it keeps;
* in a running negotiation it takes its members' places; a negotiation left with one member stops.

The absorbed municipalities take part in nothing afterwards; their rows in the monthly history
mirror the merged municipality (:func:`mirror`), so every 2016 municipality shows the state of
the unit it belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.core import mechanisms as mech
from sim.core.records import Event
from sim.inputs.vocab import Cause, EventKind, Phase

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.inputs.mergers import Merger


def display(model: CooperationModel, name: str) -> str:
    """The name a municipality goes by now: the merged municipality's new name once it merged."""
    return model.merged_name.get(model.merged_into.get(name, name), model.merged_into.get(name, name))


def apply_due(model: CooperationModel) -> None:
    """Carry out the mergers due this month (see the module docstring).

    From the councils' decisions (the month after ``reform_deadline``, §2.1) or the run's start if
    later, the members of every merger still to come are in merger talks with each other (§1.3,
    as two members of the §2.3 pilot were).
    """
    sc = model.scenario
    if model.month == max(sc.start, sc.reform_deadline + 1):
        for merger in sc.mergers:
            if merger.month > model.month:
                for name in merger.members:
                    model._munis[name].member_talks = True
    for merger in sc.mergers:
        if merger.month == model.month:
            merge(model, merger)


def merge(model: CooperationModel, merger: Merger) -> None:
    """Merge the members of ``merger`` into its most populous member (see the module docstring)."""
    munis, p = model._munis, model.p
    # a member merged before (a chain of mergers) counts as the unit it is part of now; scenario order keeps
    # the result independent of the file's member order
    units = sorted({model.merged_into.get(m, m) for m in merger.members}, key=list(munis).index)
    agents = [munis[m] for m in units]
    # the name breaks a tie in population, so the survivor never depends on the draw
    survivor = max(agents, key=lambda a: (a.population, a.name))
    others = [a for a in agents if a is not survivor]
    if not others:
        return
    total = sum(a.population for a in agents)
    weight = {a.name: a.population / total for a in agents}
    n = len(survivor.staff)
    survivor.staff = tuple(sum(a.staff[s] for a in agents) for s in range(n))
    survivor.population = total
    survivor.need = tuple(mech.need_fte(p, s, total) for s in range(n))
    # a larger team starts from the competence its size gives, and keeps the best any member had built
    survivor.competence_start = tuple(mech.team_competence(p, f) for f in survivor.staff)
    survivor.competence = [max(survivor.competence_start[s], *(a.competence[s] for a in agents)) for s in range(n)]
    survivor.sensitivity = tuple(sum(weight[a.name] * a.sensitivity[s] for a in agents) for s in range(n))
    survivor.readiness = sum(weight[a.name] * a.readiness for a in agents)
    # the talks ended with the merger: no competing track is left
    survivor.outside_talks = survivor.member_talks = False
    names = {a.name for a in agents}
    for other in munis.values():
        if other.name in names or model.merged_into.get(other.name):
            continue
        # trust towards a third municipality is the population-weighted mean of the members' trust, over the
        # members that had any (municipalities of different areas hold none)
        known = [(weight[a.name], a.trust[other.name]) for a in agents if other.name in a.trust]
        if known:
            t = sum(w * v for w, v in known) / sum(w for w, _ in known)
            survivor.trust[other.name] = other.trust[survivor.name] = t
    for a in others:
        model.merged_into[a.name] = survivor.name
        # earlier absorbed units now point at the new survivor, so ``merged_into`` is never a chain
        for old, new in list(model.merged_into.items()):
            if new == a.name:
                model.merged_into[old] = survivor.name
    model.merged_name[survivor.name] = merger.name
    _arrangements(model, survivor, others)
    _negotiations(model, survivor, others)
    for a in others:
        a.arrangement = [None] * n
        a.outside_talks = a.member_talks = False
    text = f"{', '.join(sorted(names))} merge into {merger.name}"
    model.log(Event(model.month, merger.name, EventKind.REFORM, text, members=tuple(sorted(names)), cause="merged"))


def _arrangements(model: CooperationModel, survivor, others: list) -> None:
    """Per sector: the merged municipality keeps the arrangement serving most of its people."""
    gone = {a.name for a in others}
    group = [survivor, *others]
    for s in range(len(survivor.staff)):
        held = {}
        for a in group:
            arr = a.arrangement[s]
            if arr is not None and arr.ended is None:
                held.setdefault(id(arr), [arr, 0.0])[1] += a.population
        # ties go to the arrangement met first (survivor, then members): max keeps the first maximum
        keep = max(held.values(), key=lambda x: x[1])[0] if held else None
        survivor.arrangement[s] = keep
        for arr, _ in held.values():
            if arr is keep:
                continue
            for a in group:  # the merged unit leaves the other arrangement in this sector
                if a.arrangement[s] is arr:
                    a.arrangement[s] = None
    for arr in model.arrangements:
        if arr.ended is not None or not gone & set(arr.members) and survivor.name not in arr.members:
            continue
        members = tuple(dict.fromkeys(survivor.name if m in gone else m for m in arr.members))
        # a member that the sector loop moved to another arrangement is no longer in this one
        members = tuple(m for m in members if any(model._munis[m].arrangement[s] is arr for s in arr.sectors))
        host = survivor.name if arr.host in gone else arr.host
        arr.members, arr.host = members, host if host in members else None
        # one member left: the joint service is now that municipality's own (no cooperation with itself)
        if len(members) < 2:
            arr.ended = model.month
            for m in members:
                for s in arr.sectors:
                    if model._munis[m].arrangement[s] is arr:
                        model._munis[m].arrangement[s] = None
            owner = model.merged_name.get(members[0], members[0]) if members else survivor.name
            text = f"{arr.region} becomes {owner}'s own service"
            model.log(Event(model.month, arr.region, EventKind.ARRANGEMENT_END, text, members=members))


def _negotiations(model: CooperationModel, survivor, others: list) -> None:
    """The merged municipality takes its members' places in running negotiations."""
    gone = {a.name for a in others}
    for project in model.negotiations:
        if not project.active or not gone & (set(project.members) | {project.agenda.leader}):
            continue
        sectors = set(project.region.facts.sectors)
        elsewhere = any(  # at most one negotiation per sector: then the absorbed members just leave
            n is not project and n.active and survivor.name in n.members and sectors & set(n.region.facts.sectors)
            for n in model.negotiations
        )
        # dict.fromkeys keeps member order and drops the duplicate when several members merge into one
        members = tuple(dict.fromkeys(survivor.name if m in gone and not elsewhere else m for m in project.members))
        members = tuple(m for m in members if m not in gone)
        project.members = members
        project.region.agents[survivor.name] = survivor
        # the pooled staff of any group with the survivor changed with its staff
        project.region._pools.clear()
        if project.agenda.leader in gone:
            project.agenda.leader = survivor.name if survivor.name in members else members[0] if members else ""
        if project.option is not None:
            opt = project.option
            opt_members = tuple(m for m in dict.fromkeys(survivor.name if m in gone else m for m in opt.members))
            opt_members = tuple(m for m in opt_members if m in members)
            host = survivor.name if opt.host in gone else opt.host
            project.option = opt._replace(members=opt_members, host=host if host in opt_members else None)
        # the options tried named the old members: with new members every option is new
        project.agenda.tried = set()
        lost_host = project.option is not None and project.option.form.needs_host and project.option.host is None
        if (len(members) < 2 or lost_host) and project.phase not in (Phase.IMPLEMENTATION, Phase.NETWORK):
            project.stall(Cause.COMPETING_TRACK)  # the merger took the negotiation's place (§1.3)


def mirror(model: CooperationModel) -> None:
    """Absorbed municipalities show the municipality they merged into: this month's history row, arrangements.

    They take part in nothing (``merged_into`` keeps them out of every negotiation); the copies
    only let per-municipality outputs (``municipalities.csv``, the map) show the unit's state.
    """
    if not model.merged_into:
        return
    t, index = model.month - model.scenario.start, model.scenario.index
    for gone, into in model.merged_into.items():
        model.history[t, index[gone]] = model.history[t, index[into]]
        model._munis[gone].arrangement = list(model._munis[into].arrangement)
