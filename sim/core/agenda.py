"""The agenda setter's view: which options exist, what it believes of them, which it proposes.

The project organisation weighs every admissible option by its believed chance of leaving a
viable arrangement, the members' expected service gains and, for an internal leader, the home
municipality's own interest (§2.1, §2.2). Its beliefs are the administrations' positions moved
towards the councils' own as far as political anchoring reaches (§3.4); a vote reveals a
council's position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from sim.core import mechanisms as mech
from sim.core.records import Option, describe
from sim.core.valuation import form_table, own_value
from sim.inputs.vocab import Agenda, NullModel

if TYPE_CHECKING:
    from sim.core.model import CooperationModel
    from sim.core.region import Region


def quorum(n_members: int) -> int:
    """Yes votes an arrangement needs to go on without the members who say no (a majority, at least 2)."""
    return max(2, n_members // 2 + 1)


@dataclass
class AgendaSetter:
    """Options, beliefs and the choice of a proposal for one negotiation.

    Attributes:
        region: The negotiation's region.
        leader: The member leading the project, or ``"external"``.
        involvement: Political involvement of the project (§3.4).
        revealed: Councils whose position a vote has revealed.
        tried: Options already put to a vote in this round.
    """

    model: CooperationModel
    region: Region
    leader: str
    involvement: float
    revealed: set[str] = field(default_factory=set)
    tried: set[Option] = field(default_factory=set)

    def open_sectors(self, members: tuple[str, ...]) -> list[int]:
        """The negotiation's sectors not yet under a formal arrangement for every member."""
        agents = self.region.agents
        return [s for s in self.region.facts.sectors if not all(agents[m].formal_in(s) for m in members)]

    def options(self, members: tuple[str, ...]) -> list[Option]:
        """Options the agenda lever and the allowed forms admit (§3.2: bundle or sector by sector)."""
        p, agents = self.model.p, self.region.agents
        open_sectors = self.open_sectors(members)
        if not open_sectors or len(members) < 2:
            return []
        if p.agenda == Agenda.BUNDLE:
            subsets = [tuple(open_sectors)]
        elif p.agenda == Agenda.SECTOR_BY_SECTOR:
            # the least sensitive sector first (§3.2): where the councils give up least control
            subsets = [(min(open_sectors, key=lambda s: (p.sensitivity[s], s)),)]
        else:
            subsets = [c for k in range(1, len(open_sectors) + 1) for c in combinations(open_sectors, k)]
        hosts = self.region.eligible_hosts(members)
        out = []
        for sectors in subsets:
            for form in p.forms:
                # the county initiative offers joint offices, not networks (§4.4: "etablering av felles
                # landbrukskontor")
                if not p.allowed(form) or self.region.facts.offices_only and not form.formal:
                    continue
                if form.merges and len(sectors) < len(p.sectors):
                    continue  # a merger takes every sector at once (§4.3)
                if not form.formal and any(
                    (a := agents[m].arrangement[s]) is not None and a.form == form for m in members for s in sectors
                ):
                    continue  # already networking in these sectors
                out += [Option(sectors, form, h, members) for h in (hosts if form.needs_host else [None])]
        # an option voted down in this round is not proposed again until a new round starts
        return [o for o in out if o not in self.tried]

    def believed_yes(self, option: Option, name: str) -> float:
        """Believed chance that a council says yes (§3.4, with host claims, §2.1)."""
        return self.believed_chances(option)[name]

    def believed_chances(self, option: Option) -> dict[str, float]:
        """:meth:`believed_yes` of every member (:func:`believed`)."""
        return dict(zip(option.members, believed(self, [option])[0].tolist(), strict=True))

    def viable_chance(self, option: Option) -> float:
        """Believed chance that the vote leaves a viable arrangement (:func:`viable`)."""
        rows = option_rows(self.model, self.region, [option])
        return float(viable(self, [option], believed(self, [option], rows), rows)[0])

    def score(self, option: Option, failures: int = 0) -> tuple[float, float]:
        """The agenda setter's value of proposing an option, and its believed chance of passing (:func:`assess`)."""
        value, prospect = assess(self, [option], failures)
        return float(value[0]), float(prospect[0])

    def option_table(self, members: tuple[str, ...] | None = None) -> list[dict]:
        """Why the agenda setter proposes what it does: every admissible option with its terms (for analysts).

        One dict per option, best first: ``option`` (plain words), ``form``, ``host``, ``score``
        (expected value of proposing it), ``believed_chance``, ``host_value`` (the host council's
        own value with its regional perspective) and ``partners_value`` (the other councils' mean).
        """
        region, names = self.region, self.model.p.vocab
        rows = []
        for o in self.options(members or tuple(region.facts.members)):
            score, chance = self.score(o)
            partners = [region.agents[m].value(o, region) for m in o.members if m != o.host]
            rows.append(
                {
                    "option": describe(names, o),
                    "form": o.form.name,
                    "host": o.host or "",
                    "score": score,
                    "believed_chance": chance,
                    "host_value": region.agents[o.host].value(o, region) if o.host else float("nan"),
                    "partners_value": sum(partners) / len(partners) if partners else float("nan"),
                }
            )
        return sorted(rows, key=lambda r: -r["score"])

    def choose(self, members: tuple[str, ...], failures: int = 0) -> tuple[Option | None, float]:
        """The best option worth proposing (expected value above zero) and its believed chance.

        Ties are broken by the model's generator; ``(None, 0.0)`` when no option is worth it.
        """
        options = self.options(members)
        if not options:
            return None, 0.0
        rng = self.model.rng
        if self.model.p.null_model == NullModel.RANDOM_AGENDA:
            option = options[int(rng.integers(len(options)))]
            return option, self.viable_chance(option)
        value, prospect = assess(self, options, failures)
        # one draw per option even without ties: the stream does not depend on whether values tie
        ties = rng.random(len(options))  # ties in value go to the larger draw, one draw per option
        best = int(np.lexsort((ties, value))[-1])
        return (options[best], float(prospect[best])) if value[best] > 0 else (None, 0.0)


