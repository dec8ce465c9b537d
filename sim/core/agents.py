"""Agents: municipalities (council and administration) and the County Governor.

A municipality values options (``sim.core.valuation.Valuation``) and runs its services month by
month (``step``); the project organisation that runs each negotiation is in ``sim.core.negotiation``. Every
behavioural rule is one named function of ``sim.core.mechanisms``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import mesa

from sim.core import mechanisms as mech
from sim.core.policies import CountyInitiative
from sim.core.records import Arrangement
from sim.core.valuation import Valuation

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.inputs.facts import RegionFacts
    from sim.inputs.scenario import MunicipalityFacts


class Municipality(Valuation, mesa.Agent):
    """A municipality with an administration and a council whose positions differ (§3.4).

    Attributes:
        name, county, population: Facts from the scenario.
        staff: FTE per sector; ``need``: FTE its statutory tasks need (§1.1).
        competence, capacity, vulnerability: Per sector, updated monthly (§1.1, §3.3).
        sensitivity: Political value of keeping control, per sector (§3.2).
        readiness: Share of the administration's case that the council sees (§3.4).
        trust: Trust towards each other member, 0-1 (§2.1, §2.3).
        attention: Free attention for the pilot this month, 0-1 (§1.3).
        outside_talks, member_talks: In merger talks with non-members / with members (§1.3).
        arrangement: Current arrangement per sector (None = own service).
    """

    def __init__(
        self, model: CooperationModel, fact: MunicipalityFacts, sensitivity: tuple[float, ...], readiness: float
    ) -> None:
        super().__init__(model)
        p = model.p
        self.name: str = fact.name
        self.county: str = fact.county
        self.population: float = fact.population
        self.staff: tuple[float, ...] = fact.staff
        n = len(self.staff)
        self.need = tuple(mech.need_fte(p, s, self.population) for s in range(n))
        self.competence = [mech.team_competence(p, f) for f in self.staff]
        self.competence_start = tuple(self.competence)
        self.capacity = [mech.capacity(f, k) for f, k in zip(self.staff, self.need, strict=True)]
        self.vulnerability = [mech.vulnerability(p, f, c) for f, c in zip(self.staff, self.competence, strict=True)]
        self.sensitivity = sensitivity
        self.readiness = readiness
        self.trust: dict[str, float] = {}
        self.attention = 1.0
        self.involvement = 0.0  # political involvement of the negotiations it takes part in this month
        self.outside_talks = False
        self.member_talks = False
        self.arrangement: list[Arrangement | None] = [None] * n
        self._gain_memo: dict[tuple, tuple] = {}  # sector gains with their terms (``Valuation.sector_gain``)
        self._own_service: tuple | None = None  # the terms of the own service last computed (see ``step``)
        self.changed = True  # competence, capacity or vulnerability computed this month
        self._ceiling: list[tuple] = [((), 0.0)] * n  # a network's competence ceiling per sector, with its terms

    def formal_in(self, s: int) -> bool:
        """A formal arrangement (a host form, §3.3) serves this municipality in sector ``s``."""
        arr = self.arrangement[s]
        return arr is not None and arr.form.formal

    # --- monthly dynamics ------------------------------------------------------------------------
    def step(self) -> None:
        """Political maturation and one month of each sector's service."""
        p, month = self.model.p, self.model.month
        self.readiness = mech.political_maturation(p, self.readiness, self.involvement, self.attention)
        own_service = None if any(self.arrangement) else (p, self.staff, self.need, tuple(self.competence))
        self.changed = own_service is None or own_service != self._own_service
        if not self.changed:  # its own service in every sector, on the same terms as last month
            return
        self._own_service = own_service
        for s, arr in enumerate(self.arrangement):
            own, need, start = self.staff[s], self.need[s], self.competence_start[s]
            if arr is None or month < arr.starts:
                team, cap = own, mech.capacity(own, need)
            elif not arr.form.pools_staff:
                pool_fte = arr.pools[s][0]
                if self._ceiling[s][0] != (p, start, pool_fte):  # the same while the network's pool is
                    self._ceiling[s] = (
                        (p, start, pool_fte),
                        mech.network_ceiling(p, start, mech.team_competence(p, pool_fte)),
                    )
                ceiling = self._ceiling[s][1]
                self.competence[s] = mech.network_month(p, self.competence[s], ceiling, arr.activity * self.attention)
                left = own - mech.running_time(p, arr.form, own, arr.activity)
                team = mech.network_team(p, left, pool_fte - own, arr.activity)
                cap = mech.capacity(left, need)
            else:
                pool_fte, pool_need = arr.pools[s]
                i = arr.integration
                target = mech.team_competence(p, pool_fte)
                self.competence[s] = max(self.competence[s], start + i * (target - start))
                team = own + i * (pool_fte - own)
                base = mech.capacity(own, need)
                cap = base + i * (mech.pooled_capacity(p, pool_fte, pool_need, i) - base)
            self.capacity[s] = cap
            cover = (
                self.competence[s]
                if arr is None or arr.form.pools_staff
                else mech.cover_competence(p, self.competence[s], team)
            )
            self.vulnerability[s] = mech.vulnerability(p, team, cover)


