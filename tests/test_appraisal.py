"""The month's appraisal of options (sim.core.valuation): the tables of every option equal one option at a time."""

import pytest

from sim import CooperationModel
from sim.core import mechanisms as mech
from sim.core.valuation import _build, appraise, own_value


def one_at_a_time(model, region, option, name):
    """A member's parts from a table of this option alone, and its values from the rules, member by member."""
    p = model.p
    host = option.host or option.members[0]  # a hostless form ignores its host column
    alone = _build(model, region, option.members, [option.sectors], [host], 0, (option.form.index,))
    table = alone[option.form.index]

    def parts(m):
        i = option.members.index(m)
        return tuple(float(x[0, 0, i]) for x in (table.gains, table.control, table.access, table.other))

    a = region.agents[name]
    values = []
    for admin in (False, True):
        seen = 1.0 if admin else a.readiness
        partners = [(a.trust[o], seen * parts(o)[0] - parts(o)[2]) for o in option.members if o != name]
        values.append(own_value(p, a.readiness, parts(name), admin) + mech.regional_perspective(p, partners))
    return parts(name), values


def with_fight(model, region, option, name):
    """``one_at_a_time`` less the location fight of the option's group (``mechanisms.location_fight``, §2.3)."""
    parts, values = one_at_a_time(model, region, option, name)
    if not option.form.needs_host or option.form.merges:
        return parts, values
    credible = region.eligible_hosts(option.members)
    margins = []  # each claimant's margin of hosting itself over its best other candidate
    for m in credible:
        mine = {h: one_at_a_time(model, region, option._replace(host=h), m)[1][0] for h in credible}
        margin = mine[m] - max((v for h, v in mine.items() if h != m), default=float("-inf"))
        if mine[m] > 0 and margin > 0:
            margins.append(margin)
    claims = mech.contesting_claims(model.p, margins)
    fight = mech.location_fight(model.p, len(option.sectors), claims, len(option.members))
    return (*parts[:3], parts[3] - fight), [v - fight for v in values]


@pytest.mark.parametrize("case", ["vaernesregionen", "fjellregionen", "fosen"])
def test_group_appraisal_equals_member_by_member(case):
    model = CooperationModel(case, rng=3)
    for _ in range(6):
        model.step()
    project = model.project
    options = project.agenda.options(project.members)
    assert options
    for option in options:
        seen = appraise(model, project.region, option)
        for name in option.members:
            parts, (council, administration) = with_fight(model, project.region, option, name)
            assert seen.parts[name] == pytest.approx(parts, rel=1e-12, abs=1e-12)
            assert seen.council[name] == pytest.approx(council, rel=1e-12, abs=1e-12)
            assert seen.administration[name] == pytest.approx(administration, rel=1e-12, abs=1e-12)


def test_strained_trust_is_seen_in_the_same_month():
    """A failed vote clears the month's appraisals: values after it use the strained trust."""
    from sim.core import ballot
    from sim.core.records import Vote
    from sim.inputs.vocab import Stage

    model = CooperationModel("vaernesregionen", rng=3)
    project = model.project
    option = project.agenda.options(project.members)[0]
    a, b = option.members[:2]
    before = appraise(model, project.region, option).council[a]
    yes = {m: m != b for m in option.members}
    vote = Vote(1, model.month, option, Stage.FIRST, yes, {}, {}, {}, {}, frozenset())
    ballot.strain_trust(model.p, project.region, vote)
    assert appraise(model, project.region, option).council[a] != before
