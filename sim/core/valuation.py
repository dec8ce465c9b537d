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

        Kept while its terms stay the same (the pooled forms share one entry, as only the
        network's running time depends on the form).
        """
        p = self.model.p
        own, cap, comp, vul = self.staff[s], self.capacity[s], self.competence[s], self.vulnerability[s]
        pool_fte, pool_need = region.pool(members, s)
        key = (s, -1 if form.pools_staff else form.index, members)
        terms = (p, own, cap, comp, vul, self.competence_start[s], self.need[s], pool_fte, pool_need)
        found = self._gain_memo.get(key)
        if found is not None and found[0] == terms:
            return found[1]
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
            team = mech.network_team(p, left, pool_fte - own, 1.0)
            vul2 = mech.vulnerability(p, team, mech.cover_competence(p, comp2, team))
            weight = 1.0
        gain = weight * (p.w_capacity * (cap2 - cap) + p.w_competence * (comp2 - comp) + p.w_robustness * (vul - vul2))
        self._gain_memo[key] = (terms, gain)
        return gain

    def parts(self, option: Option, region: Region) -> tuple[float, float, float, float]:
        """``(gains, control, access, other)`` of an option, from its form's table this month.

        ``control`` is the control and job loss that an administration discounts (§3.4);
        ``access`` a host's cost of serving partners on office days (§2.1, §2.2), or a partner's
        cost of the office's distance to its users (§2.1, §3.2); ``other`` the rest (hosting,
        steering, coordination, trust, history, reform, the network's coordinator), seen alike
        by administration and council (:class:`_Terms`).
        """
        t, k, h = _cell(self.model, region, option)
        i = option.members.index(self.name)
        return tuple(float(a[k, h, i]) for a in (t.gains, t.control, t.access, t.other))

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
        t, k, h = _cell(self.model, region, option)
        return float((t.administration if administration else t.council)[k, h, option.members.index(self.name)])

    def preferred_host(self, option: Option, region: Region, hosts: list[str]) -> str | None:
        """The host this council would name: the best for it, partners' interests included (§2.1)."""
        if not option.form.needs_host or not hosts:
            return None
        table = form_table(self.model, region, option._replace(host=hosts[0]))
        k = table.row[option.sectors]
        if not all(h in table.col for h in hosts):
            table = form_table(self.model, region, option._replace(host=None), extra=tuple(hosts))
            k = table.row[option.sectors]
        council = table.council[k, :, option.members.index(self.name)].tolist()  # by host
        p = self.model.p
        return max(
            hosts, key=lambda h: (council[table.col[h]] - mech.claim_margin(p) * (h == self.name), -hosts.index(h))
        )

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


def _cell(model, region: Region, option: Option) -> tuple[FormTable, int, int]:
    """The option's table and its subset and host index there."""
    t = form_table(model, region, option)
    return t, t.row[option.sectors], t.col[option.host if option.form.needs_host else None]


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
        loss: A member's disappointment over the option's host (:func:`_host_losses`).
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
    loss: np.ndarray
    lost_claim: np.ndarray
    willing: np.ndarray


def form_table(model, region: Region, option: Option, extra: tuple[str, ...] = ()) -> FormTable:
    """The month's :class:`FormTable` of the option's form and members, holding its sectors and host.

    The tables of every form among the option's members are built at once (:func:`_build`), for
    every subset of the negotiation's sectors and every eligible host (and any other host asked
    for), once a month; they are cleared with the month's cache.
    """
    cache, key = model.cache, ("tables", option.members)
    tables = cache.get(key)
    host = option.host if option.form.needs_host else None
    if tables is not None and option.form.index in tables:
        found = tables[option.form.index]
        if option.sectors in found.row and host in found.col and all(h in found.col for h in extra):
            return found
    last = next(iter(tables.values())) if tables else None
    sectors = region.facts.sectors
    subsets = [c for k in range(1, len(sectors) + 1) for c in combinations(sectors, k)]
    subsets += [c for c in (option.sectors, *(last.row if last else ())) if c not in subsets]
    hosts = region.eligible_hosts(option.members)
    eligible = len(hosts)
    asked = (host, *extra, *(h for t in (tables or {}).values() for h in t.col))
    hosts += [h for h in dict.fromkeys(asked) if h is not None and h not in hosts]
    hosts = hosts or [option.members[0]]  # no credible host: a forms-without-host table still needs a column
    wanted = (option.form.index, *(tables or ()))
    tables = cache[key] = _build(model, region, option.members, subsets, hosts, eligible, wanted)
    return tables[option.form.index]


def _build(model, region: Region, members, subsets, hosts, eligible: int, wanted=()) -> dict[int, FormTable]:
    """Parts and values of every form for every subset, host and member at once (§2.1, §2.2, §3.4).

    The options among fixed members differ in their form, sectors and host; the host changes
    only the host's own costs and each partner's distance to it. Every term is a rule of
    ``sim.core.mechanisms`` applied to arrays: own value (:func:`own_value`) plus the regional
    perspective (``mechanisms.regional_perspective``) over the partners.
    """
    p, agents = model.p, [region.agents[m] for m in members]
    forms = [f for f in p.forms if p.allowed(f) or f.index in wanted]
    terms, parts, hosted, administration, lost = _parts(model, region, agents, members, subsets, hosts, forms)
    parts = [*parts[:3], parts[3].copy()]  # the location fight is charged below (the kept parts stay as they were)
    other = parts[3]
    administration = administration.copy()
    readiness = np.array([a.readiness for a in agents])
    council = own_value(p, readiness, parts, False) + terms.perspective(readiness, parts[0], parts[2])
    host_member = terms.host_member
    for f, form in enumerate(forms):
        if form.needs_host and not form.merges:  # a joint office's location (§2.3), not a merger's
            fight = _location_fight(p, subsets, council[f][:, :eligible, host_member[:eligible]], len(members))
            for a in (other, council, administration):
                a[f] -= fight[:, None, None]
    willing = np.zeros(council.shape[:3], bool)  # [form, subset, host]
    willing[:, :, :eligible] = council[:, :, np.arange(eligible), host_member[:eligible]] > 0
    loss = _host_losses(p, council, willing, host_member, lost[:, :, 0]) * hosted  # [form, subset, host, member]
    row = {c: k for k, c in enumerate(subsets)}
    tables = {}
    for f, form in enumerate(forms):
        h = slice(None) if form.needs_host else slice(0, 1)
        tables[form.index] = FormTable(
            row,
            {x: i for i, x in enumerate(hosts)} if form.needs_host else {None: 0},
            members,
            host_member if form.needs_host else np.array([-1]),
            *(a[f][:, h] for a in (*parts, council, administration, loss)),
            lost[f, :, 0],
            willing[f] if form.needs_host else willing[f, :, :0],
        )
    return tables


def _parts(model, region: Region, agents, members, subsets, hosts, forms) -> tuple:
    """The readiness-free part of :func:`_build`: the terms, the parts and the administration's values.

    ``(terms, [gains, control, access, other], hosted, administration, lost)``, arrays
    ``[form, subset, host, member]``. Kept from one month to the next while every input they read
    is the same (the members' facts and service, trust, merger talks, funds; one entry per set of
    members); only the councils' readiness, which changes every month, is read after them.
    """
    p, gov = model.p, model.governor
    state = (
        p,
        tuple(subsets),
        tuple(hosts),
        tuple(f.index for f in forms),
        gov.funds(region.facts),
        gov.coordinator_funded(region.facts, after_pilot=True),
        tuple(
            (a.population, a.staff, a.need, a.sensitivity, a.outside_talks, a.member_talks, tuple(a.competence))
            + (tuple(a.capacity), tuple(a.vulnerability), tuple(a.trust[o] for o in members if o != a.name))
            for a in agents
        ),
    )
    found = region.lasting.get(("parts", members))
    if found is not None and found[0] == state:
        return found[1]
    terms = _Terms(p, region, agents, members, subsets, hosts)
    is_host = terms.is_host
    terms_by_form = [terms.form(form) for form in forms]  # see _Terms.form
    gains, control, host_control, other, host_other, lost = (
        np.stack(x)[:, :, None, :] for x in zip(*terms_by_form, strict=True)
    )
    hosted = np.array([form.needs_host for form in forms])[:, None, None, None]  # [form, subset, host, member]
    control = np.where(is_host, host_control, control)
    access = np.where(hosted, np.where(is_host, terms.host_access[:, None, :], terms.partner_access), 0.0)
    other = np.where(is_host & hosted, host_other, other)
    parts = [np.broadcast_to(gains, other.shape), control, access, other]
    administration = own_value(p, None, parts, True) + terms.perspective(1.0, parts[0], parts[2])
    value = (terms, parts, hosted, administration, lost)
    region.lasting[("parts", members)] = (state, value)
    return value


def _location_fight(p, subsets, council: np.ndarray, n: int) -> np.ndarray:
    """What the host claims cost every member under every host, by subset (§2.3, §2.1).

    ``council`` is ``[subset, host, claimant]``: each credible host's council value of the option
    under each credible host (``Region.eligible_hosts``). A claimant values itself as host above
    keeping its own service and above every other credible host; ``mechanisms.location_fight``
    prices the fight from their number. The charge is the same under every host, so it changes no
    council's preferred host, only how far a joint office is worth it at all.
    """
    hosts = np.arange(council.shape[1])
    mine = council[:, hosts, hosts]  # [subset, claimant]
    # [subset, claimant]: best other host (initial: a subset may have no credible host at all)
    other = np.where(hosts[:, None] == hosts, -np.inf, council).max(axis=1, initial=-np.inf)
    margin = (mine - other).tolist()
    claims = [
        mech.contesting_claims(p, [m for m, v in zip(ms, vs, strict=True) if v > 0 and m > 0])
        for ms, vs in zip(margin, mine.tolist(), strict=True)
    ]
    return np.array([mech.location_fight(p, len(c), k, n) for c, k in zip(subsets, claims, strict=True)])


def _host_losses(p, council: np.ndarray, willing: np.ndarray, host_member: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """Each member's disappointment over an option's host against the one it would name, ``[..., host, member]``.

    A council names the best host for it among those willing to host and the proposed one
    (:meth:`Valuation.preferred_host`, ties to the earlier in that list, the proposed host last
    unless willing); it is disappointed (:meth:`Valuation.disappointment`, ``lost``) when it names
    itself and the option has another host (§2.1).
    """
    n_hosts, n = council.shape[-2], council.shape[-1]
    hosts = np.arange(n_hosts)
    candidate = willing[..., None, :] | (hosts[:, None] == hosts)  # [..., proposed, named]
    rank = np.where(willing, hosts, n_hosts)[..., None, :]
    own = mech.claim_margin(p) * (host_member[:, None] == np.arange(n))  # [named, member]: naming itself needs a margin
    values = np.where(candidate[..., None], council[..., None, :, :] - own, -np.inf)  # [..., proposed, named, member]
    tied = (values == values.max(axis=-2, keepdims=True)) & candidate[..., None]
    named = np.argmin(np.where(tied, rank[..., None], n_hosts + 1), axis=-2)  # [..., proposed, member]
    claims = (host_member[named] == np.arange(n)) & (host_member[:, None] != np.arange(n))
    return np.where(claims, lost[..., None, :], 0.0)


#: Terms that are the same in every run of a scenario, keyed by every input they read (see
#: :meth:`_Terms._lasting` and :meth:`_Terms.gains`); a worker process keeps them across runs
#: (cleared when full). The arrays are read, never written.
_SHARED: dict[tuple, object] = {}
_SHARED_SIZE = 4096


class _Terms:
    """The terms of every option among fixed members, by ``[subset, member]`` (see :func:`_build`).

    A subset's sums run over its sectors in order (:meth:`total`): the same sums, term by term,
    as the rules take them one option at a time.
    """

    def __init__(self, p, region: Region, agents, members, subsets, hosts) -> None:
        self.p, self.region, self.agents, self.members, self.subsets = p, region, agents, members, subsets
        self.n, self.pad = len(members), len(p.sectors)  # row ``pad``: zeros, for subsets shorter than the longest
        facts = tuple((a.population, a.staff, a.need, a.sensitivity) for a in agents)
        key = ("terms", p, members, tuple(subsets), tuple(hosts), facts)
        lasting = region.lasting.get(key)  # what stays while the members' facts stay (cleared by nothing)
        if lasting is None:
            lasting = region.lasting[key] = self._lasting(hosts)
            sensitivity = self.by_sector(np.array([a.sensitivity for a in agents]).T)
            lasting["at_stake"] = mech.control_at_stake(p, sensitivity, lasting["idx"])
        self.__dict__.update(lasting)
        others = [[o for o in members if o != m] for m in members]
        self.trust = np.array([sum(a.trust[o] for o in os) / len(os) for a, os in zip(agents, others, strict=True)])
        self.trust_slot = np.array([[a.trust[o] for o in os] for a, os in zip(agents, others, strict=True)])
        two = mech.two_track(p)
        self.reform = np.array([mech.reform_track(p, a.outside_talks, a.member_talks and not two) for a in agents])
        self._gains: dict[int, np.ndarray] = {}

    def _lasting(self, hosts) -> dict:
        """The terms that depend only on the members' facts, the subsets and the hosts (§2.1, §2.2, §3.2).

        But for the control at stake (sensitivities are drawn per run), kept across runs in
        ``_SHARED`` under every fact they read, the distances included.
        """
        agents, members, region = self.agents, self.members, self.region
        km = tuple(region.distance(m, o) for m in (*members, *hosts) for o in members)
        facts = tuple((a.population, a.staff, a.need) for a in agents)
        key = (self.p, members, tuple(self.subsets), tuple(hosts), facts, km, region.facts.failed_sectors)
        shared = _SHARED.get(key)
        if shared is None:
            if len(_SHARED) >= _SHARED_SIZE:
                _SHARED.clear()
            shared = _SHARED[key] = self._shared(hosts)
        self.idx = shared["idx"]
        return dict(shared)

    def _shared(self, hosts) -> dict:
        """The terms of :meth:`_lasting` that do not read the members' sensitivities."""
        p, region, agents, members, subsets, n, pad = (
            self.p,
            self.region,
            self.agents,
            self.members,
            self.subsets,
            self.n,
            self.pad,
        )
        width = max(len(c) for c in subsets)
        self.idx = np.array([[*c, *([pad] * (width - len(c)))] for c in subsets]).T  # [position, subset]
        size = np.array([len(c) for c in subsets], float)
        pop = np.array([a.population for a in agents])
        contact = self.total(np.array([*p.user_contact, 0.0]))
        staff = np.array([a.staff for a in agents]).T  # [sector, member]
        pools = np.array([region.pool(members, s)[0] for s in range(pad)])
        gained = self.total(self.by_sector(pools[:, None] - staff))
        moved = self.total(self.by_sector(staff)) * p.centralisation
        far = np.array([sum(region.distance(m, o) for o in members if o != m) for m in members])
        km = np.array([[region.distance(m, h) for m in members] for h in hosts]).reshape(len(hosts), n)
        hosting = mech.hosting_gain(p, gained * p.centralisation, pop)
        fear = mech.centralisation_fear(p, moved, pop, 0.0)
        return {
            "idx": self.idx,
            "size": size,
            "pop": pop,
            "contact": contact,
            "host_access": mech.office_days(p, far * contact[:, None] / size[:, None] * (1 - p.centralisation)),
            "partner_access": mech.centralisation_fear(
                p, 0.0, pop, contact[:, None, None] * km[None] * p.centralisation
            ),
            "is_host": np.array([[m == h for m in members] for h in hosts], dtype=bool).reshape(len(hosts), n),
            "host_member": np.array([members.index(h) for h in hosts], int),
            "slot": np.array([[o for o in range(n) if o != i] for i in range(n)], int).reshape(n, n - 1),
            "failed": np.array([mech.failed_attempt(p, region.facts.failed_sectors, c) for c in subsets])[:, None],
            "merger": mech.merger_terms(p, sum(region.population(m) for m in members)),
            "hosting": hosting,
            "share": pop / sum(region.population(m) for m in members),
            "fear": fear,
            "lost": mech.lost_claim(p, hosting, fear),
        }

    def by_sector(self, values) -> np.ndarray:
        """``[sector, member]`` values with the zero row appended."""
        return np.vstack([np.asarray(values, float).reshape(self.pad, -1), np.zeros((1, self.n))])

    def total(self, table: np.ndarray) -> np.ndarray:
        """Each subset's sum over its sectors, in order (Python's ``sum``, from 0)."""
        return sum(table[i] for i in self.idx)

    def form(self, form) -> tuple[np.ndarray, ...]:
        """A form's gains, control as partner and as host, other as partner and as host, and lost host claim (§2, §3).

        See :meth:`Valuation.parts`; a hostless form has no host terms (zeros).
        """
        p, region, agents, members, n = self.p, self.region, self.agents, self.members, self.n
        model = agents[0].model
        gains = self.gains(form)
        other = p.trust_weight * p.trust_need[form.index] * (self.trust - 0.5)
        for policy in model.policies:  # a lever's term in every member's value (sim.core.policies)
            other = policy.add_to_other(other, model, region, members)
        zeros = np.zeros_like(gains)
        if not form.needs_host:
            funded = model.governor.coordinator_funded(region.facts, after_pilot=True)
            other = other - mech.coordinator_cost(p, self.pop, n, funded)
            return gains, zeros, zeros, zeros + other, zeros + other, zeros
        other = other[None, :] - self.failed
        other = other + self.reform
        if form.merges:
            other = other + self.merger
        host_other = other + self.hosting
        host_other = host_other - mech.coordination_burden(p, form, n - 1, self.size)[:, None]
        host_other = host_other + mech.regional_steering(p, form, self.share, self.at_stake)
        handling = np.zeros((len(self.subsets), 1)) + np.reshape(mech.board_handling(p, form, self.size), (-1, 1))
        control = mech.partner_control_loss(p, form, self.at_stake) + handling
        control = control + mech.board_aversion(p, form, region.facts.board_experience)
        control = control + self.fear
        return gains, control, handling + np.zeros_like(control), other, host_other, self.lost  # a host: the board only

    def gains(self, form) -> np.ndarray:
        """Each member's gains of a form by subset (:meth:`Valuation.sector_gain`; pooled forms share them)."""
        p, agents, members, region = self.p, self.agents, self.members, self.region
        kind = -1 if form.pools_staff else form.index
        if kind not in self._gains:
            state = tuple(
                (a.staff, a.need, a.competence_start, tuple(a.competence), tuple(a.capacity), tuple(a.vulnerability))
                for a in agents
            )
            key = ("gains", p, kind, members, tuple(self.subsets), state)  # every term of sector_gain
            found = _SHARED.get(key)
            if found is not None:
                self._gains[kind] = found
                return found
            if p.null_model == NullModel.NO_GAINS:
                gains = np.zeros((len(self.subsets), self.n))
            else:
                by_sector = [[a.sector_gain(s, form, members, region) for a in agents] for s in range(self.pad)]
                gains = self.total(self.by_sector(by_sector))
                if form.pools_staff:
                    gains = gains * mech.bundle_synergy(p, self.size)[:, None]
            if len(_SHARED) >= _SHARED_SIZE:
                _SHARED.clear()
            self._gains[kind] = _SHARED[key] = gains
        return self._gains[kind]

    def perspective(self, seen, gains: np.ndarray, access: np.ndarray) -> np.ndarray:
        """Each member's regional perspective over its partners' service, ``[..., member]`` (§2.1).

        ``seen``: how much of a partner's gains the viewer sees (its council's readiness, or 1 for
        the administration); a partner's service is what it gains less its cost of distance
        (``mechanisms.regional_perspective``, partners in member order).
        """
        n = self.n
        seen = np.broadcast_to(np.asarray(seen, float), (n,))[:, None]
        service = seen * gains[..., None, :] - access[..., None, :]  # [..., viewer, partner]
        service = service[..., np.arange(n)[:, None], self.slot]
        return mech.regional_perspective(self.p, [(self.trust_slot[:, j], service[..., j]) for j in range(n - 1)])
