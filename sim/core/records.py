"""Structured records of a run: options, arrangements, events and votes.

Records are data. ``events.csv`` and ``votes.csv`` are written from them, plots and outcomes
read them; nothing parses a sentence back. Lists (sectors, members) are JSON arrays in CSV.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sim.inputs.calendar import month_label
from sim.inputs.vocab import MEASURES, NONE, EventKind, Form, Stage

EVENT_COLUMNS = (
    "scenario",
    "replicate",
    "month",
    "region",
    "kind",
    "sectors",
    "form",
    "host",
    "members",
    "municipality",
    "cause",
    "value",
    "text",
)
VOTE_COLUMNS = (
    "scenario",
    "replicate",
    "month",
    "region",
    "vote_id",
    "stage",
    "sectors",
    "form",
    "host",
    "municipality",
    "vote",
    "preferred_form",
    "preferred_host",
    "named_host",
    "governance_form",
    "compelled",
)


class Option(NamedTuple):
    """A proposal: which sectors, which form, which host, among which members (§1.3, §2)."""

    sectors: tuple[int, ...]
    form: Form
    host: str | None
    members: tuple[str, ...]


@dataclass
class Arrangement:
    """A decided cooperation arrangement (formal agreement or informal network)."""

    form: Form
    sectors: tuple[int, ...]
    members: tuple[str, ...]
    host: str | None
    decided: int
    starts: int
    region: str
    pools: dict[int, tuple[float, float]]  # sector -> (pooled staff, pooled need), FTE
    activity: float = 1.0  # network activity (1 = a funded coordinator)
    integration: float = 0.0  # pooled offices: share of pooling gains realised
    ended: int | None = None

    def live(self, month: int) -> bool:
        """Decided and not ended by ``month``."""
        return self.decided <= month and (self.ended is None or self.ended > month)


@dataclass
class Vote:
    """One round of council votes on an option, with each council's stated preferences.

    Attributes:
        vote_id: Running number within the negotiation.
        month: Month of the vote.
        option: What was voted on.
        stage: On the pre-project's recommendation, or the final decision.
        yes: Each council's vote.
        utility: Each council's value of the option at the vote (after noise).
        preferred_host: The host each council names when the councils decide the host (§2.1;
            None for hostless forms); written to ``votes.csv`` as ``named_host``.
        preferred_form: The allowed form each council prefers for these sectors and host, among
            the formal forms for a formal proposal (the governance question, §2.2); written as
            ``governance_form``.
        preferred_sectors: The subset of the option's sectors each council values most.
        merger_talks: Councils in merger talks at the time (§1.3).
        exits: Councils that voted no and left the project: a no may leave only if the arrangement
            survives without it (the host and the leader stay, a quorum remains, §2.2); else the vote fails.
        side_payment_to: The council offered another joint function to host (§2.1).
        best_form: Each council's best option among all open to it (network and own service,
            ``"none"``, included), by the valuation that decides its vote; ``preferred_form`` in
            ``votes.csv`` (:func:`sim.core.ballot.open_preferences`).
        best_host: That option's host (None for hostless forms); ``preferred_host`` in ``votes.csv``.
    """

    vote_id: int
    month: int
    option: Option
    stage: Stage
    yes: dict[str, bool]
    utility: dict[str, float]
    preferred_host: dict[str, str | None]
    preferred_form: dict[str, str]
    preferred_sectors: dict[str, tuple[int, ...]]
    merger_talks: frozenset[str] = frozenset()
    exits: list[str] = field(default_factory=list)
    side_payment_to: str | None = None
    compelled: frozenset[str] = frozenset()
    best_form: dict[str, str] = field(default_factory=dict)
    best_host: dict[str, str | None] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every council that stayed said yes (a council the state compels has no veto, §4)."""
        # unanimity among those who stay: a no either leaves (when the rest can go on) or sinks the vote
        # (§2.2)
        return all(v for m, v in self.yes.items() if m not in self.exits and m not in self.compelled)

    @property
    def no(self) -> list[str]:
        """Councils that voted no, in member order."""
        return [m for m in self.option.members if not self.yes[m]]


@dataclass(frozen=True)
class Event:
    """One row of the event log (``events.csv`` without the scenario and replicate columns)."""

    month: int
    region: str
    kind: EventKind
    text: str
    sectors: tuple[str, ...] = ()
    form: str = ""
    host: str = ""
    members: tuple[str, ...] = ()
    municipality: str = ""
    cause: str = ""
    value: float | None = None


