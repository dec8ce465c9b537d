"""Robustness corners: every uncertain input is moved, runs are reproducible, the CLI writes its outputs."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.posterior import CALIBRATED
from sim.analysis.robustness import (
    KNIFE_EDGE,
    build_corners,
    markdown,
    primary_patterns,
    read_switches,
    run_corners,
    save,
)
from sim.analysis.validation import validate
from sim.inputs.loader import load_scenario
from sim.inputs.params import by_name, load_defaults, read_toml
from sim.run.execution import SERIAL, Execution
from sim.views.figures import save_robustness_figures

ROOT = Path(__file__).resolve().parent.parent
CASES = ("fjellregionen", "vaernesregionen", "fosen")


def test_corners_cover_every_estimate_and_calibrated_parameter():
    corners = build_corners()
    assert len({c.name for c in corners}) == len(corners)
    for case in CASES:
        estimates = load_scenario(case).estimates
        assert estimates
        for key, est in estimates.items():
            mine = {c.side: c for c in corners if c.kind == "estimate" and c.case == case and c.key == key}
            assert mine["low"].value == est.low and mine["high"].value == est.high
            assert mine["low"].baseline == est.value and est.source in mine["low"].source
    values, specs = load_defaults().as_dict(), by_name()
    for key in CALIBRATED:
        mine = {c.side: c for c in corners if c.kind == "parameter" and c.key == key}
        spec, base = specs[key], values[key]
        assert set(mine) == {"low", "high"} and mine["low"].case is None
        assert spec.low <= mine["low"].value <= base <= mine["high"].value <= spec.high
        assert spec.check(mine["low"].value) is None and spec.check(mine["high"].value) is None
        if base * 1.25 <= spec.high:
            assert mine["high"].value == pytest.approx(base * 1.25)
    switches = sum(len(s["values"]) for s in read_switches() if s["case"] in CASES)
    assert switches and sum(c.kind == "switch" for c in corners) == switches
    assert len(corners) == 2 * (len(CALIBRATED) + sum(len(load_scenario(c).estimates) for c in CASES)) + switches


def test_every_pilot_switches_its_consultant_leader_and_estimated_event_months():
    """Issue 20, Build 8: the decisive per-case facts that are not numbers are moved too."""
    keys = {(s["case"], s["key"]) for s in read_switches()}
    for case in CASES:
        assert {(case, "region.consultant"), (case, "region.leader")} <= keys
        events = read_toml(ROOT / "scenarios" / f"{case}.toml").get("reform_event", [])
        for i, event in enumerate(events):
            if "month: estimate" in event["source"] or "date of talks: estimate" in event["source"]:
                assert (case, f"reform_event.{i}.date") in keys, (case, i)


def test_a_switch_changes_only_its_fact():
    corner = next(c for c in build_corners() if c.name == "vaernesregionen:reform_event.1.date=2016-07")
    assert corner.side == "high" and corner.baseline == "2016-06" and not corner.stated
    switched, plain = corner.job_inputs()["scenario"], load_scenario("vaernesregionen")
    assert [e.month for e in switched.reform_events] == [plain.reform_events[0].month, plain.reform_events[1].month + 1]
    assert switched.params == plain.params and switched.regions == plain.regions
    leader = next(c for c in build_corners() if c.name == "fosen:region.leader=Rissa")
    assert leader.job_inputs()["scenario"].regions[0].leader == "Rissa"
    assert load_scenario("fosen").regions[0].leader == "external"


def test_a_switch_to_a_value_the_model_refuses_is_one_clear_error(tmp_path):
    from sim.analysis.robustness import switch_corners
    from sim.inputs.errors import InputError

    path = tmp_path / "switches.toml"
    path.write_text(
        '[[switch]]\ncase = "fosen"\nkey = "region.leader"\nvalues = ["Oslo"]\nstated = false\nsource = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="region.leader"):
        switch_corners("fosen", path)


def test_integer_parameters_are_rounded():
    specs = by_name()
    key = next(k for k, s in specs.items() if s.kind == "int")
    corners = build_corners(cases=[], keys=[key])
    assert all(isinstance(c.value, int) for c in corners)
    assert all(specs[key].check(c.value) is None for c in corners)


def test_tiny_run_is_reproducible_and_independent_of_workers(tmp_path):
    import matplotlib as mpl

    fosen = [p for p in primary_patterns() if p.case == "fosen"]
    planning = load_defaults().as_dict()["sensitivity.planning"]
    unmoved = build_corners(cases=[], keys=["sensitivity.planning"], quantiles={"sensitivity.planning": (0, planning)})
    corners = [
        c
        for c in build_corners()
        if c.name
        in (
            "fosen:region.cooperation_history low",
            "vaernesregionen:region.board_experience high",
            "coordination_cost high",
            "fosen:region.leader=Rissa",
        )
    ] + [c for c in unmoved if c.side == "high"]  # at its own value: not moved
    assert len(corners) == 5 and not corners[-1].moved
    one = run_corners(corners, replicates=3, seed=5, execution=SERIAL, patterns=fosen)
    again = run_corners(corners, replicates=3, seed=5, execution=SERIAL, patterns=fosen)
    two = run_corners(corners, replicates=3, seed=5, execution=Execution(workers=2, progress=False), patterns=fosen)
    pd.testing.assert_frame_equal(one.table, again.table)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.runs == 3 * 4  # baseline, the Fosen estimate, the Fosen switch, the parameter (not the others)
    t = one.table.set_index("corner")
    for name in ("vaernesregionen:region.board_experience high", "sensitivity.planning high"):
        assert not t.loc[name, "rerun"] and t.loc[name, "share"] == one.baseline["fosen.story"]
    # the baseline is validate's, on the same seeds
    assert one.baseline["fosen.story"] == next(
        p["share"] for p in validate(3, 5, execution=SERIAL)["patterns"] if p["id"] == "fosen.story"
    )
    assert [e.corner for e in one.knife_edges] == list(t.index[t["share"] < KNIFE_EDGE])
    assert "## Robustness" in markdown(one) and "coordination_cost high" in markdown(one)
    before = dict(mpl.rcParams)
    names = save(one, tmp_path) + save_robustness_figures(one, tmp_path)
    assert dict(mpl.rcParams) == before
    assert {"robustness.csv", "fosen-tornado.png", "fosen-tornado.svg"} <= set(names)
    assert len(pd.read_csv(tmp_path / "robustness.csv")) == len(corners)


def cli(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--out", "somewhere"), "error: --out: somewhere: only with --robustness"),
        (("--robustness", "--null", "no_forms"), "error: --null: no_forms:"),
    ],
)
def test_cli_refuses_bad_combinations(args, needle):
    res = cli("validate", *args)
    assert res.returncode == 2 and res.stderr.strip().startswith(needle), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_robustness_end_to_end(tmp_path):
    out, md, js = tmp_path / "rob", tmp_path / "v.md", tmp_path / "v.json"
    res = cli("validate", "--robustness", "--replicates", 2, "--quiet", "--out", out, "--markdown", md, "--json", js)
    assert res.returncode == 0, res.stderr
    assert "knife-edges (share below 0.5)" in res.stdout and "corners" in res.stdout
    for case in CASES:
        assert (out / f"{case}-tornado.png").is_file() and (out / f"{case}-tornado.svg").is_file()
    table = pd.read_csv(out / "robustness.csv")
    assert table["corner"].nunique() == len(build_corners()) and set(table["story"]) == {f"{c}.story" for c in CASES}
    assert json.loads((out / "metadata.json").read_text())["replicates"] == 2
    text = md.read_text()
    assert text.startswith("# Validation") and "## Robustness" in text and "### Knife-edges" in text
    assert len(json.loads(js.read_text())["robustness"]["corners"]) == len(table)
