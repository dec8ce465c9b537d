"""The §4 levers as policy objects: one small class per lever, registered by name.

The report's recommendations (§4) are things a county or the state could do differently: take
the initiative for joint offices, tie funds to fixed areas, require a host by law, put merger
on the agenda beside cooperation, or leave the joint board out. Each is a :class:`Policy` here:
its ``name``, the parameter keys it owns (``keys``; their defaults and provenance are in
``scenarios/defaults.toml``), a test of whether the parameters switch it on (:meth:`Policy.on`)
and the hooks where it acts. The model builds the active policies from its parameters
(:func:`active`) and the core calls them at named hooks:

========================  =====================================================================
hook                      called from
========================  =====================================================================
``opens_everywhere``      ``CountyGovernor.initiative_on``: a negotiation in every area (§4)
``initiative_sectors``    ``CountyGovernor.launch_initiative``: what those negotiations are about
``funds_initiative``      ``CountyGovernor.launch_initiative``: the pre-projects get funds (§2.1)
``add_to_other``          ``valuation._Terms.form``: a term in every member's valuation
``compels``               ``Region.compelled``: members that can neither veto nor leave
``adjust_chances``        ``agenda.believed``: what the agenda setter believes of those votes
``after_stall``           ``Decisions.stall``: what follows a stopped negotiation
========================  =====================================================================

A hook that a lever does not use keeps the base class's neutral answer, and an inactive lever is
never called, so a run without levers does exactly what it did before the levers existed. The
arithmetic stays in :mod:`sim.core.mechanisms` (``area_grant``, ``mandated``, ``state_host``,
``merger_terms``); a policy only decides when it applies.

Adding a lever: write its parameters in ``scenarios/defaults.toml`` (with ``source``), name
them in ``sim.inputs.params.COUNTY_LEVERS`` if a county switches them on at the initiative's
start, and write one subclass here with ``name``, ``keys``, ``on`` and the hooks it needs,
decorated with :func:`register`. ``tests/test_policies.py`` checks that every county lever key
has exactly one owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core import mechanisms as mech
from sim.core.records import Option, describe
from sim.inputs import geo
from sim.inputs.vocab import EventKind

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sim.core.model import CooperationModel
    from sim.core.negotiation import Decisions
    from sim.core.region import Region
    from sim.inputs.params import Params
    from sim.inputs.scenario import Scenario

#: Every policy class by name, in the order the core calls them.
REGISTRY: dict[str, type[Policy]] = {}


def register(cls: type[Policy]) -> type[Policy]:
    """Class decorator: add a policy to :data:`REGISTRY` under its ``name``."""
    if cls.name in REGISTRY:
        # a silent replacement would switch a lever off without a trace
        raise ValueError(f"two policies named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def active(p: Params) -> tuple[Policy, ...]:
    """The policies these parameters switch on, in registry order (empty for the report's history)."""
    # registry order is call order: a hook that folds a value (``add_to_other``) adds terms in the same order
    # every run
    return tuple(cls(p) for cls in REGISTRY.values() if cls.on(p))


class Policy:
    """A §4 lever: the parameters it owns and what it does at each hook (neutral by default).

    Attributes:
        name: The registry name.
        keys: The parameter keys it owns (``--set`` keys; a vector's key covers its elements).
        p: The parameters it was built from.
    """

    name: ClassVar[str] = ""
    keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, p: Params) -> None:
        self.p = p

    @classmethod
    def on(cls, p: Params) -> bool:
        """Whether these parameters switch the lever on."""
        raise NotImplementedError

    def opens_everywhere(self) -> bool:
        """The County Governor opens a negotiation in every cooperation area (§4)."""
        return False

    def initiative_sectors(self) -> set[int]:
        """Sectors the lever adds to the initiative's negotiations, beyond the initiative's own."""
        return set()

    def funds_initiative(self) -> bool:
        """The initiative's pre-projects are funded for the initiative's months (§2.1)."""
        return False

    def add_to_other(self, other: np.ndarray, model: CooperationModel, region: Region, members: tuple) -> np.ndarray:
        """``other`` (each member's value besides gains and control) with the lever's term added."""
        return other

    def compels(self, region: Region, option: Option) -> frozenset[str]:
        """Members of ``option`` that the lever binds: they can neither veto nor leave."""
        return frozenset()

    def adjust_chances(self, region: Region, options: list[Option], chances: np.ndarray) -> np.ndarray:
        """The agenda setter's believed yes chances ``[option, member]`` given what the lever binds."""
        return chances

    def after_stall(self, project: Decisions) -> None:
        """Act on a negotiation that has just stopped."""


