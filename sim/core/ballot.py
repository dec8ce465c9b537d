"""Council votes: stated preferences, the host decision, side payments, exits, and the diagnosis.

A ballot is one round of votes in every member council on one option (§2.1, §2.2). Its record
(:class:`sim.core.records.Vote`) is all that later analysis reads; :func:`diagnose` names the cause
of a failed process from that record alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from sim.core import mechanisms as mech
from sim.core.agenda import option_rows
from sim.core.records import Option, Vote
from sim.core.valuation import own_value
from sim.inputs.vocab import NONE, Cause, NullModel, Stage

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.core.region import Region


def stated_preferences(
    model: CooperationModel, region: Region, option: Option, earlier: Sequence[Vote] = ()
) -> tuple[dict, dict, dict]:
    """Each council's preferred host, form and sector subset for the option (§2.1, §2.2, §3.2).

    For a formal proposal the preferred form is among the allowed formal forms: the question put
    to the councils was the governance model of a joint service (§2.2: a joint board or an
    administrative host). A council that named a host at an earlier vote on the same sectors keeps
    that decision while the host is still on offer (``mechanisms.kept_host``, §2.1).
    """
    p = model.p
    hosts = region.willing_hosts(option)
    subsets = [c for k in range(1, len(option.sectors) + 1) for c in combinations(option.sectors, k)]
    # a formal proposal asks which governance model (§2.2: board or administrative host); a network asks anything
    whole = len(option.sectors) == len(p.sectors)  # a merger takes every sector (§4.3)
    forms = [
        f for f in p.forms if p.allowed(f) and (f.formal or not option.form.formal) and (whole or not f.merges)
    ] or [option.form]
    decided = _decided_hosts(option, earlier)
    pref_host, pref_form, pref_sectors = {}, {}, {}
    for name in option.members:
        muni = region.agents[name]
        pref_host[name] = _named_host(region, muni, option, hosts, decided)
        variants = [_with_form(region, muni, option, f) for f in forms]
        # a hosted form nobody would host is no real choice; with none left the council can only prefer the
        # proposal
        variants = [v for v in variants if v.host is not None or not v.form.needs_host] or [option]
        # ties go to the earlier form of the vocabulary, so defaults.toml's order decides them, not the draw
        pref_form[name] = max(variants, key=lambda v: (muni.value(v, region), -v.form.index)).form.name
        # ties go to the larger subset: a council indifferent to a sector does not ask to drop it
        pref_sectors[name] = max(subsets, key=lambda c: (muni.value(option._replace(sectors=c), region), len(c)))
    return pref_host, pref_form, pref_sectors


def _decided_hosts(option: Option, earlier: Sequence[Vote]) -> dict[str, str | None]:
    """The hosts the councils named at the latest earlier vote on the option's sectors (empty if none)."""
    return next((v.preferred_host for v in reversed(earlier) if v.option.sectors == option.sectors), {})


def _named_host(region: Region, muni, option: Option, hosts: list[str], decided: dict) -> str | None:
    """The host a council names: its preferred host, or the one it decided earlier (``mechanisms.kept_host``)."""
    own = muni.preferred_host(option, region, hosts)
    return mech.kept_host(decided.get(muni.name), own, hosts) if own is not None else None


