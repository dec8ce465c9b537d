"""The story of one run in plain words (bokmål or English), built from its records (events and votes).

"In March 2016 the councils voted on ...; X voted for it ...; the partners voted against it
because ...; the process stopped because ...". Every sentence is read from the structured records
(:class:`sim.core.records.Event`, :class:`sim.core.records.Vote`) and the vocabulary's labels; names come
from the scenario, the words from :mod:`sim.inputs.lang` (``lang`` is ``en`` or ``nb``). A county
run (many negotiations) is told one line per negotiation (:func:`county_narrative`). Used by the
dashboard (:mod:`sim.views.app`) and the notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from sim.core.records import EVENT_COLUMNS, Event, Vote, event_row
from sim.inputs.lang import month_words, names, term
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import EventKind, Phase, Stage
from sim.views import plots

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.core.negotiation import ProjectOrganisation


def when(month: int, lang: str = "en") -> str:
    """``March 2016`` (``mars 2016``) for a month index."""
    return month_words(month, lang)


def _a(label: str, lang: str = "en") -> str:
    """``an administrative host``, ``a host with ...``, ``an informal network`` (bokmål: no article)."""
    if lang != "en":
        return label
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def _option(sc: Scenario, form: str, sectors, host: str | None, lang: str) -> str:
    """``an administrative host (§28b) for agriculture, hosted by X`` in ``lang``."""
    words = names([plots.sector_label(sc, s, lang) for s in sectors], lang)
    text = term("ev.option", lang).format(form=_a(plots.form_label(sc, form, lang), lang), sectors=words)
    return text + (term("ev.hosted", lang).format(host=host) if host else "")


def vote_reasons(vote: Vote, council: str, scenario: Scenario, lang: str = "en") -> list[str]:
    """What a council's stated preferences at a vote say about its vote (phrases without a subject).

    Read from the vote record: the form, sectors and host it would have preferred, merger talks,
    and a side payment it was offered.
    """
    option, vocab = vote.option, scenario.params.vocab
    reasons = []
    preferred = vote.preferred_form.get(council)
    if preferred and preferred != option.form.name:
        reasons.append(term("nv.preferred", lang).format(form=_a(plots.form_label(scenario, preferred, lang), lang)))
    sectors = vote.preferred_sectors.get(council, option.sectors)
    if len(sectors) < len(option.sectors):
        only = names([plots.sector_label(scenario, vocab.sectors[s].name, lang) for s in sectors], lang)
        reasons.append(term("nv.only", lang).format(sectors=only))
    host = vote.preferred_host.get(council)
    if option.host and host not in (None, option.host):
        reasons.append(
            term("nv.host_itself", lang) if host == council else term("nv.host_other", lang).format(host=host)
        )
    if council in vote.merger_talks:
        reasons.append(term("nv.merger_talks", lang))
    if vote.side_payment_to == council:
        reasons.append(term("nv.side_payment", lang))
    return reasons


def describe_vote(vote: Vote, scenario: Scenario, lang: str = "en") -> str:
    """A vote in plain words: what was voted on, who voted for and against it, and why."""
    option, vocab = vote.option, scenario.params.vocab
    stage = term("nv.first" if vote.stage == Stage.FIRST else "nv.final", lang)
    what = _option(scenario, option.form.name, [vocab.sectors[s].name for s in option.sectors], option.host, lang)
    text = term("nv.voted_on", lang).format(when=when(vote.month, lang), stage=stage, option=what)
    groups: dict[tuple[bool, str], list[str]] = {}
    for m in option.members:
        # Councils that voted alike for the same stated reasons share one sentence; the dict keeps the
        # members' order, so the text is the same on every run.
        groups.setdefault((vote.yes[m], names(vote_reasons(vote, m, scenario, lang), lang)), []).append(m)
    for (yes, why), who in groups.items():
        subject = term("nv.they" if len(who) > 1 else "nv.it", lang)
        if len(who) > 1:
            why = why.replace("the office itself", "the office themselves")
        if yes:
            key = "nv.yes_although" if why else "nv.yes"
        else:
            key, why = "nv.no_because", why or term("nv.no_value", lang)
        text += term(key, lang).format(who=names(who, lang), s=subject, why=why)
    if vote.exits:
        text += term("nv.exits", lang).format(who=names(vote.exits, lang))
    return text + term("nv.passed" if vote.passed else "nv.failed", lang)


def narrative(model: CooperationModel, lang: str = "en") -> list[str]:
    """The run so far in plain words, one paragraph per event, from the event and vote records.

    A second pre-project (after an office opened) is told as the new round on the remaining
    sectors, with what started it (:func:`sim.views.plots.new_round`).
    """
    sc = model.scenario
    votes = {(n.region.name, v.month): v for n in model.negotiations for v in n.votes}
    rows = [event_row(e, sc.name, None) for e in model.events]
    out = []
    for i, e in enumerate(model.events):
        at = when(e.month, lang)
        if e.kind == EventKind.VOTE and (e.region, e.month) in votes:
            out.append(describe_vote(votes[e.region, e.month], sc, lang))
        elif e.kind == EventKind.EXIT:
            continue  # told with the vote
        elif e.kind == EventKind.PRE_PROJECT_START and not any(
            p.kind == EventKind.PRE_PROJECT_START and p.region == e.region for p in model.events[:i]
        ):
            out.append(term("nv.started", lang).format(when=at, who=names(e.members, lang)))
        elif e.kind == EventKind.PROPOSAL:
            chance = term("nv.chance", lang).format(p=e.value) if e.value is not None else ""
            out.append(term("nv.proposed", lang).format(when=at, option=_proposal(e, sc, lang), chance=chance))
        elif e.kind == EventKind.STALL:
            out.append(term("nv.stopped", lang).format(when=at, cause=plots.cause_label(e.cause, lang)))
        elif e.kind == EventKind.PILOT_END:
            out.append(term("nv.pilot_end", lang).format(when=at))
        else:
            earlier = pd.DataFrame(rows[:i], columns=list(EVENT_COLUMNS))
            text = plots.describe_event(rows[i], sc, None, lang, earlier[earlier["region"] == e.region])
            out.append(term("nv.other", lang).format(when=at, text=text))
    return out


def _proposal(e: Event, sc: Scenario, lang: str = "en") -> str:
    """``an administrative host (§28b) for agriculture, hosted by X``."""
    return _option(sc, e.form, e.sectors, e.host, lang)


#: What a running negotiation is doing, by phase (a county's one-line story; words in ``sim.inputs.lang``).
PHASE_WORDS = {
    phase: term(f"phase.{phase}")
    for phase in (
        Phase.PRE_PROJECT,
        Phase.FIRST_VOTE,
        Phase.MAIN_PROJECT,
        Phase.FINAL_VOTE,
        Phase.REVISION,
        Phase.IMPLEMENTATION,
        Phase.NETWORK,
    )
}


def negotiation_title(project: ProjectOrganisation, scenario: Scenario, lang: str = "en") -> str:
    """A negotiation's name in the county narrative.

    ``Area, agriculture`` for a negotiation of the county's initiative (``Area, agriculture
    (Leader)`` when the area is split into several offices); ``Region (pilot)`` for a pilot.
    """
    facts = project.region.facts
    if project.region.name in {r.name for r in scenario.regions}:
        return f"{project.region.name} ({term('cl.pilot', lang)})"
    area = facts.area or project.region.name
    sectors = names(
        [plots.sector_label(scenario, scenario.params.vocab.sectors[s].name, lang) for s in facts.sectors], lang
    )
    split = f" ({facts.leader})" if project.region.name.endswith(f" ({facts.leader})") else ""
    return f"{area}, {sectors}{split}" if sectors else area


def _line_part(e: Event, sc: Scenario, first: bool, lang: str) -> str | None:
    """One event's part of a negotiation's line (None for events the line leaves out)."""
    at = when(e.month, lang)
    if e.kind == EventKind.PRE_PROJECT_START and first:
        return term("cl.pre_project", lang).format(when=at, n=len(e.members))
    if e.kind in (EventKind.AGREEMENT, EventKind.STATE_DECISION):
        key = "cl.agreed" if e.kind == EventKind.AGREEMENT else "cl.state"
        option = _option(sc, e.form, e.sectors, e.host, lang) + ("," if e.host else "")
        return term(key, lang).format(option=option, when=at)
    if e.kind == EventKind.STALL:
        return term("cl.stopped", lang).format(when=at, cause=plots.cause_label(e.cause, lang))
    if e.kind == EventKind.REFORM and e.cause == "agreed":
        return term("cl.merger", lang).format(when=at, who=names(e.members, lang))
    if e.kind == EventKind.EXIT:
        return term("cl.left", lang).format(who=e.municipality, when=at)
    return None


def negotiation_line(project: ProjectOrganisation, model: CooperationModel, lang: str = "en") -> str:
    """One negotiation of a county run in one line, from its event records.

    ``Area, agriculture: pre-project from January 2017; agreed on an administrative host (§28b)
    for agriculture, hosted by X, in May 2018`` or ``...; stopped in August 2018: no proposal was
    promising enough to put to a vote``; a negotiation still under way ends with what it is doing.
    """
    sc, name = model.scenario, project.region.name
    parts: list[str] = []
    started = False
    for e in model.events:
        if e.region != name:
            continue
        part = _line_part(e, sc, not started, lang)
        # Only the first pre-project opens the line; a later round is part of the same negotiation.
        started = started or e.kind == EventKind.PRE_PROJECT_START
        if part:
            parts.append(part)
    # Failed votes are counted, not told one by one: a county has dozens of negotiations on one page.
    failed = sum(not v.passed for v in project.votes)
    if failed:
        parts.append(term("cl.failed", lang).format(n=failed).replace("(s)", "s" if failed > 1 else ""))
    if project.phase in PHASE_WORDS and model.running:
        parts.append(term("cl.now", lang).format(phase=term(f"phase.{project.phase}", lang)))
    return f"{negotiation_title(project, sc, lang)}: {'; '.join(parts) or term('cl.not_started', lang)}."


def county_narrative(model: CooperationModel, lang: str = "en") -> list[str]:
    """A county run so far: one line per negotiation (the pilots first), from the event and vote records."""
    pilots = {r.name for r in model.scenario.regions}
    ordered = sorted(model.negotiations, key=lambda p: p.region.name not in pilots)  # stable: pilots first
    return [negotiation_line(p, model, lang) for p in ordered]
