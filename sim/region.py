"""The region one negotiation is about: its members, distances, pools and facts.

Agents receive a :class:`Region` instead of calling back into the model, so a model can hold
several negotiations at once (one per area and sector set), each with its own region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim import mechanisms as mech
from sim.params import Params

if TYPE_CHECKING:
    from sim.agents import Municipality


@dataclass(frozen=True)
class RegionFacts:
    """Facts about one negotiating area, from a scenario file (see ``scenarios/README.md``).

    Attributes:
        name: The area's name.
        members: Member names, in file order.
        leader: The member whose officer leads the project, or ``"external"``.
        consultant: An external consultant ran studies and process (§2.1).
        politicians_in_steering_group: Politicians sat in the steering group (§2.3).
        council_stages: Times the councils were briefed or decided during the pre-project.
        cooperation_history: 0-1 score of earlier cooperation (§2.1-§2.3).
        board_experience: 0-1, how bad the region's experience with joint boards is (§2.2).
        failed_sectors: Sector indices where an earlier attempt at a joint office failed.
        sectors: Sector indices this negotiation is about.
        start: Month the pre-project starts (None: the scenario's start).
        funded_until: Last month of the County Governor's funds (None: the scenario's pilot end).
        area: The cooperation area the negotiation belongs to (county scenarios; "" for a pilot file).
        offices_only: Only joint offices (formal forms) are on the agenda: the County Governor's
            initiative is "for the establishment of joint agriculture offices" (§4.4).
    """

    name: str
    members: tuple[str, ...]
    leader: str
    consultant: bool
    politicians_in_steering_group: bool
    council_stages: float
    cooperation_history: float
    board_experience: float
    failed_sectors: frozenset[int]
    sectors: tuple[int, ...]
    start: int | None = None
    funded_until: int | None = None
    area: str = ""
    offices_only: bool = False


@dataclass(frozen=True)
class AreaFacts:
    """A cooperation area of a county scenario: who may negotiate together (§4).

    Attributes:
        name: The area's name (a regional council, or a rule area).
        members: Member names, in scenario order.
        assumed: Membership comes (partly) from a rule, not a source.
        source: Where the membership comes from, and which rule placed whom.
        facts: The area's facts for a negotiation the County Governor starts there (members: all).
    """

    name: str
    members: tuple[str, ...]
    assumed: bool
    source: str
    facts: RegionFacts


@dataclass(frozen=True)
class Initiative:
    """The County Governor's county-wide initiative (§4): when, for how long, for which sectors.

    Used only when the lever ``county_initiative`` (funded pre-projects) or ``mandatory_host``
    (the state's requirement) is on; see :class:`sim.agents.CountyGovernor`.
    """

    start: int
    months: int
    sectors: tuple[int, ...]


class Region:
    """Members (agents), distances, pooled staff and host eligibility of one negotiation."""

    def __init__(
        self, facts: RegionFacts, agents: dict[str, Municipality], distance: Callable[[str, str], float], model: Any
    ) -> None:
        self.facts = facts
        self.name = facts.name
        self.agents = {m: agents[m] for m in facts.members}
        self._distance = distance
        self._model = model
        self._pools: dict[tuple, tuple[float, float]] = {}

    @property
    def _p(self) -> Params:
        """The model's parameters now (a county's §4 levers take effect at the initiative's start)."""
        return self._model.p

    def distance(self, a: str, b: str) -> float:
        """Distance in km between two members (0 for the same)."""
        return 0.0 if a == b else self._distance(a, b)

    def population(self, name: str) -> float:
        """A member's population."""
        return self.agents[name].population

    def pool(self, members: tuple[str, ...], s: int) -> tuple[float, float]:
        """Pooled staff and pooled need of ``members`` in sector ``s`` (FTE)."""
        key = (members, s)
        if key not in self._pools:
            agents = [self.agents[m] for m in members]
            self._pools[key] = (sum(a.staff[s] for a in agents), sum(a.need[s] for a in agents))
        return self._pools[key]

    def willing_hosts(self, option) -> list[str]:
        """Eligible members whose council would host this option; the proposed host always counts.

        A council cannot be made host against its will (§2.1-§2.2).
        """
        if not option.form.needs_host:
            return []
        cache = self.agents[option.members[0]].model.cache
        key = ("willing", option.sectors, option.form.index, option.members)
        if key not in cache:
            cache[key] = [
                h
                for h in self.eligible_hosts(option.members)
                if self.agents[h].value(option._replace(host=h), self) > 0
            ]
        willing = cache[key]
        return willing if option.host is None or option.host in willing else [*willing, option.host]

    def compelled(self, option) -> frozenset[str]:
        """Members the state requires to join this option: no veto, no exit (``mechanisms.mandated``, §4).

        Only an administrative host (a formal host form without a board) of a required sector
        compels; the host itself is never compelled.
        """
        form = option.form
        if not (form.formal and form.needs_host and not form.board) or not any(self._p.mandatory_host):
            return frozenset()
        return frozenset(
            m
            for m in option.members
            if m != option.host and mech.mandated(self._p, option.sectors, self.agents[m].population)
        )

    def eligible_hosts(self, members: tuple[str, ...]) -> list[str]:
        """Members large enough to host: ``host_min_share`` of an equal population share (§2.1, §2.2)."""
        pops = {m: self.agents[m].population for m in members}
        floor = self._p.host_min_share * sum(pops.values()) / len(pops)
        return [m for m, pop in pops.items() if pop >= floor]
