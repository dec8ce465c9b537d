"""Agents: municipalities (council and administration), the project organisation, the County Governor.

The agents compose the rules of ``sim.mechanisms``; they hold state and make choices, but every
behavioural rule they apply is one named function there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import mesa

from sim import mechanisms as mech
from sim.params import SECTORS

if TYPE_CHECKING:
    from sim.model import CooperationModel

FORMAL = ("admin_host", "board_host")


class Option(NamedTuple):
    """A proposal: which sectors, which form, which host, among which members (§1.3, §2)."""

    sectors: tuple[int, ...]
    form: str
    host: str | None
    members: tuple[str, ...]

    @property
    def formal(self) -> bool:
        """True for the two host forms that can carry statutory duties (§2, §3.3)."""
        return self.form in FORMAL

    def describe(self) -> str:
        """Short text for the event log."""
        sectors = "+".join(SECTORS[s] for s in self.sectors)
        host = f", host {self.host}" if self.host else ""
        return f"{sectors} as {self.form}{host} ({', '.join(self.members)})"


@dataclass
class Arrangement:
    """A decided cooperation arrangement (formal agreement or informal network)."""

    form: str
    sectors: tuple[int, ...]
    members: tuple[str, ...]
    host: str | None
    decided: int
    starts: int
    activity: float = 1.0  # network activity (1 = a funded coordinator)
    integration: float = 0.0  # formal offices: share of pooling gains realised
    ended: int | None = None


@dataclass
class Vote:
    """One round of council votes on an option (with each council's stated preferences)."""

    month: int
    option: Option
    stage: str
    yes: dict[str, bool]
    utility: dict[str, float]
    preferred_host: dict[str, str | None]
    preferred_form: dict[str, str]
    exits: list[str] = field(default_factory=list)
    side_payment_to: str | None = None

    @property
    def passed(self) -> bool:
        """True when every council that stayed said yes."""
        return all(self.yes[m] for m in self.yes if m not in self.exits)


class Municipality(mesa.Agent):
    """A municipality with an administration and a council whose positions differ (§3.4).

    Attributes:
        name, county, population: Facts from the scenario.
        staff: FTE per sector (planning, environment, agriculture).
        competence: Competence per sector, 0-1 (§1.1).
        sensitivity: Political value of keeping control, per sector (§3.2).
        readiness: Share of the administration's case that the council sees (§3.4).
        trust: Trust towards each other member, 0-1 (§2.1, §2.3).
        attention: Free attention for the pilot this month, 0-1 (§1.3).
        outside_talks: In merger talks with non-members (competing track, §1.3).
        arrangement: Current arrangement per sector (None = own service).
    """

    def __init__(self, model: CooperationModel, fact, sensitivity, readiness: float) -> None:
        super().__init__(model)
        p = model.p
        self.name: str = fact.name
        self.county: str = fact.county
        self.population: float = fact.population
        self.staff: tuple[float, ...] = fact.staff
        self.need: tuple[float, ...] = tuple(mech.need_fte(p, s, self.population) for s in SECTORS)
        self.competence: list[float] = [mech.team_competence(p, f) for f in self.staff]
        self.competence_start: list[float] = list(self.competence)
        self.capacity: list[float] = [f / n for f, n in zip(self.staff, self.need, strict=True)]
        self.vulnerability: list[float] = [
            mech.vulnerability(p, f, c) for f, c in zip(self.staff, self.competence, strict=True)
        ]
        self.sensitivity: tuple[float, ...] = tuple(sensitivity)
        self.readiness: float = readiness
        self.trust: dict[str, float] = {}
        self.attention: float = 1.0
        self.outside_talks: bool = False
        self.arrangement: list[Arrangement | None] = [None, None, None]

    # --- valuation ---------------------------------------------------------------------------
    def gains(self, option: Option) -> float:
        """Expected gain in capacity, competence and robustness from an option (§1.1, §3.3)."""
        p, model = self.model.p, self.model
        total = 0.0
        for s in option.sectors:
            cap, comp, vul = self.capacity[s], self.competence[s], self.vulnerability[s]
            if option.formal:
                pool_fte, pool_need = model.pool(option.members, s)
                comp2 = max(comp, mech.team_competence(p, pool_fte))
                cap2 = mech.pooled_capacity(p, pool_fte, pool_need, 1.0)
                vul2 = mech.vulnerability(p, pool_fte, comp2)
            elif option.form == "network":
                pool_fte, _ = model.pool(option.members, s)
                comp2 = max(comp, self.competence_start[s] + p["network_competence_gain"])
                cap2 = cap
                team = mech.network_team(p, self.staff[s], pool_fte - self.staff[s], 1.0)
                vul2 = mech.vulnerability(p, team, comp2)
            else:
                continue
            gain = (p["w_capacity"] * (cap2 - cap) + p["w_competence"] * (comp2 - comp)
                    + p["w_robustness"] * (vul - vul2))
            total += gain * (mech.sector_cohesion(p, s) if option.formal else 1.0)
        return total * mech.bundle_synergy(p, option.sectors) if option.formal else total

    def costs(self, option: Option) -> tuple[float, float]:
        """Political costs and benefits of an option other than service gains.

        Returns:
            ``(control, other)``: ``control`` is the control and job loss that the
            administration discounts; ``other`` is the rest (hosting, steering, trust, history,
            reform), seen alike by administration and council.
        """
        if not option.formal:
            return 0.0, 0.0
        p, model = self.model.p, self.model
        others = [model.municipality(m) for m in option.members if m != self.name]
        n = len(option.sectors)
        other = p["trust_weight"] * (sum(self.trust[o.name] for o in others) / len(others) - 0.5)
        other -= mech.failed_attempt(p, model.scenario.failed_sectors, option.sectors)
        other -= mech.competing_track(p, self.outside_talks)
        if option.host == self.name:
            gained = sum(model.pool(option.members, s)[0] - self.staff[s] for s in option.sectors)
            other += mech.hosting_gain(p, gained * p["centralisation"], self.population)
            asym = mech.size_asymmetry(self.population, [o.population for o in others])
            other += mech.host_steering(p, option.form, asym, n)
            return 0.0, other
        at_stake = mech.control_at_stake(p, self.sensitivity, option.sectors)
        asym = mech.size_asymmetry(self.population, [model.municipality(option.host).population])
        control = mech.partner_control_loss(p, option.form, asym, at_stake)
        dist = model.scenario.distance(self.name, option.host)
        moved = sum(self.staff[s] for s in option.sectors) * p["centralisation"]
        user_km = sum(p[f"user_contact_{SECTORS[s]}"] for s in option.sectors) * dist
        control += mech.centralisation_fear(p, moved, self.population, user_km * p["centralisation"])
        return control, other

    def utility(self, option: Option, view: str = "council") -> float:
        """Value of an option to this municipality.

        The council adds its partners' own values weighted by trust
        (``mechanisms.regional_perspective``, §2.1); the administration judges its own service.
        """
        if view != "council":
            return self.own_utility(option, view)
        cache, key = self.model.cache, ("council", self.name, option)
        if key not in cache:
            model = self.model
            partners = [(self.trust[o], model.municipality(o).own_utility(option))
                        for o in option.members if o != self.name]
            cache[key] = self.own_utility(option) + mech.regional_perspective(model.p, partners)
        return cache[key]

    def parts(self, option: Option) -> tuple[float, float, float]:
        """``(gains, control, other)`` of an option, cached for the current month."""
        cache, key = self.model.cache, (self.name, option)
        if key not in cache:
            cache[key] = (self.gains(option), *self.costs(option))
        return cache[key]

    def own_utility(self, option: Option, view: str = "council") -> float:
        """Own value of an option against keeping the own service (0), as council or administration.

        The council sees the service gains only as far as it has matured (``readiness``) and
        weighs control and jobs fully; the administration sees the gains fully and discounts
        control and jobs (§3.4: administrative and political anchoring differ). Values are
        cached for the current month (state changes only between months).
        """
        gains, control, other = self.parts(option)
        if view == "council":
            return self.readiness * gains - control + other
        return gains - self.model.p["admin_control_weight"] * control + other

    def preferred_host(self, option: Option, hosts: list[str]) -> str | None:
        """The host this council would name, partners' interests included (§2.1 host vote)."""
        if not option.formal or not hosts:
            return None
        key = ("host", self.name, option.sectors, option.form, option.members)
        if key not in self.model.cache:
            self.model.cache[key] = self._preferred_host(option, hosts)
        return self.model.cache[key]

    def _preferred_host(self, option: Option, hosts: list[str]) -> str:
        return max(hosts, key=lambda h: self.utility(option._replace(host=h)))

    def preferred_form(self, option: Option, forms: list[str]) -> str:
        """The formal form this council prefers for the option's sectors and host."""
        return max(forms, key=lambda f: self.utility(option._replace(form=f)))

    def disappointment(self, option: Option, preferred_host: str | None) -> float:
        """Loss from a lost own claim to host (``mechanisms.lost_claim``)."""
        if preferred_host != self.name or option.host in (None, self.name):
            return 0.0
        as_host = self.own_utility(option._replace(host=self.name))
        return mech.lost_claim(self.model.p, as_host, self.own_utility(option))

    # --- monthly dynamics ----------------------------------------------------------------------
    def step(self) -> None:
        """Political maturation and one month of each sector's service."""
        model, p = self.model, self.model.p
        self.readiness = mech.political_maturation(
            p, self.readiness, model.project.involvement * model.project.active, self.attention
        )
        for s in range(len(SECTORS)):
            arr = self.arrangement[s]
            own = self.staff[s]
            need = self.need[s]
            if arr is None or model.month < arr.starts:
                team, cap = own, own / need
            elif arr.form == "network":
                pool_fte, _ = model.pool(arr.members, s)
                ceiling = self.competence_start[s] + p["network_competence_gain"]
                self.competence[s] = mech.network_month(
                    p, self.competence[s], ceiling, arr.activity * self.attention
                )
                team, cap = mech.network_team(p, own, pool_fte - own, arr.activity), own / need
            else:
                pool_fte, pool_need = model.pool(arr.members, s)
                i = arr.integration
                target = mech.team_competence(p, pool_fte)
                self.competence[s] = max(self.competence[s],
                                         self.competence_start[s] + i * (target - self.competence_start[s]))
                team = own + i * (pool_fte - own)
                cap = own / need + i * (mech.pooled_capacity(p, pool_fte, pool_need, i) - own / need)
            self.capacity[s] = cap
            self.vulnerability[s] = mech.vulnerability(p, team, self.competence[s])


class CountyGovernor(mesa.Agent):
    """The County Governor: pilot funds and follow-up until the pilot ends (§1.1, §2.1)."""

    def __init__(self, model: CooperationModel) -> None:
        super().__init__(model)
        self.funding: bool = True

    def step(self) -> None:
        """Funds flow while the pilot runs and the lever grants them."""
        model = self.model
        self.funding = model.month <= model.scenario.pilot_end and model.p["pilot_funding"] > 0


class ProjectOrganisation(mesa.Agent):
    """The agenda setter: runs the process and chooses each proposal (§1.3 "Prosess", §2).

    It weighs every admissible option by its believed chance of passing every council, the
    members' expected gains and, for an internal leader, the home municipality's own interest.
    Its beliefs are the administrations' positions, corrected towards the councils' own as far
    as political anchoring reaches (§3.4); a vote reveals a council's position.

    Phases: ``pre_project`` -> ``council_vote`` -> ``main_project`` -> ``final_vote`` ->
    ``implementation`` -> ``done``; a failed vote leads to ``revision`` or ``stalled``;
    a network goes from ``council_vote`` to ``network``.
    """

    def __init__(self, model: CooperationModel) -> None:
        super().__init__(model)
        sc = model.scenario
        self.leader: str = sc.leader
        self.involvement: float = min(1.0, sc.political_involvement + model.p["extra_political_involvement"])
        self.members: list[str] = list(sc.names)
        self.phase: str = "pre_project"
        self.progress: float = 0.0
        self.required: float = self._duration("pre_project_months")
        self.option: Option | None = None
        self.tried: set[tuple] = set()
        self.revisions: int = 0
        self.revealed: set[str] = set()
        self.votes: list[Vote] = []
        self.stall_cause: str | None = None
        self.side_payment_to: str | None = None  # who was promised another joint function
        self.active: float = 1.0
        self.option_start: int = 0

    # --- helpers -----------------------------------------------------------------------------
    def _duration(self, key: str) -> float:
        p = self.model.p
        return p[key] * math.exp(p["duration_noise"] * self.model.rng.standard_normal())

    def _enter(self, phase: str, months_key: str | None = None) -> None:
        self.phase, self.progress = phase, 0.0
        self.required = self._duration(months_key) if months_key else 0.0

    @property
    def formal_sectors(self) -> set[int]:
        """Sectors already under a formal arrangement for every member."""
        model = self.model
        return {s for s in range(len(SECTORS)) if all(
            (a := model.municipality(m).arrangement[s]) is not None and a.form in FORMAL
            for m in self.members)}

    def candidate_options(self) -> list[Option]:
        """Options the agenda lever and the allowed forms admit (§3.2 bundle or sector)."""
        p, model = self.model.p, self.model
        open_sectors = [s for s in range(len(SECTORS)) if s not in self.formal_sectors]
        if not open_sectors or len(self.members) < 2:
            return []
        if p["agenda"] == "bundle":
            subsets = [tuple(open_sectors)]
        elif p["agenda"] == "sector_by_sector":
            subsets = [(min(open_sectors, key=lambda s: p[f"sensitivity_{SECTORS[s]}"]),)]
        else:
            subsets = [tuple(s for k, s in enumerate(open_sectors) if mask >> k & 1)
                       for mask in range(1, 2 ** len(open_sectors))]
        members = tuple(self.members)
        hosts = model.eligible_hosts(members)
        options = []
        for sectors in subsets:
            if p["allow_network"] and not any(
                    (a := model.municipality(m).arrangement[s]) is not None and a.form == "network"
                    for m in members for s in sectors):
                options.append(Option(sectors, "network", None, members))
            for form in FORMAL:
                if p[f"allow_{form}"]:
                    options += [Option(sectors, form, h, members) for h in hosts]
        return [o for o in options if (o.sectors, o.form, o.host, o.members) not in self.tried]

    def believed_yes(self, option: Option, name: str) -> float:
        """Believed chance that a council says yes (§3.4, with host claims, §2.1)."""
        model, p = self.model, self.model.p
        muni = model.municipality(name)
        anchoring = 1.0 if name in self.revealed else self.involvement
        admin, council = muni.utility(option, "administration"), muni.utility(option)
        u = mech.believed_utility(admin, council, anchoring)
        if option.formal:
            u -= muni.disappointment(option, muni.preferred_host(option, model.eligible_hosts(option.members)))
        return 1.0 / (1.0 + math.exp(-u / p["vote_noise"]))

    def viable_chance(self, option: Option) -> float:
        """Believed chance that the vote leaves a viable arrangement (see :meth:`viable`).

        Members decide independently; the chance is summed over the count of yes votes among
        the members whose refusal would not sink the option (Poisson-binomial).
        """
        key_members = {m for m in (option.host, self.leader) if m in option.members}
        chance = math.prod(self.believed_yes(option, m) for m in key_members)
        dist = [1.0]  # dist[k]: chance that k of the other members say yes
        for m in option.members:
            if m in key_members:
                continue
            q = self.believed_yes(option, m)
            dist = [a * (1 - q) + b * q for a, b in zip(dist + [0.0], [0.0] + dist, strict=True)]
        need = self.quorum(len(option.members)) - len(key_members)
        return chance * sum(dist[max(0, need):])

    @staticmethod
    def quorum(n_members: int) -> int:
        """Yes votes an arrangement needs to go on without the members who say no (a majority)."""
        return max(2, n_members // 2 + 1)

    def score(self, option: Option) -> tuple[float, float]:
        """The agenda setter's value of proposing an option, and its believed chance of passing."""
        model, p = self.model, self.model.p
        prospect = self.viable_chance(option)
        value = sum(model.municipality(m).parts(option)[0] for m in option.members) / len(option.members)
        if self.leader in option.members:
            bias = p["leader_weight"] * (1 - p["consultant_neutrality"] * model.scenario.consultant)
            value += bias * model.municipality(self.leader).utility(option, "administration")
        return prospect * value - (1 - prospect) * p["failure_cost"], prospect

    def choose(self) -> tuple[Option | None, float]:
        """Pick the best-scoring option (ties broken by the model's generator)."""
        options = self.candidate_options()
        if not options:
            return None, 0.0
        scored = [(self.score(o), self.model.rng.random(), o) for o in options]
        (best, prospect), _, option = max(scored, key=lambda t: (t[0][0], t[1]))
        return option, prospect

    # --- the monthly process -------------------------------------------------------------------
    def step(self) -> None:
        """Advance the process by one month."""
        model = self.model
        attention = sum(model.municipality(m).attention for m in self.members) / max(1, len(self.members))
        if self.phase in ("pre_project", "main_project", "revision"):
            self.progress += attention * mech.catalyst_speed(model.p, model.governor.funding)
            if self.progress >= self.required:
                if self.phase == "main_project":
                    self._enter("final_vote", "council_months")
                else:
                    self.propose()
        elif self.phase in ("council_vote", "final_vote"):
            self.progress += 1
            if self.progress >= self.required:
                if attention < model.p["decision_attention"]:
                    if self.progress - self.required < 1:
                        model.log("postponed", f"{self.phase.replace('_', ' ')} postponed: attention "
                                               f"{attention:.2f} taken by the municipal reform")
                    return
                self.vote()
        elif self.phase == "implementation" and model.month >= self.option_start:
            model.log("service_start", self.option.describe())
            self.next_round()
        elif self.phase == "network" and model.month > model.scenario.pilot_end:
            self.next_round()
        if (model.month == model.scenario.pilot_end + 1 and self.votes and self.phase in
                ("pre_project", "revision", "council_vote") and not self.votes[-1].passed):
            self.stall(self.diagnose())  # §2.2: funds and obligation end, the pilot stops
        self.active = 1.0 if self.phase not in ("stalled", "done") else 0.0

    def next_round(self) -> None:
        """After a service opens or a network's pilot ends: start on the remaining sectors."""
        if self.candidate_options():
            self.revisions, self.tried, self.side_payment_to = 0, set(), None
            self._enter("pre_project", "pre_project_months")
            self.model.log("pre_project_start", "next step: remaining sectors")
        else:
            self._enter("done")

    def propose(self) -> None:
        """Choose a proposal and send it to the councils, or stall (§2.2 "Prosess")."""
        model = self.model
        option, prospect = self.choose()
        if option is None or prospect < model.p["min_prospect"]:
            self.stall(self.diagnose() if self.votes else "no_promising_option")
            return
        self.option = option
        self.tried.add((option.sectors, option.form, option.host, option.members))
        model.log("proposal", f"{option.describe()}; believed chance {prospect:.2f}")
        self._enter("council_vote", "council_months")

    def vote(self) -> None:
        """Every council votes on the option; exit is an option for a member (§2.1, §2.2)."""
        model, p = self.model, self.model.p
        option, stage = self.option, self.phase
        hosts = model.eligible_hosts(option.members)
        forms = [f for f in FORMAL if p[f"allow_{f}"]] or list(FORMAL)
        yes, util, pref_host, pref_form, loss = {}, {}, {}, {}, {}
        for name in option.members:
            muni = model.municipality(name)
            pref_host[name] = muni.preferred_host(option, hosts)
            pref_form[name] = muni.preferred_form(option, forms) if option.formal else option.form
            loss[name] = muni.disappointment(option, pref_host[name])
            # a council whose own claim to host lost judges the outcome on its own interest (§2.1)
            util[name] = (muni.own_utility(option) if loss[name] > 0 else muni.utility(option)) - loss[name]
        side_payment_to = self.offer_side_payment(option, util, loss)
        for name in option.members:
            util[name] += model.rng.logistic(0.0, p["vote_noise"])
            yes[name] = util[name] > 0
        record = Vote(model.month, option, stage, yes, util, pref_host, pref_form,
                      side_payment_to=side_payment_to)
        no = [m for m in option.members if not yes[m]]
        stayers = [m for m in option.members if yes[m]]
        if no and (option.host is None or option.host in stayers) and self.leader not in no \
                and len(stayers) >= self.quorum(len(option.members)):
            record.exits = no
        self.votes.append(record)
        self.revealed.update(option.members)
        detail = "; ".join(
            f"{m}: {'yes' if yes[m] else 'no'}"
            + (f" (host {pref_host[m]})" if option.formal and pref_host[m] != option.host else "")
            + (f" (form {pref_form[m]})" if option.formal and pref_form[m] != option.form else "")
            for m in option.members)
        model.log("vote", f"{stage.replace('_', ' ')} on {option.describe()}: {detail}")
        if side_payment_to:
            model.log("side_payment", f"{side_payment_to} offered to host another joint function")
        for m in record.exits:
            model.log("exit", f"{m} leaves the project")
            self.members.remove(m)
        if not record.passed:
            self.revisions += 1
            if self.revisions > mech.revision_rounds(p, model.governor.funding):
                self.stall(self.diagnose())
            else:
                model.log("revision", f"revision round {self.revisions}")
                self._enter("revision", "revision_months")
            return
        option = option._replace(members=tuple(m for m in option.members if m not in record.exits))
        self.option = option
        if stage == "council_vote" and option.formal:
            model.log("main_project_start", option.describe())
            self._enter("main_project", "main_project_months")
        else:
            self.agree(option)

    def offer_side_payment(self, option: Option, util: dict[str, float], loss: dict[str, float]) -> str | None:
        """Offer hosting of another joint function to one member it would keep (§2.1, DOMAIN §4.1).

        Among members whose lost host claim puts them below zero but whom the side payment
        would lift above it, the one adding most staff to the pooled service gets it. One
        promise per process round; it holds in later votes of the round. Updates ``util``.
        """
        p = self.model.p
        value = p["side_payment_value"] * (1 + p["loss_aversion"])
        if not (option.formal and p["side_payments"]):
            return None
        if self.side_payment_to is None:
            candidates = [m for m in option.members if loss[m] > 0 and util[m] < 0 <= util[m] + value]
            if not candidates:
                return None
            self.side_payment_to = max(candidates, key=lambda m: sum(
                self.model.municipality(m).staff[s] for s in option.sectors))
        if self.side_payment_to not in option.members or loss[self.side_payment_to] <= 0:
            return None
        util[self.side_payment_to] += value
        return self.side_payment_to

    def agree(self, option: Option) -> None:
        """Every remaining council said yes: the arrangement is decided."""
        model, p = self.model, self.model.p
        starts = model.month + (p["implementation_months"] if option.formal else 0)
        arr = Arrangement(option.form, option.sectors, option.members, option.host,
                          decided=model.month, starts=starts)
        for m in option.members:
            for s in option.sectors:
                old = model.municipality(m).arrangement[s]
                if old is not None:
                    old.ended = model.month
                model.municipality(m).arrangement[s] = arr
        model.arrangements.append(arr)
        model.log("agreement", option.describe())
        if option.formal:
            self.option_start = starts
            self._enter("implementation")
        else:
            model.log("network_start", option.describe())
            self._enter("network")

    def stall(self, cause: str) -> None:
        """The process stops; the cause is recorded (§2.2)."""
        self.stall_cause = cause
        self.model.log("stall", cause)
        self._enter("stalled")

    def diagnose(self) -> str:
        """Name the cause of a failed process from the last vote (§2.2, §3.2, §1.3)."""
        model = self.model
        vote = self.votes[-1]
        option = vote.option
        no = [m for m in option.members if not vote.yes[m]]
        if self.leader in no and self.leader != option.host:
            return "leader_left"
        if option.formal and option.host:
            partners = [m for m in option.members if m != option.host]
            partner_forms = [vote.preferred_form[m] for m in partners]
            majority = max(set(partner_forms), key=partner_forms.count)
            if vote.preferred_form[option.host] != majority and (
                    option.host in no or len(no) * 2 >= len(partners)):
                return "governance_dispute"
        if len(option.sectors) > 1:
            most = max(option.sectors, key=lambda s: model.p[f"sensitivity_{SECTORS[s]}"])
            smaller = option._replace(sectors=tuple(s for s in option.sectors if s != most))
            if any(model.municipality(m).utility(smaller) > 0 for m in no):
                return "sector_sensitivity"
        if option.formal and any(vote.preferred_host[m] not in (None, option.host) for m in no):
            return "host_location"
        if any(model.municipality(m).outside_talks for m in no):
            return "reform_competing_track"
        return "insufficient_support"
