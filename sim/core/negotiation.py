"""The project organisation: the phase machine of one negotiation (§1.3 "Prosess", §2).

Phases: pre-project -> first vote (on the pre-project's recommendation) -> main project ->
final vote -> implementation -> next round; a network goes from the first vote straight into
operation. A failed vote leads to a revision round, or to a stop when no option is promising
any more or the revision rounds are used up; the stop's cause comes from the last vote record.
The end of the pilot ends the County Governor's funds and follow-up; it does not stop a
pending vote.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from sim.core import ballot
from sim.core import mechanisms as mech
from sim.core.agenda import AgendaSetter
from sim.core.policies import MandatoryHost
from sim.core.records import Arrangement, Event, Option, Vote, describe
from sim.inputs.vocab import Cause, EventKind, Phase, Stage

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.core.region import Region

_WORK = {
    Phase.PRE_PROJECT: "pre_project_months",
    Phase.MAIN_PROJECT: "main_project_months",
    Phase.REVISION: "revision_months",
}
_STATED = {Phase.PRE_PROJECT: "pre_project_months", Phase.MAIN_PROJECT: "main_project_months"}


class Timing:
    """When the work is done and when the councils decide (§1.3 "Prosess", §2.1-§2.3).

    The part of :class:`ProjectOrganisation` that keeps its clock: phase durations (the report's
    own where it states them for the pilot, else the shared ones), the councils' meetings, the
    reform's deadline postponing decisions it competes with, and the regional council's further
    study of a contested governance model.
    """

    def stated(self, phase: Phase) -> float | None:
        """The phase's duration as the report states it for this pilot's first round, or None (the shared parameter)."""
        if self.later_round:
            return None
        if phase == Phase.REVISION:  # the further study (§2.2); a revision after a failed vote is shared
            return self.region.facts.study_months if self.studying else None
        return getattr(self.region.facts, _STATED[phase]) if phase in _STATED else None

    def _duration(self, phase: Phase) -> float:
        p, stated = self.model.p, self.stated(phase)
        months = stated if stated is not None else getattr(p, _WORK[phase]) if phase in _WORK else p.council_months
        return months * math.exp(p.duration_noise * self.model.rng.standard_normal())

    def work_speed(self, attention: float) -> float:
        """This month's progress in a work phase: stated phases as the pilot ran them (``mechanisms.stated_speed``)."""
        model, sc = self.model, self.model.scenario
        funded = model.governor.funds(self.region.facts)
        if self.stated(self.phase) is not None:
            load = mech.reform_load(model.month, sc.reform_start, sc.reform_deadline, model.p.reform_afterglow_months)
            return mech.stated_speed(model.p, funded, load)
        return attention * mech.catalyst_speed(model.p, funded)

    def postponed(self) -> bool:
        """The reform's deadline puts this decision off (``mechanisms.reform_postpones``); logged once per vote."""
        model, sc = self.model, self.model.scenario
        form = self.option.form  # a merger is the structure decision itself: it competes with nothing
        establishes = (self.phase == Phase.FINAL_VOTE or not form.pools_staff) and not form.merges
        talks = any(self.region.agents[m].member_talks for m in self.option.members if m in self.region.agents)
        if not mech.reform_postpones(model.p, model.month, sc.reform_start, sc.reform_deadline, establishes, talks):
            return False
        if not self.put_off:
            self.put_off = True
            self.log(
                EventKind.POSTPONED,
                "the decision is postponed: the councils first decide on the municipal structure",
                self.option,
            )
        self.progress = 0.0  # the case goes to a council round after the deadline
        return True

    def review(self, option: Option) -> bool:
        """The regional council sends a contested governance model back for a further study, once (§2.2).

        The regional council treats the recommendation in the councils' meeting round (the first
        vote's clock). Returns True when it sends it back: the project group then studies the
        alternatives for ``study_months`` (the pilot's, else the shared ``revision_months``), holds
        to its recommendation (§2.2 l.1651-1655: "fastholdt prosjektgruppen sin hovedanbefaling"),
        and the recommendation goes to the councils in a new meeting round.
        """
        p, region = self.model.p, self.region
        forms = [f for f in p.forms if p.allowed(f) and f.formal and f.needs_host and not f.merges]
        if self.studied or self.phase != Phase.FIRST_VOTE or option.form not in forms or len(forms) < 2:
            return False
        preferred = [
            max(forms, key=lambda f: (region.agents[m].value(option._replace(form=f), region), -f.index)).name
            for m in option.members
        ]
        if not mech.governance_contested(option.form.name, preferred):
            return False
        self.studied = self.studying = True
        self.log(EventKind.REVISION, "the regional council asks for a further study of the governance model", option)
        self._enter(Phase.REVISION)
        return True


