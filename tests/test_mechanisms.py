"""Each mechanism moves in the direction the report describes (one test per rule or two)."""

from dataclasses import replace

import pytest

from sim.core import mechanisms as mech
from sim.core.agenda import AgendaSetter, option_rows
from sim.core.model import CooperationModel
from sim.core.records import Option
from sim.inputs.loader import load_scenario
from sim.inputs.params import load_defaults

P = load_defaults()
V = P.vocab
NET, ADMIN, BOARD = V.form("network"), V.form("admin_host"), V.form("board_host")
PLAN, ENV, AGRI = (V.sector(s).index for s in ("planning", "environment", "agriculture"))


def model(case="vaernesregionen", **kw):
    return CooperationModel(case, rng=1, **kw)


def values(m, option):
    region = m.project.region
    return {n: region.agents[n].own_value(option, region) for n in option.members}


def test_planning_sensitivity_lowers_a_partners_value_of_a_bundle_with_planning():
    low, high = model(**{"sensitivity.planning": 1.0}), model(**{"sensitivity.planning": 4.0})
    names = tuple(low.scenario.names)
    bundle = Option((PLAN, ENV, AGRI), BOARD, names[0], names)
    assert values(high, bundle)[names[2]] < values(low, bundle)[names[2]]
    without = Option((ENV, AGRI), BOARD, names[0], names)
    assert values(high, without)[names[2]] == pytest.approx(values(low, without)[names[2]])


def test_a_board_costs_partners_more_control_than_an_administrative_host():
    assert mech.partner_control_loss(P, BOARD, 2.0) > mech.partner_control_loss(P, ADMIN, 2.0) > 0
    assert mech.partner_control_loss(P, NET, 2.0) == 0
    assert mech.board_aversion(P, BOARD, 0.6) > mech.board_aversion(P, BOARD, 0.0) == 0
    assert mech.board_aversion(P, ADMIN, 0.6) == 0


def test_a_host_serving_many_partner_councils_prefers_a_board():
    """§2.2: one service and five councils with different committees; a board gives one body."""
    many = mech.coordination_burden(P, ADMIN, 4, 3)
    assert many > mech.coordination_burden(P, ADMIN, 2, 1) > 0
    assert mech.coordination_burden(P, BOARD, 4, 3) < many
    assert mech.coordination_burden(P, NET, 4, 3) == 0


def test_regional_steering_needs_a_board_and_grows_with_the_hosts_share():
    assert mech.regional_steering(P, BOARD, 0.7, 5.0) > mech.regional_steering(P, BOARD, 0.2, 5.0) > 0
    assert mech.regional_steering(P, ADMIN, 0.7, 5.0) == 0


def test_the_large_host_prefers_the_board_and_the_partners_the_administrative_host():
    m = model()
    names = tuple(m.scenario.names)  # first = the largest member
    board = Option((PLAN, ENV, AGRI), BOARD, names[0], names)
    admin = board._replace(form=ADMIN)
    b, a = values(m, board), values(m, admin)
    assert b[names[0]] > a[names[0]]
    assert all(a[n] > b[n] for n in names[1:])


def test_network_costs_staff_time_and_a_coordinator_after_the_pilot():
    assert mech.running_time(P, NET, 4.0) > 0 == mech.running_time(P, ADMIN, 4.0)
    assert mech.coordinator_cost(P, 3000, 3, funded=False) > 0 == mech.coordinator_cost(P, 3000, 3, funded=True)
    assert mech.coordinator_cost(P, 3000, 3, funded=False) > mech.coordinator_cost(P, 9000, 3, funded=False)


def test_network_learning_is_largest_for_the_smallest_member():
    pooled = mech.team_competence(P, 8.0)
    small, large = mech.team_competence(P, 1.0), mech.team_competence(P, 6.0)
    assert mech.network_ceiling(P, small, pooled) - small > mech.network_ceiling(P, large, pooled) - large >= 0
    c = mech.network_month(P, 0.4, 0.6, 1.0)
    assert c > 0.4 and mech.network_month(P, 0.4, 0.6, 0.0) == 0.4
    assert mech.network_activity(P, 1.0, False) < 1.0 == mech.network_activity(P, 0.3, True)