@register
class CountyInitiative(Policy):
    """The County Governor takes the initiative for joint offices in every area (§4, §4.4).

    §4: "Fylkesmannen kan ta initiativ til felles landbrukskontor"; the pre-projects are funded
    as the pilots were, a catalyst (§2.1). ``initiative_office_size`` splits an area into
    several offices of neighbours (§4.4: an office in every "delregion"); it applies to every
    initiative, whichever lever opened it.
    """

    name = "county_initiative"
    keys = ("county_initiative", "initiative_office_size")

    @classmethod
    def on(cls, p: Params) -> bool:
        """``county_initiative`` is true."""
        return bool(p.county_initiative)

    def opens_everywhere(self) -> bool:
        """The initiative opens a pre-project in every area."""
        return True

    def funds_initiative(self) -> bool:
        """Funded as the pilots were: the catalyst of §2.1."""
        return True

    @staticmethod
    def office_groups(p: Params, scenario: Scenario, members: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The groups one initiative office each would serve (§4.4: an office in every "delregion").

        With ``initiative_office_size`` 0 the whole area is one group; otherwise an area with more
        members is split into groups of neighbours of at most that size (the clustering rule of
        :func:`sim.inputs.geo.areas_by_rule`); a member left alone gets no office.
        """
        size = p.initiative_office_size
        if not size or len(members) <= size:
            return [members]
        facts = {m.name: m for m in scenario.municipalities}
        munis = [facts[m] for m in members]
        places = [geo.Place(f"{i:04d}", m.name, m.county, m.population, m.lat, m.lon, "") for i, m in enumerate(munis)]
        groups = [tuple(p.name for p in c) for c in geo.cluster(places, size)]
        return [g for g in groups if len(g) >= 2]


@register
class FixedAreas(Policy):
    """Pilot funds tied to fixed cooperation areas (§4): a grant while funds flow, if the whole area joins.

    The money enters every member's valuation of an option that keeps the area whole
    (:func:`sim.core.mechanisms.area_grant`), so a partial group weighs what it gives up.
    """

    name = "fixed_areas"
    keys = ("fixed_areas", "area_grant")

    @classmethod
    def on(cls, p: Params) -> bool:
        """``fixed_areas`` is true."""
        return bool(p.fixed_areas)

    def add_to_other(self, other: np.ndarray, model: CooperationModel, region: Region, members: tuple) -> np.ndarray:
        """The area grant (:func:`sim.core.mechanisms.area_grant`), paid while this negotiation has funds."""
        # the negotiation's members are the area's members without an office: a group that keeps all of them
        # keeps the area whole
        whole = set(members) == set(region.facts.members)
        return other + mech.area_grant(self.p, whole, model.governor.funds(region.facts))


@register
class MandatoryHost(Policy):
    """A law requiring an administrative host in some sectors below a size (§4, the Danish model).

    It opens a negotiation on the required sectors in every area; a council below
    ``mandatory_size`` can neither veto nor leave an administrative host there
    (:func:`sim.core.mechanisms.mandated`); and where the councils still do not agree, the
    state names the host (:meth:`impose`).
    """

    name = "mandatory_host"
    keys = ("mandatory_host", "mandatory_size")

    @classmethod
    def on(cls, p: Params) -> bool:
        """Some sector requires a host (``mandatory_host``)."""
        return any(p.mandatory_host)

    def opens_everywhere(self) -> bool:
        """The law applies in every area."""
        return True

    def initiative_sectors(self) -> set[int]:
        """The required sectors."""
        return {s for s in range(len(self.p.mandatory_host)) if self.p.mandatory_host[s]}

    def compels(self, region: Region, option: Option) -> frozenset[str]:
        """Members below ``mandatory_size`` in a required sector, under an administrative host."""
        # only the administrative host form is what the law would require; a board or network is free
        form = option.form
        if not (form.formal and form.needs_host and not form.board):
            return frozenset()
        return frozenset(
            m
            for m in option.members
            if m != option.host and mech.mandated(self.p, option.sectors, region.agents[m].population)
        )

    def adjust_chances(self, region: Region, options: list[Option], chances: np.ndarray) -> np.ndarray:
        """A compelled council's yes is certain, and the agenda setter knows the law."""
        members = options[0].members
        for i, o in enumerate(options):
            compelled = region.compelled(o)
            chances[i] = np.where([m in compelled for m in members], 1.0, chances[i])
        return chances

    def after_stall(self, project: Decisions) -> None:
        """The state names the host (:meth:`impose`)."""
        self.impose(project)

    def impose(self, project: Decisions) -> None:
        """The state requires an administrative host where the councils did not agree (§4).

        The members below ``mandatory_size`` without a formal arrangement in a required sector
        join an administrative host that the state names: the most populous eligible member
        without one (:func:`mechanisms.state_host`). No council can veto or leave it. An office
        already in force is never replaced: if every eligible host has one, nothing is imposed.
        """
        p, region = self.p, project.region
        # a member still negotiating elsewhere is left to that negotiation: the state decides only for the
        # free ones
        busy = {m for n in project.model.negotiations if n is not project and n.active for m in n.members}
        members = tuple(m for m in project.members if m not in busy)  # those still in this project, and free
        if not members:  # every member negotiates elsewhere (another sector's negotiation)
            return
        sectors = _required(p, region, members)

        def lacking(m: str) -> bool:
            return any(not region.agents[m].formal_in(s) for s in sectors)

        required = [m for m in members if lacking(m) and mech.mandated(p, sectors, region.population(m))]
        form = next((f for f in p.forms if f.formal and f.needs_host and not f.board), None)
        hosts = [(h, region.population(h)) for h in region.eligible_hosts(members) if lacking(h)]
        if not sectors or not required or form is None or not hosts:
            return
        # the candidates lack an office here (``lacking``): the state never replaces an office in force
        host = mech.state_host(hosts)
        option = Option(sectors, form, host, tuple(m for m in members if m in required or m == host))
        if len(option.members) < 2:  # the host alone: nobody below the size lacks an office
            return
        project.log(EventKind.STATE_DECISION, f"the state requires {describe(p.vocab, option)}", option)
        project.option = option
        project.agree(option, by="the state decides on")


def _required(p: Params, region: Region, members: Sequence[str]) -> tuple[int, ...]:
    """The region's required sectors where some of ``members`` lack a formal arrangement."""
    return tuple(
        s
        for s in region.facts.sectors
        if p.mandatory_host[s] and any(not region.agents[m].formal_in(s) for m in members)
    )


@register
class MergerTrack(Policy):
    """The kommuneblokk's two tracks: merger on the agenda beside the host forms (§4.3, ``merger_track``).

    Switched on by allowing a merging form (``allow.merger``). Merger or binding cooperation
    covers every task, so the initiative's negotiations are about every sector. The merger's
    own terms (``merger_size``, ``merger_grant``) enter the valuation of a merging form through
    :func:`sim.core.mechanisms.merger_terms`, and the agenda and ballot admit the form through
    ``Params.allowed``, as they admit every form of the vocabulary.
    """

    name = "merger_track"
    keys = ("allow.merger", "merger_size", "merger_grant")

    @classmethod
    def on(cls, p: Params) -> bool:
        """A merging form is allowed (:func:`sim.core.mechanisms.two_track`)."""
        return mech.two_track(p)

    def opens_everywhere(self) -> bool:
        """The kommuneblokk is county-wide: a negotiation in every area."""
        return True

    def initiative_sectors(self) -> set[int]:
        """Merger or binding cooperation on every task: every sector."""
        return set(range(len(self.p.vocab.sector_names)))


@register
class NoBoardForm(Policy):
    """A general host model without a joint board in law (§4.3, ``board_form_allowed``).

    The lever removes the board form from the vocabulary's allowed forms (``allow.board_host``
    false); ``Params.allowed`` then keeps it off every agenda and ballot, so no hook is needed.
    """

    name = "no_board_form"
    keys = ("allow.board_host",)

    @classmethod
    def on(cls, p: Params) -> bool:
        """A joint-board host form (not a merger) is not allowed (``allow``)."""
        return any(f.board and not f.merges and not p.allow[f.index] for f in p.forms)
