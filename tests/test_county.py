"""County scenarios and the report's §4 levers: data, rules, outputs, and each lever's direction."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.validation import validate_county
from sim.cli import main
from sim.core import mechanisms as mech
from sim.core.model import CooperationModel
from sim.core.outcomes import area_rows, county_row, municipality_rows
from sim.inputs.loader import load_scenario
from sim.inputs.params import apply_overrides, load_defaults
from sim.run.execution import Execution
from sim.run.runner import Job, run_rows


@pytest.fixture(scope="module")
def county():
    return load_scenario("trondelag")


def _rows(name: str, overrides: dict, replicates: int) -> list[dict]:
    items = tuple(sorted(overrides.items()))
    jobs = [Job(r, name, r, 7, items) for r in range(replicates)]
    return run_rows(jobs, workers=1, progress=False)


def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


# --- data and rules -----------------------------------------------------------------------------
def test_trondelag_has_every_municipality_once_in_one_area(county):
    members = [m for a in county.areas for m in a.members]
    assert len(members) == len(set(members)) == len(county.municipalities)
    numbers = {m.name for m in county.municipalities}
    assert set(members) == numbers
    # 48 of Trøndelag plus the pilot's two Hedmark members, named as in the pilot file
    assert len(county.municipalities) == 50
    assert {"Os", "Tolga"} <= numbers


def test_pilots_keep_their_facts_inside_the_county(county):
    for stem, facts in zip(county.pilot_files, county.regions, strict=True):
        pilot = load_scenario(stem)
        assert facts.members == pilot.regions[0].members
        assert facts.leader == pilot.regions[0].leader
        assert facts.start == pilot.start and facts.funded_until == pilot.pilot_end
        own = {m.name: m for m in pilot.municipalities}
        inside = {m.name: m for m in county.municipalities}
        assert all(inside[n].staff == own[n].staff for n in own)
        area = next(a for a in county.areas if a.name == facts.area)
        assert set(facts.members) <= set(area.members)


def test_distances_are_computed_not_typed(county):
    d = county.distance("Trondheim", "Steinkjer")
    assert 110 < d < 160  # about 95 km great circle times the road factor 1.3
    assert county.distance("Os", "Røros") == pytest.approx(load_scenario("fjellregionen").distance("Os", "Røros"))


def test_assumed_areas_are_marked(county):
    assumed = {a.name for a in county.areas if a.assumed}
    assert assumed and all("rule" in a.source or "nearest" in a.source for a in county.areas if a.name in assumed)


# --- outputs ------------------------------------------------------------------------------------
def test_county_outputs_are_consistent(county):
    model = CooperationModel(county.with_overrides({"county_initiative": True}), rng=3).run()
    row, areas, munis = county_row(model), area_rows(model), municipality_rows(model)
    assert len(areas) == len(county.areas) and len(munis) == len(county.municipalities)
    for s in county.params.vocab.sector_names:
        formal = [m for m in munis if m[f"form_{s}"] in ("admin_host", "board_host")]
        assert row[f"covered_{s}"] == len(formal) == sum(a[f"covered_{s}"] for a in areas)
        assert row[f"residents_{s}"] == pytest.approx(sum(m["population"] for m in formal))
        assert 0 <= row[f"vulnerability_{s}_mean"] <= row[f"vulnerability_{s}_worst"] <= 1
    assert row["stalls"] == sum(a["stalls"] for a in areas)
    assert sum(json.loads(row["stall_causes"]).values()) == row["stalls"]
    assert row["negotiations"] > len(county.regions)  # the initiative opened more


def test_run_trondelag_writes_the_county_outputs_and_map(tmp_path, capsys):
    out = tmp_path / "county"
    assert main(["run", "trondelag", "--replicates", "3", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    for name in ("runs.csv", "areas.csv", "area_summary.csv", "municipalities.csv", "summary.csv"):
        assert (out / name).is_file(), name
    for stem in ("trondelag-map-agriculture", "trondelag-areas-agriculture"):
        assert (out / f"{stem}.png").is_file() and (out / f"{stem}.svg").is_file()
    areas = pd.read_csv(out / "area_summary.csv")
    assert len(areas) == 9 and areas["office_share_agriculture"].between(0, 1).all()
    assert "Joint agriculture offices" in capsys.readouterr().out


def test_norway_runs_with_the_same_outputs():
    sc = load_scenario("norway")
    assert len(sc.municipalities) == 425 and all(a.assumed for a in sc.areas if not set(a.members) & {"Os"})
    model = CooperationModel(sc.with_overrides({"county_initiative": True}), rng=1).run()
    row = county_row(model)
    assert all(math.isfinite(v) for v in row.values() if isinstance(v, float))
    assert np.isfinite(model.history).all()
    assert len(area_rows(model)) == len(sc.areas)


# --- the levers: mechanism and direction --------------------------------------------------------
def test_area_grant_only_for_the_whole_funded_area():
    p = apply_overrides(load_defaults(), {"fixed_areas": True, "area_grant": 0.5})
    assert mech.area_grant(p, True, True) == 0.5
    assert mech.area_grant(p, False, True) == 0 and mech.area_grant(p, True, False) == 0
    assert mech.area_grant(load_defaults(), True, True) == 0  # lever off


def test_mandated_below_the_size_in_a_required_sector():
    p = apply_overrides(load_defaults(), {"mandatory_host.agriculture": True, "mandatory_size": 30000})
    agri = p.vocab.sector_names.index("agriculture")
    plan = p.vocab.sector_names.index("planning")
    assert mech.mandated(p, [agri], 5000) and not mech.mandated(p, [agri], 40000)
    assert not mech.mandated(p, [plan], 5000)
    assert mech.state_host([("a", 10.0), ("b", 30.0), ("c", 20.0)]) == "b"


def test_board_form_allowed_is_the_host_model_in_law():
    p = apply_overrides(load_defaults(), {"board_form_allowed": False})
    assert not p.allow[p.vocab.form("board_host").index]


def test_county_initiative_adds_joint_offices():
    """The initiative opens a negotiation in every area; with the councils anchored (§3.4) offices follow.

    Alone it adds few (about +0.2 offices per run at 200 replicates): in most areas the natural
    host is large and the Værnes dispute (§2.2) recurs; that is a finding, reported in docs/ODD.md.
    """
    base = _rows("trondelag", {}, 20)
    ini = _rows("trondelag", {"county_initiative": True}, 20)
    assert _mean(ini, "negotiations") > _mean(base, "negotiations")
    assert _mean(ini, "covered_agriculture") >= _mean(base, "covered_agriculture")
    assert all(b["negotiations"] == len(load_scenario("trondelag").regions) for b in base)
    anchored = {"extra_political_involvement": 1.0}
    base = _rows("trondelag", anchored, 20)
    ini = _rows("trondelag", {**anchored, "county_initiative": True}, 20)
    assert _mean(ini, "offices_agriculture") >= _mean(base, "offices_agriculture") + 0.5


def test_fixed_areas_grant_enters_the_valuation_of_the_whole_area_only():
    """The grant raises a member's value of an option that keeps the whole negotiating area, not of a part."""
    values = {}
    for fixed in (False, True):
        sc = load_scenario("trondelag", {"county_initiative": True, "fixed_areas": fixed, "area_grant": 1.0})
        model = CooperationModel(sc, rng=4)
        while model.month <= sc.initiative.start:
            model.step()
        project = next(n for n in model.negotiations if n.region.facts.offices_only and len(n.members) >= 3)
        whole = project.agenda.options(project.members)[0]
        part = whole._replace(members=tuple(m for m in whole.members if m != whole.members[-1]))
        if part.host not in part.members:
            part = part._replace(host=part.members[0])
        name = whole.members[0]
        muni = project.region.agents[name]
        model.cache.clear()
        values[fixed] = (muni.own_value(whole, project.region), muni.own_value(part, project.region))
    assert values[True][0] - values[False][0] == pytest.approx(1.0)
    assert values[True][1] == pytest.approx(values[False][1])
    base = _rows("trondelag", {"county_initiative": True}, 40)
    fixed = _rows("trondelag", {"county_initiative": True, "fixed_areas": True, "area_grant": 2.0}, 40)
    assert _mean(fixed, "covered_agriculture") >= _mean(base, "covered_agriculture")


