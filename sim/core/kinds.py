"""Region versus county: what differs between a pilot's run and a county's, in one strategy object.

A pilot file (``kind = "region"``) is one negotiating area whose parameters hold from the first
month. A county file (``kind = "county"``) holds many areas and the §4 levers: its run starts
from the report's history (the levers at their defaults) and the levers take effect at the
initiative's start, and before the first month it sets up the county's state at its origin
(merger talks under way, arrangements that will dissolve; ``sim.core.selfstart``). The model
asks its :class:`Kind` instead of testing the scenario's kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sim.core import selfstart

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.inputs.params import Params
    from sim.inputs.scenario import Scenario


class Kind:
    """A pilot's run: one area, the scenario's parameters throughout."""

    name: ClassVar[str] = "region"

    def start_params(self, sc: Scenario) -> Params:
        """The parameters in force in the first month."""
        return sc.params

    def setup(self, model: CooperationModel) -> None:
        """Prepare the model's state before the first month (nothing for a pilot: its file says it all)."""


class County(Kind):
    """A county's run: many areas; the §4 levers from the initiative's start (report §4)."""

    name = "county"

    def start_params(self, sc: Scenario) -> Params:
        """The levers at their historical values until the initiative starts (``Scenario.before_levers``)."""
        if sc.initiative is None:
            return sc.params
        before = sc.before_levers
        # the very object sc.params when nothing differs: the model tests identity to switch once
        return before if before != sc.params else sc.params

    def setup(self, model: CooperationModel) -> None:
        """Merger talks before the start and dissolving arrangements (``sim.core.selfstart.setup``)."""
        selfstart.setup(model)


#: The strategy for each scenario kind (``Scenario.kind``).
KINDS: dict[str, Kind] = {k.name: k() for k in (Kind, County)}