class CountyGovernor(mesa.Agent):
    """The County Governor: pilot funds and follow-up (§1.1, §2.1), and the county-wide initiative (§4).

    Attributes:
        offered: Municipalities the initiative has been offered to.
    """

    def __init__(self, model: CooperationModel) -> None:
        super().__init__(model)
        self.offered: set[str] = set()

    def step(self) -> None:
        """The initiative starts on time (funds are per negotiation: :meth:`funds`)."""
        model = self.model
        initiative = model.scenario.initiative
        if initiative is not None and model.month == initiative.start and self.initiative_on():
            self.launch_initiative()

    def funds(self, facts: RegionFacts) -> bool:
        """Funds flow to this negotiation this month: from its start to its last funded month (§2.1, §4)."""
        until = self.model.scenario.pilot_end if facts.funded_until is None else facts.funded_until
        return self.model.month <= until and self.model.p.pilot_funding > 0

    def coordinator_funded(self, facts: RegionFacts | None, after_pilot: bool = False) -> bool:
        """A network coordinator is paid from outside: by the negotiation's funds, or by the post-pilot lever (§2.3).

        ``facts`` None: an arrangement that no negotiation of this run made (it has no funds).
        """
        if self.model.p.post_pilot_coordinator:
            return True
        return facts is not None and self.funds(facts) and not after_pilot

    def initiative_on(self) -> bool:
        """A §4 lever opens negotiations in every area: the county initiative or a mandatory host."""
        return any(policy.opens_everywhere() for policy in self.model.policies)

    def reoffer(self, project) -> None:
        """A negotiation that was running when the initiative began has ended: offer its members the initiative.

        Only for negotiations the initiative did not open itself (a pilot's), once the initiative
        has begun; members still lacking a formal arrangement in its sectors get a new pre-project.
        """
        initiative = self.model.scenario.initiative
        if initiative is None or project.region.facts.offices_only or self.model.month <= initiative.start:
            return
        if self.initiative_on():
            self.launch_initiative(where=set(project.region.facts.members))

    def launch_initiative(self, where: set[str] | None = None) -> None:
        """Open a pre-project for a joint office in every cooperation area (§4).

        The County Governor "takes the initiative" for joint offices across the county: each area
        gets a negotiation on the initiative's sectors (every sector under the kommuneblokk
        two-track, where merger is on the agenda; the mandated sectors under a mandatory host,
        §4.3), among its members that have no formal arrangement there and are not negotiating on
        them already; an area with fewer than two such members gets none, and each municipality is
        offered it once. Only joint offices are on its agenda (§4.4: "etablering av felles
        landbrukskontor"). With ``county_initiative`` the pre-projects are funded for the
        initiative's months (catalyst, §2.1); otherwise they are not. The area's own facts apply;
        its leader leads if free, else its most populous free member. With ``where`` (names),
        only the areas of those municipalities (an arrangement or negotiation of theirs ended
        after the initiative began).
        """
        model = self.model
        initiative, names = model.scenario.initiative, model.p.vocab.sector_names
        # each active lever may widen the agenda (the kommuneblokk: every sector; a mandatory host:
        # its sectors) and fund the pre-projects (sim.core.policies)
        sectors = set(initiative.sectors).union(*(policy.initiative_sectors() for policy in model.policies))
        chosen = tuple(sorted(sectors))
        busy = {m for n in model.negotiations if n.active and sectors & set(n.region.facts.sectors) for m in n.members}
        funded = any(policy.funds_initiative() for policy in model.policies)
        # an unfunded pre-project's funds ended the month before it opened
        funded_until = model.month + initiative.months - 1 if funded else model.month - 1
        label = "/".join(names[s] for s in chosen)
        for area in model.scenario.areas:
            if where is not None and not where & set(area.members):
                continue
            free = tuple(
                m
                for m in area.members
                if m not in busy
                and m not in model.merged_into  # merged into another municipality (sim.core.merging)
                # offered once: a member that turned it down is not asked again
                and m not in self.offered
                and not all(model.municipality(m).formal_in(s) for s in sectors)
            )
            groups = self.office_groups(free) if len(free) >= 2 else []
            for group in groups:
                leader = area.facts.leader
                if leader not in group:
                    # the area's leader leads if it is in the group, else the most populous member (the name
                    # breaks ties)
                    leader = max(group, key=lambda m: (model.municipality(m).population, m))
                suffix = f" ({leader})" if len(groups) > 1 else ""
                name = f"{area.name}: {label}{suffix}"
                rounds = sum(n == name or n.startswith(f"{name}, round ") for n in model.region_facts)
                facts = replace(
                    area.facts,
                    name=f"{name}, round {rounds + 1}" if rounds else name,  # a negotiation's name is unique
                    members=group,
                    leader=leader,
                    sectors=chosen,
                    start=model.month,
                    funded_until=funded_until,
                    offices_only=True,
                )
                model.open_negotiation(facts)
                self.offered.update(group)

    def office_groups(self, members: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The groups one initiative office each would serve (``policies.CountyInitiative.office_groups``, §4.4)."""
        return CountyInitiative.office_groups(self.model.p, self.model.scenario, members)
