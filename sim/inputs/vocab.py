"""The model's vocabulary, defined once: sectors, governance forms, phases, agendas, events, causes.

Sectors and forms are *data* (the ``[[sector]]`` and ``[[form]]`` tables of
``scenarios/defaults.toml``): adding one is a table there plus its parameter values, and at most
one new rule in ``sim.core.mechanisms``. Everything the code asks of a form is a property here
(carries statutory duties, pools staff, needs a host, has a joint board), so no module tests a
form by its name. Phases, agendas, event kinds, vote stages and stall causes are closed sets of
the process and are enums.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: Written wherever a municipality keeps its own service (no arrangement).
NONE = "none"

#: The service measures recorded per municipality, sector and month (docs/ODD.md III.v).
MEASURES = ("competence", "capacity", "vulnerability")


@dataclass(frozen=True)
class Sector:
    """A service field (report §1.1, §3.2).

    Attributes:
        name: Key used in files and ``--set`` (``planning``).
        label: Plain-language name for tables and plots.
        index: Position in every per-sector vector.
        staff_per_1000: FTE of a municipality of 1,000 inhabitants in this sector: the coefficient
            ``c`` of the staff rule ``c * (population / 1000) ** b`` (:func:`sim.inputs.geo.staff_from_population`;
            values and their justification in ``scenarios/defaults.toml``).
        label_nb: The name in bokmål (``--lang nb``; the label when the file gives none).
    """

    name: str
    label: str
    index: int
    staff_per_1000: float
    label_nb: str = ""


@dataclass(frozen=True)
class Form:
    """A governance form a proposal can take (report §1.3 "Organisering", §2, §3.3).

    Attributes:
        name: Key used in files, records and ``--set`` (``admin_host``).
        label: Plain-language name.
        index: Position in every per-form vector.
        statutory: Can carry statutory duties with public authority (the host forms, §3.3);
            this is what "formal" means everywhere in the model.
        pools_staff: Staff and tasks move to a host's office (else knowledge is shared only).
        needs_host: The proposal names a host municipality.
        board: Principled decisions move to a joint political board (§28c).
        section: The report's section that describes the form.
        merges: The members become one municipality: every sector at once (§4.3, the
            kommuneblokk's first track).
    """

    name: str
    label: str
    index: int
    statutory: bool
    pools_staff: bool
    needs_host: bool
    board: bool
    section: str
    merges: bool = False

    @property
    def formal(self) -> bool:
        """True for forms that can carry statutory duties (the host forms, §3.3)."""
        return self.statutory

    @property
    def network(self) -> bool:
        """True for an informal network: no statutory duties and no pooled posts, knowledge shared only (§2.3, §3.3).

        The one definition of "network" in records, outcomes, validation and tables; a form that
        pools staff without statutory duties (e.g. a purchase of services) is neither formal nor a network.
        """
        return not self.statutory and not self.pools_staff

    def __hash__(self) -> int:  # options are hashed in every cache lookup: keep it cheap
        return hash((self.index, self.name))


@dataclass(frozen=True)
class Vocabulary:
    """The sectors and forms of one parameter set, in file order."""

    sectors: tuple[Sector, ...]
    forms: tuple[Form, ...]

    def sector(self, name: str) -> Sector:
        """The sector of that name (``KeyError`` if unknown)."""
        return self._by_name(self.sectors, name)

    def form(self, name: str) -> Form:
        """The form of that name (``KeyError`` if unknown)."""
        return self._by_name(self.forms, name)

    @staticmethod
    def _by_name(items, name):
        for item in items:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def staff_per_1000(self) -> tuple[float, ...]:
        """The staff rule's coefficient of each sector, in sector order."""
        return tuple(s.staff_per_1000 for s in self.sectors)

    @property
    def sector_names(self) -> tuple[str, ...]:
        """Sector names in order."""
        return tuple(s.name for s in self.sectors)

    @property
    def form_names(self) -> tuple[str, ...]:
        """Form names in order."""
        return tuple(f.name for f in self.forms)

    @property
    def names(self) -> dict[str, list[str]]:
        """``{"sectors": [...], "forms": [...]}``: what a result made with this vocabulary records of it."""
        return {"sectors": list(self.sector_names), "forms": list(self.form_names)}

    def foreign(self, recorded: dict[str, list[str]]) -> tuple[str, str] | None:
        """``(key, problem)`` when ``recorded`` (see :attr:`names`) is another vocabulary, else None."""
        for key, ours in self.names.items():
            theirs = recorded.get(key)
            # Lists compare in order: the vectors are indexed by position, so the same names in another
            # order are another vocabulary.
            if theirs != ours:
                made = ", ".join(map(str, theirs)) if isinstance(theirs, list) else repr(theirs)
                return key, f"made with {key} {made}; scenarios/defaults.toml has {', '.join(ours)}"
        return None


class Agenda(StrEnum):
    """How the project organisation bundles sectors (lever, §3.2)."""

    CHOOSE = "choose"  # the project chooses among every subset of the open sectors
    BUNDLE = "bundle"  # one proposal for all open sectors together
    SECTOR_BY_SECTOR = "sector_by_sector"  # one sector at a time, least sensitive first


class NullModel(StrEnum):
    """Switches that remove one mechanism, to show a pattern is not produced without it."""

    NONE = "none"
    NO_FORMS = "no_forms"  # no form may be proposed
    COIN_VOTES = "coin_votes"  # every council votes yes with probability 1/2
    NO_GAINS = "no_gains"  # no service gains from any arrangement
    RANDOM_AGENDA = "random_agenda"  # the project proposes a random admissible option


#: The null models ``validate --null all`` runs (every switch but ``none``).
NULL_MODELS = tuple(n.value for n in NullModel if n != NullModel.NONE)

#: The base seed of every command and workflow (the date of the report's last meeting).
DEFAULT_SEED = 20161214


# StrEnum throughout: a member equals its text, so a record written to CSV and read back (or a
# value in patterns.toml) compares with the enum directly.
class Phase(StrEnum):
    """Phases of one negotiation (§1.3 "Prosess", §2)."""

    PRE_PROJECT = "pre_project"
    FIRST_VOTE = "first_vote"
    MAIN_PROJECT = "main_project"
    FINAL_VOTE = "final_vote"
    REVISION = "revision"
    IMPLEMENTATION = "implementation"
    NETWORK = "network"
    STALLED = "stalled"
    DONE = "done"


class Stage(StrEnum):
    """Which vote: on the pre-project's recommendation, or the final decision."""

    FIRST = "first"
    FINAL = "final"


class EventKind(StrEnum):
    """Kinds of rows in ``events.csv``."""

    PRE_PROJECT_START = "pre_project_start"
    PROPOSAL = "proposal"
    VOTE = "vote"
    EXIT = "exit"
    SIDE_PAYMENT = "side_payment"
    POSTPONED = "postponed"
    REVISION = "revision"
    MAIN_PROJECT_START = "main_project_start"
    AGREEMENT = "agreement"
    SERVICE_START = "service_start"
    NETWORK_START = "network_start"
    NETWORK_END = "network_end"
    ARRANGEMENT_END = "arrangement_end"
    PILOT_END = "pilot_end"
    STALL = "stall"
    STATE_DECISION = "state_decision"
    LEVERS = "levers"
    REFORM = "reform"


# The values are what events.csv, outcome rows and scenarios/patterns.toml hold: a member may be
# renamed, its value not.
class Cause(StrEnum):
    """Why a negotiation stopped, read from the last vote record (§2.2, §3.2, §1.3)."""

    GOVERNANCE_DISPUTE = "governance_dispute"  # host and partners want different forms (§2.2)
    SECTOR_SENSITIVITY = "sector_sensitivity"  # the most sensitive sector sank the bundle (§3.2)
    HOST_LOCATION = "host_location"  # the no-voters wanted another host (§2.1)
    COMPETING_TRACK = "reform_competing_track"  # no-voters in merger talks (§1.3)
    LEADER_LEFT = "leader_left"  # the leading municipality voted no
    INSUFFICIENT_SUPPORT = "insufficient_support"  # the gains did not outweigh the costs
    NO_PROMISING_OPTION = "no_promising_option"  # nothing was put to a vote at all