class Decisions:
    """What follows a vote: an agreement, a next round or a stop with its cause; and the negotiation's event log.

    The part of :class:`ProjectOrganisation` that records outcomes (it reads the organisation's
    model, region and phase).
    """

    def log(self, kind: EventKind, text: str, option: Option | None = None, **fields) -> None:
        """Add an event of this negotiation to the model's log."""
        if option is not None:
            names = self.model.p.vocab.sector_names
            fields = {
                "sectors": tuple(names[s] for s in option.sectors),
                "form": option.form.name,
                "host": option.host or "",
                "members": option.members,
                **fields,
            }
        self.model.log(Event(self.model.month, self.region.name, kind, text, **fields))

    def agree(self, option: Option, by: str = "the councils agree on") -> None:
        """Every remaining council said yes (or the state decided): the arrangement is decided."""
        model, p = self.model, self.model.p
        starts = model.month + (p.implementation_months if option.form.pools_staff else 0)
        pools = {s: self.region.pool(option.members, s) for s in option.sectors}
        arr = Arrangement(
            option.form, option.sectors, option.members, option.host, model.month, starts, self.region.name, pools
        )
        model.add_arrangement(arr)
        self.log(EventKind.AGREEMENT, f"{by} {describe(self.model.p.vocab, option)}", option)
        if option.form.pools_staff:
            self.opens = starts
            self._enter(Phase.IMPLEMENTATION, timed=False)
        else:
            self.log(EventKind.NETWORK_START, f"the {describe(self.model.p.vocab, option)} starts", option)
            self._enter(Phase.NETWORK, timed=False)

    def next_round(self) -> None:
        """After a service opens or a network's pilot ends: start on the remaining sectors."""
        if self.agenda.options(self.members):
            self.revisions, self.agenda.tried, self.later_round = 0, set(), True  # stated durations: first round
            self._enter(Phase.PRE_PROJECT)
            self.log(
                EventKind.PRE_PROJECT_START, "a new pre-project starts for the remaining sectors", members=self.members
            )
        else:
            self._enter(Phase.DONE, timed=False)
            self.model.governor.reoffer(self)

    def stall(self, cause: Cause) -> None:
        """The process stops; the cause is recorded (§2.2). Where the law requires a host, the state decides (§4)."""
        self.stall_cause = cause
        self.log(
            EventKind.STALL, f"the process stops: {cause.replace('_', ' ')}", cause=str(cause), members=self.members
        )
        self._enter(Phase.STALLED, timed=False)
        for policy in self.model.policies:  # a mandatory host: the state decides (sim.core.policies)
            policy.after_stall(self)
        self.model.governor.reoffer(self)

    def impose(self) -> None:
        """The state requires an administrative host where the councils did not agree (§4).

        See ``policies.MandatoryHost.impose``; nothing happens unless ``mandatory_host`` requires a sector.
        """
        MandatoryHost(self.model.p).impose(self)


