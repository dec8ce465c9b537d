"""Behavioural parameters and policy levers: one typed catalogue, one shared set of values.

The catalogue below says what each key means, its unit and its allowed range; the values live
in ``scenarios/defaults.toml`` (with their justification) and are identical for every case.
A scenario may not change them; a user may, with ``--set KEY=VALUE`` or ``overrides=``.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import InputError

SECTORS: tuple[str, ...] = ("planning", "environment", "agriculture")
FORMS: tuple[str, ...] = ("none", "network", "admin_host", "board_host")
AGENDAS: tuple[str, ...] = ("choose", "bundle", "sector_by_sector")


@dataclass(frozen=True)
class Param:
    """One behavioural parameter or policy lever.

    Attributes:
        name: Flat key, unique over the catalogue (used by ``--set``).
        group: Table in ``defaults.toml`` that holds the value.
        kind: ``"float"``, ``"int"``, ``"bool"`` or ``"choice"``.
        unit: Unit in plain words ("months", "share 0-1", "utility per ...").
        meaning: One-line meaning.
        low: Lowest allowed value (numbers only).
        high: Highest allowed value (numbers only).
        choices: Allowed values for ``kind == "choice"``.
        lever: True for a policy lever (something an analyst could offer), False for behaviour.
    """

    name: str
    group: str
    kind: str
    unit: str
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    lever: bool = False

    def parse(self, text: str) -> Any:
        """Convert a ``--set`` string to this parameter's type (no range check)."""
        if self.kind == "bool":
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true/false, got {text!r}")
        if self.kind == "int":
            return int(text)
        if self.kind == "float":
            return float(text)
        return text.strip()

    def check(self, value: Any) -> str | None:
        """Return a problem description, or None when ``value`` is valid."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        if self.kind == "choice":
            if value not in self.choices:
                return f"expected one of {', '.join(self.choices)}, got {value!r}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {value!r}"
        if self.kind == "int" and not float(value).is_integer():
            return f"expected a whole number, got {value!r}"
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
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


def _p(name, group, kind, unit, meaning, low=None, high=None, choices=(), lever=False) -> Param:
    return Param(name, group, kind, unit, meaning, low, high, tuple(choices), lever)


CATALOGUE: tuple[Param, ...] = (
    # --- policy levers (report §4.3, §4.4) -------------------------------------------------
    _p("agenda", "levers", "choice", "-", "Agenda: the project chooses / one bundle of all "
       "sectors / one sector at a time, least sensitive first", choices=AGENDAS, lever=True),
    _p("allow_network", "levers", "bool", "-", "The informal network form may be proposed",
       lever=True),
    _p("allow_admin_host", "levers", "bool", "-", "The administrative host form (§28b) may be "
       "proposed", lever=True),
    _p("allow_board_host", "levers", "bool", "-", "The host form with a joint political board "
       "(§28c) may be proposed", lever=True),
    _p("pilot_funding", "levers", "float", "x historical", "Pilot funds from the County "
       "Governor, as a multiple of what the pilots got (0 = none)", 0, 3, lever=True),
    _p("governor_follow_up", "levers", "float", "share 0-1", "County Governor follow-up: the "
       "obligation that pilot status creates", 0, 1, lever=True),
    _p("reform_intensity", "levers", "float", "x historical", "Intensity of the municipal "
       "reform (0 = no reform, 1 = as in 2014-2016)", 0, 3, lever=True),
    _p("extra_political_involvement", "levers", "float", "share 0-1", "Political involvement "
       "added to each region's historical level (§3.4)", 0, 1, lever=True),
    _p("side_payments", "levers", "bool", "-", "Hosting another joint function may be offered "
       "to a member that lost the host vote", lever=True),
    _p("post_pilot_coordinator", "levers", "bool", "-", "A network coordinator stays funded "
       "after the pilot period", lever=True),
    # --- process clock ---------------------------------------------------------------------
    _p("pre_project_months", "process", "float", "months", "Length of a pre-project at full "
       "attention and no pilot funds", 1, 60),
    _p("main_project_months", "process", "float", "months", "Length of a formal main project "
       "at full attention and no pilot funds", 1, 60),
    _p("council_months", "process", "float", "months", "Time for the councils to handle a "
       "proposal", 1, 12),
    _p("revision_months", "process", "float", "months", "Length of a revision round after a "
       "failed vote", 1, 24),
    _p("implementation_months", "process", "int", "months", "From decision to the new service "
       "opening", 0, 24),
    _p("duration_noise", "process", "float", "log-sd", "Random spread of phase lengths", 0, 1),
    _p("max_revisions", "process", "int", "rounds", "Revision rounds before a stall without "
       "an external obligation", 0, 5),
    _p("vote_noise", "process", "float", "utility", "Scale of the logistic noise in each "
       "council vote", 0.01, 5),
    _p("decision_attention", "process", "float", "share 0-1", "Attention a council needs to "
       "take a principled decision (else it postpones)", 0, 1),
    _p("min_prospect", "process", "float", "probability", "Below this believed chance of "
       "success the project stops rather than proposes", 0, 1),
    _p("host_min_share", "process", "float", "x equal share", "A host must hold at least this "
       "multiple of an equal population share", 0, 2),
    _p("centralisation", "process", "float", "share 0-1", "Share of pooled staff that moves to "
       "the host (the rest stays in decentralised offices)", 0, 1),
    # --- sector sensitivity (§2.2, §3.2) ------------------------------------------------------
    _p("sensitivity_planning", "sectors", "float", "utility", "Political value of keeping "
       "control of planning", 0, 5),
    _p("sensitivity_environment", "sectors", "float", "utility", "Political value of keeping "
       "control of environment", 0, 5),
    _p("sensitivity_agriculture", "sectors", "float", "utility", "Political value of keeping "
       "control of agriculture", 0, 5),
    _p("council_control_value", "sectors", "float", "utility", "Value a council puts on "
       "deciding itself, whatever the sector", 0, 5),
    _p("sensitivity_noise", "sectors", "float", "sd", "Spread of sensitivity between councils",
       0, 2),
    _p("cohesion_agriculture", "sectors", "float", "share 0-1", "Share of a sector's tasks a "
       "joint office can take over: agriculture", 0, 1),
    _p("cohesion_planning", "sectors", "float", "share 0-1", "Share of a sector's tasks a "
       "joint office can take over: planning", 0, 1),
    _p("cohesion_environment", "sectors", "float", "share 0-1", "Share of a sector's tasks a "
       "joint office can take over: environment", 0, 1),
    _p("bundle_synergy", "sectors", "float", "share per extra sector", "Extra value of a "
       "formal office's gains for each further sector bundled in", 0, 2),
    _p("user_contact_agriculture", "sectors", "float", "share 0-1", "How much users need the "
       "office nearby: agriculture", 0, 1),
    _p("user_contact_planning", "sectors", "float", "share 0-1", "How much users need the "
       "office nearby: planning", 0, 1),
    _p("user_contact_environment", "sectors", "float", "share 0-1", "How much users need the "
       "office nearby: environment", 0, 1),
    # --- valuation of an arrangement (§2.1, §2.2, §3.3) ------------------------------------
    _p("w_capacity", "valuation", "float", "utility per capacity unit", "Value of added "
       "capacity (FTE per FTE needed)", 0, 20),
    _p("w_competence", "valuation", "float", "utility per competence unit", "Value of added "
       "competence (0-1 scale)", 0, 20),
    _p("w_robustness", "valuation", "float", "utility per vulnerability unit", "Value of a "
       "lower vulnerability", 0, 20),
    _p("control_share_admin", "valuation", "float", "share 0-1", "Share of control a partner "
       "loses under an administrative host", 0, 1),
    _p("control_share_board", "valuation", "float", "share 0-1", "Share of control a partner "
       "loses to a joint political board", 0, 1),
    _p("asymmetry_weight", "valuation", "float", "per log size ratio", "How much relative size "
       "amplifies control loss", 0, 5),
    _p("steering_value", "valuation", "float", "utility per log size ratio per sector",
       "A larger host's value of regional political steering (board) or burden without it",
       0, 5),
    _p("hosting_value", "valuation", "float", "utility per log job ratio", "Value of the jobs "
       "a host gains", 0, 10),
    _p("job_loss_fear", "valuation", "float", "utility per FTE per 1000 inhabitants",
       "Fear of losing local jobs to the host", 0, 10),
    _p("distance_cost", "valuation", "float", "utility per 100 km", "Cost of the office being "
       "far from users", 0, 10),
    _p("loss_aversion", "valuation", "float", "x", "Weight of a lost host claim relative to "
       "the gain hoped for", 0, 5),
    _p("side_payment_value", "valuation", "float", "utility", "Value of hosting another joint "
       "function", 0, 5),
    _p("trust_weight", "valuation", "float", "utility per trust unit", "Weight of trust in "
       "the partners for formal forms", 0, 5),
    _p("failed_attempt_penalty", "valuation", "float", "utility", "Scepticism towards a formal "
       "office in a sector where an earlier attempt failed", 0, 5),
    _p("competing_track_penalty", "valuation", "float", "utility", "Devaluation of a formal "
       "pilot by a member in merger talks with outsiders", 0, 5),
    _p("admin_control_weight", "valuation", "float", "share 0-1", "Weight the administration "
       "gives to control and jobs, relative to the council", 0, 1),
    _p("solidarity_weight", "valuation", "float", "x trust", "Weight of the partners' "
       "interests in a council's host preference", 0, 3),
    # --- anchoring (§3.4) ------------------------------------------------------------------
    _p("maturation_rate", "anchoring", "float", "per month", "Rate at which politicians come "
       "to see the administration's case, times involvement", 0, 1),
    _p("political_readiness_start", "anchoring", "float", "share 0-1", "Share of the "
       "administration's case a council sees at the start", 0, 1),
    _p("political_readiness_noise", "anchoring", "float", "sd", "Spread of councils' starting "
       "readiness", 0, 1),
    # --- agenda setter (§2.1, §2.2, §2.3) ---------------------------------------------------
    _p("leader_weight", "agenda", "float", "x", "Weight an internal project leader gives to "
       "the home municipality's own interest", 0, 5),
    _p("consultant_neutrality", "agenda", "float", "share 0-1", "Share of the leader's home "
       "bias removed by an external consultant", 0, 1),
    _p("failure_cost", "agenda", "float", "utility", "Cost the agenda setter sees in a failed "
       "vote (wasted work, lost trust)", 0, 10),
    # --- reform (§1.3, §2.x) -------------------------------------------------------------
    _p("attention_drain", "reform", "float", "share 0-1", "Attention the reform takes at its "
       "peak, at intensity 1", 0, 1),
    _p("reform_afterglow_months", "reform", "float", "months", "How long the reform's "
       "attention drain lasts after the deadline", 0, 24),
    _p("merger_trust_damage", "reform", "float", "trust units", "Trust lost between parties "
       "to failed merger talks", 0, 1),
    # --- trust and history (§2.1, §2.3) -----------------------------------------------------
    _p("base_trust", "history", "float", "trust 0-1", "Trust between members with no shared "
       "history", 0, 1),
    _p("history_trust", "history", "float", "trust 0-1", "Trust added by a region's history "
       "of cooperation (times its 0-1 score)", 0, 1),
    _p("shared_post_trust", "history", "float", "trust 0-1", "Trust added per existing shared "
       "post between two members", 0, 1),
    # --- catalyst (§2.1) -------------------------------------------------------------------
    _p("funding_speedup", "catalyst", "float", "x", "Speed-up of project phases with full "
       "pilot funds", 0, 3),
    _p("obligation_revisions", "catalyst", "int", "rounds", "Extra revision rounds under full "
       "County Governor follow-up", 0, 5),
    # --- services: competence, capacity, vulnerability (§1.1, §2.1, §2.3, §3.3) -----------
    _p("competence_min", "services", "float", "0-1", "Competence of a one-person generalist "
       "service", 0, 1),
    _p("competence_max", "services", "float", "0-1", "Competence of a large specialist team",
       0, 1),
    _p("competence_half_fte", "services", "float", "FTE", "Team size at which half of the "
       "specialisation gain is reached", 0.1, 50),
    _p("need_fixed_planning", "services", "float", "FTE", "Posts any municipality needs for its "
       "statutory planning tasks", 0, 10),
    _p("need_per_1000_planning", "services", "float", "FTE per 1000 inhabitants", "Extra planning "
       "posts needed per 1000 inhabitants", 0, 5),
    _p("need_fixed_environment", "services", "float", "FTE", "Posts any municipality needs for its "
       "statutory environment tasks", 0, 10),
    _p("need_per_1000_environment", "services", "float", "FTE per 1000 inhabitants", "Extra environment "
       "posts needed per 1000 inhabitants", 0, 5),
    _p("need_fixed_agriculture", "services", "float", "FTE", "Posts any municipality needs for its "
       "statutory agriculture tasks", 0, 10),
    _p("need_per_1000_agriculture", "services", "float", "FTE per 1000 inhabitants", "Extra agriculture "
       "posts needed per 1000 inhabitants", 0, 5),
    _p("availability", "services", "float", "share 0-1", "Chance that a given colleague is at "
       "work in a month", 0, 1),
    _p("integration_months", "services", "float", "months", "Time for a formal office to "
       "realise its pooling gains", 1, 120),
    _p("pooling_efficiency", "services", "float", "share", "Capacity gained by pooling once "
       "integrated (less duplicated overhead), times centralisation", 0, 1),
    _p("network_learning_rate", "services", "float", "per month", "Speed of competence "
       "growth in an active network", 0, 1),
    _p("network_competence_gain", "services", "float", "0-1", "Competence a network can add "
       "above the starting level", 0, 1),
    _p("network_cover_share", "services", "float", "share 0-1", "Share of the others' staff "
       "that network members can call on (holiday cover)", 0, 1),
    _p("network_trust_gain", "services", "float", "trust per month", "Trust built per month "
       "of an active network", 0, 0.1),
    _p("network_decay_rate", "services", "float", "per month", "Decline of network activity "
       "per month without a funded coordinator", 0, 1),
)

BY_NAME: dict[str, Param] = {p.name: p for p in CATALOGUE}
LEVERS: tuple[str, ...] = tuple(p.name for p in CATALOGUE if p.lever)


def suggest(name: str, options) -> str:
    """Return ' (did you mean X?)' for the closest option, or ''."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_defaults(path: Path) -> dict[str, Any]:
    """Read the shared parameter set, check every key, type and range.

    Args:
        path: ``defaults.toml``.

    Returns:
        A flat dict name -> value covering the whole catalogue.

    Raises:
        InputError: on unreadable TOML, unknown, missing or invalid keys.
    """
    raw = read_toml(path)
    flat: dict[str, Any] = {}
    for group, table in raw.items():
        if not isinstance(table, dict):
            raise InputError(path, group, "expected a table of parameters")
        for name, value in table.items():
            spec = BY_NAME.get(name)
            if spec is None:
                raise InputError(path, f"{group}.{name}", "unknown parameter" + suggest(name, BY_NAME))
            if spec.group != group:
                raise InputError(path, f"{group}.{name}", f"belongs in table [{spec.group}]")
            problem = spec.check(value)
            if problem:
                raise InputError(path, f"{group}.{name}", problem)
            flat[name] = value
    missing = [p.name for p in CATALOGUE if p.name not in flat]
    if missing:
        raise InputError(path, missing[0], "missing parameter")
    return flat


def apply_overrides(params: dict[str, Any], overrides: dict[str, Any], source: str) -> dict[str, Any]:
    """Return ``params`` with overrides applied and checked.

    Args:
        params: Complete flat parameter dict.
        overrides: name -> value; string values are parsed by the parameter's type.
        source: Where the overrides come from (for error messages, e.g. ``--set``).

    Raises:
        InputError: unknown key, unparsable or out-of-range value.
    """
    out = dict(params)
    for name, value in overrides.items():
        spec = BY_NAME.get(name)
        if spec is None:
            raise InputError(source, name, "unknown parameter" + suggest(name, BY_NAME))
        if isinstance(value, str):
            try:
                value = spec.parse(value)
            except ValueError as exc:
                raise InputError(source, name, str(exc)) from None
        if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        problem = spec.check(value)
        if problem:
            raise InputError(source, name, problem)
        out[name] = value
    return out


def parse_set(items: list[str] | None, source: str = "--set") -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings into a dict (values stay strings until checked).

    Raises:
        InputError: when an item has no ``=`` or an empty key.
    """
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(source, item, "expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ``InputError``."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(path, "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, "-", f"invalid TOML: {exc}") from None