def option_rows(model: CooperationModel, region: Region, options: list[Option]) -> dict[str, np.ndarray]:
    """The options' rows of their forms' tables, ``[option, member]``: parts, values and host losses (§2.1).

    ``loss`` is each member's disappointment over the option's host against the one it would
    name (``sim.core.valuation.FormTable``).
    """
    groups: dict[int, tuple] = {}
    tables = {}
    for i, o in enumerate(options):
        t = tables.get(o.form.index)
        if t is None or o.sectors not in t.row or (o.form.needs_host and o.host not in t.col):
            t = tables[o.form.index] = form_table(model, region, o)
        g = groups.setdefault(id(t), (t, [], [], []))
        g[1].append(i), g[2].append(t.row[o.sectors]), g[3].append(t.col[o.host if o.form.needs_host else None])
    names = ("gains", "control", "access", "other", "council", "administration", "loss")
    parts: dict[str, list] = {name: [] for name in names}
    for t, _, ks, hs in groups.values():
        ks, hs = np.array(ks), np.array(hs)
        for name in names:
            parts[name].append(getattr(t, name)[ks, hs])
    order = np.argsort(np.concatenate([g[1] for g in groups.values()]), kind="stable")
    return {name: np.concatenate(rows)[order] for name, rows in parts.items()}


def believed(setter: AgendaSetter, options: list[Option], rows: dict | None = None) -> np.ndarray:
    """Believed chance that each council says yes to each option, ``[option, member]`` (§3.4, with host claims, §2.1).

    The options share their members. The project sees each administration's value, moved
    towards its council's as far as anchoring reaches, less the council's disappointment over a
    lost host claim; the control loss it cannot see makes it less sure (``mechanisms.yes_chance``).
    A member the state compels says yes.
    """
    p, region, members = setter.model.p, setter.region, options[0].members
    rows = rows if rows is not None else option_rows(setter.model, region, options)
    anchoring = np.array([1.0 if m in setter.revealed else setter.involvement for m in members])
    u = mech.believed_utility(rows["administration"], rows["council"], anchoring)
    u = u - rows["loss"]
    chances = mech.yes_chance(p, u, (1.0 - anchoring) * rows["control"])
    for policy in setter.model.policies:
        chances = policy.adjust_chances(region, options, chances)
    return chances


def viable(setter: AgendaSetter, options: list[Option], chances: np.ndarray, rows: dict | None = None) -> np.ndarray:
    """Believed chance that the vote on each option leaves a viable arrangement.

    The host and the leader must say yes; of the others, enough for a quorum (members decide
    independently: a Poisson-binomial sum over the count of yes votes). A member whose claim to
    host would lose decides only for itself (``mechanisms.named_host_quorum``, §2.1).
    """
    rows = rows if rows is not None else option_rows(setter.model, setter.region, options)
    lost = (rows["loss"] > 0).sum(axis=1).tolist()
    members = options[0].members
    n = len(members)
    # the host and the leader cannot be outvoted: without either there is no arrangement, whatever the quorum
    key = np.array([[m in (o.host, setter.leader) for m in members] for o in options])
    chance = np.ones(len(options))
    dist = np.zeros((len(options), n + 1))  # dist[:, k]: chance that k of the other members say yes
    dist[:, 0] = 1.0
    for i in range(n):
        q = chances[:, i]
        chance = np.where(key[:, i], chance * q, chance)
        shifted = np.concatenate([np.zeros((len(options), 1)), dist[:, :-1]], axis=1)
        dist = np.where(key[:, i, None], dist, dist * (1 - q)[:, None] + shifted * q[:, None])
    need = np.array([mech.named_host_quorum(n, k) for k in lost]) - key.sum(axis=1)
    total = sum(np.where(k >= need, dist[:, k], 0.0) for k in range(n + 1))
    return chance * total


def assess(setter: AgendaSetter, options: list[Option], failures: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The agenda setter's value of proposing each option, and its believed chance of passing.

    Value: the members' mean service gains, discounted for a complex pooled bundle, plus an
    internal leader's weight on the home municipality's own interest (§2.2).
    Expected value: the chance of passing times the option's value, less, on failure, the
    fixed cost of a failed round (growing with the rounds already failed) and the share of
    the value that a failure loses for good (§2.1: the fear that planning "could sink
    agriculture"; §3.2).
    """
    p, region, members = setter.model.p, setter.region, options[0].members
    rows = option_rows(setter.model, region, options)
    prospect = viable(setter, options, believed(setter, options, rows), rows)
    gains = sum(rows["gains"][:, i] for i in range(len(members))) / len(members)
    value = gains * np.array([mech.complexity_discount(p, o.form, len(o.sectors)) for o in options])
    if setter.leader in members:
        i = members.index(setter.leader)
        bias = p.leader_weight * (1 - p.consultant_neutrality * region.facts.consultant)
        parts = tuple(rows[name][:, i] for name in ("gains", "control", "access", "other"))
        value = value + bias * own_value(p, region.agents[setter.leader].readiness, parts, True)
    # each failed round weighs on the next, and only a valuable option has a stake to lose
    lost = p.failure_cost * (1 + failures) + p.failure_stake * np.maximum(0.0, value)
    return prospect * value - (1 - prospect) * lost, prospect
