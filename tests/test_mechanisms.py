"""Each mechanism moves in the direction the report describes."""


import pytest

from sim import mechanisms as mech
from sim.agents import Option
from sim.model import CooperationModel
from sim.scenario import load_scenario

P = load_scenario("fjellregionen").params


def model(case="vaernesregionen", **kw):
    return CooperationModel(case, rng=1, **kw)


def test_planning_sensitivity_lowers_acceptance_of_a_bundle_with_planning():
    low, high = model(sensitivity_planning=1.0), model(sensitivity_planning=4.0)
    names = tuple(low.scenario.names)
    partner = names[2]
    bundle = Option((0, 1, 2), "admin_host", names[0], names)
    assert high.municipality(partner).utility(bundle) < low.municipality(partner).utility(bundle)
    without = Option((1, 2), "admin_host", names[0], names)
    assert high.municipality(partner).utility(without) == pytest.approx(
        low.municipality(partner).utility(without))


def test_much_larger_host_values_the_board_more_than_its_partners():
    m = model()
    names = tuple(m.scenario.names)  # first = the largest member
    board = Option((0, 1, 2), "board_host", names[0], names)
    admin = board._replace(form="admin_host")
    host_gain = m.municipality(names[0]).own_utility(board) - m.municipality(names[0]).own_utility(admin)
    for partner in names[1:]:
        mp = m.municipality(partner)
        assert host_gain > mp.own_utility(board) - mp.own_utility(admin)
    assert host_gain > 0


def test_board_loss_grows_as_partner_shrinks_and_admin_loss_as_partner_grows():
    assert mech.partner_control_loss(P, "board_host", -2.0, 1.0) > mech.partner_control_loss(P, "board_host", -0.5, 1.0)
    assert mech.partner_control_loss(P, "admin_host", 2.0, 1.0) > mech.partner_control_loss(P, "admin_host", 0.5, 1.0)
    assert mech.partner_control_loss(P, "network", 2.0, 1.0) == 0


def test_member_not_chosen_as_host_may_exit_when_hosting_matters_enough():
    """The smallest member claims the host; the more a lost claim weighs, the more often it leaves."""
    def exits(loss_aversion):
        count = 0
        for seed in range(30):
            m = CooperationModel("fjellregionen", rng=seed, loss_aversion=loss_aversion,
                                 political_readiness_start=0.9)
            names = tuple(m.scenario.names)
            smallest = min(names, key=lambda n: m.municipality(n).population)
            host = min(names, key=lambda n: sum(m.scenario.distance(n, o) for o in names))  # most central
            m.project.option = Option((2,), "admin_host", host, names)
            m.project.phase = "council_vote"
            m.project.vote()
            assert m.project.votes[-1].preferred_host[smallest] == smallest  # it claims
            count += smallest in m.project.votes[-1].exits
        return count

    assert exits(0.0) == 0
    assert exits(2.0) > exits(1.0) > 0


def test_side_payment_goes_to_the_claimant_adding_most_staff():
    m = CooperationModel("fjellregionen", rng=1, political_readiness_start=0.9)
    names = tuple(m.scenario.names)
    host = min(names, key=lambda n: sum(m.scenario.distance(n, o) for o in names))
    option = Option((2,), "admin_host", host, names)
    util = dict.fromkeys(names, -0.2)
    loss = {n: (1.0 if n not in (host, names[0]) else 0.0) for n in names}
    chosen = m.project.offer_side_payment(option, util, loss)
    claimants = [n for n in names if loss[n] > 0]
    assert chosen == max(claimants, key=lambda n: m.municipality(n).staff[2])
    assert util[chosen] > 0 and all(util[n] == -0.2 for n in names if n != chosen)
    assert CooperationModel("fjellregionen", rng=1, side_payments=False).project.offer_side_payment(
        option, dict.fromkeys(names, -0.2), loss) is None


def test_hosting_gain_is_a_bigger_side_payment_for_a_small_municipality():
    assert mech.hosting_gain(P, 3.0, 1500) > mech.hosting_gain(P, 3.0, 6000)


def test_fear_of_centralisation_grows_with_jobs_moved_and_distance():
    assert mech.centralisation_fear(P, 2.0, 2000, 0) > mech.centralisation_fear(P, 1.0, 2000, 0)
    assert mech.centralisation_fear(P, 1.0, 2000, 50) > mech.centralisation_fear(P, 1.0, 2000, 10)


def test_political_maturation_needs_involvement():
    assert mech.political_maturation(P, 0.4, 1.0, 1.0) > mech.political_maturation(P, 0.4, 0.1, 1.0) > 0.4
    assert mech.political_maturation(P, 0.4, 0.0, 1.0) == 0.4


def test_belief_moves_to_the_council_with_anchoring():
    assert mech.believed_utility(2.0, -1.0, 0.0) == 2.0
    assert mech.believed_utility(2.0, -1.0, 1.0) == -1.0


def test_reform_drains_attention_until_after_the_deadline():
    start, deadline = 2014 * 12 + 5, 2016 * 12 + 5
    loads = [mech.reform_load(t, start, deadline, 3) for t in (start - 1, start + 6, deadline, deadline + 6)]
    assert loads[0] == 0 and loads[1] < loads[2] and loads[3] == 0
    assert mech.attention(P, 1.0) < mech.attention(P, 0.2) < 1.0
    assert mech.attention({**P, "reform_intensity": 0.0}, 1.0) == 1.0


def test_competing_track_and_failed_talks():
    assert mech.competing_track(P, True) > mech.competing_track(P, False) == 0
    assert mech.failed_talks_trust(P, 0.6) < 0.6


def test_pilot_funds_speed_up_and_oblige():
    assert mech.catalyst_speed(P, True) > mech.catalyst_speed(P, False) == 1.0
    assert mech.revision_rounds(P, True) >= mech.revision_rounds(P, False)


def test_history_builds_trust_and_a_failed_attempt_blocks_formal_only():
    assert mech.initial_trust(P, 0.9, 2) > mech.initial_trust(P, 0.9, 0) > mech.initial_trust(P, 0.0, 0)
    m = model("fosen")
    names = tuple(m.scenario.names)
    agri_formal = Option((2,), "admin_host", names[0], names)
    agri_network = Option((2,), "network", None, names)
    clean = model("fosen", failed_attempt_penalty=0.0)
    assert m.municipality(names[1]).utility(agri_formal) < clean.municipality(names[1]).utility(agri_formal)
    assert m.municipality(names[1]).utility(agri_network) == clean.municipality(names[1]).utility(agri_network)


def test_network_builds_competence_not_capacity_and_needs_a_coordinator():
    c = mech.network_month(P, 0.4, 0.6, 1.0)
    assert c > 0.4 and mech.network_month(P, 0.4, 0.6, 0.0) == 0.4
    assert mech.network_activity(P, 1.0, False) < 1.0 == mech.network_activity(P, 0.3, True)
    assert mech.network_team(P, 2.0, 6.0, 1.0) - 2.0 < 0.5


def test_formal_office_pools_staff_gradually():
    assert mech.integration_month(P, 0.0) == pytest.approx(1 / P["integration_months"])
    assert mech.vulnerability(P, 6.0, 0.6) < mech.vulnerability(P, 2.0, 0.6) < mech.vulnerability(P, 1.0, 0.6) == 1.0
    assert mech.team_competence(P, 6.0) > mech.team_competence(P, 1.5)
    assert mech.pooled_capacity(P, 6.0, 6.0, 1.0) > mech.pooled_capacity(P, 6.0, 6.0, 0.0) == 1.0