def test_side_payment_is_real_for_both_sides():
    value, costs = mech.side_payment(P, 2000, [1500, 5000])
    assert value > 0 and all(c > 0 for c in costs) and costs[0] > costs[1]
    assert mech.side_payment(replace(P, side_payment_fte=0.0), 2000, [1500])[0] == 0


def test_side_payment_is_offered_only_when_the_givers_still_gain():
    from sim.core.ballot import offer_side_payment

    m = model("fjellregionen", political_readiness_start=0.9)
    region = m.project.region
    names = tuple(m.scenario.names)
    option = Option((AGRI,), ADMIN, names[2], names)
    loss = {n: (1.0 if n == names[3] else 0.0) for n in names}
    util = {n: (-0.05 if n == names[3] else 2.0) for n in names}
    assert offer_side_payment(m, region, option, dict(util), loss) == names[3]
    poor = {n: (-0.05 if n == names[3] else 0.0) for n in names}  # givers would fall below zero
    assert offer_side_payment(m, region, option, poor, loss) is None


def test_a_lost_host_claim_hurts_and_can_make_a_member_leave():
    assert mech.lost_claim(P, 1.0, 0.2) > mech.lost_claim(P, 0.5, 0.2) > 0
    assert mech.lost_claim(replace(P, loss_aversion=0.0), 1.0, 0.2) == 0


def test_hosting_gain_is_a_bigger_side_payment_for_a_small_municipality():
    assert mech.hosting_gain(P, 3.0, 1500) > mech.hosting_gain(P, 3.0, 6000)


def test_fear_of_centralisation_grows_with_jobs_moved_and_distance():
    assert mech.centralisation_fear(P, 2.0, 2000, 0) > mech.centralisation_fear(P, 1.0, 2000, 0)
    assert mech.centralisation_fear(P, 1.0, 2000, 50) > mech.centralisation_fear(P, 1.0, 2000, 10)
    assert mech.office_days(P, 100) > mech.office_days(P, 20) > 0


def test_anchoring_involvement_from_the_process_and_maturation():
    assert mech.political_involvement(P, True, 0) > mech.political_involvement(P, False, 0) == 0
    assert mech.political_involvement(P, False, 3) > mech.political_involvement(P, False, 1)
    assert mech.political_maturation(P, 0.4, 1.0, 1.0) > mech.political_maturation(P, 0.4, 0.1, 1.0) > 0.4
    assert mech.political_maturation(P, 0.4, 0.0, 1.0) == 0.4
    assert mech.believed_utility(2.0, -1.0, 0.0) == 2.0 and mech.believed_utility(2.0, -1.0, 1.0) == -1.0


def test_unseen_control_makes_the_setter_less_sure():
    sure, unsure = mech.yes_chance(P, 1.0), mech.yes_chance(P, 1.0, unseen_control=2.0)
    assert 0.5 < unsure < sure < 1.0
    assert mech.yes_chance(P, -1e9) == 0.0 and mech.yes_chance(replace(P, vote_noise=0.01), 1e9) == 1.0


def test_complexity_discounts_big_pooled_bundles_not_networks():
    assert mech.complexity_discount(P, ADMIN, 3) < mech.complexity_discount(P, ADMIN, 1) == 1.0
    assert mech.complexity_discount(P, NET, 3) == 1.0
    assert mech.bundle_synergy(P, 3) > mech.bundle_synergy(P, 1) == 1.0


