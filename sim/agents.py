"""Agents: municipalities (council and administration) and the County Governor.

A municipality values options (``sim.valuation.Valuation``) and runs its services month by
month (``step``); the project organisation that runs each negotiation is in ``sim.negotiation``. Every
behavioural rule is one named function of ``sim.mechanisms``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim import mechanisms as mech
from sim.records import Arrangement
from sim.valuation import Valuation

if TYPE_CHECKING:
    from sim.model import CooperationModel
    from sim.scenario import MunicipalityFacts


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

    # --- monthly dynamics ------------------------------------------------------------------------
    def step(self) -> None:
        """Political maturation and one month of each sector's service."""
        p, month = self.model.p, self.model.month
        self.readiness = mech.political_maturation(p, self.readiness, self.involvement, self.attention)
        for s, arr in enumerate(self.arrangement):
            own, need, start = self.staff[s], self.need[s], self.competence_start[s]
            if arr is None or month < arr.starts:
                team, cap = own, mech.capacity(own, need)
            elif not arr.form.pools_staff:
                pool_fte = arr.pools[s][0]
                ceiling = mech.network_ceiling(p, start, mech.team_competence(p, pool_fte))
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
            self.vulnerability[s] = mech.vulnerability(p, team, self.competence[s])


class CountyGovernor(mesa.Agent):
    """The County Governor: pilot funds and follow-up until the pilot ends (§1.1, §2.1)."""

    def __init__(self, model: CooperationModel) -> None:
        super().__init__(model)
        self.funding = model.p.pilot_funding > 0

    def step(self) -> None:
        """Funds flow while the pilot runs and the lever grants them."""
        self.funding = self.model.month <= self.model.scenario.pilot_end and self.model.p.pilot_funding > 0

    def coordinator_funded(self, after_pilot: bool = False) -> bool:
        """A network coordinator is paid from outside: by pilot funds, or by the post-pilot lever (§2.3)."""
        if self.model.p.post_pilot_coordinator:
            return True
        return self.funding and not after_pilot