def test_mandatory_host_covers_the_small_municipalities():
    sc = load_scenario("trondelag", {"mandatory_host.agriculture": True})
    model = CooperationModel(sc, rng=5).run()
    small = [m for m in municipality_rows(model) if m["population"] < sc.params.mandatory_size]
    # the law takes effect in 2017 (the initiative's start): a pilot still negotiating then goes on
    # under it; a member left alone in its area by a pilot's arrangement has no one to negotiate with
    running = {m for n in model.negotiations if n.active for m in n.members}
    covered = [m["form_agriculture"] == "admin_host" or m["municipality"] in running for m in small]
    assert len(small) > 40 and sum(covered) >= len(small) - 1
    base = _rows("trondelag", {}, 10)
    mandatory = _rows("trondelag", {"mandatory_host.agriculture": True}, 10)
    assert _mean(mandatory, "vulnerability_agriculture_mean") < _mean(base, "vulnerability_agriculture_mean")


def test_a_compelled_council_cannot_veto_or_leave():
    sc = load_scenario("vaernesregionen", {"mandatory_host.agriculture": True, "mandatory_size": 100000})
    model = CooperationModel(sc, rng=1).run()
    votes = [v for n in model.negotiations for v in n.votes]
    for v in votes:
        assert not set(v.exits) & v.compelled
        if v.compelled and all(v.yes[m] for m in v.option.members if m not in v.compelled):
            assert v.passed
    agri = sc.params.vocab.sector_names.index("agriculture")
    assert all(model.municipality(m).arrangement[agri] is not None for m in sc.names)


