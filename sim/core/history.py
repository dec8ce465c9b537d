"""Relations between the members: trust from history and shared posts, and the reform's events (§1.3, §2).

Trust starts from the region's history and the members' shared posts (§2.1); merger talks
open a competing track (outsiders) or a track among the members, and failed talks cost trust
(§1.3, §2.2). Every rule is a function of ``sim.core.mechanisms``.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import TYPE_CHECKING

from sim.core import mechanisms as mech
from sim.core.records import Event
from sim.inputs.params import Params
from sim.inputs.vocab import EventKind

if TYPE_CHECKING:
    from sim.core.agents import Municipality
    from sim.inputs.scenario import ReformEvent, Scenario


def set_initial_trust(p: Params, scenario: Scenario, munis: dict[str, Municipality]) -> None:
    """Trust between the members of each area and negotiation, from its history and shared posts (§2.1).

    A county's areas come first; a pilot's own history then holds between its members.
    Municipalities of different areas never negotiate together and hold no trust value.
    """
    posts = Counter(frozenset(pair) for members, _sector in scenario.shared_posts for pair in combinations(members, 2))
    groups = [(a.members, a.facts.cooperation_history) for a in scenario.areas]
    # a pilot's own history overwrites its area's for the pairs it holds: it is the better-documented one
    groups += [(r.members, r.cooperation_history) for r in scenario.regions]
    for members, history in groups:
        # sorted: each trust dict fills in the same order whatever the file's member order (values do not depend on it)
        for a, b in combinations(sorted(members), 2):
            munis[a].trust[b] = munis[b].trust[a] = mech.initial_trust(p, history, posts[frozenset((a, b))])


def apply_reform_event(p: Params, ev: ReformEvent, munis: dict[str, Municipality], region: str) -> Event:
    """Apply merger talks, an agreed merger or failed talks to the parties, and record it (§1.3, §2.2)."""
    for name in ev.parties:
        if ev.outsiders:
            # talks with outsiders compete with the negotiation; talks among its members are part of it
            # (§1.3); a failure ends either
            munis[name].outside_talks = ev.kind != "failed"
        elif len(ev.parties) > 1:
            munis[name].member_talks = ev.kind != "failed"
    # failed talks cost trust between the parties (§2.2: after the failed merger talks "the air went out")
    if ev.kind == "failed":
        for a, b in combinations(ev.parties, 2):
            munis[a].trust[b] = munis[b].trust[a] = mech.failed_talks_trust(p, munis[a].trust[b])
    with_ = f" with {', '.join(ev.outsiders)}" if ev.outsiders else ""
    text = f"merger {ev.kind}: {', '.join(ev.parties)}{with_}"
    return Event(ev.month, region, EventKind.REFORM, text, members=ev.parties, cause=ev.kind)