def test_reform_drains_attention_and_merger_talks_take_either_sign():
    start, deadline = 2014 * 12 + 5, 2016 * 12 + 5
    loads = [mech.reform_load(t, start, deadline, 3) for t in (start - 1, start + 6, deadline, deadline + 6)]
    assert loads[0] == 0 and loads[1] < loads[2] and loads[3] == 0
    assert mech.attention(P, 1.0) < mech.attention(P, 0.2) < 1.0
    assert mech.attention(replace(P, reform_intensity=0.0), 1.0) == 1.0
    assert mech.reform_track(P, True, False) < 0 == mech.reform_track(P, False, False)
    draining, mobilising = replace(P, merger_track_effect=-0.5), replace(P, merger_track_effect=0.5)
    assert mech.reform_track(draining, False, True) < 0 < mech.reform_track(mobilising, False, True)
    assert mech.failed_talks_trust(P, 0.6) < 0.6


def test_pilot_funds_speed_up_and_oblige():
    assert mech.catalyst_speed(P, True) > mech.catalyst_speed(P, False) == 1.0
    assert mech.revision_rounds(P, True) >= mech.revision_rounds(P, False)


def test_history_builds_trust_and_a_failed_attempt_blocks_formal_only():
    assert mech.initial_trust(P, 0.9, 2) > mech.initial_trust(P, 0.9, 0) > mech.initial_trust(P, 0.0, 0)
    assert mech.vote_trust(P, 0.5) < 0.5
    # without location fights: fewer willing claimants under the penalty would also mean less of a fight
    m = model("fosen", location_fight_cost=0.0)
    clean = model("fosen", failed_attempt_penalty=0.0, location_fight_cost=0.0)
    names = tuple(m.scenario.names)
    formal, network = Option((AGRI,), ADMIN, names[0], names), Option((AGRI,), NET, None, names)
    assert values(m, formal)[names[1]] < values(clean, formal)[names[1]]
    assert values(m, network)[names[1]] == pytest.approx(values(clean, network)[names[1]])


def test_formal_office_pools_staff_gradually_and_arithmetic_is_stable():
    assert mech.integration_month(P, 0.0) == pytest.approx(1 / P.integration_months)
    assert mech.vulnerability(P, 6.0, 0.6) < mech.vulnerability(P, 2.0, 0.6) < mech.vulnerability(P, 1.0, 0.6) == 1.0
    assert mech.vulnerability(replace(P, availability=1.0), 3.0, 1.2) == 0.0  # no negative base, no complex numbers
    assert mech.team_competence(P, 6.0) > mech.team_competence(P, 1.5)
    assert mech.pooled_capacity(P, 6.0, 6.0, 1.0) > mech.pooled_capacity(P, 6.0, 6.0, 0.0) == 1.0


# --- the report's stated positions (issue 20): board handling, location fights, credible hosts --------
def test_a_board_costs_every_council_handling_per_sector_and_other_forms_nothing():
    assert mech.board_handling(P, BOARD, 1) > 0
    assert mech.board_handling(P, BOARD, 3) == pytest.approx(3 * mech.board_handling(P, BOARD, 1))
    assert mech.board_handling(P, ADMIN, 3) == mech.board_handling(P, NET, 3) == 0


def test_a_location_fight_needs_two_claims_and_grows_with_claims_and_sectors():
    assert mech.location_fight(P, 3, 0, 3) == mech.location_fight(P, 3, 1, 3) == 0
    assert 0 < mech.location_fight(P, 1, 2, 3) < mech.location_fight(P, 1, 3, 3) < mech.location_fight(P, 3, 3, 3)
    assert mech.location_fight(replace(P, location_fight_cost=0.0), 3, 3, 3) == 0


def test_a_credible_host_is_not_far_smaller_than_the_largest_member():
    pops = {"a": 20000.0, "b": 4000.0, "c": 6000.0}
    assert mech.credible_hosts(replace(P, host_min_share=0.0, host_min_of_largest=0.25), pops) == ["a", "c"]
    assert mech.credible_hosts(replace(P, host_min_share=0.0, host_min_of_largest=0.0), pops) == ["a", "b", "c"]