def describe(vocab, option: Option) -> str:
    """Plain-language name of an option, e.g. "administrative host (§28b) for agriculture hosted by X"."""
    names = vocab.sector_names
    host = f" hosted by {option.host}" if option.host else ""
    return f"{option.form.label} for {' + '.join(names[s] for s in option.sectors)}{host}"


def event_row(event: Event, scenario: str, replicate: int | None) -> dict[str, Any]:
    """A CSV row of ``events.csv`` (lists as JSON arrays, missing values empty)."""
    return {
        "scenario": scenario,
        "replicate": replicate,
        "month": month_label(event.month),
        "region": event.region,
        "kind": str(event.kind),
        "sectors": _json(event.sectors),
        "form": event.form,
        "host": event.host,
        "members": _json(event.members),
        "municipality": event.municipality,
        "cause": event.cause,
        "value": "" if event.value is None else event.value,
        "text": event.text,
    }


def vote_rows(
    vote: Vote, region: str, sector_names: tuple[str, ...], scenario: str, replicate: int | None
) -> list[dict[str, Any]]:
    """One ``votes.csv`` row per council of a vote."""
    o = vote.option
    common = {
        "scenario": scenario,
        "replicate": replicate,
        "month": month_label(vote.month),
        "region": region,
        "vote_id": vote.vote_id,
        "stage": str(vote.stage),
        "sectors": _json([sector_names[s] for s in o.sectors]),
        "form": o.form.name,
        "host": o.host or "",
    }
    return [
        {
            **common,
            "municipality": m,
            "vote": "yes" if vote.yes[m] else "no",
            # the CSV's preferred form is the best of everything open (issue 20); a vote recorded without it
            # falls back on the governance question's answer, which keeps its own column
            "preferred_form": vote.best_form.get(m, vote.preferred_form[m]) or "",
            "preferred_host": (vote.best_host.get(m) if vote.best_form else vote.preferred_host[m]) or "",
            "named_host": vote.preferred_host[m] or "",
            "governance_form": vote.preferred_form[m] or "",
            "compelled": m in vote.compelled,
        }
        for m in o.members
    ]


def _json(items) -> str:
    return json.dumps(list(items), ensure_ascii=False) if items else "[]"


class RecordsMixin:
    """A model's records as rows and DataFrames (``events.csv``, ``votes.csv``, ``timeline.csv``).

    Mixed into :class:`sim.core.model.CooperationModel`; reads its events, negotiations, history and
    arrangements.
    """

    def event_rows(self, replicate: int | None = None) -> list[dict[str, Any]]:
        """``events.csv`` rows."""
        return [event_row(e, self.scenario.name, replicate) for e in self.events]

    def vote_rows(self, replicate: int | None = None) -> list[dict[str, Any]]:
        """``votes.csv`` rows: one per council per vote."""
        names = self.p.vocab.sector_names
        return [
            row
            for n in self.negotiations
            for v in n.votes
            for row in vote_rows(v, n.region.name, names, self.scenario.name, replicate)
        ]

    def event_log(self):
        """The event log as a DataFrame (the columns of ``events.csv``)."""
        import pandas as pd

        return pd.DataFrame(self.event_rows(), columns=EVENT_COLUMNS)

    def vote_log(self):
        """Every council's vote as a DataFrame (the columns of ``votes.csv``)."""
        import pandas as pd

        return pd.DataFrame(self.vote_rows(), columns=VOTE_COLUMNS)

    def timeline(self):
        """Tidy DataFrame: month, municipality, sector, form, competence, capacity, vulnerability."""
        import pandas as pd

        sc, sectors = self.scenario, self.p.sectors
        rows = []
        for t in range(self.month - sc.start):
            month = sc.start + t
            for i, muni in enumerate(self._munis.values()):
                for sector in sectors:
                    live = [
                        a
                        for a in self.arrangements
                        if sector.index in a.sectors and muni.name in a.members and a.live(month)
                    ]
                    # the latest decided arrangement is the one in force for the sector (as in
                    # ``sim.core.outcomes``)
                    form = live[-1].form.name if live else NONE
                    rows.append((month_label(month), muni.name, sector.name, form, *self.history[t, i, sector.index]))
        return pd.DataFrame(rows, columns=["month", "municipality", "sector", "form", *MEASURES])
