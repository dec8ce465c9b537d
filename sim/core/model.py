"""The model: municipalities negotiating on a monthly clock (report §1.3, §2).

One :class:`CooperationModel` holds the municipalities of a scenario, the County Governor and
one :class:`sim.core.negotiation.ProjectOrganisation` per negotiating area (the pilots have one).
"""

from __future__ import annotations

import math
from itertools import count
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.core import history, merging, policies, selfstart
from sim.core import mechanisms as mech
from sim.core.agents import CountyGovernor, Municipality
from sim.core.arrangements import Arrangements
from sim.core.kinds import KINDS
from sim.core.negotiation import ProjectOrganisation
from sim.core.records import Arrangement, Event, RecordsMixin
from sim.inputs.calendar import month_label
from sim.inputs.facts import RegionFacts
from sim.inputs.loader import load_scenario
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import MEASURES, EventKind


class CooperationModel(Arrangements, RecordsMixin, mesa.Model):
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
        self.kind = KINDS[sc.kind]
        self.p = p = self.kind.start_params(sc)  # a county: the §4 levers wait for the initiative
        self.policies = policies.active(p)  # the §4 levers these parameters switch on
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
        self.kind.setup(self)
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

    def log(self, event: Event) -> None:
        """Append to the event log."""
        self.events.append(event)

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
            self.policies = policies.active(p)
            self.log(Event(self.month, sc.name, EventKind.LEVERS, "the §4 levers take effect"))
        self._expire()
        if sc.mergers:
            merging.apply_due(self)
        for facts in [f for f in self._pending if f.start == self.month]:
            self._pending.remove(facts)
            self.open_negotiation(facts)
        attention = mech.attention(p, load)
        for muni in self._munis.values():
            muni.attention = attention
            muni.involvement = 0.0
        for project in self.negotiations:
            involvement = project.involvement
            for name in project.members:
                muni = self._munis[name]
                muni.involvement = max(muni.involvement, involvement)
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
        for muni in self._munis.values():  # every municipality, in scenario order (as agents_by_type holds them)
            muni.step()
        self._run_arrangements()
        self.datacollector.record(self)
        merging.mirror(self)
        self.datacollector.collect(self)
        self.month += 1
        self.running = self.month <= sc.horizon

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
        self._months: list[int] = []
        self._arrangements: list[int] = []
        self._steps: list[int] = []
        self.agent_reporters = ["municipality", *_columns(model.p)]

    def record(self, model: CooperationModel) -> None:
        """Write this month's competence, capacity and vulnerability into ``model.history``.

        A municipality whose values did not change this month (``Municipality.changed``) keeps
        last month's row.
        """
        t = model.month - model.scenario.start
        month = model.history[t]  # [muni, sector, measure]
        if t > 0:
            month[:] = model.history[t - 1]
        munis = model.municipalities
        changed = [i for i, m in enumerate(munis) if m.changed or t == 0]
        if changed:
            values = np.array([munis[i].competence + munis[i].capacity + munis[i].vulnerability for i in changed])
            month[changed] = values.reshape(len(changed), len(MEASURES), -1).transpose(0, 2, 1)

    def collect(self, model: CooperationModel) -> None:
        """Record this month's model variables (the agent variables are in ``model.history``)."""
        self._months.append(model.month)
        self._arrangements.append(sum(a.ended is None for a in model.arrangements))
        self._steps.append(model.steps)

    @property
    def model_vars(self) -> dict[str, list]:
        """The model variables by name, one value per recorded month (as Mesa's collector holds them)."""
        return {"month": [month_label(m) for m in self._months], "arrangements": list(self._arrangements)}

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