def open_preferences(
    model: CooperationModel, region: Region, option: Option, earlier: Sequence[Vote] = ()
) -> tuple[dict, dict]:
    """Each council's best option among all open to it at this vote: form and host (issue 20, §2.1-§2.3).

    The options are the vote's sectors and members under every allowed form (the network, and a
    merger when every sector is at stake, included), each hosted form with every host that would
    host it (the proposed host always counts), and keeping the own service (value 0). Each is
    valued as :func:`hold` values the option it votes on: the council's value, or its own value
    less its disappointment where it names itself and the option names another host (the host it
    names as at the vote: kept from an earlier vote on the sectors, ``earlier``). Ties go to
    the proposal, then to keeping the own service, then to the form order.

    Returns:
        ``(form, host)``: per council the best option's form name (``"none"`` for the own service)
        and host (None for hostless forms and the own service).
    """
    p = model.p
    whole = len(option.sectors) == len(p.sectors)
    variants = []
    for f in p.forms:
        if not p.allowed(f) or (f.merges and not whole):
            continue
        base = option._replace(form=f, host=option.host if f.needs_host else None)
        hosts = region.willing_hosts(base) if f.needs_host else [None]
        variants += [base._replace(host=h) for h in hosts if h is not None or not f.needs_host]
    rows = option_rows(model, region, variants)  # [variant, member]
    readiness = np.array([region.agents[m].readiness for m in option.members])
    own = own_value(p, readiness, tuple(rows[k] for k in ("gains", "control", "access", "other")), False)
    # as in hold: a council whose host claim loses judges by its own interest, the others by the council's
    # view
    values = (np.where(rows["loss"] > 0, own, rows["council"]) - rows["loss"]).T.tolist()  # [member, variant]
    best_form, best_host = {}, {}
    decided = _decided_hosts(option, earlier)
    for name, value in zip(option.members, values, strict=True):
        muni = region.agents[name]
        if decided.get(name) is not None:  # the table's loss assumes the council names its preferred host
            value = []
            for v in variants:
                named = _named_host(region, muni, v, region.willing_hosts(v), decided)
                loss = muni.disappointment(v, region, named)
                value.append((muni.own_value(v, region) if loss > 0 else muni.value(v, region)) - loss)
        # the own service is worth 0 and ranks between the proposal (2) and the other options (0) on ties
        scored = [(0.0, 1, 0, NONE, None)]
        for v, u in zip(variants, value, strict=True):
            scored.append((u, 2 if v == option else 0, -v.form.index, v.form.name, v.host))
        _, _, _, best_form[name], best_host[name] = max(scored, key=lambda s: s[:3])
    return best_form, best_host


def _with_form(region: Region, muni, option: Option, form) -> Option:
    """The option under another form: same host where one is named, else the council's preferred host."""
    if not form.needs_host:
        return option._replace(form=form, host=None)
    if option.host is not None:
        return option._replace(form=form)
    candidate = option._replace(form=form, host=None)
    return candidate._replace(host=muni.preferred_host(candidate, region, region.willing_hosts(candidate)))


def decided_host(option: Option, pref_host: dict[str, str | None]) -> str | None:
    """The host the councils name: the most named, ties to the proposed host, then member order (§2.1)."""
    if not option.form.needs_host:
        return None
    counts = Counter(h for h in pref_host.values() if h is not None)
    if not counts:
        return option.host
    best = max(counts.values())
    tied = [h for h in counts if counts[h] == best]
    return option.host if option.host in tied else min(tied, key=option.members.index)


def offer_side_payment(
    model: CooperationModel, region: Region, option: Option, util: dict[str, float], loss: dict[str, float]
) -> str | None:
    """Offer another joint function to one member whose host claim lost, if the givers still gain (§2.1).

    The member it converts at least cost (smallest shortfall the payment covers) receives
    :func:`mechanisms.side_payment`'s value; every other member gives up its share of the
    function's posts, and the offer is made only if each of them still values the package
    above zero. Updates ``util`` in place.
    """
    candidates = []
    for m in option.members:
        givers = [g for g in option.members if g != m]
        value, costs = mech.side_payment(model.p, region.population(m), [region.population(g) for g in givers])
        if (
            loss[m] > 0
            and util[m] < 0 <= util[m] + value
            and all(util[g] - c >= 0 for g, c in zip(givers, costs, strict=True))
        ):
            candidates.append((-util[m], option.members.index(m), m, value, dict(zip(givers, costs, strict=True))))
    if not candidates:
        return None
    # the cheapest conversion: the smallest shortfall first, then member order (no draw)
    _, _, receiver, value, costs = min(candidates)
    util[receiver] += value
    for g, c in costs.items():
        util[g] -= c
    return receiver


