"""The story of one run in plain words, built from its records (events and votes).

"In March 2016 the councils voted on ...; X voted for it ...; the partners voted against it
because ...; the process stopped because ...". Every sentence is read from the structured records
(:class:`sim.core.records.Event`, :class:`sim.core.records.Vote`) and the vocabulary's labels; names come
from the scenario. A county run (many negotiations) is told one line per negotiation
(:func:`county_narrative`). Used by the dashboard (:mod:`sim.views.app`) and the notebooks.
"""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING

from sim.core.records import Event, Vote, event_row
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import EventKind, Phase, Stage
from sim.views import plots

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.core.negotiation import ProjectOrganisation


def when(month: int) -> str:
    """``March 2016`` for a month index."""
    return f"{calendar.month_name[month % 12 + 1]} {month // 12}"


def _names(items) -> str:
    return plots._names(list(items))


def _a(label: str) -> str:
    """``an administrative host``, ``a host with ...``, ``an informal network``."""
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def vote_reasons(vote: Vote, council: str, scenario: Scenario) -> list[str]:
    """What a council's stated preferences at a vote say about its vote (phrases without a subject).

    Read from the vote record: the form, sectors and host it would have preferred, merger talks,
    and a side payment it was offered.
    """
    option, labels = vote.option, scenario.params.vocab.sectors
    reasons = []
    preferred = vote.preferred_form.get(council)
    if preferred and preferred != option.form.name:
        reasons.append(f"preferred {_a(plots.form_label(scenario, preferred))}")
    sectors = vote.preferred_sectors.get(council, option.sectors)
    if len(sectors) < len(option.sectors):
        reasons.append(f"wanted only {_names(labels[s].label for s in sectors)}")
    host = vote.preferred_host.get(council)
    if option.host and host not in (None, option.host):
        reasons.append("wanted to host the office itself" if host == council else f"wanted {host} as host")
    if council in vote.merger_talks:
        reasons.append("was in merger talks")
    if vote.side_payment_to == council:
        reasons.append("was offered to host another joint function")
    return reasons


def describe_vote(vote: Vote, scenario: Scenario) -> str:
    """A vote in plain words: what was voted on, who voted for and against it, and why."""
    option = vote.option
    stage = "the pre-project's recommendation" if vote.stage == Stage.FIRST else "the final decision"
    sectors = _names(scenario.params.vocab.sectors[s].label for s in option.sectors)
    host = f", hosted by {option.host}" if option.host else ""
    form = _a(plots.form_label(scenario, option.form.name))
    text = f"In {when(vote.month)} the councils voted on {stage}: {form} for {sectors}{host}."
    groups: dict[tuple[bool, str], list[str]] = {}
    for m in option.members:
        groups.setdefault((vote.yes[m], _names(vote_reasons(vote, m, scenario))), []).append(m)
    for (yes, why), who in groups.items():
        subject = "they" if len(who) > 1 else "it"
        if len(who) > 1:
            why = why.replace("the office itself", "the office themselves")
        if yes:
            why = f"although {subject} {why}" if why else f"{subject} valued the joint service above going alone"
            text += f" {_names(who)} voted for it ({why})."
        else:
            why = why or "valued the proposal below going alone (costs and loss of control outweighed the gains)"
            text += f" {_names(who)} voted against it because {subject} {why}."
    if vote.exits:
        text += f" {_names(vote.exits)} then left the project."
    text += " The proposal passed." if vote.passed else " The proposal failed."
    return text


def narrative(model: CooperationModel) -> list[str]:
    """The run so far in plain words, one paragraph per event, from the event and vote records."""
    sc = model.scenario
    votes = {(n.region.name, v.month): v for n in model.negotiations for v in n.votes}
    out = []
    started = False
    for e in model.events:
        if e.kind == EventKind.VOTE and (e.region, e.month) in votes:
            out.append(describe_vote(votes[e.region, e.month], sc))
        elif e.kind in (EventKind.EXIT,):
            continue  # told with the vote
        elif e.kind == EventKind.PRE_PROJECT_START and not started:
            started = True
            out.append(f"In {when(e.month)} {_names(e.members)} started a joint pre-project on shared services.")
        elif e.kind == EventKind.PROPOSAL:
            chance = (
                f" (the project judged its chance of passing at about {e.value:.0%})" if e.value is not None else ""
            )
            out.append(f"In {when(e.month)} the {_proposal(e, sc)}{chance}.")
        elif e.kind == EventKind.STALL:
            out.append(f"In {when(e.month)} the process stopped because {plots.cause_label(e.cause)}.")
        elif e.kind == EventKind.PILOT_END:
            out.append(
                f"In {when(e.month)} the pilot period was over: the County Governor's funds and follow-up ended."
            )
        else:
            text = plots.describe_event(event_row(e, sc.name, None), sc)
            out.append(f"In {when(e.month)}: {text}.")
    return out