def test_board_form_not_allowed_removes_the_board_proposals():
    rows = _rows("vaernesregionen", {"board_form_allowed": False}, 20)
    assert all(r["form_planning"] != "board_host" for r in rows)


@pytest.mark.slow
def test_pilot_stories_hold_inside_the_county():
    for overrides in ({}, {"county_initiative": True}):
        result = validate_county(
            "trondelag", replicates=100, execution=Execution(workers=2, progress=False), overrides=overrides
        )
        shares = {p["id"]: p["share"] for p in result["patterns"]}
        assert len(shares) == 3, shares
        assert all(s >= 0.6 for s in shares.values()), (overrides, shares)


# --- bad county files: one line naming the file and key, exit code 2 ---------------------------------
@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('counties = ["16", "17"]', 'counties = ["16", "x"]'), "county.counties"),
        (('areas = "councils"', 'areas = "nearest"'), "county.areas"),
        (('pilots = ["fjellregionen", "vaernesregionen", "fosen"]', 'pilots = ["fjellregion"]'), "county.pilots[0]"),
        (('areas = "councils"', 'areas = "councils"\nexclude = ["9999"]'), "county.exclude"),
        (('horizon = "2020-12"', 'horizon = "2012-12"'), "county.horizon"),
        (("months = 24", "months = 0"), "initiative.months"),
        (("months = 24", "months = 1.5"), "initiative.months"),
        (('areas = "councils"', 'areas = "councils"\narea_max_size = 2.7'), "county.area_max_size"),
        (('areas = "councils"', 'areas = "councils"\nexclude = [["1601"]]'), "county.exclude"),
        (('areas = "councils"', 'areas = "councils"\nexclude = ["1624"]'), "county.exclude"),
        (('pilots = ["fjellregionen", "vaernesregionen", "fosen"]', "pilots = [1]"), "county.pilots[0]"),
        (('pilots = ["fjellregionen", "vaernesregionen", "fosen"]', 'pilots = ["norway"]'), "county.pilots[0]"),
        (('counties = ["16", "17"]', 'counties = ["99"]'), "county.counties"),
        (('sectors = ["agriculture"]', "sectors = []"), "initiative.sectors"),
        (('sectors = ["agriculture"]', 'sectors = ["agriculture", "agriculture"]'), "initiative.sectors"),
        (('start = "2017-01"', 'start = "2030-01"'), "initiative.start"),
        (('host = "1719"', 'host = "9999"'), "arrangement[0].host"),
        (('host = "1719"', 'host = "1601"'), "arrangement[0].host"),
        (('until = "2017-12"', 'until = "2010-01"'), "arrangement[0].until"),
        (('sectors = ["planning", "agriculture"]', 'sectors = ["planning", "planning"]'), "arrangement[0].sectors"),
    ],
)
def test_bad_county_files(tmp_path, capsys, change, key):
    from sim.inputs.scenario import SCENARIO_DIR

    text = (SCENARIO_DIR / "trondelag.toml").read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--replicates", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and key in err[0] and "Traceback" not in err[0]
    assert not out.exists()


