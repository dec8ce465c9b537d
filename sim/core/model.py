"""The model: municipalities negotiating on a monthly clock (report §1.3, §2).

One :class:`CooperationModel` holds the municipalities of a scenario, the County Governor and
one :class:`sim.core.negotiation.ProjectOrganisation` per negotiating area (the pilots have one).
"""

from __future__ import annotations

import math
from itertools import combinations, count
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.core import history, merging, selfstart
from sim.core import mechanisms as mech
from sim.core.agents import CountyGovernor, Municipality
from sim.core.negotiation import ProjectOrganisation
from sim.core.records import Arrangement, Event, RecordsMixin
from sim.core.region import Region
from sim.inputs.calendar import month_label
from sim.inputs.facts import RegionFacts
from sim.inputs.loader import load_scenario
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import MEASURES, EventKind


class CooperationModel(RecordsMixin, mesa.Model):
    """Municipalities, their project organisations and the County Governor, month by month.

    Args:
        scenario: A scenario name in ``scenarios/``, a path, or a loaded :class:`Scenario`.
        rng: Seed or ``numpy.random.SeedSequence``; every random draw comes from ``self.rng``.
        **kwargs: Parameter and lever overrides (``--set`` keys; dotted keys such as
            ``sensitivity.planning`` are passed as ``**{"sensitivity.planning": 4}``), as the
            dashboard's controls give them.

    Attributes:
        month: Current month (year * 12 + month - 1); see ``sim.core.records.month_label``.
        negotiations: One project organisation per negotiating area.
        events: The event log (:class:`sim.core.records.Event`).
        arrangements: Every arrangement decided, in order.
        history: ``[month, municipality, sector, measure]`` array of competence, capacity and
            vulnerability at the end of each month (read by the outcomes; the DataCollector
            holds the same per municipality for Mesa users).
    """

    def __init__(self, scenario: str | Scenario, *, rng: Any = None, **kwargs: Any) -> None:
        super().__init__(rng=rng)
        if isinstance(scenario, Scenario):
            self.scenario = scenario.with_overrides(kwargs) if kwargs else scenario
        else:
            self.scenario = load_scenario(scenario, kwargs, "keyword argument")
        sc = self.scenario
        self.p = p = sc.params
        if sc.kind == "county" and sc.initiative is not None:  # §4 levers from the initiative's start
            before = sc.before_levers
            if before != sc.params:
                self.p = p = before
        self.month: int = sc.start
        self.events: list[Event] = []
        self.arrangements: list[Arrangement] = []
        self.cache: dict = {}
        self._munis: dict[str, Municipality] = {}
        for fact in sc.municipalities:
            sens = tuple(v * math.exp(p.sensitivity_noise * self.rng.standard_normal()) for v in p.sensitivity)
            ready = float(
                np.clip(p.political_readiness_start + p.political_readiness_noise * self.rng.standard_normal(), 0, 1)
            )
            self._munis[fact.name] = Municipality(self, fact, sens, ready)
        history.set_initial_trust(self.p, self.scenario, self._munis)
        self.governor = CountyGovernor(self)
        self.negotiations: list[ProjectOrganisation] = []
        self.region_facts: dict[str, RegionFacts] = {}
        self._expiring: list[tuple[int, Arrangement]] = []
        for ex in sc.existing:
            arr = self._existing(ex)
            if ex.until is not None:
                self._expiring.append((ex.until, arr))
        self.merged_into: dict[str, str] = {}  # absorbed municipality -> the one it merged into
        self.merged_name: dict[str, str] = {}  # merged municipality -> its new name
        if sc.kind == "county":
            self._forecast_setup()
        self._pending = [f for f in sc.regions if (f.start or sc.start) > sc.start]
        for f in sc.regions:
            if f not in self._pending:
                self.open_negotiation(f)
        # Mesa 3.3 keeps every model alive in the class-level Agent._ids (mesa issue #3179, fixed
        # after 3.3); release the model's entry to let it be collected, and number later agents here.
        mesa.Agent._ids.pop(self, None)
        self._ids = count(len(self.agents) + 1)
        n_months = sc.horizon - sc.start + 1
        self.history = np.full((n_months, len(sc.names), len(p.sectors), len(MEASURES)), np.nan)
        self.datacollector = MonthlyRecord(self)

    # --- lookups -----------------------------------------------------------------------------
    def municipality(self, name: str) -> Municipality:
        """The municipality agent of that name."""
        return self._munis[name]

    @property
    def municipalities(self) -> list[Municipality]:
        """All municipality agents in scenario order."""
        return list(self._munis.values())

    @property
    def project(self) -> ProjectOrganisation:
        """The first (for the pilots: the only) negotiation."""
        return self.negotiations[0]

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
        pools = {s: (sum(a.staff[s] for a in agents), sum(a.need[s] for a in agents)) for s in ex.sectors}
        form = self.p.vocab.form(ex.form)
        month = self.month
        arr = Arrangement(form, ex.sectors, ex.members, ex.host, month, month, ex.name, pools, integration=1.0)
        self.add_arrangement(arr)
        return arr

    def _expire(self) -> None:
        """End the scenario's arrangements whose last month has passed (their members go back to their own service)."""
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
            if initiative is not None and self.month > initiative.start and self.governor.initiative_on():
                self.governor.launch_initiative(where=set(arr.members))

    def _forecast_setup(self) -> None:
        """A county's state at its origin: merger talks before it, dissolving arrangements (``sim.core.selfstart``)."""
        selfstart.setup(self)

    def log(self, event: Event) -> None:
        """Append to the event log."""
        self.events.append(event)

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
                if old is not None and old.ended is None and old not in replaced:
                    replaced.append(old)
                muni.arrangement[s] = arr
        for old in replaced:
            if not any(self._munis[m].arrangement[s] is old for m in old.members for s in old.sectors):
                old.ended = self.month
        self.arrangements.append(arr)

    # --- the clock ---------------------------------------------------------------------------
    def step(self) -> None:
        """One month: reform, County Governor, project organisations, councils and services."""
        sc, p = self.scenario, self.p
        self.cache.clear()
        load = mech.reform_load(self.month, sc.reform_start, sc.reform_deadline, p.reform_afterglow_months)
        for ev in sc.reform_events:
            if ev.month == self.month and p.reform_intensity > 0:
                self.log(history.apply_reform_event(self.p, ev, self._munis, ev.region or sc.name))
        if sc.initiative is not None and self.month == sc.initiative.start and self.p is not sc.params:
            self.p = p = sc.params
            self.log(Event(self.month, sc.name, EventKind.LEVERS, "the §4 levers take effect"))
        self._expire()
        if sc.mergers:
            merging.apply_due(self)
        for facts in [f for f in self._pending if f.start == self.month]:
            self._pending.remove(facts)
            self.open_negotiation(facts)
        for muni in self._munis.values():
            muni.attention = mech.attention(p, load)
            muni.involvement = 0.0
        for project in self.negotiations:
            for name in project.members:
                self._munis[name].involvement = max(self._munis[name].involvement, project.involvement)
        self.governor.step()
        if sc.self_start is not None:
            selfstart.step(self)
        if self.month == sc.pilot_end + 1:
            self.log(
                Event(
                    self.month,
                    sc.name,
                    EventKind.PILOT_END,
                    "the pilot period is over: funds and follow-up from the County Governor end",
                )
            )
        for project in self.negotiations:
            project.step()
        self.cache.clear()
        self.agents_by_type[Municipality].do("step")
        self._run_arrangements()
        self._record()
        merging.mirror(self)
        self.datacollector.collect(self)
        self.month += 1
        self.running = self.month <= sc.horizon

    def _run_arrangements(self) -> None:
        p = self.p
        for arr in self.arrangements:
            if arr.ended is not None or self.month < arr.starts:
                continue
            if arr.form.pools_staff:
                arr.integration = mech.integration_month(p, arr.integration)
                continue
            funded = self.governor.coordinator_funded(self.region_facts.get(arr.region))
            arr.activity = mech.network_activity(p, arr.activity, funded)
            for a, b in combinations(arr.members, 2):
                t = min(1.0, self._munis[a].trust[b] + p.network_trust_gain * arr.activity)
                self._munis[a].trust[b] = self._munis[b].trust[a] = t

    def _record(self) -> None:
        values = [(m.competence, m.capacity, m.vulnerability) for m in self._munis.values()]  # [muni, measure, sector]
        self.history[self.month - self.scenario.start] = np.array(values).transpose(0, 2, 1)

    def run(self) -> CooperationModel:
        """Run to the scenario's horizon and return self."""
        while self.running:
            self.step()
        return self


