"""The §4 levers as policy objects (sim.core.policies) and the region/county strategy (sim.core.kinds)."""

from __future__ import annotations

import pytest

from sim.core import policies
from sim.core.kinds import KINDS
from sim.core.model import CooperationModel
from sim.inputs.loader import load_scenario
from sim.inputs.params import COUNTY_LEVERS, load_defaults


def test_every_county_lever_key_has_exactly_one_policy():
    owners = {key: [name for name, cls in policies.REGISTRY.items() if key in cls.keys] for key in COUNTY_LEVERS}
    assert all(len(names) == 1 for names in owners.values()), owners


def test_every_policy_key_is_a_parameter_and_every_policy_documents_its_section():
    keys = load_defaults().as_dict()
    for name, cls in policies.REGISTRY.items():
        assert cls.name == name and cls.keys, name
        assert all(k in keys or any(x.startswith(f"{k}.") for x in keys) for k in cls.keys), cls.keys
        assert "§4" in (cls.__doc__ or ""), name


def test_the_report_history_switches_no_policy_on():
    assert policies.active(load_defaults()) == ()


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"county_initiative": True}, "county_initiative"),
        ({"fixed_areas": True}, "fixed_areas"),
        ({"mandatory_host.agriculture": True}, "mandatory_host"),
        ({"allow.merger": True}, "merger_track"),
        ({"allow.board_host": False}, "no_board_form"),
    ],
)
def test_each_lever_switches_on_its_own_policy(overrides, name):
    p = load_scenario("trondelag", overrides).params
    assert [policy.name for policy in policies.active(p)] == [name]


def test_the_levers_take_effect_at_the_initiative_start():
    model = CooperationModel("trondelag", rng=3, county_initiative=True)
    assert model.policies == ()
    while model.month <= model.scenario.initiative.start:
        model.step()
    assert [policy.name for policy in model.policies] == ["county_initiative"]


def _state_decisions() -> int:
    model = CooperationModel("trondelag", rng=5, **{"mandatory_host.agriculture": True}).run()
    return sum(e.kind == "state_decision" for e in model.events)


def test_a_policys_hooks_change_the_run(monkeypatch):
    """Without the MandatoryHost policy the same parameters impose nothing (its hooks carry the lever)."""
    assert _state_decisions() > 0
    monkeypatch.setitem(policies.REGISTRY, "mandatory_host", _Off)
    assert _state_decisions() == 0


class _Off(policies.MandatoryHost):
    """A mandatory host (§4) that never switches on."""

    @classmethod
    def on(cls, p) -> bool:
        return False


def test_a_new_policy_is_one_class_at_a_named_hook(monkeypatch):
    """A lever written as one class acts through a hook without a core change (here: a grant in every valuation)."""

    class Grant(policies.Policy):
        """A what-if county grant for any joint office (§4)."""

        name = "test_grant"
        keys = ("area_grant",)

        @classmethod
        def on(cls, p) -> bool:
            return True

        def add_to_other(self, other, model, region, members):
            return other + 5.0

    before = CooperationModel("fosen", rng=2).run().arrangements
    monkeypatch.setitem(policies.REGISTRY, "test_grant", Grant)
    after = CooperationModel("fosen", rng=2).run().arrangements
    assert [a.form.name for a in before] != [a.form.name for a in after]


def test_each_scenario_kind_has_a_strategy():
    assert set(KINDS) == {"region", "county"}
    assert KINDS[load_scenario("fosen").kind].name == "region"
    assert KINDS[load_scenario("trondelag").kind].name == "county"
