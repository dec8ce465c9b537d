"""The report's mechanisms, one named rule each.

Every function here is a small, pure rule with the report section (NIVI 2016, "Plan, miljø og
landbruk") that is its evidence. The agents (``sim.agents``) compose them; nothing else in the
package decides behaviour. ``p`` is always the flat parameter dict (see ``sim.params``).
"""

from __future__ import annotations

import math
from typing import Any

from sim.params import SECTORS

Params = dict[str, Any]
_COHESION = tuple(f"cohesion_{s}" for s in SECTORS)


# --- Sector sensitivity (§2.2 "Prosess", §3.2) -------------------------------------------------
def control_at_stake(p: Params, sensitivity: tuple[float, ...], sectors: tuple[int, ...]) -> float:
    """Political value a council puts on keeping control of the sectors of a proposal (§3.2).

    A council values deciding itself (``council_control_value``) plus each sector's political
    sensitivity: planning touches the municipality's core interests, environment less,
    agriculture least. Because the values add up, bundling planning with the others lets the
    most sensitive sector block the rest ("10 per cent of the tasks blocked a solution for the
    remaining 90 per cent", §2.2).
    """
    return p["council_control_value"] + sum(sensitivity[s] for s in sectors)


def sector_cohesion(p: Params, sector: int) -> float:
    """Share of a sector's tasks that a joint office can take over (§3.2).

    Agriculture is "a homogeneous sector and a clear body of law"; environment is "the direct
    opposite, marked by fragmented competence" spread over a cross-sectoral field, so pooling
    its few posts brings less. A network is not limited this way: it shares knowledge, not
    tasks.
    """
    return p[_COHESION[sector]]


def bundle_synergy(p: Params, sectors: tuple[int, ...]) -> float:
    """Multiplier on a formal office's gains for each sector bundled with another (§3.2).

    The principled approach: the three fields "hang closely together" in the municipality's
    development work, so one joint service centre is worth more than its parts (the argument
    of the project that bundled all three, §3.2). Networks gain nothing from bundling.
    """
    return 1.0 + p["bundle_synergy"] * (len(sectors) - 1)


# --- Host and partner asymmetry (§1.3 "Samhandling", §2.2, §3.3) -------------------------------
def size_asymmetry(population: float, others: list[float]) -> float:
    """Log ratio of a member's population to the mean of the other members (§1.3, §2.2)."""
    return math.log(population / (sum(others) / len(others))) if others else 0.0


def partner_control_loss(p: Params, form: str, asymmetry: float, at_stake: float) -> float:
    """Control a partner gives up under a host form (§2.2, §3.3).

    ``asymmetry`` is the log ratio of the partner's population to the host's. Under an
    administrative host (§28b) the partner's council keeps principled decisions, so it loses a
    share; a partner larger than its host hands more of its own service to a smaller
    administration. Under a joint political board (§28c) decisions move to a body where a
    partner much smaller than the host has "little control": the smaller, the larger the loss.
    """
    if form == "admin_host":
        return p["control_share_admin"] * (1 + p["asymmetry_weight"] * max(0.0, asymmetry)) * at_stake
    if form == "board_host":
        return p["control_share_board"] * (1 + p["asymmetry_weight"] * max(0.0, -asymmetry)) * at_stake
    return 0.0


def host_steering(p: Params, form: str, asymmetry: float, n_sectors: int) -> float:
    """A larger host's value of political steering, or its burden without it (§2.2).

    The prospective host wants holistic steering, uniform delegation and regional political
    steering: a joint board gives it that, an administrative host without a board makes it
    serve partners' councils that each keep their own delegation. Both effects grow with how
    much larger the host is than its partners; a host no larger than its partners is
    indifferent.
    """
    value = p["steering_value"] * max(0.0, asymmetry) * n_sectors
    if form == "board_host":
        return value
    if form == "admin_host":
        return -value
    return 0.0


