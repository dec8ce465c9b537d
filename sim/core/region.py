"""The region one negotiation is about: its members, distances, pools and facts.

Agents receive a :class:`Region` instead of calling back into the model, so a model can hold
several negotiations at once (one per area and sector set), each with its own region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.core import mechanisms as mech
from sim.inputs.facts import RegionFacts
from sim.inputs.params import Params

if TYPE_CHECKING:
    from sim.core.agents import Municipality


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
        self.lasting: dict[tuple, Any] = {}  # valuation terms keyed by the facts they depend on (sim.core.valuation)

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
            # staff and need change only on a merger, which clears this cache (``sim.core.merging``)
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
        # the proposed host is on the ballot whatever its own value: the councils vote on it
        return willing if option.host is None or option.host in willing else [*willing, option.host]

    def compelled(self, option) -> frozenset[str]:
        """Members a lever binds to this option: no veto, no exit (``policies.MandatoryHost.compels``, §4)."""
        return frozenset().union(*(policy.compels(self, option) for policy in self._model.policies))

    def eligible_hosts(self, members: tuple[str, ...]) -> list[str]:
        """Members that can credibly host (``mechanisms.credible_hosts``, §2.1, §2.2)."""
        return mech.credible_hosts(self._p, {m: self.agents[m].population for m in members})