def hold(
    model: CooperationModel,
    region: Region,
    option: Option,
    stage: Stage,
    vote_id: int,
    leader: str,
    earlier: Sequence[Vote] = (),
) -> Vote:
    """Every council votes on the option; a council that says no may leave (§2.1, §2.2).

    The councils first name their preferred host; the most named host is the one voted on
    (§2.1: one member named itself as host, the three others named a fourth). A council whose own
    claim lost judges the outcome on its own interest, less its disappointment. ``earlier`` holds
    the negotiation's earlier votes (a council keeps the host it decided, :func:`stated_preferences`).
    """
    p, rng = model.p, model.rng
    pref_host, pref_form, pref_sectors = stated_preferences(model, region, option, earlier)
    option = option._replace(host=decided_host(option, pref_host))
    util, loss, yes = {}, {}, {}
    for name in option.members:
        muni = region.agents[name]
        loss[name] = muni.disappointment(option, region, pref_host[name])
        base = muni.own_value(option, region) if loss[name] > 0 else muni.value(option, region)
        util[name] = base - loss[name]
    paid = None
    if stage == Stage.FINAL and p.side_payments and option.form.needs_host:
        paid = offer_side_payment(model, region, option, util, loss)
    for name in option.members:
        noise = rng.logistic(0.0, p.vote_noise)
        yes[name] = bool(rng.random() < 0.5) if p.null_model == NullModel.COIN_VOTES else util[name] + noise > 0
        util[name] += noise
    best_form, best_host = open_preferences(model, region, option, earlier)
    talks = frozenset(m for m in option.members if region.agents[m].outside_talks or region.agents[m].member_talks)
    compelled = region.compelled(option)
    vote = Vote(
        vote_id,
        model.month,
        option,
        stage,
        yes,
        util,
        pref_host,
        pref_form,
        pref_sectors,
        talks,
        side_payment_to=paid,
        compelled=compelled,
        best_form=best_form,
        best_host=best_host,
    )
    no, stayers = vote.no, [m for m in option.members if yes[m] or m in compelled]
    if (
        no
        and (option.host is None or option.host in stayers)
        and leader not in no
        and len(stayers) >= mech.named_host_quorum(len(option.members), sum(v > 0 for v in loss.values()))
    ):
        vote.exits = [m for m in no if m not in compelled]
    return vote


def diagnose(vote: Vote, leader: str) -> Cause:
    """Name the cause of a failed process from the last vote record alone (§2.2, §3.2, §2.1, §1.3)."""
    # the causes are tested in a fixed order, so a vote with several reasons names the first: the leader, the
    # governance model and the sectors, which the report names for the pilots (§2.2, §3.2), before host
    # location, the reform's competing track and plain lack of support
    option, no = vote.option, vote.no
    if leader in no and leader != option.host:
        return Cause.LEADER_LEFT
    if option.form.needs_host and option.host:
        partners = [m for m in option.members if m != option.host]
        forms = Counter(vote.preferred_form[m] for m in partners)
        # ties go to the proposed form: partners split evenly do not make a dispute with the host
        majority = max(forms, key=lambda f: (forms[f], f == option.form.name))
        partners_no = [m for m in no if m != option.host]
        if vote.preferred_form[option.host] != majority and (
            option.host in no or 2 * len(partners_no) >= len(partners)
        ):
            return Cause.GOVERNANCE_DISPUTE
    if len(option.sectors) > 1 and any(len(vote.preferred_sectors[m]) < len(option.sectors) for m in no):
        return Cause.SECTOR_SENSITIVITY
    if option.form.needs_host and any(vote.preferred_host[m] not in (None, option.host) for m in no):
        return Cause.HOST_LOCATION
    if any(m in vote.merger_talks for m in no):
        return Cause.COMPETING_TRACK
    return Cause.INSUFFICIENT_SUPPORT


def strain_trust(p, region: Region, vote: Vote) -> None:
    """A failed vote strains trust between its yes and its no side (``mechanisms.vote_trust``, §2.2).

    Values depend on trust, so the month's cache of appraisals (``sim.core.valuation.appraise``) is
    cleared: what is valued after the vote sees the strained trust.
    """
    agents = region.agents
    for a in vote.option.members:
        for b in vote.no:
            if vote.yes[a]:
                agents[a].trust[b] = agents[b].trust[a] = mech.vote_trust(p, agents[a].trust[b])
    # only when some trust changed: clearing throws away the month's appraisals
    if vote.no and any(vote.yes.values()):
        agents[vote.option.members[0]].model.cache.clear()
