"""The model: one region's municipalities negotiating on a monthly clock (report §1.3, §2)."""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import mesa
import numpy as np

from sim import mechanisms as mech
from sim.agents import CountyGovernor, Municipality, ProjectOrganisation
from sim.params import FORMS, SECTORS
from sim.scenario import Scenario, load_scenario, month_label

MEASURES = ("competence", "capacity", "vulnerability")


class CooperationModel(mesa.Model):
    """Municipalities, their project organisation and the County Governor, month by month.

    Args:
        scenario: A scenario name in ``scenarios/``, a path, or a loaded :class:`Scenario`.
        rng: Seed or ``numpy.random.SeedSequence``; every random draw comes from ``self.rng``.
        **params: Parameter and lever overrides (keys of ``sim.params.CATALOGUE``), as the
            dashboard's sliders and ``--set`` give them.

    Attributes:
        month: Current month (year * 12 + month - 1); see ``sim.scenario.month_label``.
        events: The region's event log (dicts with month, region, event, details).
        arrangements: Every arrangement decided, in order.
        history: Array ``[month, municipality, sector, measure]`` of competence, capacity and
            vulnerability at the end of each month; ``forms`` the form code per month.
    """

    def __init__(self, scenario: str | Scenario = "fjellregionen", *, rng: Any = None,
                 **params: Any) -> None:
        super().__init__(rng=rng)
        if isinstance(scenario, Scenario):
            self.scenario = scenario.with_overrides(params) if params else scenario
        else:
            self.scenario = load_scenario(scenario, params)
        sc, p = self.scenario, self.scenario.params
        self.p = p
        self.month: int = sc.start
        self.events: list[dict[str, Any]] = []
        self.arrangements: list = []
        self.cache: dict = {}
        self._pools: dict = {}
        base_sens = [p[f"sensitivity_{s}"] for s in SECTORS]
        self._munis: dict[str, Municipality] = {}
        for fact in sc.municipalities:
            sens = [v * math.exp(p["sensitivity_noise"] * self.rng.standard_normal()) for v in base_sens]
            ready = float(np.clip(p["political_readiness_start"]
                                  + p["political_readiness_noise"] * self.rng.standard_normal(), 0, 1))
            self._munis[fact.name] = Municipality(self, fact, sens, ready)
        posts = {pair: 0 for pair in combinations(sc.names, 2)}
        for members, _sector in sc.shared_posts:
            for a, b in combinations(members, 2):
                posts[(a, b) if (a, b) in posts else (b, a)] += 1
        for (a, b), n in posts.items():
            t = mech.initial_trust(p, sc.cooperation_history, n)
            self._munis[a].trust[b] = self._munis[b].trust[a] = t
        self.governor = CountyGovernor(self)
        self.project = ProjectOrganisation(self)
        # Mesa 3.3 keeps every model alive in the class-level Agent._ids (mesa issue #3179, fixed
        # after 3.3); all agents exist now, so release the model's entry to let it be collected.
        mesa.Agent._ids.pop(self, None)
        self.log("pre_project_start", f"{len(sc.names)} municipalities, leader {sc.leader}")
        n_months = sc.horizon - sc.start + 1
        self.history = np.full((n_months, len(sc.names), len(SECTORS), len(MEASURES)), np.nan)
        self.forms = np.zeros((n_months, len(sc.names), len(SECTORS)), dtype=np.int8)
        self.datacollector = mesa.DataCollector(model_reporters={
            "month": lambda m: month_label(m.month),
            "phase": lambda m: m.project.phase,
            "members": lambda m: len(m.project.members),
            "arrangements": lambda m: len(m.arrangements),
        })

    # --- lookups -----------------------------------------------------------------------------
    def municipality(self, name: str) -> Municipality:
        """The municipality agent of that name."""
        return self._munis[name]

    @property
    def municipalities(self) -> list[Municipality]:
        """All municipality agents in scenario order."""
        return list(self._munis.values())

    def pool(self, members: tuple[str, ...], sector: int) -> tuple[float, float]:
        """Pooled staff and pooled need of ``members`` in ``sector`` (FTE)."""
        key = (members, sector)
        if key not in self._pools:
            munis = [self._munis[m] for m in members]
            self._pools[key] = (sum(m.staff[sector] for m in munis), sum(m.need[sector] for m in munis))
        return self._pools[key]

    def eligible_hosts(self, members: tuple[str, ...]) -> list[str]:
        """Members large enough to host: ``host_min_share`` of an equal population share."""
        pops = {m: self._munis[m].population for m in members}
        floor = self.p["host_min_share"] * sum(pops.values()) / len(pops)
        return [m for m, pop in pops.items() if pop >= floor]

    def log(self, event: str, details: str) -> None:
        """Append to the region's event log."""
        self.events.append({"month": month_label(self.month), "region": self.scenario.name,
                            "event": event, "details": details})

    # --- the clock ---------------------------------------------------------------------------
    def step(self) -> None:
        """One month: reform, County Governor, project organisation, councils and services."""
        sc, p = self.scenario, self.p
        self.cache.clear()
        load = mech.reform_load(self.month, sc.reform_start, sc.reform_deadline,
                                p["reform_afterglow_months"])
        for ev in sc.reform_events:
            if ev.month == self.month and p["reform_intensity"] > 0:
                self._reform_event(ev)
        for muni in self.municipalities:
            muni.attention = mech.attention(p, load)
        self.governor.step()
        self.project.step()
        self.cache.clear()
        self.agents_by_type[Municipality].do("step")
        coordinator = self.governor.funding or p["post_pilot_coordinator"]
        for arr in self.arrangements:
            if arr.ended is not None or self.month < arr.starts:
                continue
            if arr.form == "network":
                arr.activity = mech.network_activity(p, arr.activity, coordinator)
                for a, b in combinations(arr.members, 2):
                    t = min(1.0, self._munis[a].trust[b] + p["network_trust_gain"] * arr.activity)
                    self._munis[a].trust[b] = self._munis[b].trust[a] = t
            else:
                arr.integration = mech.integration_month(p, arr.integration)
        self._record()
        self.datacollector.collect(self)
        self.month += 1
        self.running = self.month <= sc.horizon

    def _reform_event(self, ev) -> None:
        """Apply a reform event: talks with outsiders, an agreed merger, failed talks (§1.3)."""
        if ev.kind == "failed":
            for a, b in combinations(ev.parties, 2):
                t = mech.failed_talks_trust(self.p, self._munis[a].trust[b])
                self._munis[a].trust[b] = self._munis[b].trust[a] = t
        elif ev.outsiders:
            for name in ev.parties:
                self._munis[name].outside_talks = True
        with_ = f" with {', '.join(ev.outsiders)}" if ev.outsiders else ""
        self.log("reform", f"merger {ev.kind}: {', '.join(ev.parties)}{with_}")

    def _record(self) -> None:
        t = self.month - self.scenario.start
        for i, muni in enumerate(self.municipalities):
            self.history[t, i, :, 0] = muni.competence
            self.history[t, i, :, 1] = muni.capacity
            self.history[t, i, :, 2] = muni.vulnerability
            for s, arr in enumerate(muni.arrangement):
                if arr is not None and self.month >= arr.decided:
                    self.forms[t, i, s] = FORMS.index(arr.form)

    def run(self) -> CooperationModel:
        """Run to the scenario's horizon and return self."""
        while self.running:
            self.step()
        return self

    # --- results -----------------------------------------------------------------------------
    def timeline(self):
        """Tidy DataFrame: month, municipality, sector, form, competence, capacity, vulnerability."""
        import pandas as pd

        sc = self.scenario
        n_months = self.month - sc.start
        rows = []
        for t in range(n_months):
            for i, name in enumerate(sc.names):
                for s, sector in enumerate(SECTORS):
                    c, k, v = self.history[t, i, s]
                    rows.append((month_label(sc.start + t), name, sector, FORMS[self.forms[t, i, s]],
                                 c, k, v))
        return pd.DataFrame(rows, columns=["month", "municipality", "sector", "form", *MEASURES])

    def event_log(self):
        """The event log as a DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.events, columns=["month", "region", "event", "details"])
