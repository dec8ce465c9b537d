"""The report's mechanisms, one named rule each.

Every function here is a small, pure rule with the report section (NIVI 2016, "Plan, miljø og
landbruk") that is its evidence. The agents (``sim.core.agents``, ``sim.core.agenda``, ``sim.core.ballot``)
compose them; nothing else in the package decides behaviour. ``p`` is always the typed
parameter set (:class:`sim.inputs.params.Params`); ``s`` a sector index; ``form`` a
:class:`sim.inputs.vocab.Form`. The arithmetic is stable for every value the catalogue allows and any
region size (bounded logistic, averages where the report reasons about an average partner).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.inputs.params import Params
from sim.inputs.vocab import Form


# --- Sector sensitivity (§2.2 "Prosess", §3.2) -------------------------------------------------
def control_at_stake(p: Params, sensitivity: Sequence[float], sectors: Sequence[int]) -> float:
    """Political value a council puts on keeping control of the sectors of a proposal (§3.2).

    A council values deciding itself (``council_control_value``) plus each sector's political
    sensitivity: planning touches the municipality's core interests, environment less,
    agriculture least. The values add up, so bundling planning with the others lets the most
    sensitive sector block the rest ("10 per cent of the tasks blocked a solution for the
    remaining 90 per cent", §2.2).
    """
    return p.council_control_value + sum(sensitivity[s] for s in sectors)


def bundle_synergy(p: Params, n_sectors: int) -> float:
    """Multiplier on a pooled office's gains for each sector bundled with another (§3.2).

    The principled case for one joint service centre: the three fields "hang closely together"
    in the municipality's development work. Networks gain nothing from bundling.
    """
    return 1.0 + p.bundle_synergy * (n_sectors - 1)


def complexity_discount(p: Params, form: Form, n_sectors: int) -> float:
    """Share of a pooled office's value the agenda setter expects to realise, by bundle size (§2.1, §3.2).

    The pilot that succeeded "chose early to treat agriculture only": it was "less complex" (§2.1). Each further
    sector adds tasks, staff and delegation to settle; a network, flexible by nature (§3.3), is
    not discounted.
    """
    return 1.0 / (1.0 + p.complexity * (n_sectors - 1)) if form.pools_staff else 1.0


# --- Host and partner asymmetry (§1.3 "Samhandling", §2.2, §3.3) --------------------------------
def partner_control_loss(p: Params, form: Form, at_stake: float) -> float:
    """Control a partner gives up under a form (§2.2, §3.3).

    Under an administrative host (§28b) the partner's council keeps principled decisions and
    loses little; under a joint political board (§28c) decisions move "out of the council to a
    body we are represented in but have little control over" (§2.2).
    """
    return p.control_share[form.index] * at_stake


def board_aversion(p: Params, form: Form, board_experience: float) -> float:
    """A partner's aversion to a joint board from the region's experience with boards (§2.2).

    "The experience with political boards in other arrangements in the region is not only
    good: handling is often cumbersome, and equal representation can make it hard to agree."
    ``board_experience`` is the region's bad experience, 0-1 (0 = none or good).
    """
    return p.board_experience_weight * board_experience if form.board else 0.0


def coordination_burden(p: Params, form: Form, n_partners: int, n_sectors: int) -> float:
    """A host's burden of serving partner councils that keep their own delegation (§2.2).

    The project's main reason for a joint board: a joint service and the host's chief officer
    would have to deal with "5 different partner municipalities with different committee
    structures"; a board gives one political body and uniform delegation. The burden grows
    with the number of partner councils and of sectors; a board reduces it to one body per
    sector.
    """
    if not form.needs_host:
        return 0.0
    return p.coordination_cost * n_sectors * (1 if form.board else n_partners)


def regional_steering(p: Params, form: Form, population_share: float, at_stake: float) -> float:
    """A host's value of political steering of the field at the regional level (§2.2).

    "For the host municipality it was important to secure a holistic steering system and political
    steering of the field at the regional level"; the partners wanted competence and capacity
    while keeping control (§2.2, §1.3 "Samhandling"). Only a joint board gives the host a
    political say over the region's field; the value grows with the political weight of the
    sectors (``at_stake``) and with how much of the region the host already is.
    """
    return p.steering_value * population_share * at_stake if form.board else 0.0


def regional_perspective(p: Params, partners: Sequence[tuple[float, float]]) -> float:
    """Weight a council gives its partners' service: trust times what they get from it (§2.1).

    ``partners`` holds ``(trust, partner's service value)`` pairs. A member with a regional
    perspective (the largest member in §2.1) counts the average partner's gains next to its own.
    """
    if not partners:
        return 0.0
    return p.solidarity_weight * sum([t * u for t, u in partners]) / len(partners)


# --- Centralisation, jobs and hosting (§2.1, §2.2, §2.3) ------------------------------------------
def centralisation_fear(p: Params, moved_fte: float, population: float, user_km: float) -> float:
    """A partner's fear of losing local jobs and presence to the host (§2.2, §2.3).

    ``moved_fte`` is counted per 1,000 inhabitants, so the same posts weigh more in a small
    community; ``user_km`` is the distance to the host weighted by how much users need the office
    nearby (§3.2: farmers).
    """
    return p.job_loss_fear * moved_fte / (population / 1000) + p.distance_cost * user_km / 100


def hosting_gain(p: Params, gained_fte: float, population: float) -> float:
    """The host's gain from the posts that move in, per 1,000 inhabitants (§2.1, §2.3).

    Hosting is valued as local jobs and development; a small municipality values the same posts
    more, which is why hosting works as a side payment (DOMAIN §4.1).
    """
    return p.hosting_value * gained_fte / (population / 1000)


def board_handling(p: Params, form: Form, n_sectors: int) -> float:
    """Every council's cost of running a field through a joint political board, host included (§2.1, §2.2).

    One pilot found the board model "uaktuell": it was "mer tungvint og samtidig utfordrende på
    kommunenes politiske styringsmuligheter av landbruksfeltet" (§2.1 l.1259-1263); in another
    "behandlingen ofte er tungvint" (§2.2 l.1871-1875). The cost is political (a council's, not its
    administration's) and grows with the sectors the board would handle.
    """
    return p.board_handling_cost * n_sectors if form.board else 0.0


def location_fight(p: Params, n_sectors: int, claims: int, n_members: int) -> float:
    """What a contested location costs every member of a joint office, whoever wins (§2.3, §2.1).

    One pilot chose a network because "opprettelse av et felles kontor vil kunne innebære drakamper om
    lokalisering ... uenigheter om slike spørsmål tar fort all oppmerksomhet" (§2.3 l.2493-2499);
    in another the contested host cost a member (§2.1 l.1056-1060). ``claims`` is the number of
    members that would name themselves as host; the fight grows with the share of partners that
    contest the location (``claims - 1`` of ``n_members - 1``) and with the sectors (jobs) at stake.
    One claim, or none, is no fight.
    """
    if claims < 2 or n_members < 2:
        return 0.0
    return p.location_fight_cost * n_sectors * (claims - 1) / (n_members - 1)


def contesting_claims(p: Params, margins: Sequence[float]) -> int:
    """How many host claims contest a joint office's location (§2.3, §2.1).

    ``margins`` are the claimants' margins: each one's value of hosting itself above its best
    other candidate (positive). A claim beyond a council's judgement noise (:func:`claim_margin`)
    is a clear case, and where there are clear cases a weaker claimant names a clear candidate
    rather than fight (§2.1 l.1056-1062: three councils named one host, the one other strong
    claimant held out). Where no council has a clear case, every council that would rather host
    is a feared contestant ("drakamper om lokalisering", §2.3 l.2493-2499).
    """
    clear = sum(m > claim_margin(p) for m in margins)
    return clear or len(margins)


def credible_hosts(p: Params, populations: dict[str, float]) -> list[str]:
    """Members that can credibly host: large enough against an equal share and the largest member (§2.1, §2.2).

    A host gathers the field's staff and competence (§2.1 l.1224-1226: "når en kommune får ansvaret
    som vertskommune så må også ansvar og kompetanse samles"); the hosts the pilots named were the
    regional centre (§2.2) or a member of like size (§2.1). A member must hold
    ``host_min_share`` of an equal population share and ``host_min_of_largest`` of the largest member.
    """
    floor = max(
        p.host_min_share * sum(populations.values()) / len(populations),
        p.host_min_of_largest * max(populations.values()),
    )
    return [m for m, pop in populations.items() if pop >= floor]


def named_host_quorum(n_members: int, lost_claims: int) -> int:
    """Yes votes a hosted arrangement needs to go on once the councils have named its host (§2.1).

    The councils settle a contested location by naming the host ("vedtak ... at [X] velges som
    vertskommune", §2.1 l.1056-1060); a member whose own claim lost then decides only for itself:
    "[Y] valgte dermed ikke å gå videre" (l.1060-1062) and the other three went on. So the
    majority the rest need (at least two) is of the members that did not lose a claim.
    """
    return max(2, (n_members - lost_claims) // 2 + 1)


def claim_margin(p: Params) -> float:
    """What a council's own host candidacy must beat every other candidate by before it names itself (§2.1).

    In §2.1 the council that named itself as host held a strong preference: it "stemte for seg
    selv som vertskommune" and, having lost, "valgte dermed ikke å gå videre" (l.1056-1062),
    while the councils that named another host did so although each could host. A difference
    within the noise of a council's own judgement (``vote_noise``) is no claim worth a location
    fight (§2.3 l.2493-2499): the council then names the best other candidate.
    """
    return p.vote_noise


def kept_host(earlier: str | None, own_choice: str | None, hosts: Sequence[str]) -> str | None:
    """The host a council names: the one its council decided at an earlier vote, while still on offer (§2.1).

    The councils decided the host ("vedtak ... at [X] velges som vertskommune", §2.1 l.1056-1060); a
    council keeps its decision at the next vote on the same sectors rather than open a new claim.
    """
    return earlier if earlier is not None and earlier in hosts else own_choice


def office_days(p: Params, partner_user_km: float) -> float:
    """A host's cost of serving its partners on fixed office days (§2.1, §2.2).

    The joint office keeps "fixed office days in the partner municipalities" (§2.1); its staff
    travel there in proportion to the user contact of the sectors and the distance, so a host
    at the edge of the region carries more of it than a central one.
    """
    return p.distance_cost * partner_user_km / 100


def lost_claim(p: Params, hoped_gain: float, jobs_lost: float) -> float:
    """Disappointment of a member whose claim to host lost (§2.1; §2.2 "avoid losing").

    In §2.1 the member that voted for itself as host left the project. Reference-dependent: the
    claimant had counted on the posts it would gain as host and on keeping its own; losing the
    claim loses both, weighted by ``loss_aversion`` ("more concerned with avoiding losing
    something than creating new development", §2.2).
    """
    return p.loss_aversion * (hoped_gain + jobs_lost)


def side_payment(
    p: Params, receiver_population: float, giver_populations: Sequence[float]
) -> tuple[float, list[float]]:
    """Value to a receiver, and cost to each giver, of hosting another joint function (§2.1).

    A side payment is real: the receiver gains the function's posts (:func:`hosting_gain`), and
    the givers lose them (:func:`centralisation_fear` without distance), shared equally.
    """
    moved = p.side_payment_fte * p.centralisation
    value = hosting_gain(p, moved, receiver_population)
    share = moved / max(1, len(giver_populations))
    return value, [p.job_loss_fear * share / (pop / 1000) for pop in giver_populations]


# --- Anchoring (§3.4) -------------------------------------------------------------------------
def political_involvement(p: Params, politicians_in_steering_group: bool, council_stages: float) -> float:
    """How far the project sees the councils' own positions, from the process's structure (§3.4).

    Politicians in the steering group (§2.3) and councils briefed or deciding at several
    stages (§2.1) anchor the work politically; a lever adds involvement on top.
    """
    base = p.involvement_steering_group * politicians_in_steering_group + p.involvement_per_stage * council_stages
    return min(1.0, base + p.extra_political_involvement)


def political_maturation(p: Params, readiness: float, involvement: float, attention: float) -> float:
    """One month of politicians coming to see the administration's case (§3.4).

    "If the politicians are to see the same perspectives and needs as us, they must walk the
    same road": readiness grows towards 1 in proportion to involvement and free attention.
    """
    return readiness + p.maturation_rate * involvement * attention * (1.0 - readiness)


def believed_utility(admin_view: float, political_view: float, anchoring: float) -> float:
    """What the project organisation believes a council thinks (§3.4).

    The project sees the administration's position; political anchoring (involvement, or a vote
    already taken) is how much of the council's own position it also sees.
    """
    return admin_view + anchoring * (political_view - admin_view)


def _tanh(x):
    """``math.tanh`` of a number or of each element of an array (libm's, as numpy's may differ in the last bit)."""
    if isinstance(x, np.ndarray):
        return np.array([math.tanh(v) for v in x.ravel().tolist()]).reshape(x.shape)
    return math.tanh(x)


def yes_chance(p: Params, utility, unseen_control=0.0):
    """Chance that a council votes yes, as the agenda setter sees it: a logistic, computed stably.

    ``utility`` and ``unseen_control`` are numbers or numpy arrays (every option and member at once).

    ``unseen_control`` is the control loss the setter cannot see the council's view of (its
    share beyond political anchoring): the more of it, the less sure the setter is, so a
    politically sensitive proposal is a gamble (§2.1: the fear that "disagreement on planning
    could sink agriculture"; §3.4).
    """
    scale = p.vote_noise + p.belief_uncertainty * np.maximum(0.0, unseen_control)
    return 0.5 * (1.0 + _tanh(utility / (2.0 * scale)))


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
    return max(0.0, 1.0 - p.reform_intensity * p.attention_drain * load)


def reform_postpones(p: Params, month: int, start: int, deadline: int, establishes: bool, talks: bool) -> bool:
    """The reform's deadline postpones a decision it competes with (§2.1 l.1072-1075).

    "På bakgrunn av arbeidet med kommunereformen og kommunenes frist om å fatte vedtak om
    kommunestruktur innen 01.07.2016, ble den politiske behandlingen av vertskommuneavtalen ...
    utsatt": the councils put off a decision that *establishes* an arrangement (the agreement on a
    joint office, or a network) among members who are in merger talks with each other, from the
    reform's start until its decision deadline; the structure decision may make the agreement moot.
    A merger is that structure decision and is never put off by it.
    A decision in principle (a vote on a pre-project's recommendation) is not put off: the §2.2
    councils treated theirs in spring 2016 (§2.2 l.1663). Without the reform nothing is postponed.
    """
    return p.reform_intensity > 0 and establishes and talks and start <= month <= deadline


def council_meets(month: int) -> bool:
    """Councils decide at their meetings, and hold none in July (ext.: the Norwegian summer holiday).

    ``month`` is the model's month count (``year * 12 + month - 1``). A council round
    (``council_months``) counts the months in which the councils meet, so a case does not move in
    July and a vote never falls in it (§1.3 "Prosess": decisions are taken by the councils).
    """
    return month % 12 != 6


def stated_speed(p: Params, funded: bool, load: float) -> float:
    """Speed of a phase whose duration the report states, relative to the pilot as it ran (§2.1-§2.3).

    The report's durations (a one-year pre-project, a main project ending April 2016) are calendar
    months of a funded pilot under the reform as it happened: at the historical levers the phase
    takes exactly that long. A lever moves it by the ratio of the work speeds: less funding
    (:func:`catalyst_speed`) or more reform (:func:`attention`) stretches it, none shortens it.
    """
    history = (1.0 + p.funding_speedup) * max(0.0, 1.0 - p.attention_drain * load)
    now = catalyst_speed(p, funded) * attention(p, load)
    return now / history if history > 0 else 1.0


def governance_contested(proposed: str, preferred: Sequence[str]) -> bool:
    """The members' joint political body sends a proposal back for a further study (§2.2 l.1643-1655).

    The regional council endorsed the project group's recommendation but "påpekt et behov for en
    nærmere utredning av politisk styringsmodell": the project group had to study the advantages
    and drawbacks of a political board and of an administrative host. A proposal is contested when
    some member prefers another governance form for the same sectors and host (``preferred``: each
    member's best hosted form) than the one proposed.
    """
    return any(form != proposed for form in preferred)


def reform_track(p: Params, talks_with_outsiders: bool, talks_with_members: bool) -> float:
    """How merger talks change a member's value of formal cooperation (§1.3 "Prosess").

    The report states two hypotheses: the reform *passivises* ("why cooperate if we merge?";
    talks with other partners derail the pilot) or *mobilises* (the same goal as the pilot, an
    early start). Talks with outsiders always drain (``competing_track_penalty``). Talks among
    the members themselves take the sign of ``merger_track_effect``: negative = draining,
    positive = mobilising.
    """
    value = -p.competing_track_penalty * talks_with_outsiders + p.merger_track_effect * talks_with_members
    return value * p.reform_intensity


def two_track(p: Params) -> bool:
    """The kommuneblokk two-track is on: merger is a form beside the host forms (§4.3, lever ``merger_track``).

    Merger talks among the members are then the same process as their cooperation, so they no
    longer drain or mobilise it from outside (:func:`reform_track` sees no member talks): the
    councils' attention is shared between the tracks within one negotiation.
    """
    return any(p.allowed(f) for f in p.forms if f.merges)


def merger_terms(p: Params, combined_population: float) -> float:
    """Value to each member of a merger besides service gains (§1.3, §4.2, §4.3).

    The reform's support if the new municipality meets the size criterion (``merger_size``),
    less what a council loses when its municipality ceases to exist (``merger_identity_cost``).
    """
    return p.merger_grant * (combined_population >= p.merger_size) - p.merger_identity_cost


def failed_talks_trust(p: Params, trust: float) -> float:
    """Trust after failed merger talks between two members (§2.2: "the air went out")."""
    return max(0.0, trust - p.merger_trust_damage * p.reform_intensity)


# --- The pilot as catalyst (§2.1) ---------------------------------------------------------------
def catalyst_speed(p: Params, funded: bool) -> float:
    """Speed of project work relative to an unfunded project (§2.1: funds "greased" it)."""
    return 1.0 + p.funding_speedup * p.pilot_funding * funded


def revision_rounds(p: Params, funded: bool) -> int:
    """Revision rounds before a stall; pilot status adds an obligation to the state (§2.1)."""
    extra = round(p.obligation_revisions * p.governor_follow_up) if funded else 0
    return p.max_revisions + extra


# --- Prior history (§2.1, §2.2, §2.3) ----------------------------------------------------------
def initial_trust(p: Params, history: float, shared_posts: int) -> float:
    """Trust between two members from the region's history and their shared posts (§2.1)."""
    return min(1.0, p.base_trust + p.history_trust * history + p.shared_post_trust * shared_posts)


def failed_attempt(p: Params, failed_sectors: frozenset[int], sectors: Sequence[int]) -> float:
    """Scepticism towards a formal office where an earlier attempt failed (§2.2, §2.3).

    Formal forms only: in §2.3 it "vanished when it was clear nothing formal was planned".
    """
    return p.failed_attempt_penalty if failed_sectors.intersection(sectors) else 0.0


def vote_trust(p: Params, trust: float) -> float:
    """Trust between a yes- and a no-voter after a failed vote (§2.2)."""
    return max(0.0, trust - p.vote_trust_damage)


# --- Services: competence, capacity, vulnerability (§1.1, §3.3) ----------------------------------
def team_competence(p: Params, fte: float) -> float:
    """Competence of a team of ``fte`` posts: small teams are generalists (§1.1)."""
    fte = max(0.0, fte)
    return p.competence_min + (p.competence_max - p.competence_min) * fte / (fte + p.competence_half_fte)


def need_fte(p: Params, s: int, population: float) -> float:
    """Posts a municipality needs in one sector for its statutory tasks (estimate, §1.1)."""
    return p.need_fixed[s] + p.need_per_1000[s] * population / 1000


def capacity(own_fte: float, need: float) -> float:
    """Posts available per post needed (§1.1 "kapasitet")."""
    return own_fte / need if need > 0 else 1.0


def vulnerability(p: Params, team_fte: float, competence: float) -> float:
    """Chance that a statutory task goes unserved when one person is away (§1.1 "sårbarhet").

    With one person away, each of the other ``team_fte - 1`` colleagues can cover if present
    (``availability``) and competent (``competence``).
    """
    miss = min(1.0, max(0.0, 1.0 - p.availability * min(1.0, max(0.0, competence))))
    others = max(0.0, team_fte - 1.0)
    return 1.0 if miss >= 1.0 else miss**others


# --- Network dynamics (§2.3, §3.3) -------------------------------------------------------------
def network_ceiling(p: Params, own_start: float, pooled: float) -> float:
    """Competence a network member can reach: part of the way to the pool's competence (§2.3).

    A member learns from the others' specialists, so the gain is largest for the smallest
    members and near zero for one whose own team already matches the pool (§3.3: networks give
    "clear gains in individual competence").
    """
    return own_start + p.network_competence_gain * max(0.0, pooled - own_start)


def network_month(p: Params, competence: float, ceiling: float, activity: float) -> float:
    """One month of a competence network: fast individual learning towards a ceiling (§2.3)."""
    return competence + p.network_learning_rate * activity * max(0.0, ceiling - competence)


def network_activity(p: Params, activity: float, coordinator_funded: bool) -> float:
    """Network activity next month: it lives on a funded coordinator (§2.3)."""
    return 1.0 if coordinator_funded else activity * (1.0 - p.network_decay_rate)


def network_team(p: Params, own_fte: float, others_fte: float, activity: float) -> float:
    """Effective team of a network member: own staff plus a little cover (§2.3)."""
    return own_fte + p.network_cover_share * activity * others_fte


def cover_competence(p: Params, competence: float, team_fte: float) -> float:
    """Competence with which a network member's own team covers a task when one person is away (§3.3, §2.3).

    A network builds each person's competence in their own field, but it moves no staff and no
    statutory task: "nettverk bygger opp individuell kompetanse, men det er ikke mulig med
    forankring av lovpålagte oppgaver og myndighetsutøvelse i et fagnettverk" (§3.3 l.2819-2823).
    Who covers is still the member's own small team, with the breadth of a team its size
    (:func:`team_competence`); so the network "i liten grad redusert kommunenes sårbarhet"
    (§2.3 l.2686-2691) while its competence rises.
    """
    return min(competence, team_competence(p, team_fte))


def running_time(p: Params, form: Form, own_fte: float, activity: float = 1.0) -> float:
    """Staff time a member spends keeping an arrangement going (§2.3, §3.3).

    Networks are "demanding to maintain": specialist groups meet about quarterly, which takes
    posts away from the tasks themselves.
    """
    return p.running_cost[form.index] * activity * own_fte


def coordinator_cost(p: Params, population: float, n_members: int, funded: bool) -> float:
    """A member's share of a network coordinator when no external funds pay for it (§2.3).

    Valued like lost posts (``job_loss_fear``, per 1,000 inhabitants); zero while the pilot or
    the post-pilot lever funds the coordinator.
    """
    if funded:
        return 0.0
    return p.job_loss_fear * (p.coordinator_fte / max(1, n_members)) / (population / 1000)


# --- Formal host dynamics (§2.1, §3.3) ---------------------------------------------------------
def integration_month(p: Params, integration: float) -> float:
    """A formal office's integration grows linearly to 1: gains come gradually (§2.1)."""
    return min(1.0, integration + 1.0 / p.integration_months)


def pooled_capacity(p: Params, pool_fte: float, pool_need: float, integration: float) -> float:
    """Capacity of a pooled office: shared posts per post needed, plus pooling gains (§2.1)."""
    return capacity(pool_fte * (1.0 + p.pooling_efficiency * p.centralisation * integration), pool_need)


# --- County and state levers (§4) ---------------------------------------------------------------
def area_grant(p: Params, whole_area: bool, funded: bool) -> float:
    """Value to each member of the fixed-area grant: paid while funds flow, only if the whole area joins (§4).

    The report recommends tying pilot funds to fixed cooperation areas; the money is a
    conditional grant in every member's valuation of an option that keeps the area whole.
    """
    return p.area_grant * (p.fixed_areas and whole_area and funded)


def mandated(p: Params, sectors: Sequence[int], population: float) -> bool:
    """The state requires this municipality to use an administrative host for one of these sectors (§4).

    It applies below ``mandatory_size`` inhabitants (the Danish reform of 2007 set 30,000, §4);
    such a council can neither veto nor leave an arrangement for that sector.
    """
    return population < p.mandatory_size and any(p.mandatory_host[s] for s in sectors)


def state_host(candidates: Sequence[tuple[str, float]]) -> str:
    """The host the state names where the councils do not agree: the most populous eligible member (§4)."""
    return max(candidates, key=lambda c: (c[1], c[0]))[0]
