"""The graded calibration distance (issue 20): calibration facts only, no ties, a point inside its intervals."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim.analysis.calibration import (
    GRADE_WEIGHT,
    calibration_facts,
    distance,
    fact_thresholds,
    replicate_hits,
    score_runs,
    scored_cases,
)
from sim.analysis.posterior import CALIBRATED, effective_sample_size, point_estimate, tied_at_best
from sim.analysis.screen import bootstrap_distances, screen
from sim.analysis.validation import Clause, as_run, load_facts
from sim.cli import main
from sim.inputs.params import calibrated, read_toml
from sim.inputs.scenario import SCENARIO_DIR, resolve_path
from sim.run.execution import SERIAL
from sim.run.runner import Job

REPLICATES = 6
NEVER = Clause("exited", {"municipality": "(nobody)"})  # no such council ever leaves
ALWAYS = Clause("no_event", {"kind": "(no such event)", "between": ["1900-01", "2100-12"]})


@cache
def pilot_runs() -> dict[str, list]:
    """A few replicates of every scored case at the defaults, as runs to score."""
    cases = scored_cases()
    jobs = [
        Job(c * REPLICATES + r, str(resolve_path(case)), r, 5, (), detail="records")
        for c, case in enumerate(cases)
        for r in range(REPLICATES)
    ]
    out = [as_run(o) for o in SERIAL.execute(jobs)]
    return {case: out[c * REPLICATES : (c + 1) * REPLICATES] for c, case in enumerate(cases)}


def with_clauses(facts, fact_id: str, clause: Clause):
    return [replace(f, clauses=(clause,)) if f.id == fact_id else f for f in facts]


def test_changing_a_validation_fact_leaves_the_distance_unchanged():
    facts, runs = load_facts(), pilot_runs()
    held_out = [f for f in facts if f.role == "validation"]
    assert held_out
    base = score_runs(runs, facts)
    assert set(base["facts"]) == {f.id for f in facts if f.role == "calibration"}
    for f in held_out:
        for clause in (NEVER, ALWAYS):
            assert score_runs(runs, with_clauses(facts, f.id, clause))["distance"] == base["distance"], f.id


def test_changing_a_calibration_fact_changes_the_distance():
    facts, runs = load_facts(), pilot_runs()
    base = score_runs(runs, facts)
    for f in calibration_facts(facts):
        clause = NEVER if base["facts"][f.id] > 0 else ALWAYS
        assert score_runs(runs, with_clauses(facts, f.id, clause))["distance"] != base["distance"], f.id


def test_the_distance_is_graded_shortfall_plus_a_tie_breaking_term():
    bars = fact_thresholds()
    stories = {"a": 1.0, "b": 1.0}
    perfect = distance(stories, 1.0, dict.fromkeys(bars, 1.0), bars)
    assert perfect == 0.0
    at_bar = distance(stories, 1.0, dict(bars), bars)  # every fact exactly at its bar: no shortfall
    missed = sum(1 - v for v in bars.values()) / (len(bars) + 2)
    assert at_bar == pytest.approx(GRADE_WEIGHT * missed)
    k = next(iter(bars))
    below = distance(stories, 1.0, {**bars, k: bars[k] - 0.1}, bars)
    assert below - at_bar == pytest.approx(0.1 + GRADE_WEIGHT * 0.1 / (len(bars) + 2))
    assert distance({"a": 0.5, "b": 1.0}, 0.4, dict(bars), bars) > at_bar + 0.25 + 0.1  # story and joint bars


def test_bootstrap_distance_on_every_replicate_is_the_distance():
    hits = replicate_hits(pilot_runs())
    from sim.analysis.calibration import summarise

    whole = bootstrap_distances(hits, np.arange(REPLICATES)[None, :])
    assert whole[0] == pytest.approx(summarise(hits)["distance"])


def test_screen_rows_and_the_fixed_parameters_are_documented():
    rows = screen(("hosting_value", "duration_noise"), replicates=4, boots=50)
    assert [r["parameter"] for r in rows] == ["(defaults)", "hosting_value", "duration_noise"]
    for r in rows[1:]:
        assert r["low"] < r["value"] < r["high"] and r["se_low"] >= 0 and r["constrained"] <= (r["z"] > 2)
    table = read_toml(SCENARIO_DIR / "defaults.toml")["calibration"]
    fixed = table.get("fixed", [])
    assert not set(fixed) & set(calibrated()) and len(calibrated()) + len(fixed) >= 40


def synthetic_posterior(n: int = 40, keys=("a", "b", "c"), seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({k: np.exp(rng.uniform(0, 1, n)) for k in keys})
    table["distance"] = rng.uniform(0, 1, n)
    table["weight"] = 1 / n
    table["generation"], table["index"] = 1, range(n)
    return table.sort_values("distance", kind="stable").reset_index(drop=True)


def within(values: dict, table: pd.DataFrame, keys) -> bool:
    from sim.analysis.posterior import weighted_quantile

    w = table["weight"].to_numpy(float)
    for k in keys:
        v = table[k].to_numpy(float)
        if not weighted_quantile(v, w, 0.05) <= values[k] <= weighted_quantile(v, w, 0.95):
            return False
    return True


def test_point_estimate_lies_inside_its_90_percent_intervals(monkeypatch):
    keys = ("a", "b", "c")
    monkeypatch.setattr("sim.analysis.posterior.by_name", lambda: {k: type("S", (), {"kind": "float"}) for k in keys})
    table = synthetic_posterior()
    table.loc[0, "a"] = 10.0  # the best set lies far outside a's interval: not the point estimate
    row, values, rule = point_estimate(table, keys, [1.0] * 3, [20.0] * 3)
    assert rule == "best inside" and row != 0 and within(values, table, keys)
    many = tuple(f"k{i}" for i in range(40))
    wide = synthetic_posterior(n=40, keys=many)
    for i, k in enumerate(many):  # every set lies far outside the interval of one parameter: none inside all
        wide.loc[i, k] = 15.0
    monkeypatch.setattr("sim.analysis.posterior.by_name", lambda: {k: type("S", (), {"kind": "float"}) for k in many})
    row, values, rule = point_estimate(wide, many, [1.0] * 40, [20.0] * 40)
    assert rule == "nearest the median, clipped" and within(values, wide, many)


def test_the_re_scored_distance_ranks_the_point_and_decides_ties(monkeypatch):
    keys = ("a", "b", "c")
    monkeypatch.setattr("sim.analysis.posterior.by_name", lambda: {k: type("S", (), {"kind": "float"}) for k in keys})
    table = synthetic_posterior()
    table["refined"] = np.nan
    table.loc[[0, 1, 2], "distance"] = 0.0  # three sets tie on the sampler's replicates ...
    table.loc[[0, 1, 2], "refined"] = [0.30, 0.10, 0.20]  # ... not on the fresh ones
    for k in keys:  # all three inside every interval
        table.loc[[0, 1, 2], k] = table[k].median()
    row, _, rule = point_estimate(table, keys, [1.0] * 3, [20.0] * 3)
    assert rule == "best inside" and row == 1
    assert tied_at_best(table) == 1 and tied_at_best(table.drop(columns="refined")) == 3


def test_effective_sample_size_merges_copies_and_ties_are_counted():
    table = pd.DataFrame(
        {"generation": [1, 1, 1, 1], "index": [0, 0, 1, 2], "weight": [0.25] * 4, "distance": [0.1, 0.1, 0.1, 0.3]}
    )
    assert effective_sample_size(table) == pytest.approx(1 / (0.5**2 + 0.25**2 + 0.25**2))
    assert tied_at_best(table) == 2  # two distinct sets (the copies of set 0 count once)
    assert tied_at_best(table.iloc[[0, 1, 3]]) == 1


def test_a_small_calibration_has_no_tie_at_its_best_and_its_point_inside_its_intervals(tmp_path):
    out = tmp_path / "c"
    args = ["calibrate", "--sets", "6", "--generations", "2", "--replicates", "10", "--refine", "40", "--quiet"]
    args += ["--workers", "1"]
    assert main([*args, "--out", str(out)]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["tied_at_best"] == 1 and 1 <= meta["effective_sample_size"] <= 6
    assert meta["facts"] == [f.id for f in calibration_facts()]
    accepted, ident = pd.read_csv(out / "accepted.csv"), pd.read_csv(out / "identifiability.csv")
    assert (
        accepted["point"].sum() == 1
        and 1 <= accepted.drop_duplicates(["generation", "index"])["refined"].notna().sum() <= 10
    )
    assert meta["budget"]["refine"] == 40 and meta["runs"] == (6 * 2 * 10 + 10 * 40) * 3
    assert ((ident["q05"] <= ident["point"]) & (ident["point"] <= ident["q95"])).all()
    assert list(ident["parameter"]) == list(CALIBRATED)
    summary = (out / "summary.md").read_text()
    for f in load_facts():
        assert (f"`{f.id}`" in summary) == (f.role == "calibration"), f.id
    assert "Effective sample size" in summary and "not tied" in summary


def test_month_errors_count_how_far_a_replicate_is_off_its_window():
    from sim.analysis.calibration import MONTH_CAP, dated, month_errors, widened
    from sim.analysis.validation import Fact

    window = {"kind": "proposal", "between": ["2015-01", "2015-02"]}
    fact = Fact("x", "fosen", "calibration", "§0", "", (Clause("event", window), Clause("no_event", window)))
    assert dated(fact) and widened(fact, 2)[0].args["between"] == ["2014-11", "2015-04"]
    assert widened(fact, 2)[1].args["between"] == ["2015-01", "2015-02"]  # a no_ window is not loosened

    def run(*months):
        return {"events": [{"kind": "proposal", "month": m, "sectors": "[]", "form": "", "host": ""} for m in months]}

    runs = [run("2015-05"), run("2014-12"), run(), run("2015-01")]
    assert month_errors(fact, runs, [False, False, False, True]) == [3, 1, MONTH_CAP, 0]
    assert not dated(Fact("y", "fosen", "calibration", "§0", "", (Clause("no_event", window),)))
