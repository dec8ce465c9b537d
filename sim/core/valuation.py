"""How a municipality values an option: its council's and its administration's view (§2, §3.4).

:class:`Valuation` is the part of :class:`sim.core.agents.Municipality` that judges proposals; every
rule it applies is a named function of ``sim.core.mechanisms``. It reads only the municipality's own
state and the :class:`sim.core.region.Region` it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

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
        if self.model.p.null_model == NullModel.NO_GAINS:
            return 0.0
        total = 0.0
        for s in option.sectors:
            total += self.sector_gain(s, option.form, option.members, region)
        return total * mech.bundle_synergy(self.model.p, len(option.sectors)) if option.form.pools_staff else total

    def sector_gain(self, s: int, form, members: tuple[str, ...], region: Region) -> float:
        """One sector's weighted gain in capacity, competence and robustness under a form (§1.1, §3.3).

        Cached for the month: every bundle that holds the sector adds the same term.
        """
        cache, key = self.model.cache, ("sector gain", self.name, s, form.index, members)
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

    def costs(self, option: Option, region: Region) -> tuple[float, float, float, float]:
        """Costs and benefits of an option other than service gains.

        Returns:
            ``(control, access, other, contact)``: ``control`` is the control and job loss that
            an administration discounts (§3.4), for a host the political cost of a board (§2.1);
            ``access`` the cost for a host of serving
            partners on office days (§2.1, §2.2); ``other`` the rest (hosting, steering,
            coordination, trust, history, reform, the network's coordinator), seen alike by
            administration and council. For a partner, ``access`` is 0 and ``contact`` the
            sectors' user contact: its cost of the office's distance to users (§2.1, §3.2)
            depends on the host and is computed for every host at once (:func:`appraise_group`).
        """
        p = self.model.p
        others = [m for m in option.members if m != self.name]
        trust = sum(self.trust[o] for o in others) / len(others)
        other = p.trust_weight * p.trust_need[option.form.index] * (trust - 0.5)
        if p.fixed_areas:
            whole = set(option.members) == set(region.facts.members)
            other += mech.area_grant(p, whole, self.model.governor.funds(region.facts))
        if not option.form.needs_host:
            funded = self.model.governor.coordinator_funded(region.facts, after_pilot=True)
            return 0.0, 0.0, other - mech.coordinator_cost(p, self.population, len(option.members), funded), 0.0
        other -= mech.failed_attempt(p, region.facts.failed_sectors, option.sectors)
        other += mech.reform_track(p, self.outside_talks, self.member_talks and not mech.two_track(p))
        if option.form.merges:
            other += mech.merger_terms(p, sum(region.population(m) for m in option.members))
        n = len(option.sectors)
        at_stake = mech.control_at_stake(p, self.sensitivity, option.sectors)
        contact = sum(p.user_contact[s] for s in option.sectors)
        if option.host == self.name:
            gained = sum(region.pool(option.members, s)[0] - self.staff[s] for s in option.sectors)
            other += mech.hosting_gain(p, gained * p.centralisation, self.population)
            other -= mech.coordination_burden(p, option.form, len(others), n)
            share = self.population / sum(region.population(m) for m in option.members)
            other += mech.regional_steering(p, option.form, share, at_stake)
            km = sum(region.distance(self.name, o) for o in others) * contact / n * (1 - p.centralisation)
            return mech.board_handling(p, option.form, n), mech.office_days(p, km), other, 0.0
        control = mech.partner_control_loss(p, option.form, at_stake) + mech.board_handling(p, option.form, n)
        control += mech.board_aversion(p, option.form, region.facts.board_experience)
        moved = sum(self.staff[s] for s in option.sectors) * p.centralisation
        control += mech.centralisation_fear(p, moved, self.population, 0.0)
        return control, 0.0, other, contact

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
        key = ("host", self.name, option.sectors, option.form.index, option.members, tuple(hosts))
        cache = self.model.cache
        if key not in cache:
            group = appraise_group(self.model, region, option._replace(host=None))
            council = dict(zip(group.hosts, group.council, strict=True))  # host -> every member's value
            if all(h in council for h in hosts):
                me = option.members.index(self.name)
                cache[key] = max(hosts, key=lambda h: (council[h][me], -hosts.index(h)))
            else:
                cache[key] = max(hosts, key=lambda h: (self.value(option._replace(host=h), region), -hosts.index(h)))
        return cache[key]

    def disappointment(self, option: Option, region: Region, preferred_host: str | None) -> float:
        """Loss from a lost own claim to host: the posts it hoped to gain and those it loses (§2.1)."""
        if preferred_host != self.name or option.host in (None, self.name):
            return 0.0
        p = self.model.p
        gained = sum(region.pool(option.members, s)[0] - self.staff[s] for s in option.sectors) * p.centralisation
        moved = sum(self.staff[s] for s in option.sectors) * p.centralisation
        return mech.lost_claim(
            p, mech.hosting_gain(p, gained, self.population), mech.centralisation_fear(p, moved, self.population, 0.0)
        )


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


def own_value(p, readiness: float, parts: tuple[float, float, float, float], administration: bool) -> float:
    """Own value from an option's parts, as council or administration (§3.4); see :meth:`Valuation.own_value`."""
    gains, control, access, other = parts
    if administration:
        return gains - p.admin_control_weight * control - access + other
    return readiness * gains - control - access + other


def appraise(model, region: Region, option: Option) -> Appraisal:
    """Every member's parts and values of an option, from its group's appraisal (§2.1, §3.4).

    Cached for the month per option; anything that changes a member's trust within a month clears
    that cache (``sim.core.ballot.strain_trust``).
    """
    cache, key = model.cache, option_key(option)
    found = cache.get(key)
    if found is None:
        group = appraise_group(model, region, option)
        h = group.hosts.index(option.host)
        members = option.members
        found = cache[key] = Appraisal(
            dict(zip(members, group.parts[h], strict=True)),
            dict(zip(members, group.council[h], strict=True)),
            dict(zip(members, group.administration[h], strict=True)),
        )
    return found


class GroupAppraisal(NamedTuple):
    """Every member's parts and values of one sectors-form-members group, for each host (lists by host, member).

    Row ``h`` is the option hosted by ``hosts[h]`` (one row, host None, for a form without host).
    """

    hosts: tuple[str | None, ...]
    parts: list[list[tuple[float, float, float, float]]]
    council: list[list[float]]
    administration: list[list[float]]


def appraise_group(model, region: Region, option: Option) -> GroupAppraisal:
    """Parts and values of an option for every member and every eligible host, at once (§2.1, §2.2, §3.4).

    The options of a group (same sectors, form and members) differ only in the host, and only
    through the host's own costs and each partner's distance to it; so each member's gains and its
    costs as partner, and each host's costs as host, are computed once (:meth:`Valuation.gains`,
    :meth:`Valuation.costs`), and the values of all hosts and members follow as arrays: own value
    (:func:`own_value`) plus the regional perspective (``mechanisms.regional_perspective``). The
    hosts are the members eligible to host (``Region.eligible_hosts``) and the option's own.
    """
    cache, key = model.cache, ("group", option.sectors, option.form.index, option.members)
    found = cache.get(key)
    if found is not None and (option.host is None or option.host in found.hosts):
        return found
    p, names = model.p, option.members
    agents = [region.agents[m] for m in names]
    gains = [a.gains(option, region) for a in agents]
    if option.form.needs_host:
        hosts = tuple(region.eligible_hosts(names))
        hosts += tuple(h for h in (option.host, *(found.hosts if found else ())) if h not in (*hosts, None))
        partner = [a.costs(option._replace(host=None), region) for a in agents]
        parts = []
        for h in hosts:
            row = []
            for m, a, g, (control, access, other, contact) in zip(names, agents, gains, partner, strict=True):
                if m == h:
                    control, access, other, _ = a.costs(option._replace(host=h), region)
                else:
                    user_km = contact * region.distance(m, h) * p.centralisation
                    access = mech.centralisation_fear(p, 0.0, a.population, user_km)
                row.append((g, control, access, other))
            parts.append(row)
    else:
        hosts = (None,)
        parts = [[(g, *a.costs(option, region)[:3]) for a, g in zip(agents, gains, strict=True)]]
    council, administration = [], []
    for row in parts:
        c_row, a_row = [], []
        for i, (m, a) in enumerate(zip(names, agents, strict=True)):
            trust = [(a.trust[o], part) for o, part in zip(names, row, strict=True) if o != m]
            c_row.append(
                own_value(p, a.readiness, row[i], False)
                + mech.regional_perspective(p, [(t, a.readiness * g - acc) for t, (g, _, acc, _) in trust])
            )
            a_row.append(
                own_value(p, a.readiness, row[i], True)
                + mech.regional_perspective(p, [(t, 1.0 * g - acc) for t, (g, _, acc, _) in trust])
            )
        council.append(c_row)
        administration.append(a_row)
    if option.form.needs_host and not option.form.merges:  # a joint office's location (§2.3), not a merger's
        credible = hosts[: len(region.eligible_hosts(names))]  # the group's hosts start with the credible ones
        _price_location_fight(p, option, credible, parts, council, administration)
    found = cache[key] = GroupAppraisal(hosts, parts, council, administration)
    return found


def _price_location_fight(p, option: Option, credible: tuple, parts: list, council: list, administration: list) -> None:
    """Charge every member, under every host, the fight the group's host claims would start (§2.3, §2.1).

    A claimant is a member that can credibly host (``credible``, the first rows of the group,
    ``Region.eligible_hosts``) and values itself as host above every other credible host and above
    keeping its own service; ``mechanisms.location_fight`` prices the fight from their number.
    The charge is the same under every host, so it changes no council's preferred host, only how
    far a joint office is worth it at all. Updates the lists in place.
    """
    claims = 0
    for own, host in enumerate(credible):
        i = option.members.index(host)
        mine = council[own][i]
        claims += mine > 0 and all(mine > council[h][i] for h in range(len(credible)) if h != own)
    fight = mech.location_fight(p, len(option.sectors), claims, len(option.members))
    if fight <= 0:
        return
    for row, c_row, a_row in zip(parts, council, administration, strict=True):
        for i, (g, control, access, other) in enumerate(row):
            row[i] = (g, control, access, other - fight)
            c_row[i] -= fight
            a_row[i] -= fight


def host_losses(model, region: Region, option: Option) -> dict[str, float]:
    """Each member's disappointment over the option's host against the one it would name (§2.1).

    Computed once a month per option: the willing hosts, each council's preferred host and its
    :meth:`Valuation.disappointment`.
    """
    cache, key = model.cache, ("losses", *option_key(option))
    found = cache.get(key)
    if found is None:
        hosts = region.willing_hosts(option)
        found = cache[key] = {}
        for m in option.members:
            muni = region.agents[m]
            found[m] = muni.disappointment(option, region, muni.preferred_host(option, region, hosts))
    return found
