"""The forecast origin (issue 21): decided mergers, dissolving arrangements, self-started negotiations, the forecast."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.forecast import COUNTY, run_forecast
from sim.core.model import CooperationModel
from sim.inputs.calendar import month_index
from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.run.execution import SERIAL, Execution

SECTORS = ("planning", "environment", "agriculture")


@pytest.fixture(scope="module")
def origin():
    return load_scenario("trondelag-2017")


def _step_to(model: CooperationModel, label: str) -> CooperationModel:
    month = month_index(label, "test", "month")
    while model.month <= month:
        model.step()
    return model


def _arrangement(model: CooperationModel, name: str):
    return next(a for a in model.arrangements if a.region == name)


# --- the origin ----------------------------------------------------------------------------------
def test_origin_starts_in_2017_with_the_state_of_the_county(origin):
    assert origin.start == month_index("2017-01", "t", "k") and origin.horizon >= month_index("2022-12", "t", "k")
    assert origin.regions == ()  # the pilots are over: their outcomes are facts
    names = {ex.name for ex in origin.existing}
    assert {"Fjellregionen landbruk", "Fosen kompetansenettverk", "Innherred samkommune"} <= names
    assert {"Midtre Namdal samkommune", "Orkla Landbruk", "Ørland-Bjugn landbruk", "Plankontoret"} <= names
    # the reform's decided mergers among the scenario's municipalities: Indre Fosen 2018, eight from 2020
    years = sorted(m.month // 12 for m in origin.mergers)
    assert years == [2018] + [2020] * 8
    assert ("Rissa", "Leksvik") == next(m.members for m in origin.mergers if m.month // 12 == 2018)
    # a samkommune split by the neighbour rule is placed in one area (Namdalseid joins Namsos's)
    area_of = {m: a.name for a in origin.areas for m in a.members}
    assert area_of["Namdalseid"] == area_of["Namsos"] == area_of["Overhalla"]


def test_the_2013_county_is_not_a_forecast():
    county = load_scenario("trondelag")
    assert county.mergers == () and county.self_start is None and len(county.regions) == 3


# --- mergers ---------------------------------------------------------------------------------------
def test_a_merger_merges_staff_population_arrangements_and_memberships(origin):
    model = CooperationModel(origin, rng=1)
    rissa, leksvik = model.municipality("Rissa"), model.municipality("Leksvik")
    staff = tuple(a + b for a, b in zip(rissa.staff, leksvik.staff, strict=True))
    people = rissa.population + leksvik.population
    # a negotiation running at the merger: Rissa's place is taken by the merged municipality
    area = next(a for a in origin.areas if "Leksvik" in a.members)
    facts = replace(area.facts, name="test talks", members=("Leksvik", "Osen"), leader="Leksvik", sectors=(1,))
    project = model.open_negotiation(facts)
    _step_to(model, "2018-01")
    assert model.merged_into == {"Leksvik": "Rissa"}
    assert rissa.staff == pytest.approx(staff) and rissa.population == pytest.approx(people)
    assert not any("Leksvik" in a.members for a in model.arrangements if a.ended is None)
    assert leksvik.arrangement == rissa.arrangement  # shown as the merged municipality's (outputs only)
    network = _arrangement(model, "Fosen kompetansenettverk")
    assert network.ended is None and set(network.members) == {"Rissa", "Åfjord"}
    assert all(rissa.arrangement[s] is network for s in range(3))
    if project.active:
        assert "Leksvik" not in project.members and "Rissa" in project.members
        assert project.agenda.leader == "Rissa"
    # absorbed rows of the history mirror the merged municipality
    t = model.month - 1 - origin.start
    i, j = origin.index["Rissa"], origin.index["Leksvik"]
    assert (model.history[t, i] == model.history[t, j]).all()


def test_an_arrangement_whose_members_all_merge_becomes_own_service_and_one_that_loses_members_goes_on(origin):
    model = _step_to(CooperationModel(origin, rng=2), "2020-01")
    for name, owner in (("Ørland-Bjugn landbruk", "Ørland"), ("Orkla Landbruk", "Orkdal")):
        arr = _arrangement(model, name)
        assert arr.ended == month_index("2020-01", "t", "k")
        assert model.municipality(owner).arrangement[2] is None
    samkommune = _arrangement(model, "Midtre Namdal samkommune")
    assert samkommune.ended is None and set(samkommune.members) == {"Namsos", "Overhalla"}
    assert model.merged_into["Fosnes"] == model.merged_into["Namdalseid"] == "Namsos"


def test_a_dissolving_arrangement_frees_its_members(origin):
    model = CooperationModel(origin, rng=3)
    innherred = _arrangement(model, "Innherred samkommune")
    _step_to(model, "2017-12")
    assert innherred.ended is None
    assert model.municipality("Levanger").arrangement[2] is innherred
    _step_to(model, "2018-01")
    assert innherred.ended == month_index("2018-01", "t", "k")
    for name in ("Levanger", "Verdal"):
        assert all(a is None for a in model.municipality(name).arrangement)


# --- self-started negotiations ---------------------------------------------------------------------
def _check_one_per_sector(model: CooperationModel) -> None:
    seen = set()
    for project in model.negotiations:
        if not project.active:
            continue
        for m in project.members:
            for s in project.region.facts.sectors:
                assert (m, s) not in seen, f"{m} negotiates {SECTORS[s]} twice in {model.month}"
                seen.add((m, s))
        assert not set(project.members) & set(model.merged_into), "a merged-away municipality negotiates"


@pytest.mark.parametrize("levers", [{}, {"county_initiative": True}, {"mandatory_host.agriculture": True}])
def test_at_most_one_negotiation_per_sector_per_municipality(origin, levers):
    started = 0
    for seed in range(3):
        model = CooperationModel(origin.with_overrides(levers) if levers else origin, rng=seed)
        while model.running:
            model.step()
            _check_one_per_sector(model)
        started += sum("started by" in n.region.name for n in model.negotiations)
    assert started > 0  # municipalities do start on their own


def test_self_starts_come_from_vulnerability_not_a_list(origin):
    """Without self-start hazard nothing starts; a higher rate starts more (the mechanism, not a schedule)."""

    def starts(rate: float) -> int:
        sc = replace(origin, self_start=replace(origin.self_start, rate=rate))
        return sum(
            sum("started by" in n.region.name for n in CooperationModel(sc, rng=seed).run().negotiations)
            for seed in range(4)
        )

    assert starts(0.0) == 0
    assert starts(0.05) > starts(0.0096)


def test_forecast_is_bit_identical_across_worker_counts():
    one = run_forecast(replicates=4, execution=SERIAL, levers={"initiative": {"county_initiative": True}})
    two = run_forecast(
        replicates=4, execution=Execution(workers=2, progress=False), levers={"initiative": {"county_initiative": True}}
    )
    pd.testing.assert_frame_equal(one["rows"], two["rows"])
    pd.testing.assert_frame_equal(one["table"], two["table"])
    pd.testing.assert_frame_equal(one["levers"], two["levers"])
    assert set(one["table"]["area"]) == {a.name for a in one["scenario"].areas} | {COUNTY}
    for y in one["years"]:
        assert (
            (one["table"][f"p_office_agriculture_{y}"] >= 0) & (one["table"][f"p_office_agriculture_{y}"] <= 1)
        ).all()


def test_a_missing_merger_table_is_named(tmp_path: Path):
    text = Path("scenarios/trondelag-2017.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("data/mergers-2016-2020.csv", "data/none.csv"), encoding="utf-8")
    with pytest.raises(InputError, match="county.mergers"):
        load_scenario(bad)


def test_forecast_command_writes_tables_map_and_levers(tmp_path: Path, capsys):
    from sim.cli import main

    out = tmp_path / "f"
    args = ["forecast", "--replicates", "3", "--workers", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--lever", "initiative:county_initiative=true"]) == 0
    for name in ("forecast.csv", "forecast.md", "groups.csv", "levers.csv", "lever_areas.csv", "forecast_map.png"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "forecast.csv")
    assert {"p_new_office_agriculture_2020", "p_office_agriculture_2022", "p_nothing", "why_nothing"} <= set(table)
    assert "Nothing happens" in capsys.readouterr().out
    assert main([*args, "--force", "--lever", "bad:no_such_lever=1"]) == 2
    assert main(["forecast", "fosen", "--replicates", "2", "--out", str(tmp_path / "g")]) == 2
    assert not (tmp_path / "g").exists()


def test_a_merged_away_municipality_is_offered_no_initiative(origin):
    model = _step_to(CooperationModel(origin.with_overrides({"county_initiative": True}), rng=4), "2020-01")
    before = len(model.negotiations)
    model.governor.offered.clear()  # a new round of the initiative after the 2020 mergers
    model.governor.launch_initiative()
    opened = model.negotiations[before:]
    assert opened and not {m for n in opened for m in n.members} & set(model.merged_into)


def test_where_names_only_areas_whose_interval_excludes_zero():
    import pandas as pd

    from sim.analysis.forecast import where

    areas = pd.DataFrame(
        [
            {
                "variant_name": "a",
                "area": "North",
                "difference": 0.2,
                "ci_low": 0.1,
                "ci_high": 0.3,
                "forecast": 0.1,
                "variant": 0.3,
            },
            {
                "variant_name": "a",
                "area": "South",
                "difference": 0.05,
                "ci_low": -0.02,
                "ci_high": 0.1,
                "forecast": 0.1,
                "variant": 0.15,
            },
            {
                "variant_name": "a",
                "area": "West",
                "difference": -0.4,
                "ci_low": -0.5,
                "ci_high": -0.3,
                "forecast": 0.5,
                "variant": 0.1,
            },
            {
                "variant_name": "b",
                "area": "North",
                "difference": 0.0,
                "ci_low": -0.1,
                "ci_high": 0.1,
                "forecast": 0.1,
                "variant": 0.1,
            },
        ]
    )
    text = where(areas, "a")
    assert text.startswith("West -40 points") and "North +20 points" in text and "South" not in text
    assert "every interval includes 0" in where(areas, "b")