def _proposal(e: Event, sc: Scenario) -> str:
    """``project proposed an administrative host (§28b) for agriculture, hosted by X``."""
    labels = {s.name: s.label for s in sc.params.vocab.sectors}
    sectors = _names(labels.get(s, s) for s in e.sectors)
    host = f", hosted by {e.host}" if e.host else ""
    return f"project proposed {_a(plots.form_label(sc, e.form))} for {sectors}{host}"


#: What a running negotiation is doing, by phase (a county's one-line story).
PHASE_WORDS = {
    Phase.PRE_PROJECT: "in the pre-project",
    Phase.FIRST_VOTE: "before the councils' first vote",
    Phase.MAIN_PROJECT: "in the main project",
    Phase.FINAL_VOTE: "before the councils' final decision",
    Phase.REVISION: "revising its proposal",
    Phase.IMPLEMENTATION: "setting up the joint office",
    Phase.NETWORK: "running as a network",
}


def negotiation_title(project: ProjectOrganisation, scenario: Scenario) -> str:
    """A negotiation's name in the county narrative.

    ``Area, agriculture`` for a negotiation of the county's initiative (``Area, agriculture
    (Leader)`` when the area is split into several offices); ``Region (pilot)`` for a pilot.
    """
    facts = project.region.facts
    if project.region.name in {r.name for r in scenario.regions}:
        return f"{project.region.name} (pilot)"
    area = facts.area or project.region.name
    sectors = _names(scenario.params.vocab.sectors[s].label for s in facts.sectors)
    split = f" ({facts.leader})" if project.region.name.endswith(f" ({facts.leader})") else ""
    return f"{area}, {sectors}{split}" if sectors else area


def negotiation_line(project: ProjectOrganisation, model: CooperationModel) -> str:
    """One negotiation of a county run in one line, from its event records.

    ``Area, agriculture: pre-project from January 2017; agreed on an administrative host (§28b)
    for agriculture, hosted by X, in May 2018`` or ``...; stopped in August 2018: no proposal was
    promising enough to put to a vote``; a negotiation still under way ends with what it is doing.
    """
    sc, name = model.scenario, project.region.name
    labels = {s.name: s.label for s in sc.params.vocab.sectors}
    parts: list[str] = []
    started = False
    for e in model.events:
        if e.region != name:
            continue
        if e.kind == EventKind.PRE_PROJECT_START and not started:
            started = True
            parts.append(f"pre-project from {when(e.month)} ({len(e.members)} municipalities)")
        elif e.kind in (EventKind.AGREEMENT, EventKind.STATE_DECISION):
            sectors = _names(labels.get(s, s) for s in e.sectors)
            host = f", hosted by {e.host}," if e.host else ""
            what = "agreed on" if e.kind == EventKind.AGREEMENT else "the state required"
            parts.append(f"{what} {_a(plots.form_label(sc, e.form))} for {sectors}{host} in {when(e.month)}")
        elif e.kind == EventKind.STALL:
            parts.append(f"stopped in {when(e.month)}: {plots.cause_label(e.cause)}")
        elif e.kind == EventKind.REFORM and e.cause == "agreed":
            parts.append(f"merger agreed in {when(e.month)} ({_names(e.members)})")
        elif e.kind == EventKind.EXIT:
            parts.append(f"{e.municipality} left in {when(e.month)}")
    failed = sum(not v.passed for v in project.votes)
    if failed:
        parts.append(f"{failed} failed vote{'s' if failed > 1 else ''}")
    if project.phase in PHASE_WORDS and model.running:
        parts.append(f"now {PHASE_WORDS[project.phase]}")
    return f"{negotiation_title(project, sc)}: {'; '.join(parts) or 'not started'}."


def county_narrative(model: CooperationModel) -> list[str]:
    """A county run so far: one line per negotiation (the pilots first), from the event and vote records."""
    pilots = {r.name for r in model.scenario.regions}
    ordered = sorted(model.negotiations, key=lambda p: p.region.name not in pilots)  # stable: pilots first
    return [negotiation_line(p, model) for p in ordered]
