"""How a municipality values an option: its council's and its administration's view (§2, §3.4).

:class:`Valuation` is the part of :class:`sim.core.agents.Municipality` that judges proposals; every
rule it applies is a named function of ``sim.core.mechanisms``. It reads only the municipality's own
state and the :class:`sim.core.region.Region` it is given.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.core import mechanisms as mech
from sim.core.records import Option
from sim.inputs.vocab import NullModel

if TYPE_CHECKING:
    from sim.core.region import Region


class Valuation:
    """Valuation of options: service gains, control, access and the rest, with a regional perspective.

    Used as a base of :class:`sim.core.agents.Municipality`, whose attributes (staff, need,
    competence, capacity, vulnerability, sensitivity, readiness, trust, merger talks, model) it
    reads.
    """

    def gains(self, option: Option, region: Region) -> float:
        """Expected gain in capacity, competence and robustness from an option (§1.1, §3.3)."""
        return self.parts(option, region)[0]

    def sector_gain(self, s: int, form, members: tuple[str, ...], region: Region) -> float:
        """One sector's weighted gain in capacity, competence and robustness under a form (§1.1, §3.3).

        Cached for the month: every bundle that holds the sector adds the same term (the pooled
        forms share one entry, as only the network's running time depends on the form).
        """
        cache, key = self.model.cache, ("sector gain", self.name, s, -1 if form.pools_staff else form.index, members)
        found = cache.get(key)
        if found is not None:
            return found
        p = self.model.p
        own, cap, comp, vul = self.staff[s], self.capacity[s], self.competence[s], self.vulnerability[s]
        pool_fte, pool_need = region.pool(members, s)
        if form.pools_staff:
            comp2 = max(comp, mech.team_competence(p, pool_fte))
            cap2 = mech.pooled_capacity(p, pool_fte, pool_need, 1.0)
            vul2 = mech.vulnerability(p, pool_fte, comp2)
            weight = p.cohesion[s]
        else:
            pooled = mech.team_competence(p, pool_fte)
            comp2 = max(comp, mech.network_ceiling(p, self.competence_start[s], pooled))
            left = own - mech.running_time(p, form, own)
            cap2 = mech.capacity(left, self.need[s])
            vul2 = mech.vulnerability(p, mech.network_team(p, left, pool_fte - own, 1.0), comp2)
            weight = 1.0
        found = cache[key] = weight * (
            p.w_capacity * (cap2 - cap) + p.w_competence * (comp2 - comp) + p.w_robustness * (vul - vul2)
        )
        return found

    def parts(self, option: Option, region: Region) -> tuple[float, float, float, float]:
        """``(gains, control, access, other)`` of an option, from its appraisal this month."""
        return appraise(self.model, region, option).parts[self.name]

    def own_value(self, option: Option, region: Region, administration: bool = False) -> float:
        """Own value of an option against keeping the own service (0), as council or administration.

        The council sees the service gains only as far as it has matured (``readiness``) and
        weighs control and jobs fully; the administration sees the gains fully and discounts
        control and jobs (§3.4: administrative and political anchoring differ).
        """
        return own_value(self.model.p, self.readiness, self.parts(option, region), administration)

    def value(self, option: Option, region: Region, administration: bool = False) -> float:
        """Value of an option with the municipality's regional perspective (§2.1).

        Own value (as council, or as administration) plus the service its partners get,
        weighted by trust: a member with a regional perspective counts what the partners gain
        from the service and how far it is from their users; their control and jobs are theirs
        to guard (§2.2: host and partners "had fundamentally different ambitions"). Every
        member's value is computed at once (:func:`appraise`).
        """
        a = appraise(self.model, region, option)
        return (a.administration if administration else a.council)[self.name]

    def preferred_host(self, option: Option, region: Region, hosts: list[str]) -> str | None:
        """The host this council would name: the best for it, partners' interests included (§2.1)."""
        if not option.form.needs_host or not hosts:
            return None
        table = form_table(self.model, region, option._replace(host=hosts[0]))
        k = table.row[option.sectors]
        if not all(h in table.col for h in hosts):
            table = form_table(self.model, region, option._replace(host=None), extra=tuple(hosts))
            k = table.row[option.sectors]
        me = option.members.index(self.name)
        council = table.council
        return max(hosts, key=lambda h: (council[k, table.col[h], me], -hosts.index(h)))

    def disappointment(self, option: Option, region: Region, preferred_host: str | None) -> float:
        """Loss from a lost own claim to host: the posts it hoped to gain and those it loses (§2.1)."""
        if preferred_host != self.name or option.host in (None, self.name):
            return 0.0
        table = form_table(self.model, region, option)
        return float(table.lost_claim[table.row[option.sectors], option.members.index(self.name)])


class Appraisal(NamedTuple):
    """Every member's view of one option this month (read by :class:`Valuation`).

    Attributes:
        parts: ``(gains, control, access, other)`` per member.
        council: Value with the regional perspective, as the council sees it, per member.
        administration: The same as the administration sees it, per member.
    """

    parts: dict[str, tuple[float, float, float, float]]
    council: dict[str, float]
    administration: dict[str, float]


def option_key(option: Option) -> tuple:
    """A cache key for an option from integers and names only (no object hashing)."""
    return (option.sectors, option.form.index, option.host, option.members)


def own_value(p, readiness, parts: tuple, administration: bool):
    """Own value from an option's parts, as council or administration (§3.4); see :meth:`Valuation.own_value`.

    Numbers or numpy arrays (every member and option at once, :class:`FormTable`).
    """
    gains, control, access, other = parts
    if administration:
        return gains - p.admin_control_weight * control - access + other
    return readiness * gains - control - access + other


def appraise(model, region: Region, option: Option) -> Appraisal:
    """Every member's parts and values of an option, from its form's table this month (§2.1, §3.4).

    Cached for the month per option; anything that changes a member's trust within a month clears
    that cache (``sim.core.ballot.strain_trust``).
    """
    cache, key = model.cache, option_key(option)
    found = cache.get(key)
    if found is None:
        t = form_table(model, region, option)
        k, h, members = t.row[option.sectors], t.col[option.host], option.members
        parts = zip(*(a[k, h].tolist() for a in (t.gains, t.control, t.access, t.other)), strict=True)
        found = cache[key] = Appraisal(
            dict(zip(members, parts, strict=True)),
            dict(zip(members, t.council[k, h].tolist(), strict=True)),
            dict(zip(members, t.administration[k, h].tolist(), strict=True)),
        )
    return found


class FormTable(NamedTuple):
    """Every member's parts and values of one form among fixed members, by sector subset and host.

    Arrays are indexed ``[subset, host, member]`` (``lost_claim`` and ``willing``:
    ``[subset, member]`` and ``[subset, host]``); a hostless form has the one host None.

    Attributes:
        row: Subset (a tuple of sectors) -> its index; ``col``: host -> its index.
        members: The members, in the order of the last axis; ``host_member``: each host's index there.
        gains, control, access, other: The parts (see :meth:`Valuation.parts`).
        council, administration: Values with the regional perspective (see :meth:`Valuation.value`).
        lost_claim: A member's disappointment when its own claim to host loses (§2.1).
        willing: The host is eligible and its council would host (``Region.willing_hosts``).
    """

    row: dict[tuple[int, ...], int]
    col: dict[str | None, int]
    members: tuple[str, ...]
    host_member: np.ndarray
    gains: np.ndarray
    control: np.ndarray
    access: np.ndarray
    other: np.ndarray
    council: np.ndarray
    administration: np.ndarray
    lost_claim: np.ndarray
    willing: np.ndarray


def form_table(model, region: Region, option: Option, extra: tuple[str, ...] = ()) -> FormTable:
    """The month's :class:`FormTable` of the option's form and members, holding its sectors and host.

    Built for every subset of the negotiation's sectors and every eligible host (and any other
    host asked for), once a month; cleared with the month's cache.
    """
    cache, key = model.cache, ("table", option.form.index, option.members)
    found = cache.get(key)
    host = option.host if option.form.needs_host else None
    if (
        found is not None
        and option.sectors in found.row
        and host in found.col
        and all(h in found.col for h in extra)
    ):
        return found
    sectors = region.facts.sectors
    subsets = [c for k in range(1, len(sectors) + 1) for c in combinations(sectors, k)]
    subsets += [c for c in (option.sectors, *(found.row if found else ())) if c not in subsets]
    if option.form.needs_host:
        hosts = region.eligible_hosts(option.members)
        eligible = len(hosts)
        hosts += [h for h in (host, *extra, *(found.col if found else ())) if h is not None and h not in hosts]
    else:
        hosts, eligible = [None], 0
    found = cache[key] = _build(model, region, option.form, option.members, subsets, hosts, eligible)
    return found


def _build(model, region: Region, form, members, subsets, hosts, eligible: int) -> FormTable:
    """Parts and values of a form for every subset, host and member at once (§2.1, §2.2, §3.4).

    The options of a form among fixed members differ in their sectors and host; the host changes
    only the host's own costs and each partner's distance to it. Every term is a rule of
    ``sim.core.mechanisms`` applied to arrays: own value (:func:`own_value`) plus the regional
    perspective (``mechanisms.regional_perspective``) over the partners.
    """
    p, agents, n = model.p, [region.agents[m] for m in members], len(members)
    cols = _columns(p, region, agents, members, form, subsets)
    gains = cols.gains[:, None, :]
    if form.needs_host:
        is_host = np.array([[m == h for m in members] for h in hosts])  # [host, member]
        km = np.array([[region.distance(m, h) for m in members] for h in hosts])
        partner_access = mech.centralisation_fear(
            p, 0.0, cols.pop, cols.contact[:, None, None] * km[None] * p.centralisation
        )
        control = np.where(is_host, 0.0, cols.control[:, None, :])
        access = np.where(is_host, cols.host_access[:, None, :], partner_access)
        other = np.where(is_host, cols.host_other[:, None, :], cols.other[:, None, :])
        gains = np.broadcast_to(gains, control.shape)
    else:
        shape = (len(subsets), 1, n)
        control = access = np.zeros(shape)
        other = np.broadcast_to(cols.other[:, None, :], shape)
        gains = np.broadcast_to(gains, shape)
    parts = (gains, control, access, other)
    readiness = np.array([a.readiness for a in agents])
    council = own_value(p, readiness, parts, False) + _perspective(p, agents, members, readiness, gains, access)
    administration = own_value(p, readiness, parts, True) + _perspective(p, agents, members, 1.0, gains, access)
    host_member = np.array([members.index(h) if h is not None else -1 for h in hosts])
    willing = np.zeros((len(subsets), len(hosts)), bool)
    if eligible:
        own = council[:, np.arange(eligible), host_member[:eligible]]  # each host's own value of hosting
        willing[:, :eligible] = own > 0
    return FormTable(
        {c: k for k, c in enumerate(subsets)},
        {h: i for i, h in enumerate(hosts)},
        members,
        host_member,
        gains,
        control,
        access,
        other,
        council,
        administration,
        cols.lost_claim,
        willing,
    )


class _Columns(NamedTuple):
    """A form's terms by ``[subset, member]`` before the host is placed (see :func:`_columns`)."""

    pop: np.ndarray
    gains: np.ndarray
    control: np.ndarray  # as partner
    other: np.ndarray  # as partner
    contact: np.ndarray  # [subset]
    host_access: np.ndarray
    host_other: np.ndarray
    lost_claim: np.ndarray


def _columns(p, region: Region, agents, members, form, subsets) -> _Columns:
    """Each member's gains and costs of a form by sector subset, as partner and as host (§2, §3).

    A subset's sums run over its sectors in order (``_total``): the same sums, term by term,
    as the rules take them one option at a time.
    """
    n, k = len(members), len(subsets)
    pad = len(p.sectors)  # a zero row: subsets shorter than the longest
    width = max(len(c) for c in subsets)
    idx = np.array([[*c, *([pad] * (width - len(c)))] for c in subsets]).T  # [position, subset]
    size = np.array([len(c) for c in subsets], float)
    pop = np.array([a.population for a in agents])

    def by_sector(values) -> np.ndarray:  # [sector (+ zero row), member]
        return np.vstack([np.array(values, float).reshape(pad, -1), np.zeros((1, n))])

    def _total(table: np.ndarray) -> np.ndarray:
        return sum(table[i] for i in idx)

    if p.null_model == NullModel.NO_GAINS:
        gains = np.zeros((k, n))
    else:
        sg = [[a.sector_gain(s, form, members, region) for a in agents] for s in range(pad)]
        gains = _total(by_sector(sg))
        if form.pools_staff:
            gains = gains * mech.bundle_synergy(p, size)[:, None]
    others = [[o for o in members if o != m] for m in members]
    trust = np.array([sum(a.trust[o] for o in os) / len(os) for a, os in zip(agents, others, strict=True)])
    other = p.trust_weight * p.trust_need[form.index] * (trust - 0.5)
    model = agents[0].model
    if p.fixed_areas:
        whole = set(members) == set(region.facts.members)
        other = other + mech.area_grant(p, whole, model.governor.funds(region.facts))
    zeros = np.zeros((k, n))
    if not form.needs_host:
        funded = model.governor.coordinator_funded(region.facts, after_pilot=True)
        other = other - mech.coordinator_cost(p, pop, n, funded)
        return _Columns(pop, gains, zeros, zeros + other, np.zeros(k), zeros, zeros, zeros)
    failed = np.array([mech.failed_attempt(p, region.facts.failed_sectors, c) for c in subsets])
    other = other[None, :] - failed[:, None]
    two = mech.two_track(p)
    other = other + np.array([mech.reform_track(p, a.outside_talks, a.member_talks and not two) for a in agents])
    if form.merges:
        other = other + mech.merger_terms(p, sum(region.population(m) for m in members))
    sens = by_sector(np.array([a.sensitivity for a in agents]).T)
    at_stake = mech.control_at_stake(p, sens, idx)
    contact = _total(np.array([*p.user_contact, 0.0]))
    staff = np.array([a.staff for a in agents]).T  # [sector, member]
    pools = np.array([region.pool(members, s)[0] for s in range(pad)])
    gained = _total(by_sector(pools[:, None] - staff))
    moved = _total(by_sector(staff)) * p.centralisation
    host_other = other + mech.hosting_gain(p, gained * p.centralisation, pop)
    host_other = host_other - mech.coordination_burden(p, form, n - 1, size)[:, None]
    share = pop / sum(region.population(m) for m in members)
    host_other = host_other + mech.regional_steering(p, form, share, at_stake)
    far = np.array([sum(region.distance(m, o) for o in os) for m, os in zip(members, others, strict=True)])
    host_access = mech.office_days(p, far * contact[:, None] / size[:, None] * (1 - p.centralisation))
    control = mech.partner_control_loss(p, form, at_stake)
    control = control + mech.board_aversion(p, form, region.facts.board_experience)
    control = control + mech.centralisation_fear(p, moved, pop, 0.0)
    lost = mech.lost_claim(
        p, mech.hosting_gain(p, gained * p.centralisation, pop), mech.centralisation_fear(p, moved, pop, 0.0)
    )
    return _Columns(pop, gains, control, other, contact, host_access, host_other, lost)


def _perspective(p, agents, members, seen, gains: np.ndarray, access: np.ndarray) -> np.ndarray:
    """Each member's regional perspective over its partners' service, ``[subset, host, member]`` (§2.1).

    ``seen``: how much of a partner's gains the viewer sees (its council's readiness, or 1 for
    the administration); a partner's service is what it gains less its cost of distance
    (``mechanisms.regional_perspective``, partners in member order).
    """
    n = len(members)
    slot = np.array([[o for o in range(n) if o != i] for i in range(n)], int).reshape(n, n - 1)
    trust = np.array([[a.trust[members[o]] for o in row] for a, row in zip(agents, slot, strict=True)]).reshape(n, n - 1)
    seen = np.broadcast_to(np.asarray(seen, float), (n,))[:, None]
    service = seen * gains[..., None, :] - access[..., None, :]  # [subset, host, viewer, partner]
    service = service[..., np.arange(n)[:, None], slot]
    return mech.regional_perspective(p, [(trust[:, j], service[..., j]) for j in range(n - 1)])