def regional_perspective(p: Params, partners: list[tuple[float, float]]) -> float:
    """Weight a member gives its partners' interests: trust times their own value (§2.1).

    ``partners`` holds ``(trust, partner's own value)`` pairs. "A large member with a regional
    perspective helps" (DOMAIN §5.5): with long shared history, a member counts the partners' gains
    and losses next to its own.
    """
    return p["solidarity_weight"] * sum(t * u for t, u in partners)


# --- Centralisation, lost jobs and hosting as side payment (§2.1, §2.2, §2.3) -------------------
def centralisation_fear(p: Params, moved_fte: float, population: float, user_km: float) -> float:
    """A partner's fear of losing local jobs and presence to the host (§2.2, §2.3).

    ``moved_fte``: the partner's staff that would move to the host; counted per 1,000
    inhabitants, so the same posts weigh more in a small community. ``user_km``: distance to
    the host weighted by how much users need the office nearby (§3.2: farmers).
    """
    return p["job_loss_fear"] * moved_fte / (population / 1000) + p["distance_cost"] * user_km / 100


def hosting_gain(p: Params, gained_fte: float, population: float) -> float:
    """The host's gain from the posts that move in, per 1,000 inhabitants (§2.1, §2.3).

    Hosting is valued as local jobs and development; a small municipality values the same
    posts more, which is why hosting works as a side payment (DOMAIN §4.1: the accounting
    office went to the member that did not get agriculture).
    """
    return p["hosting_value"] * gained_fte / (population / 1000)


def lost_claim(p: Params, utility_as_host: float, utility_as_partner: float) -> float:
    """Disappointment of a member whose claim to host lost (§2.1, §2.2 "avoid losing").

    In §2.1 the member that voted for itself as host left the project.

    Reference-dependent: the member measures the outcome against hosting itself and weighs
    the shortfall by ``loss_aversion``. A side payment (hosting another function) offsets it.
    """
    return p["loss_aversion"] * max(0.0, utility_as_host - utility_as_partner)


# --- Anchoring (§3.4) -------------------------------------------------------------------------
def political_maturation(p: Params, readiness: float, involvement: float, attention: float) -> float:
    """One month of politicians coming to see the administration's case (§3.4).

    "If the politicians are to see the same perspectives and needs as us, they must walk the
    same road": readiness (the share of the administrative case that the council sees) grows
    towards 1 at a rate proportional to political involvement and free attention.
    """
    return readiness + p["maturation_rate"] * involvement * attention * (1.0 - readiness)


def believed_utility(admin_view: float, political_view: float, anchoring: float) -> float:
    """What the project organisation believes a council thinks (§3.4).

    The project sees the administration's position; political anchoring (involvement, or a
    vote already taken) is how much of the council's own position it also sees.
    """
    return admin_view + anchoring * (political_view - admin_view)


# --- Municipal reform (§1.3 "Prosess", §2.1, §2.2, §2.3) ---------------------------------------
def reform_load(month: int, start: int, deadline: int, afterglow: float) -> float:
    """Share of the reform's peak load on the councils' agenda in a month (§1.3, §2.1).

    Rises from the reform's start to the decision deadline (1 July 2016), then fades over
    ``afterglow`` months (§2.1: the reform "stole all attention" and left a vacuum).
    """
    if month < start:
        return 0.0
    if month <= deadline:
        return (month - start + 1) / (deadline - start + 1)
    if afterglow <= 0:
        return 0.0
    return max(0.0, 1.0 - (month - deadline) / afterglow)


def attention(p: Params, load: float) -> float:
    """Free attention for the pilot when the reform takes ``load`` of the agenda (§2.1, §2.2)."""
    return max(0.0, 1.0 - p["reform_intensity"] * p["attention_drain"] * load)


def competing_track(p: Params, in_outside_talks: bool) -> float:
    """Devaluation of a formal pilot by a member negotiating a merger with outsiders (§1.3).

    The passivising hypothesis: "why cooperate if we merge?". Merger talks among the members
    themselves are no competing track (§2.3: two members decided to merge).
    """
    return p["competing_track_penalty"] * p["reform_intensity"] if in_outside_talks else 0.0


