"""Behavioural parameters and policy levers: one typed, frozen object, one shared set of values.

:class:`Params` *is* the catalogue: every field carries its :class:`Spec` (group, unit, allowed
range, meaning, report section, lever or behaviour) and is read as an attribute
(``p.vote_noise``). Per-sector and per-form values are vectors indexed by
``Sector.index`` / ``Form.index`` (``p.sensitivity[sector.index]``). The values live in
``scenarios/defaults.toml`` with their justification and are identical for every case; a user
changes them with ``--set KEY=VALUE`` (per-sector and per-form keys are dotted:
``sensitivity.planning``, ``allow.board_host``) or keyword arguments of the model.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError
from sim.inputs.vocab import NONE, Agenda, Form, NullModel, Sector, Vocabulary

DEFAULTS = Path(__file__).resolve().parents[2] / "scenarios" / "defaults.toml"


@dataclass(frozen=True)
class Spec:
    """What one parameter means and which values it allows.

    Attributes:
        name: Key in ``defaults.toml`` and for ``--set`` (dotted for one element of a vector).
        group: Table of ``defaults.toml`` that holds the value.
        kind: ``"float"``, ``"int"``, ``"bool"`` or ``"choice"``.
        unit: Unit in plain words.
        meaning: One-line meaning.
        section: The report's section that is its evidence.
        low, high: Allowed range (numbers only).
        choices: Allowed values (``kind == "choice"``).
        lever: A policy lever (something an analyst could offer), else behaviour.
        per: ``"sector"`` or ``"form"`` for a vector, else ``None``.
    """

    name: str
    group: str
    kind: str
    unit: str
    meaning: str
    section: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    lever: bool = False
    per: str | None = None

    def parse(self, text: str) -> Any:
        """Convert a command-line string to this parameter's type (range checked by :meth:`check`)."""
        text = text.strip()
        if self.kind == "bool":
            # The spellings people type on a command line and in a settings file; anything else is refused,
            # never read as false.
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true or false, got {text!r}")
        if self.kind == "int":
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"expected a whole number, got {text!r}") from None
        if self.kind == "float":
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"expected a number, got {text!r}") from None
        return text

    # Returns the problem rather than raising: each caller names its own source (file and key,
    # --set, a settings file) in the InputError.
    def check(self, value: Any) -> str | None:
        """Return what is wrong with ``value``, or None when it is allowed."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        if self.kind == "choice":
            return None if value in self.choices else f"expected one of {', '.join(self.choices)}, got {value!r}"
        # bool is a subclass of int: `true` must not pass for the number 1.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {value!r}"
        if not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
        if self.kind == "int" and not float(value).is_integer():
            return f"expected a whole number, got {value!r}"
        if value < self.low or value > self.high:
            return f"{value!r} is outside the allowed range {self.low:g} to {self.high:g}"
        return None

    @property
    def range_text(self) -> str:
        """Allowed values as short text."""
        if self.kind == "bool":
            return "true/false"
        if self.kind == "choice":
            return "|".join(self.choices)
        return f"{self.low:g}..{self.high:g}"


def _p(
    group: str,
    kind: str,
    unit: str,
    meaning: str,
    section: str = "",
    low=None,
    high=None,
    *,
    choices=(),
    lever=False,
    per=None,
):
    spec = Spec("", group, kind, unit, meaning, section, low, high, tuple(choices), lever, per)
    return field(metadata={"spec": spec})


def _num(group, unit, meaning, section, low, high, **kw):
    return _p(group, "float", unit, meaning, section, low, high, **kw)


def _int(group, unit, meaning, section, low, high, **kw):
    return _p(group, "int", unit, meaning, section, low, high, **kw)


Vec = tuple[float, ...]


@dataclass(frozen=True)
class Params:
    """The complete parameter set of one run (see ``python run.py list`` for every field).

    Build it with :func:`load_defaults` and change it with :func:`apply_overrides`; both check
    every key, type and range. ``vocab`` holds the sectors and forms the vectors are indexed by.
    """

    vocab: Vocabulary
    # --- policy levers (§3.2, §3.4, §4) ---------------------------------------------------------
    agenda: str = _p(
        "levers",
        "choice",
        "-",
        "Agenda: the project chooses / one bundle of all sectors / one sector at a time, least sensitive first",
        "§3.2",
        choices=tuple(Agenda),
        lever=True,
    )
    allow: tuple[bool, ...] = _p(
        "levers", "bool", "-", "The form may be proposed", "§1.3, §2, §4.3", lever=True, per="form"
    )
    pilot_funding: float = _num(
        "levers",
        "x historical",
        "Pilot funds from the County Governor, as a multiple of what the pilots got (0 = none)",
        "§1.1, §2.1",
        0,
        3,
        lever=True,
    )
    governor_follow_up: float = _num(
        "levers",
        "share 0-1",
        "County Governor follow-up: the obligation that pilot status creates",
        "§2.1",
        0,
        1,
        lever=True,
    )
    reform_intensity: float = _num(
        "levers",
        "x historical",
        "Intensity of the municipal reform (0 = no reform, 1 = as in 2014-2016)",
        "§1.3, §2.1, §2.2",
        0,
        3,
        lever=True,
    )
    extra_political_involvement: float = _num(
        "levers", "share 0-1", "Political involvement added to each region's own", "§3.4", 0, 1, lever=True
    )
    side_payments: bool = _p(
        "levers",
        "bool",
        "-",
        "Hosting another joint function may be offered to a member whose host claim lost",
        "§2.1 (DOMAIN §4.1 ext.)",
        lever=True,
    )
    post_pilot_coordinator: bool = _p(
        "levers", "bool", "-", "A network coordinator stays funded after the pilot period", "§2.3", lever=True
    )
    county_initiative: bool = _p(
        "levers",
        "bool",
        "-",
        "County initiative: the County Governor offers every area a funded pre-project (county scenarios)",
        "§4",
        lever=True,
    )
    initiative_office_size: int = _int(
        "levers",
        "municipalities",
        "Largest number of members of one initiative office; larger areas split into neighbour groups "
        "(0 = whole area; 1 = no joint office)",
        "§4.4",
        0,
        50,
        lever=True,
    )
    fixed_areas: bool = _p(
        "levers",
        "bool",
        "-",
        "Funds only for fixed cooperation areas: a grant while funds flow, if the whole area joins",
        "§4",
        lever=True,
    )
    area_grant: float = _num(
        "levers", "utility", "Value of the fixed-area grant to each member (with fixed_areas)", "§4", 0, 2, lever=True
    )
    merger_size: float = _num(
        "levers",
        "inhabitants",
        "A merger meets the reform's size criterion from this population (reform grant)",
        "§4.2, §4.3",
        0,
        100_000,
        lever=True,
    )
    merger_grant: float = _num(
        "levers",
        "utility",
        "Value to each member of the reform's support for a merger meeting the criterion",
        "§1.3",
        0,
        3,
        lever=True,
    )
    merger_identity_cost: float = _num(
        "reform", "utility", "What a council loses when its municipality ceases to exist", "§1.3, §2.2", 0, 5
    )
    mandatory_host: tuple[bool, ...] = _p(
        "levers",
        "bool",
        "-",
        "The state requires an administrative host below mandatory_size: no veto or exit; the state names the host",
        "§4",
        lever=True,
        per="sector",
    )
    mandatory_size: float = _num(
        "levers",
        "inhabitants",
        "Population below which mandatory_host applies (Denmark 2007: 30,000)",
        "§4",
        0,
        100_000,
        lever=True,
    )
    null_model: str = _p(
        "validation",
        "choice",
        "-",
        "Remove one mechanism (validation only: a pattern must fail without it)",
        "-",
        choices=tuple(NullModel),
    )
    # --- process clock (§1.3 "Prosess", §2) ----------------------------------------------------
    pre_project_months: float = _num(
        "process", "months", "Length of a pre-project at full attention and no pilot funds", "§2.1, §2.2, §2.3", 1, 60
    )
    main_project_months: float = _num(
        "process", "months", "Length of a formal main project at full attention and no pilot funds", "§2.1", 1, 60
    )
    council_months: float = _num("process", "months", "Time for the councils to handle a proposal", "§2.1, §2.2", 1, 12)
    revision_months: float = _num("process", "months", "Length of a revision round after a failed vote", "§2.2", 1, 24)
    implementation_months: int = _int("process", "months", "From decision to the new service opening", "§2.1", 0, 24)
    duration_noise: float = _num("process", "log-sd", "Random spread of phase lengths", "-", 0, 1)
    max_revisions: int = _int(
        "process", "rounds", "Revision rounds before a stall without an external obligation", "§2.2", 0, 5
    )
    vote_noise: float = _num("process", "utility", "Scale of the logistic noise in each council vote", "-", 0.01, 5)
    min_prospect: float = _num(
        "process",
        "probability",
        "Below this believed chance of success the project stops rather than proposes",
        "§2.2",
        0,
        1,
    )
    host_min_share: float = _num(
        "process",
        "x equal share",
        "A host must hold at least this multiple of an equal population share",
        "§2.1, §2.2",
        0,
        2,
    )
    host_min_of_largest: float = _num(
        "process",
        "x largest member",
        "A credible host holds at least this share of the largest member's population (it gathers the "
        "field's staff and competence, §2.1 l.1224-1226); estimate 0.15-0.35: the named hosts were the "
        "regional centre (§2.2) or a member of like size (§2.1)",
        "§2.1, §2.2",
        0,
        1,
    )
    centralisation: float = _num(
        "process",
        "share 0-1",
        "Share of pooled staff that moves to the host (the rest stays in decentralised offices)",
        "§2.1, §2.2",
        0,
        1,
    )
    # --- sector sensitivity (§2.2, §3.2) ---------------------------------------------------------
    sensitivity: Vec = _num(
        "sectors", "utility", "Political value of keeping control of the sector", "§2.2, §3.2", 0, 5, per="sector"
    )
    cohesion: Vec = _num(
        "sectors", "share 0-1", "Share of the sector's tasks a joint office can take over", "§3.2", 0, 1, per="sector"
    )
    user_contact: Vec = _num(
        "sectors", "share 0-1", "How much users need the office nearby", "§2.2, §3.2", 0, 1, per="sector"
    )
    need_fixed: Vec = _num(
        "sectors", "FTE", "Posts any municipality needs for its statutory tasks", "§1.1", 0, 10, per="sector"
    )
    need_per_1000: Vec = _num(
        "sectors", "FTE per 1000 inhabitants", "Extra posts needed per 1000 inhabitants", "§1.1", 0, 5, per="sector"
    )
    council_control_value: float = _num(
        "sectors", "utility", "Value a council puts on deciding itself, whatever the sector", "§2.2", 0, 5
    )
    sensitivity_noise: float = _num("sectors", "sd", "Spread of sensitivity between councils", "-", 0, 2)
    bundle_synergy: float = _num(
        "sectors",
        "share per extra sector",
        "Extra value of a pooled office's gains for each further sector bundled in",
        "§3.2",
        0,
        2,
    )
    # --- forms (§1.3, §2.2, §2.3, §3.3) --------------------------------------------------------
    control_share: Vec = _num(
        "forms", "share 0-1", "Share of its control a partner gives up under the form", "§2.1, §2.2", 0, 1, per="form"
    )
    trust_need: Vec = _num(
        "forms",
        "share 0-1",
        "How much the form depends on trust in the partners (staff and "
        "authority move for a host form; a network shares knowledge only)",
        "§2.1, §2.3",
        0,
        1,
        per="form",
    )
    running_cost: Vec = _num(
        "forms",
        "share of staff time",
        "Staff time each member spends keeping the arrangement going (meetings, groups)",
        "§2.3, §3.3",
        0,
        0.5,
        per="form",
    )
    # --- valuation of an arrangement (§1.3 "Samhandling", §2.1, §2.2, §3.3) ---------------------
    w_capacity: float = _num(
        "valuation", "utility per capacity unit", "Value of added capacity (FTE per FTE needed)", "§1.1", 0, 20
    )
    w_competence: float = _num(
        "valuation", "utility per competence unit", "Value of added competence (0-1 scale)", "§1.1", 0, 20
    )
    w_robustness: float = _num(
        "valuation", "utility per vulnerability unit", "Value of a lower vulnerability", "§1.1", 0, 20
    )
    coordination_cost: float = _num(
        "valuation",
        "utility per partner council per sector",
        "A host's "
        "burden of serving partner councils that each keep their own delegation "
        "and committees (a joint board removes it)",
        "§2.2",
        0,
        5,
    )
    board_experience_weight: float = _num(
        "valuation",
        "utility",
        "A partner's aversion to a joint board, times the region's bad experience with boards (0-1)",
        "§2.2",
        0,
        5,
    )
    steering_value: float = _num(
        "valuation",
        "utility per unit of sensitivity",
        "A host's value of political "
        "steering of the field at the regional level under a joint board, times its "
        "population share of the region",
        "§2.2, §1.3 Samhandling",
        0,
        5,
    )
    board_handling_cost: float = _num(
        "valuation",
        "utility per sector",
        "Every council's political cost of a field run by a joint board, host included: 'mer tungvint' and "
        "less political steering for the councils (§2.1 l.1259-1263, §2.2 l.1871-1875); estimate 0.2-1.0, "
        "below a host's coordination saving per partner council and sector times four",
        "§2.1, §2.2",
        0,
        3,
    )
    location_fight_cost: float = _num(
        "valuation",
        "utility per sector",
        "Every member's cost of a fight over a joint office's location, per sector and share of partners "
        "that claim the host too ('drakamper om lokalisering ... tar fort all oppmerksomhet', §2.3 l.2493-2499); "
        "estimate 0.3-1.5, of the order of a council's valuation of hosting",
        "§2.3, §2.1",
        0,
        5,
    )
    hosting_value: float = _num(
        "valuation", "utility per FTE per 1000 inhabitants", "Value of the jobs a host gains", "§2.1, §2.3", 0, 10
    )
    job_loss_fear: float = _num(
        "valuation",
        "utility per FTE per 1000 inhabitants",
        "Fear of losing local jobs to the host",
        "§2.2, §2.3",
        0,
        10,
    )
    distance_cost: float = _num(
        "valuation",
        "utility per 100 km",
        "Cost of an office far from its users, and of a host's staff travelling to partners' office days",
        "§2.1, §3.2",
        0,
        10,
    )
    loss_aversion: float = _num(
        "valuation", "x", "Weight of a lost host claim relative to the gain hoped for", "§2.1, §2.2", 0, 5
    )
    side_payment_fte: float = _num(
        "valuation",
        "FTE",
        "Size of another joint function a host claimant can be given to host",
        "§2.1 (DOMAIN §4.1 ext.)",
        0,
        20,
    )
    trust_weight: float = _num(
        "valuation", "utility per trust unit", "Weight of trust in the partners for formal forms", "§2.1, §2.3", 0, 5
    )
    failed_attempt_penalty: float = _num(
        "valuation",
        "utility",
        "Scepticism towards a formal office in a sector where an earlier attempt failed",
        "§2.2, §2.3",
        0,
        5,
    )
    competing_track_penalty: float = _num(
        "valuation", "utility", "Devaluation of a formal pilot by a member in merger talks with outsiders", "§1.3", 0, 5
    )
    merger_track_effect: float = _num(
        "valuation",
        "utility",
        "Effect of merger talks among the members themselves on formal cooperation: < 0 draining, > 0 mobilising",
        "§1.3 Prosess",
        -5,
        5,
    )
    admin_control_weight: float = _num(
        "valuation",
        "share 0-1",
        "Weight the administration gives to control and jobs, relative to the council",
        "§3.4",
        0,
        1,
    )
    solidarity_weight: float = _num(
        "valuation",
        "x trust",
        "Weight of the partners' own values in a council's judgement (regional perspective)",
        "§2.1",
        0,
        3,
    )
    # --- anchoring (§3.4) ----------------------------------------------------------------------
    maturation_rate: float = _num(
        "anchoring",
        "per month",
        "Rate at which politicians come to see the administration's case, times involvement",
        "§3.4",
        0,
        1,
    )
    political_readiness_start: float = _num(
        "anchoring", "share 0-1", "Share of the administration's case a council sees at the start", "§1.1", 0, 1
    )
    political_readiness_noise: float = _num("anchoring", "sd", "Spread of councils' starting readiness", "-", 0, 1)
    involvement_steering_group: float = _num(
        "anchoring",
        "share 0-1",
        "Political involvement from politicians sitting in the steering group",
        "§2.3, §3.4",
        0,
        1,
    )
    involvement_per_stage: float = _num(
        "anchoring",
        "share 0-1",
        "Political involvement from each time the councils are briefed or decide during the pre-project",
        "§2.1, §3.4",
        0,
        1,
    )
    # --- agenda setter (§2.1, §2.2, §2.3) ------------------------------------------------------
    leader_weight: float = _num(
        "agenda", "x", "Weight an internal project leader gives to the home municipality's own interest", "§2.2", 0, 5
    )
    consultant_neutrality: float = _num(
        "agenda", "share 0-1", "Share of the leader's home bias removed by an external consultant", "§2.1", 0, 1
    )
    failure_cost: float = _num(
        "agenda",
        "utility",
        "Cost the agenda setter sees in a failed vote (wasted work, strained relations), per failed round so far",
        "§2.2, §3.2",
        0,
        10,
    )
    failure_stake: float = _num(
        "agenda",
        "share 0-1",
        "Share of a proposal's value the setter fears to lose "
        'for good if it fails ("disagreement on planning could sink agriculture")',
        "§2.1, §3.2",
        0,
        1,
    )
    complexity: float = _num(
        "agenda",
        "per extra sector",
        "How much less the setter expects to realise of a "
        "pooled office's value for each further sector it bundles (more tasks, staff and "
        "delegation to settle)",
        '§2.1 "less complex", §3.2',
        0,
        5,
    )
    belief_uncertainty: float = _num(
        "agenda",
        "x",
        "How uncertain the agenda setter is about a council's "
        "reaction to the control it gives up, where anchoring does not reach",
        "§3.2, §3.4",
        0,
        5,
    )
    # --- municipal reform (§1.3, §2.x) ---------------------------------------------------------
    attention_drain: float = _num(
        "reform", "share 0-1", "Attention the reform takes at its peak, at intensity 1", "§2.1, §2.2", 0, 1
    )
    reform_afterglow_months: float = _num(
        "reform", "months", "How long the reform's attention drain lasts after the deadline", "§2.1", 0, 24
    )
    merger_trust_damage: float = _num(
        "reform", "trust units", "Trust lost between parties to failed merger talks", "§2.2", 0, 1
    )
    # --- trust and history (§2.1, §2.2, §2.3) ----------------------------------------------------
    base_trust: float = _num("history", "trust 0-1", "Trust between members with no shared history", "-", 0, 1)
    history_trust: float = _num(
        "history",
        "trust 0-1",
        "Trust added by a region's history of cooperation (times its 0-1 score)",
        "§2.1, §2.2",
        0,
        1,
    )
    shared_post_trust: float = _num(
        "history", "trust 0-1", "Trust added per existing shared post between two members", "§2.1", 0, 1
    )
    vote_trust_damage: float = _num(
        "history", "trust units", "Trust lost between the yes and the no side of a failed vote", "§2.2", 0, 1
    )
    # --- the pilot as catalyst (§2.1) ----------------------------------------------------------
    funding_speedup: float = _num("catalyst", "x", "Speed-up of project phases with full pilot funds", "§2.1", 0, 3)
    obligation_revisions: int = _int(
        "catalyst", "rounds", "Extra revision rounds under full County Governor follow-up", "§2.1", 0, 5
    )
    # --- services: competence, capacity, vulnerability (§1.1, §2.1, §2.3, §3.3) ------------------
    competence_min: float = _num("services", "0-1", "Competence of a one-person generalist service", "§1.1", 0, 1)
    competence_max: float = _num("services", "0-1", "Competence of a large specialist team", "§1.1", 0, 1)
    competence_half_fte: float = _num(
        "services", "FTE", "Team size at which half of the specialisation gain is reached", "§1.1", 0.1, 50
    )
    availability: float = _num("services", "share 0-1", "Chance that a given colleague is at work", "§1.1", 0, 1)
    integration_months: float = _num(
        "services", "months", "Time for a formal office to realise its pooling gains", "§2.1", 1, 120
    )
    pooling_efficiency: float = _num(
        "services", "share", "Capacity gained by pooling once integrated, times centralisation", "§2.1", 0, 1
    )
    network_learning_rate: float = _num(
        "services", "per month", "Speed of competence growth in an active network", "§2.3", 0, 1
    )
    network_competence_gain: float = _num(
        "services",
        "share 0-1",
        "Share of the gap to the network's pooled competence a member can close",
        "§2.3, §3.3",
        0,
        1,
    )
    network_cover_share: float = _num(
        "services",
        "share 0-1",
        "Share of the others' staff that network members can call on (holiday cover)",
        "§2.3",
        0,
        1,
    )
    network_trust_gain: float = _num(
        "services", "trust per month", "Trust built per month of an active network", "§2.3", 0, 0.1
    )
    network_decay_rate: float = _num(
        "services", "per month", "Decline of network activity per month without a funded coordinator", "§2.3", 0, 1
    )
    coordinator_fte: float = _num(
        "services", "FTE", "A network coordinator's post, paid by the members when no external funds do", "§2.3", 0, 5
    )

    # --- reading -----------------------------------------------------------------------------------
    @property
    def sectors(self) -> tuple[Sector, ...]:
        """The sectors, in vector order."""
        return self.vocab.sectors

    @property
    def forms(self) -> tuple[Form, ...]:
        """The forms, in vector order."""
        return self.vocab.forms

    def allowed(self, form: Form) -> bool:
        """True when the form may be proposed (lever, and not removed by the no-forms null model)."""
        return self.allow[form.index] and self.null_model != NullModel.NO_FORMS

    def as_dict(self) -> dict[str, Any]:
        """Flat ``{key: value}`` with dotted keys for vector elements (as ``--set`` takes them)."""
        out: dict[str, Any] = {}
        for spec in field_specs():
            value = getattr(self, spec.name)
            if spec.per is None:
                out[spec.name] = value
            else:
                for item, v in zip(_items(self.vocab, spec.per), value, strict=True):
                    out[f"{spec.name}.{item.name}"] = v
        return out


def field_specs() -> tuple[Spec, ...]:
    """The catalogue: one :class:`Spec` per field of :class:`Params`, in declaration order."""
    return _FIELD_SPECS


# Each Spec takes its name from its own field, so the catalogue cannot name a field wrongly;
# built once, at import.
_FIELD_SPECS: tuple[Spec, ...] = tuple(
    replace(f.metadata["spec"], name=f.name) for f in fields(Params) if "spec" in f.metadata
)


def _items(vocab: Vocabulary, per: str) -> tuple[Sector, ...] | tuple[Form, ...]:
    return vocab.sectors if per == "sector" else vocab.forms


# Safe to cache: a Vocabulary is frozen and hashable, so equal vocabularies share one entry;
# callers share the dict and must not change it.
@lru_cache(maxsize=8)
def flat_specs(vocab: Vocabulary) -> dict[str, Spec]:
    """Every ``--set`` key of a vocabulary: scalars by name, vector elements as ``name.item``.

    Built once per vocabulary (every job's overrides are checked against it); do not change it.
    """
    out: dict[str, Spec] = {}
    for spec in _FIELD_SPECS:
        if spec.per is None:
            out[spec.name] = spec
        else:
            for item in _items(vocab, spec.per):
                key = f"{spec.name}.{item.name}"
                out[key] = replace(spec, name=key, per=None, meaning=f"{spec.meaning}: {item.label}")
    return out


def suggest(name: str, options) -> str:
    """Return ' (did you mean X?)' for the closest option, or ''."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ``InputError``."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, "-", "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "-", "is a folder, expected a TOML file") from None
    except PermissionError:
        raise InputError(path, "-", "permission denied") from None
    except OSError as exc:
        raise InputError(path, "-", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, "-", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, "-", f"invalid TOML: {exc}") from None


# --- vocabulary and defaults -------------------------------------------------------------------
_FORM_FLAGS = ("statutory", "pools_staff", "needs_host", "board", "merges")
_SECTOR_KEYS = {"name", "label", "label_nb", "staff_per_1000"}


def _vocabulary(path: Path, raw: dict[str, Any]) -> Vocabulary:
    sectors, forms = raw.get("sector"), raw.get("form")
    if not isinstance(sectors, list) or not sectors:
        raise InputError(path, "sector", "expected at least one [[sector]] table")
    if not isinstance(forms, list) or not forms:
        raise InputError(path, "form", "expected at least one [[form]] table")
    out_s: list[Sector] = []
    for i, t in enumerate(sectors):
        key = f"sector[{i}]"
        if not isinstance(t, dict) or not {"name", "label", "staff_per_1000"} <= set(t) <= _SECTOR_KEYS:
            raise InputError(path, key, "expected a table with name, label, staff_per_1000 (and label_nb)")
        if not _is_key(t["name"]) or t["name"] in (s.name for s in out_s):
            raise InputError(path, f"{key}.name", f"expected a new lower-case name, got {t['name']!r}")
        staff = t["staff_per_1000"]
        if isinstance(staff, bool) or not isinstance(staff, int | float) or not 0 < staff < 100:
            problem = f"expected FTE per 1,000 inhabitants in (0, 100), got {staff!r}"
            raise InputError(path, f"{key}.staff_per_1000", problem)
        out_s.append(Sector(t["name"], str(t["label"]), i, float(staff), str(t.get("label_nb", t["label"]))))
    out_f: list[Form] = []
    for i, t in enumerate(forms):
        key = f"form[{i}]"
        expected = {"name", "label", "section", *_FORM_FLAGS}
        # Exactly these keys: a forgotten flag would otherwise read as false and silently change what
        # the form does in every valuation.
        if not isinstance(t, dict) or set(t) != expected:
            raise InputError(path, key, f"expected a table with exactly: {', '.join(sorted(expected))}")
        # NONE is reserved for "own service" in the records and the outcome rows.
        if not _is_key(t["name"]) or t["name"] == NONE or t["name"] in (f.name for f in out_f):
            raise InputError(path, f"{key}.name", f"expected a new lower-case name, got {t['name']!r}")
        for flag in _FORM_FLAGS:
            if not isinstance(t[flag], bool):
                raise InputError(path, f"{key}.{flag}", f"expected true or false, got {t[flag]!r}")
        out_f.append(
            Form(
                t["name"],
                str(t["label"]),
                i,
                t["statutory"],
                t["pools_staff"],
                t["needs_host"],
                t["board"],
                str(t["section"]),
                t["merges"],
            )
        )
    return Vocabulary(tuple(out_s), tuple(out_f))


def _is_key(name: Any) -> bool:
    return isinstance(name, str) and name.isascii() and name.replace("_", "").isalnum() and name.islower()


def _coerce(spec: Spec, value: Any) -> Any:
    # TOML's 2 and 2.0 (and a keyword argument's 2) must give the same float, so metadata.json
    # and the tables do not depend on how a number was typed.
    if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def load_defaults(path: Path = DEFAULTS) -> Params:
    """Read the vocabulary and the shared parameter set; check every key, type and range.

    Raises:
        InputError: on unreadable TOML, unknown, missing or invalid keys.
    """
    raw = read_toml(path)
    vocab = _vocabulary(path, raw)
    by_name = {s.name: s for s in _FIELD_SPECS}
    values: dict[str, Any] = {}
    for group, table in raw.items():
        if group in ("sector", "form", "calibration"):  # the vocabulary; what the calibration moves
            continue
        if not isinstance(table, dict):
            raise InputError(path, group, "expected a table of parameters")
        for name, value in table.items():
            key = f"{group}.{name}"
            spec = by_name.get(name)
            if spec is None:
                raise InputError(path, key, "unknown parameter" + suggest(name, by_name))
            if spec.group != group:
                raise InputError(path, key, f"belongs in table [{spec.group}]")
            if spec.per is None:
                problem = spec.check(_coerce(spec, value))
                if problem:
                    raise InputError(path, key, problem)
                values[name] = _coerce(spec, value)
                continue
            items = _items(vocab, spec.per)
            if not isinstance(value, dict) or set(value) != {i.name for i in items}:
                names = ", ".join(i.name for i in items)
                raise InputError(path, key, f"expected one value per {spec.per}: {{{names}}}")
            for item in items:
                problem = spec.check(_coerce(spec, value[item.name]))
                if problem:
                    raise InputError(path, f"{key}.{item.name}", problem)
            values[name] = tuple(_coerce(spec, value[item.name]) for item in items)
    missing = [s.name for s in _FIELD_SPECS if s.name not in values]
    if missing:
        raise InputError(path, missing[0], "missing parameter")
    return Params(vocab=vocab, **values)


def calibrated(path: Path = DEFAULTS) -> tuple[str, ...]:
    """The ``--set`` keys the calibration moves: ``[calibration] parameters`` of the shared parameter file.

    Raises:
        InputError: the list is missing or empty, names a key twice, or a key that is not a
            parameter of the file's vocabulary (a sector or form since removed).
    """
    keys = read_toml(path).get("calibration", {}).get("parameters")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise InputError(path, "calibration.parameters", "expected a list of parameter keys")
    specs = flat_specs(load_defaults(path).vocab)
    for key in keys:
        if key not in specs:
            raise InputError(path, "calibration.parameters", f"unknown parameter {key!r}" + suggest(key, specs))
        if keys.count(key) > 1:
            raise InputError(path, "calibration.parameters", f"{key!r} is named twice")
    return tuple(keys)


def fixed_by_screen(path: Path = DEFAULTS) -> tuple[str, ...]:
    """``[calibration] fixed``: parameters no calibration fact constrains (``sim/analysis/screen.py``).

    They keep their documented value and are not moved by the calibration; a key there must be a
    parameter and must not also be in ``[calibration] parameters``.

    Raises:
        InputError: not a list of keys, an unknown key, or a key that is also calibrated.
    """
    keys = read_toml(path).get("calibration", {}).get("fixed", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise InputError(path, "calibration.fixed", "expected a list of parameter keys")
    specs, moved = flat_specs(load_defaults(path).vocab), set(calibrated(path))
    for key in keys:
        if key not in specs:
            raise InputError(path, "calibration.fixed", f"unknown parameter {key!r}" + suggest(key, specs))
        if key in moved:
            raise InputError(path, "calibration.fixed", f"{key!r} is also in [calibration] parameters")
    return tuple(keys)


#: The §4 levers. In a county scenario they take effect at the initiative's start: before it the
#: pilots run as they did (``historical``); a region scenario has them from its start.
COUNTY_LEVERS = (
    "county_initiative",
    "initiative_office_size",
    "fixed_areas",
    "area_grant",
    "mandatory_host",
    "mandatory_size",
    "merger_size",
    "merger_grant",
    "allow.merger",
    "allow.board_host",
)


def historical(params: Params, defaults: Params) -> Params:
    """``params`` with every §4 lever (:data:`COUNTY_LEVERS`) at its value in ``defaults``."""
    now, before = params.as_dict(), defaults.as_dict()
    keys = [k for k in now if any(k == lever or k.startswith(f"{lever}.") for lever in COUNTY_LEVERS)]
    return apply_overrides(params, {k: before[k] for k in keys if now[k] != before[k]}, "defaults")


#: Other names of a key, as the report's recommendations name them (§4.3: "a general host model
#: with or without a joint board in law" is whether the board form is allowed; the kommuneblokk's
#: two tracks are merger allowed beside the host forms).
ALIASES = {"board_form_allowed": "allow.board_host", "merger_track": "allow.merger"}


def apply_overrides(params: Params, overrides: dict[str, Any], source: str = "--set") -> Params:
    """Return ``params`` with overrides applied and checked.

    Args:
        params: A complete parameter set.
        overrides: ``key -> value`` (dotted keys for vector elements); strings are parsed.
        source: Where the overrides come from, for error messages (``--set``, ``keyword argument``).

    Raises:
        InputError: unknown key, unparsable or out-of-range value.
    """
    specs = flat_specs(params.vocab)
    changes: dict[str, Any] = {}
    vectors: dict[str, list] = {}
    targets = [ALIASES.get(k, k) for k in overrides]
    for key in overrides:
        # An alias and its key given together reach one parameter; one value would be dropped silently.
        if key in ALIASES and targets.count(ALIASES[key]) > 1:
            raise InputError(source, key, f"given twice: it is another name of {ALIASES[key]}")
    for key, value in overrides.items():
        key = ALIASES.get(key, key)
        spec = specs.get(key)
        if spec is None:
            raise InputError(source, key, "unknown parameter" + suggest(key, specs))
        if isinstance(value, str):
            try:
                value = spec.parse(value)
            except ValueError as exc:
                raise InputError(source, key, str(exc)) from None
        value = _coerce(spec, value)
        if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars from samplers
            # A plain Python number, as from the command line: a numpy scalar would compare equal but
            # print differently in metadata.json and the tables.
            value = value.item()
        problem = spec.check(value)
        if problem:
            raise InputError(source, key, problem)
        name, _, item = key.partition(".")
        if not item:
            changes[name] = value
            continue
        field_spec = next(s for s in _FIELD_SPECS if s.name == name)
        index = next(i.index for i in _items(params.vocab, field_spec.per) if i.name == item)
        vec = vectors.setdefault(name, list(getattr(params, name)))
        vec[index] = value
    # Back to tuples: Params stays immutable and hashable, and several --set keys on one vector
    # are applied together.
    changes.update({k: tuple(v) for k, v in vectors.items()})
    return replace(params, **changes)


#: Every ``--set`` key of the shared vocabulary (``scenarios/defaults.toml``), for the CLI.
def by_name() -> dict[str, Spec]:
    """Flat catalogue of the default vocabulary: key -> :class:`Spec` (read once)."""
    global _BY_NAME
    # Read on first use, not at import: `--help` stays fast, and a broken defaults.toml gives a
    # one-line InputError where it is used rather than an ImportError.
    if _BY_NAME is None:
        _BY_NAME = flat_specs(load_defaults(DEFAULTS).vocab)
    return _BY_NAME


_BY_NAME: dict[str, Spec] | None = None


def __getattr__(name: str) -> Any:  # ``sim.inputs.params.BY_NAME`` is built on first use
    if name == "BY_NAME":
        return by_name()
    raise AttributeError(name)


def parameter_table(path: Path = DEFAULTS) -> str:
    """The catalogue with the shared values and their justification, as a markdown table (for docs/ODD.md).

    The justification is the comment after each value in ``defaults.toml``.
    """
    params = load_defaults(path)
    comments: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        key, sep, rest = line.partition("=")
        if sep and "#" in rest and not line.lstrip().startswith("#"):
            comments[key.strip()] = rest.split("#", 1)[1].strip()
    rows = [
        "| key | group | value | unit | allowed | meaning | section | justification |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in _FIELD_SPECS:
        value = getattr(params, spec.name)
        if spec.per is not None:
            value = ", ".join(f"{i.name} {v}" for i, v in zip(_items(params.vocab, spec.per), value, strict=True))
        cells = (
            f"`{spec.name}`",
            spec.group,
            str(value),
            spec.unit,
            spec.range_text,
            spec.meaning,
            spec.section,
            comments.get(spec.name, ""),
        )
        # A "|" in a cell (e.g. a choice list) would split the markdown row.
        rows.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(rows)