def test_merger_track_puts_merger_beside_the_host_forms():
    """The kommuneblokk (§4.3): every area negotiates on every sector, merger on the agenda; the grant draws mergers."""
    easy = {"merger_grant": 3.0, "merger_identity_cost": 0.0, "control_share.merger": 0.5}
    off = _rows("trondelag", easy, 10)
    on = _rows("trondelag", {**easy, "merger_track": True}, 10)
    no_grant = _rows("trondelag", {**easy, "merger_track": True, "merger_grant": 0.0}, 10)
    assert _mean(off, "merged") == 0
    assert _mean(on, "merged") > _mean(no_grant, "merged")
    assert _mean(on, "negotiations") > _mean(off, "negotiations")
    p = apply_overrides(load_defaults(), {"merger_track": True})
    assert mech.two_track(p) and not mech.two_track(load_defaults())
    assert mech.merger_terms(p, p.merger_size) == pytest.approx(p.merger_grant - p.merger_identity_cost)
    assert mech.merger_terms(p, p.merger_size - 1) == pytest.approx(-p.merger_identity_cost)


def test_smaller_initiative_offices_form_more_often():
    """§4.4: an office in every 'delregion'; areas split into groups of neighbours form more offices."""
    whole = _rows("trondelag", {"county_initiative": True}, 20)
    split = _rows("trondelag", {"county_initiative": True, "initiative_office_size": 3}, 20)
    assert _mean(split, "offices_agriculture") > _mean(whole, "offices_agriculture") + 0.5
    assert _mean(split, "negotiations") > _mean(whole, "negotiations")


def test_levers_in_sweeps_sensitivity_and_discovery(tmp_path, capsys):
    """A county lever is an ordinary parameter for sweep, sensitivity (with fixed --set) and discover."""
    sweep = tmp_path / "sweep"
    args = ["--samples", "6", "--replicates", "2", "--workers", "1", "--quiet"]
    assert main(["sweep", "trondelag", "--param", "area_grant=0:1", "--set", "county_initiative=true",
                 "--set", "fixed_areas=true", *args, "--out", str(sweep)]) == 0  # fmt: skip
    rows = pd.read_csv(sweep / "runs.csv")
    assert {"area_grant", "covered_agriculture", "stalls"} <= set(rows.columns) and len(rows) == 12
    # a tiny sweep: the library's resampling may meet a constant outcome; the report says so, no traceback
    assert main(["discover", str(sweep), "--outcome", "covered_agriculture >= 3"]) in (0, 2)
    out = tmp_path / "indices"
    assert main(["sensitivity", "trondelag", "--param", "initiative_office_size=2:9", "--set",
                 "county_initiative=true", "--samples", "4", "--replicates", "1", "--workers", "1",
                 "--quiet", "--out", str(out)]) == 0  # fmt: skip
    indices = pd.read_csv(out / "indices.csv")
    assert "covered_agriculture" in set(indices["outcome"])
    assert "Traceback" not in capsys.readouterr().err


def test_an_existing_arrangement_runs_until_its_end(county):
    """Innherred samkommune (a fact of the county file) serves its members until 2017, then ends."""
    ex = county.existing[0]
    model = CooperationModel(county, rng=2)
    agri = county.params.vocab.sector_names.index("agriculture")
    assert all(model.municipality(m).arrangement[agri] is not None for m in ex.members)
    model.run()
    ends = [e for e in model.events if e.kind == "arrangement_end"]
    assert len(ends) == 1 and ends[0].month == ex.until + 1
    assert all(model.municipality(m).arrangement[agri] is None for m in ex.members)
    first = model.history[0, [county.index[m] for m in ex.members], agri, 2]
    last = model.history[-1, [county.index[m] for m in ex.members], agri, 2]
    assert (last > first).all()  # back to their own office: more vulnerable


