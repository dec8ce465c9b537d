"""What is in force: negotiations opened, and arrangements from the scenario's, decided and expiring (§2, §3.3).

:class:`Arrangements` is the part of :class:`sim.core.model.CooperationModel` that opens negotiations,
puts arrangements in force, ends them and runs them month by month; it reads the model's
municipalities, month, parameters, County Governor and event log.
"""

from __future__ import annotations

from itertools import combinations

import mesa

from sim.core import mechanisms as mech
from sim.core.negotiation import ProjectOrganisation
from sim.core.records import Arrangement, Event
from sim.core.region import Region
from sim.inputs.facts import RegionFacts
from sim.inputs.vocab import EventKind


class Arrangements:
    """Negotiations opened and arrangements in force for a :class:`sim.core.model.CooperationModel` (a base of it)."""

    def open_negotiation(self, facts: RegionFacts) -> ProjectOrganisation:
        """Start a negotiation (a project organisation) on an area's facts this month."""
        project = ProjectOrganisation(self, Region(facts, self._munis, self.scenario.distance, self))
        if hasattr(self, "_ids"):  # an agent made after __init__: see the note there
            mesa.Agent._ids.pop(self, None)
            project.unique_id = next(self._ids)
        self.negotiations.append(project)
        self.region_facts[facts.name] = facts
        return project

    def _existing(self, ex) -> Arrangement:
        """Put an arrangement of the scenario in force from the start, fully integrated."""
        agents = [self._munis[m] for m in ex.members]
        # an arrangement of the scenario has run for years: its pools are fixed now and it starts fully
        # integrated
        pools = {s: (sum(a.staff[s] for a in agents), sum(a.need[s] for a in agents)) for s in ex.sectors}
        form = self.p.vocab.form(ex.form)
        month = self.month
        arr = Arrangement(form, ex.sectors, ex.members, ex.host, month, month, ex.name, pools, integration=1.0)
        self.add_arrangement(arr)
        return arr

    def _expire(self) -> None:
        """End the scenario's arrangements whose last month has passed (their members go back to their own service)."""
        # ``until`` is the last month in force, so it ends the month after (a copy: the list shrinks in the
        # loop)
        for until, arr in [x for x in self._expiring if x[0] < self.month]:
            self._expiring.remove((until, arr))
            arr.ended = self.month
            for name in arr.members:
                for s in arr.sectors:
                    if self._munis[name].arrangement[s] is arr:
                        self._munis[name].arrangement[s] = None
            text = f"{arr.region} ends"
            self.log(Event(self.month, arr.region, EventKind.ARRANGEMENT_END, text, members=arr.members))
            initiative = self.scenario.initiative
            # members left without an office after the initiative began are offered it, as when a negotiation
            # ends
            if initiative is not None and self.month > initiative.start and self.governor.initiative_on():
                self.governor.launch_initiative(where=set(arr.members))

    def add_arrangement(self, arr: Arrangement) -> None:
        """Put a decided arrangement in force for its members in its sectors.

        An arrangement a member had in those sectors goes on for its other members and sectors;
        it ends when no member uses it for any sector any more.
        """
        replaced = []
        for name in arr.members:
            muni = self._munis[name]
            for s in arr.sectors:
                old = muni.arrangement[s]
                # remember the arrangement this one takes a sector from; it may still serve others
                if old is not None and old.ended is None and old not in replaced:
                    replaced.append(old)
                muni.arrangement[s] = arr
        for old in replaced:
            # an old arrangement ends only when nobody uses it for anything: a partial takeover leaves it
            # running
            if not any(self._munis[m].arrangement[s] is old for m in old.members for s in old.sectors):
                old.ended = self.month
        self.arrangements.append(arr)

    def _run_arrangements(self) -> None:
        """A month of the arrangements in force: offices integrate, networks live on their coordinator (§2.1, §2.3)."""
        p = self.p
        for arr in self.arrangements:
            if arr.ended is not None or self.month < arr.starts:
                continue
            if arr.form.pools_staff:
                arr.integration = mech.integration_month(p, arr.integration)
                continue
            # a network lives on its coordinator: activity decays once nobody pays one (§2.3), and trust grows
            # with activity
            funded = self.governor.coordinator_funded(self.region_facts.get(arr.region))
            arr.activity = mech.network_activity(p, arr.activity, funded)
            for a, b in combinations(arr.members, 2):
                t = min(1.0, self._munis[a].trust[b] + p.network_trust_gain * arr.activity)
                self._munis[a].trust[b] = self._munis[b].trust[a] = t