def test_a_council_keeps_the_host_it_decided_while_that_host_is_on_offer():
    assert mech.kept_host("b", "a", ["a", "b"]) == "b"
    assert mech.kept_host("b", "a", ["a"]) == "a"
    assert mech.kept_host(None, "a", ["a", "b"]) == "a"


def test_members_that_all_claim_the_host_price_the_fight_into_every_joint_office():
    m, without = model("fosen"), model("fosen", location_fight_cost=0.0)
    names = tuple(m.scenario.names)
    for form in (ADMIN, BOARD):
        option = Option((PLAN, ENV, AGRI), form, names[0], names)
        assert all(values(m, option)[n] < values(without, option)[n] for n in names)


def test_timing_rules_stated_durations_meetings_deadline_and_further_study():
    # a stated phase takes its stated length at the historical levers; less funding or more reform stretch it
    assert mech.stated_speed(P, True, 0.7) == pytest.approx(1.0)
    assert mech.stated_speed(P, False, 0.7) < 1.0
    assert mech.stated_speed(replace(P, reform_intensity=0.0), True, 0.7) > 1.0
    # no council meets in July (month count year * 12 + month - 1)
    assert not mech.council_meets(2016 * 12 + 6) and mech.council_meets(2016 * 12 + 7)
    # the deadline postpones only an agreement among members in talks, from the reform's start to its deadline
    start, deadline = 2014 * 12 + 5, 2016 * 12 + 5
    assert mech.reform_postpones(P, deadline - 2, start, deadline, True, True)
    assert not mech.reform_postpones(P, deadline + 1, start, deadline, True, True)
    assert not mech.reform_postpones(P, deadline - 2, start, deadline, False, True)
    assert not mech.reform_postpones(P, deadline - 2, start, deadline, True, False)
    assert not mech.reform_postpones(replace(P, reform_intensity=0.0), deadline - 2, start, deadline, True, True)
    # a governance model is contested when some member prefers another form for the same sectors and host
    assert mech.governance_contested("board_host", ["board_host", "admin_host"])
    assert not mech.governance_contested("admin_host", ["admin_host", "admin_host"])


def _events(m, kind):
    return [e for e in m.events if e.kind == kind]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_deadline_puts_the_host_agreement_off_and_councils_skip_july(seed):
    m = CooperationModel("fjellregionen", rng=seed).run()
    sc = m.scenario
    put_off, votes = _events(m, "postponed"), _events(m, "vote")
    assert all(sc.reform_start <= e.month <= sc.reform_deadline for e in put_off)
    assert all(e.month % 12 != 6 for e in votes)
    if put_off:  # the final vote waits for a council round after the deadline
        assert max(e.month for e in votes) > sc.reform_deadline
    quiet = CooperationModel("fjellregionen", rng=seed, reform_intensity=0.0).run()
    assert not _events(quiet, "postponed")


@pytest.mark.parametrize("seed", [1, 2])
def test_the_regional_council_orders_one_further_study_of_a_contested_board(seed):
    m = CooperationModel("vaernesregionen", rng=seed).run()
    proposal, study, vote = _events(m, "proposal")[0], _events(m, "revision")[0], _events(m, "vote")[0]
    assert proposal.month < study.month < vote.month and study.form == "board_host" == vote.form
    assert m.scenario.regions[0].study_months is not None
    # a stated phase length is the pilot's own estimate: moving it within its range moves the proposal
    late = load_scenario("vaernesregionen", estimates={"region.pre_project_months": 11.0})
    assert "region.pre_project_months" in m.scenario.estimates
    assert _events(CooperationModel(late, rng=seed).run(), "proposal")[0].month >= proposal.month


def test_stated_durations_belong_to_the_pilot_not_to_a_county_area_built_from_it():
    pilot = load_scenario("fjellregionen").regions[0]
    assert pilot.pre_project_months == 24.0 and pilot.main_project_months == 13.0
    county = load_scenario("trondelag")
    assert all(a.facts.pre_project_months is None and a.facts.study_months is None for a in county.areas)
    assert any(r.pre_project_months is not None for r in county.regions)  # the pilots themselves keep theirs


