"""The facts a negotiation starts from: its area, its members and the County Governor's initiative.

Read from scenario and county files (``sim.inputs.scenario``, ``sim.inputs.county``) and handed to
the core, which never reads a file itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegionFacts:
    """Facts about one negotiating area, from a scenario file (see ``scenarios/README.md``).

    Attributes:
        name: The area's name.
        members: Member names, in file order.
        leader: The member whose officer leads the project, or ``"external"``.
        consultant: An external consultant ran studies and process (§2.1).
        politicians_in_steering_group: Politicians sat in the steering group (§2.3).
        council_stages: Times the councils were briefed or decided during the pre-project.
        cooperation_history: 0-1 score of earlier cooperation (§2.1-§2.3).
        board_experience: 0-1, how bad the region's experience with joint boards is (§2.2).
        failed_sectors: Sector indices where an earlier attempt at a joint office failed.
        sectors: Sector indices this negotiation is about.
        start: Month the pre-project starts (None: the scenario's start).
        funded_until: Last month of the County Governor's funds (None: the scenario's pilot end).
        area: The cooperation area the negotiation belongs to (county scenarios; "" for a pilot file).
        offices_only: Only joint offices (formal forms) are on the agenda: the County Governor's
            initiative is "for the establishment of joint agriculture offices" (§4.4).
        pre_project_months, main_project_months, study_months: The phases' durations as the
            report states them for this pilot, in calendar months as the pilot ran them (§2.1-§2.3);
            None: the shared ``pre_project_months``, ``main_project_months``, ``revision_months``.
    """

    name: str
    members: tuple[str, ...]
    leader: str
    consultant: bool
    politicians_in_steering_group: bool
    council_stages: float
    cooperation_history: float
    board_experience: float
    failed_sectors: frozenset[int]
    sectors: tuple[int, ...]
    start: int | None = None
    funded_until: int | None = None
    area: str = ""
    offices_only: bool = False
    pre_project_months: float | None = None
    main_project_months: float | None = None
    study_months: float | None = None


@dataclass(frozen=True)
class AreaFacts:
    """A cooperation area of a county scenario: who may negotiate together (§4).

    Attributes:
        name: The area's name (a regional council, or a rule area).
        members: Member names, in scenario order.
        assumed: Membership comes (partly) from a rule, not a source.
        source: Where the membership comes from, and which rule placed whom.
        facts: The area's facts for a negotiation the County Governor starts there (members: all).
    """

    name: str
    members: tuple[str, ...]
    assumed: bool
    source: str
    facts: RegionFacts


@dataclass(frozen=True)
class Initiative:
    """The County Governor's county-wide initiative (§4): when, for how long, for which sectors.

    Used only when the lever ``county_initiative`` (funded pre-projects) or ``mandatory_host``
    (the state's requirement) is on; see :class:`sim.core.agents.CountyGovernor`.
    """

    start: int
    months: int
    sectors: tuple[int, ...]


#: The ``[self_start]`` keys (each a number or an estimate table ``{value, low, high, source}``).
SELF_START_KEYS = (
    "rate",
    "example",
    "afterglow",
    "afterglow_months",
    "dissolution",
    "dissolution_months",
    "cooldown_months",
    "group_max",
)


@dataclass(frozen=True)
class SelfStart:
    """The self-start hazard's parameters (estimates from facts dated before 2017: docs/ODD.md).

    Attributes:
        rate: Negotiations started per municipality and year at the county's mean vulnerability.
        example: Extra hazard (multiplier minus one) while a neighbour's joint office works.
        afterglow, afterglow_months: Extra hazard after failed merger talks, and for how long.
        dissolution, dissolution_months: Extra hazard for members of a dissolving arrangement,
            and how long after its end.
        cooldown_months: Months after taking part in a negotiation's start before starting one.
        group_max: Most members of a self-started negotiation (the starter included).
    """

    rate: float
    example: float
    afterglow: float
    afterglow_months: int
    dissolution: float
    dissolution_months: int
    cooldown_months: int
    group_max: int