def failed_talks_trust(p: Params, trust: float) -> float:
    """Trust after failed merger talks between two members (§2.2: "the air went out")."""
    return max(0.0, trust - p["merger_trust_damage"] * p["reform_intensity"])


# --- The pilot as catalyst (§2.1) -----------------------------------------------------------------
def catalyst_speed(p: Params, funded: bool) -> float:
    """Speed of project work relative to an unfunded project (§2.1: funds "greased" it)."""
    return 1.0 + p["funding_speedup"] * p["pilot_funding"] * funded


def revision_rounds(p: Params, funded: bool) -> int:
    """Revision rounds before a stall; pilot status adds an obligation to the state (§2.1)."""
    extra = round(p["obligation_revisions"] * p["governor_follow_up"]) if funded else 0
    return p["max_revisions"] + extra


# --- Prior history (§2.1, §2.2, §2.3) --------------------------------------------------------------
def initial_trust(p: Params, history: float, shared_posts: int) -> float:
    """Trust between two members from the region's history and their shared posts (§2.1)."""
    return min(1.0, p["base_trust"] + p["history_trust"] * history + p["shared_post_trust"] * shared_posts)


def failed_attempt(p: Params, failed_sectors: set[int], sectors: tuple[int, ...]) -> float:
    """Scepticism towards a formal office where an earlier attempt failed (§2.2, §2.3).

    It applies to formal forms only: in §2.3 it "vanished when it was clear nothing formal was
    planned" (§2.3).
    """
    return p["failed_attempt_penalty"] if failed_sectors.intersection(sectors) else 0.0


# --- Services: competence, capacity, vulnerability (§1.1, §3.3) ------------------------------------
def team_competence(p: Params, fte: float) -> float:
    """Competence of a team of ``fte`` posts: small teams are generalists (§1.1)."""
    return p["competence_min"] + (p["competence_max"] - p["competence_min"]) * fte / (
        fte + p["competence_half_fte"]
    )


def need_fte(p: Params, sector: str, population: float) -> float:
    """Posts a municipality needs in one sector for its statutory tasks (estimate, §1.1)."""
    return p[f"need_fixed_{sector}"] + p[f"need_per_1000_{sector}"] * population / 1000


def vulnerability(p: Params, team_fte: float, competence: float) -> float:
    """Chance that a statutory task goes unserved when one person is away (§1.1 "sårbarhet").

    With one person away, each of the other ``team_fte - 1`` colleagues can cover if present
    (``availability``) and competent for the task (``competence``).
    """
    others = max(0.0, team_fte - 1.0)
    return (1.0 - p["availability"] * competence) ** others


# --- Network dynamics (§2.3, §3.3) -------------------------------------------------------------
def network_month(p: Params, competence: float, ceiling: float, activity: float) -> float:
    """One month of a competence network: fast individual learning towards a ceiling (§2.3).

    The network adds competence, not posts: capacity is untouched, and only a small share of
    the others' staff can be called on (holiday cover) in ``network_team``.
    """
    return competence + p["network_learning_rate"] * activity * max(0.0, ceiling - competence)


def network_activity(p: Params, activity: float, coordinator_funded: bool) -> float:
    """Network activity next month: it lives on a funded coordinator (§2.3)."""
    return 1.0 if coordinator_funded else activity * (1.0 - p["network_decay_rate"])


def network_team(p: Params, own_fte: float, others_fte: float, activity: float) -> float:
    """Effective team of a network member: own staff plus a little cover (§2.3)."""
    return own_fte + p["network_cover_share"] * activity * others_fte


# --- Formal host dynamics (§2.1, §3.3) ----------------------------------------------------------
def integration_month(p: Params, integration: float) -> float:
    """A formal office's integration grows linearly to 1: gains come gradually (§2.1)."""
    return min(1.0, integration + 1.0 / p["integration_months"])


def pooled_capacity(p: Params, pool_fte: float, pool_need: float, integration: float) -> float:
    """Capacity of a pooled office: shared posts per post needed, plus pooling gains (§2.1)."""
    return pool_fte * (1.0 + p["pooling_efficiency"] * p["centralisation"] * integration) / pool_need