class ProjectOrganisation(Timing, Decisions, mesa.Agent):
    """Runs one negotiation: chooses proposals, holds votes, records agreements and stops.

    Attributes:
        region: The region negotiated about.
        agenda: Options, beliefs and choice (``sim.core.agenda``).
        members: Members still in the project.
        phase: Current :class:`Phase`.
        option: The option on the table.
        votes: Every vote held, in order.
        stall_cause: Why the process stopped (None while it runs or after success).
    """

    def __init__(self, model: CooperationModel, region: Region) -> None:
        super().__init__(model)
        f = region.facts
        self.region = region
        involvement = mech.political_involvement(model.p, f.politicians_in_steering_group, f.council_stages)
        self.agenda = AgendaSetter(model, region, f.leader, involvement)
        self.members: tuple[str, ...] = f.members
        self.phase = Phase.PRE_PROJECT
        self.progress = 0.0
        self.put_off = self.studied = self.studying = self.later_round = False
        self.required = self._duration(Phase.PRE_PROJECT)
        self.option: Option | None = None
        self.votes: list[Vote] = []
        self.revisions = 0
        self.stall_cause: Cause | None = None
        self.opens = 0
        self.log(EventKind.PRE_PROJECT_START, f"pre-project starts: {', '.join(self.members)}", members=self.members)

    @property
    def active(self) -> bool:
        """The negotiation is still running (not stopped, not done)."""
        return self.phase not in (Phase.STALLED, Phase.DONE)

    @property
    def involvement(self) -> float:
        """Political involvement while the project is active (§3.4)."""
        return self.agenda.involvement if self.active else 0.0

    def _enter(self, phase: Phase, timed: bool = True) -> None:
        self.phase, self.progress, self.put_off = phase, 0.0, False
        self.required = self._duration(phase) if timed else 0.0

    def attention(self) -> float:
        """Mean free attention of the members (§1.3)."""
        agents = self.region.agents
        return sum(agents[m].attention for m in self.members) / max(1, len(self.members))

    # --- the monthly process -------------------------------------------------------------------
    def step(self) -> None:
        """Advance the process by one month."""
        model, attention = self.model, self.attention()
        if self.phase in _WORK:
            self.progress += self.work_speed(attention)
            if self.progress >= self.required:
                if self.phase == Phase.MAIN_PROJECT:
                    self._enter(Phase.FINAL_VOTE)
                elif self.phase == Phase.REVISION and self.studying:
                    self.studying = False
                    self._enter(Phase.FIRST_VOTE)  # after the further study, the recommendation goes to the councils
                else:
                    self.propose()
        elif self.phase in (Phase.FIRST_VOTE, Phase.FINAL_VOTE):
            if self.postponed() or not mech.council_meets(model.month):
                return  # a council round counts the months the councils meet
            self.progress += 1
            if self.progress >= self.required and not self.review(self.option):
                self.vote()
        elif self.phase == Phase.IMPLEMENTATION and model.month >= self.opens:
            self.log(
                EventKind.SERVICE_START, f"the joint {describe(self.model.p.vocab, self.option)} opens", self.option
            )
            self.next_round()
        elif self.phase == Phase.NETWORK and model.month > model.scenario.pilot_end:
            self.next_round()

    def propose(self) -> None:
        """Choose a proposal and send it to the councils, or stop (§2.2 "Prosess")."""
        option, prospect = self.agenda.choose(self.members, self.revisions)
        if option is None or prospect < self.model.p.min_prospect:
            self.stall(ballot.diagnose(self.votes[-1], self.agenda.leader) if self.votes else Cause.NO_PROMISING_OPTION)
            return
        self.option = option
        self.agenda.tried.add(option)
        self.log(
            EventKind.PROPOSAL, f"the project proposes {describe(self.model.p.vocab, option)}", option, value=prospect
        )
        self._enter(Phase.FIRST_VOTE)

    def vote(self) -> None:
        """The councils vote on the option on the table (``sim.core.ballot``)."""
        model = self.model
        stage = Stage.FIRST if self.phase == Phase.FIRST_VOTE else Stage.FINAL
        vote = ballot.hold(model, self.region, self.option, stage, len(self.votes) + 1, self.agenda.leader, self.votes)
        self.votes.append(vote)
        self.agenda.revealed.update(vote.option.members)
        yes = [m for m in vote.option.members if vote.yes[m]]
        self.log(
            EventKind.VOTE,
            f"{stage} vote on {describe(self.model.p.vocab, vote.option)}: yes {', '.join(yes) or 'none'}; "
            f"no {', '.join(vote.no) or 'none'}",
            vote.option,
            value=len(yes),
        )
        if vote.side_payment_to:
            self.log(
                EventKind.SIDE_PAYMENT,
                f"{vote.side_payment_to} is offered to host another joint function",
                vote.option,
                municipality=vote.side_payment_to,
            )
        for m in vote.exits:
            self.log(EventKind.EXIT, f"{m} leaves the project", vote.option, municipality=m)
        self.members = tuple(m for m in self.members if m not in vote.exits)
        if not vote.passed:
            ballot.strain_trust(self.model.p, self.region, vote)
            self.after_failure(vote)
            return
        option = vote.option._replace(members=tuple(m for m in vote.option.members if m not in vote.exits))
        self.option = option
        if stage == Stage.FIRST and option.form.pools_staff:
            self.log(EventKind.MAIN_PROJECT_START, f"main project on {describe(self.model.p.vocab, option)}", option)
            self._enter(Phase.MAIN_PROJECT)
        else:
            self.agree(option)

    def after_failure(self, vote: Vote) -> None:
        """Revise if an option is still promising and rounds are left; else stop (§2.1, §2.2)."""
        self.revisions += 1
        funded = self.model.governor.funds(self.region.facts)
        _, prospect = self.agenda.choose(self.members, self.revisions)
        if self.revisions > mech.revision_rounds(self.model.p, funded) or prospect < self.model.p.min_prospect:
            self.stall(ballot.diagnose(vote, self.agenda.leader))
            return
        self.log(EventKind.REVISION, f"revision round {self.revisions}", vote.option, value=self.revisions)
        self._enter(Phase.REVISION)