class MonthlyRecord:
    """The monthly observations, read as Mesa's ``DataCollector`` reads them (docs/ODD.md II.x).

    The agent variables (competence, capacity and vulnerability per municipality and sector) are
    views of ``model.history``; only the model variables (month label, arrangements in force) are
    recorded here. ``get_agent_vars_dataframe`` and ``get_model_vars_dataframe`` give the frames
    Mesa's collector gives, indexed by ``Step`` and ``AgentID``, with rows for municipalities only
    (Mesa's had empty rows for the County Governor and the project organisations).
    """

    def __init__(self, model: CooperationModel) -> None:
        self._model = model
        self.model_vars: dict[str, list] = {"month": [], "arrangements": []}
        self._steps: list[int] = []
        self.agent_reporters = ["municipality", *_columns(model.p)]

    def collect(self, model: CooperationModel) -> None:
        """Record this month's model variables (the agent variables are in ``model.history``)."""
        self.model_vars["month"].append(month_label(model.month))
        self.model_vars["arrangements"].append(sum(a.ended is None for a in model.arrangements))
        self._steps.append(model.steps)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per recorded month: ``month`` and ``arrangements``."""
        return pd.DataFrame(self.model_vars)

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """One row per recorded month and municipality: ``municipality`` and ``measure.sector`` columns."""
        model, steps = self._model, self._steps
        munis = model.municipalities
        values = model.history[: len(steps)].transpose(0, 1, 3, 2).reshape(len(steps) * len(munis), -1)
        index = pd.MultiIndex.from_product([steps, [m.unique_id for m in munis]], names=["Step", "AgentID"])
        frame = pd.DataFrame(values, index=index, columns=self.agent_reporters[1:])
        frame.insert(0, "municipality", [m.name for m in munis] * len(steps))
        return frame

    @property
    def _agent_records(self) -> dict[int, list[tuple]]:
        """The agent variables as Mesa's collector stores them (read by ``mesa.batch_run``)."""
        frame = self.get_agent_vars_dataframe()
        records: dict[int, list[tuple]] = {}
        for (step, agent_id), row in zip(frame.index, frame.itertuples(index=False), strict=True):
            records.setdefault(step, []).append((step, agent_id, *row))
        return records


def _columns(p) -> list[str]:
    """Agent-variable column names: ``measure.sector``, measures outermost (``sim.inputs.vocab.MEASURES``)."""
    return [f"{measure}.{sector.name}" for measure in MEASURES for sector in p.sectors]