def test_validate_county_from_the_command_line(capsys):
    assert main(["validate", "--county", "trondelag", "--replicates", "4", "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "pilot stories inside Trøndelag" in out and "vaernesregionen.story" in out
    assert main(["validate", "--county", "fosen", "--replicates", "2", "--quiet"]) == 2
    assert main(["validate", "--county", "trondelag", "--null", "coin_votes", "--quiet"]) == 2
    assert "cannot be combined with --null" in capsys.readouterr().err


def test_the_state_never_replaces_an_office_in_force():
    """A state decision covers members without a formal arrangement; an office in force stays (§4)."""
    from sim.core.records import Arrangement

    sc = load_scenario("trondelag", {"mandatory_host.agriculture": True})
    model = CooperationModel(sc, rng=1)
    while model.month <= sc.initiative.start:
        model.step()
    project = next(n for n in model.negotiations if n.region.facts.offices_only and len(n.members) >= 4)
    agri = sc.params.vocab.sector_names.index("agriculture")
    kept = tuple(sorted(project.members, key=lambda m: model.municipality(m).population)[:2])  # already an office
    office = Arrangement(sc.params.vocab.form("admin_host"), (agri,), kept, kept[0], model.month, model.month,
                         "an earlier office", {agri: project.region.pool(kept, agri)})  # fmt: skip
    model.region_facts["an earlier office"] = project.region.facts
    model.add_arrangement(office)
    project.impose()
    assert all(model.municipality(m).arrangement[agri] is office for m in kept)
    assert office.ended is None
    decided = [e for e in model.events if e.kind == "state_decision"]
    assert decided and not set(decided[-1].members) & set(kept)


def test_a_county_cannot_be_its_own_pilot_nor_overlap_arrangements(tmp_path, capsys):
    from sim.inputs.scenario import SCENARIO_DIR

    text = (SCENARIO_DIR / "trondelag.toml").read_text(encoding="utf-8")
    own = tmp_path / "own.toml"
    own.write_text(text.replace('pilots = ["fjellregionen", "vaernesregionen", "fosen"]', 'pilots = ["own.toml"]'))
    assert main(["run", str(own), "--replicates", "1", "--quiet", "--out", str(tmp_path / "o1")]) == 2
    block = text[text.index("[[arrangement]]") :]
    twice = tmp_path / "twice.toml"
    twice.write_text(text + "\n" + block.replace("Innherred samkommune", "Innherred again"), encoding="utf-8")
    assert main(["run", str(twice), "--replicates", "1", "--quiet", "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "county.pilots[0]" in err[0] and "already in an arrangement" in err[1]
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_an_alias_and_its_key_together_are_refused(capsys):
    args = ["--set", "board_form_allowed=false", "--set", "allow.board_host=true", "--replicates", "1", "--quiet"]
    assert main(["run", "fosen", *args]) == 2
    assert "another name of allow.board_host" in capsys.readouterr().err


def test_show_prints_a_county(capsys):
    assert main(["show", "trondelag"]) == 0
    out = capsys.readouterr().out
    assert "[[area]]" in out and "[county]" in out and "Innherred samkommune" in out


def test_negotiation_names_are_unique_and_area_rows_add_up():
    sc = load_scenario("trondelag", {"county_initiative": True})
    for seed in range(3):
        model = CooperationModel(sc, rng=seed).run()
        names = [n.region.name for n in model.negotiations]
        assert len(names) == len(set(names))
        assert sum(a["negotiations"] for a in area_rows(model)) == county_row(model)["negotiations"]


def test_the_agenda_explains_its_options():
    sc = load_scenario("trondelag", {"county_initiative": True})
    model = CooperationModel(sc, rng=3)
    while model.month <= sc.initiative.start:
        model.step()
    project = next(n for n in model.negotiations if n.region.facts.offices_only)
    rows = project.agenda.option_table()
    assert rows and [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert all(0 <= r["believed_chance"] <= 1 and r["form"] in ("admin_host", "board_host") for r in rows)