def test_a_network_lowers_vulnerability_little_while_competence_rises():
    """§2.3 l.2686-2691, §3.3 l.2819-2823: individual competence, but the own small team still covers."""
    own, others = 1.5, 6.0
    start = mech.team_competence(P, own)
    learnt = mech.network_ceiling(P, start, mech.team_competence(P, own + others))
    team = mech.network_team(P, own, others, 1.0)
    before = mech.vulnerability(P, own, start)
    with_learning = mech.vulnerability(P, team, learnt)
    after = mech.vulnerability(P, team, mech.cover_competence(P, learnt, team))
    assert learnt > start
    assert after < before
    assert (before - after) / before < 0.1 < (before - with_learning) / before
    assert mech.cover_competence(P, 0.2, 50.0) == 0.2  # never more than the learnt competence


def test_a_lost_host_claim_does_not_count_against_the_others_majority():
    """§2.1 l.1056-1062: Tolga named itself, lost, left; the three others went on."""
    assert mech.named_host_quorum(4, 0) == 3
    assert mech.named_host_quorum(4, 1) == 2
    assert mech.named_host_quorum(4, 2) == 2  # two claimants lose: the other two may still go on
    assert mech.named_host_quorum(3, 2) == 2  # never fewer than two


def test_a_more_valuable_host_role_keeps_the_office():
    """A second claim to host (more hosting value) does not make the agenda abandon the office (§2.1)."""
    m = model("fjellregionen", hosting_value=P.hosting_value * 1.2)
    region = m.project.region
    names = tuple(region.facts.members)
    office = Option((AGRI,), ADMIN, "Os", names)
    setter = AgendaSetter(m, region, "external", 0.5)
    rows = option_rows(m, region, [office])
    assert (rows["loss"] > 0).sum() == 1  # only Tolga names itself: Holtålen's margin is within its noise
    assert setter.viable_chance(office) > 0.5


def test_a_council_names_itself_as_host_only_by_a_margin_beyond_its_judgement_noise():
    # §2.1: the claimant held a strong preference; a difference within the noise is no claim
    assert mech.claim_margin(P) == P.vote_noise > 0
    near, clear = 0, 0  # councils that value hosting a little more / much more than the best other host
    for factor in (1.0, 1.1, 1.2, 1.3, 1.4, 1.6):
        m = CooperationModel("fjellregionen", rng=1, hosting_value=P.hosting_value * factor)
        region = m.project.region
        members = tuple(region.facts.members)
        option = Option((AGRI,), ADMIN, None, members)
        hosts = region.eligible_hosts(members)
        table = option_rows(m, region, [option._replace(host=h) for h in hosts])["council"]
        for i, name in enumerate(members):
            if name not in hosts:
                continue
            own = table[hosts.index(name), i]
            best_other = max(v for h, v in zip(hosts, table[:, i], strict=True) if h != name)
            named = region.agents[name].preferred_host(option, region, hosts)
            if 0 < own - best_other < P.vote_noise:
                near += 1
                assert named != name, (factor, name)
            elif own - best_other > P.vote_noise and own > 0:
                clear += 1
                assert named == name, (factor, name)
    assert near and clear  # both cases occur, so the test can fail either way


def test_a_weak_host_claim_beside_clear_ones_is_no_location_fight():
    # §2.1: a weak claimant names a clear candidate; §2.3: near-equal claims without a clear case are feared
    noise = P.vote_noise
    assert mech.contesting_claims(P, [2 * noise, 3 * noise, 0.5 * noise]) == 2
    assert mech.contesting_claims(P, [0.5 * noise, 0.3 * noise]) == 2
    assert mech.contesting_claims(P, [2 * noise]) == 1
    assert mech.contesting_claims(P, []) == 0
