"""Calibration (ABC population Monte Carlo) and posterior what-ifs: reproducible, resumable, worker-independent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.calibration import Budget, Prior, load_centre, propose, reflect
from sim.analysis.posterior import (
    CALIBRATED,
    COMMITTED,
    CONSTRAINED_BELOW,
    FLAG_MIN_SETS,
    flag_unconstrained,
    load_posterior,
    systematic_resample,
    weighted_quantile,
)
from sim.analysis.results import compare, run_scenarios
from sim.analysis.robustness import build_corners, posterior_quantiles
from sim.cli import main
from sim.inputs.params import by_name, load_defaults
from sim.run.execution import SERIAL, Execution

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--sets", "6", "--generations", "2", "--replicates", "2", "--top", "2", "--refine", "4", "--quiet"]
RESULT_FILES = ("accepted.csv", "scored.csv", "generations.csv", "identifiability.csv")


def calibrate_cli(out: Path, *extra: str) -> int:
    return main(["calibrate", *TINY, "--out", str(out), *extra])


def same_results(a: Path, b: Path) -> None:
    for name in RESULT_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def fake_posterior(folder: Path, sets: int = 3, ratio: float = 1.0, spread: float = 0.1) -> Path:
    """A posterior folder with ``sets`` sets near the defaults (values within the catalogue)."""
    folder.mkdir(parents=True, exist_ok=True)
    defaults, specs = load_defaults().as_dict(), by_name()
    rows = []
    for i in range(sets):
        factor = 1 + spread * (i - (sets - 1) / 2) / max(1, sets - 1)
        values = {k: min(max(defaults[k] * factor, specs[k].low), specs[k].high) for k in CALIBRATED}
        rows.append({"set": i, "generation": 0, "index": i, "weight": 1.0, "distance": 0.0, **values})
    pd.DataFrame(rows).to_csv(folder / "accepted.csv", index=False)
    pd.DataFrame(
        [
            {"parameter": k, "prior_low": defaults[k] / 2, "prior_high": defaults[k] * 2, "ratio": ratio}
            for k in CALIBRATED
        ]
    ).to_csv(folder / "identifiability.csv", index=False)
    return folder


# --- the procedure -----------------------------------------------------------------------------------------
def test_tiny_calibration_end_to_end_is_bit_identical_and_independent_of_workers(tmp_path, capsys):
    assert calibrate_cli(tmp_path / "a", "--workers", "1") == 0
    text = capsys.readouterr().out
    assert "generation 2/2" in text and "elapsed" in text and "= 96 runs" in text
    assert calibrate_cli(tmp_path / "b", "--workers", "1") == 0
    assert calibrate_cli(tmp_path / "c", "--workers", "2") == 0
    same_results(tmp_path / "a", tmp_path / "b")
    same_results(tmp_path / "a", tmp_path / "c")
    assert calibrate_cli(tmp_path / "d", "--workers", "1", "--seed", "7") == 0
    assert (tmp_path / "a" / "scored.csv").read_bytes() != (tmp_path / "d" / "scored.csv").read_bytes()

    out = tmp_path / "a"
    assert not (out / "progress.jsonl").exists()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["base_seed"] == 20161214 and meta["package_version"] and meta["runs"] == 96
    assert meta["budget"] == {"sets": 6, "generations": 2, "replicates": 2, "keep": 0.5, "top": 2, "refine": 4}
    assert {s["name"] for s in meta["scenarios"]} and all(len(s["sha256"]) == 64 for s in meta["scenarios"])
    assert meta["command_line"][:2] == ["run.py", "calibrate"]
    accepted = pd.read_csv(out / "accepted.csv")
    assert len(accepted) == 6 and Budget(6, 2, 2).survivors == 3  # the last population
    assert accepted["weight"].sum() == pytest.approx(1.0) and accepted["distance"].is_monotonic_increasing
    scored = pd.read_csv(out / "scored.csv")
    assert len(scored) == 12 and set(scored["generation"]) == {0, 1}
    tolerance = pd.read_csv(out / "generations.csv")["tolerance"].iloc[-1]
    assert (accepted["distance"] <= tolerance).all()
    # each particle is a scored set, with the values it was scored with
    merged = accepted.merge(scored, on=["generation", "index"], suffixes=("", "_scored"))
    assert len(merged) == len(accepted)
    for k in (*CALIBRATED, "distance"):
        assert (merged[k] == merged[f"{k}_scored"]).all()
    prior = json.loads((out / "calibration.json").read_text())["prior"]
    specs = by_name()
    for k in CALIBRATED:  # every scored value inside the prior box, inside the catalogue
        lo, hi = prior[k]
        assert specs[k].low <= lo and hi <= specs[k].high
        assert scored[k].between(lo * (1 - 1e-12), hi * (1 + 1e-12)).all()
    ident = pd.read_csv(out / "identifiability.csv")
    assert list(ident["parameter"]) == list(CALIBRATED)
    assert (ident["constrained"] == (ident["ratio"] < CONSTRAINED_BELOW)).all()
    assert (out / "summary.md").read_text().startswith("# Posterior summary")
    post = load_posterior(out)
    assert post.size == 6 and post.keys == CALIBRATED


def test_a_finished_calibration_is_not_redone_and_a_used_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "a"
    assert calibrate_cli(out, "--workers", "1") == 0
    before = (out / "accepted.csv").read_bytes()
    assert calibrate_cli(out, "--workers", "1", "--resume") == 0
    assert "nothing to do" in capsys.readouterr().out and (out / "accepted.csv").read_bytes() == before
    assert calibrate_cli(out, "--workers", "1") == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert (
        main(["calibrate", "--sets", "8", "--generations", "2", "--replicates", "2", "--out", str(out), "--resume"])
        == 2
    )
    assert "started with other arguments" in capsys.readouterr().err
    assert calibrate_cli(out, "--workers", "1", "--force") == 0
    assert (out / "accepted.csv").read_bytes() == before


def test_resume_after_sigkill_is_bit_identical(tmp_path):
    budget = ["--sets", "8", "--generations", "3", "--replicates", "2", "--refine", "4", "--quiet", "--workers", "1"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["calibrate", *budget, "--out", str(whole)]) == 0
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "calibrate", *budget, "--out", str(cut)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    progress = cut / "progress.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if progress.exists() and progress.read_bytes().count(b"\n") >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the run finished before it could be killed"
    kept = progress.read_bytes()
    assert 3 <= kept.count(b"\n") < 24 and not (cut / "accepted.csv").exists()
    with open(progress, "ab") as fh:  # a line cut in the middle of writing
        fh.write(b'{"generation": 0, "index": 99, "poi')
    assert main(["calibrate", *budget, "--out", str(cut), "--resume"]) == 0
    same_results(whole, cut)


# --- the sampler's parts -----------------------------------------------------------------------------------
def test_prior_box_and_kernel_stay_inside():
    centre = load_centre(ROOT / "docs" / "calibration" / "centre.json")
    prior = Prior.around(centre, 2.0)
    specs = by_name()
    for k, lo, hi in zip(prior.keys, prior.low, prior.high, strict=True):
        assert specs[k].low <= lo < hi <= specs[k].high
        assert lo == pytest.approx(max(centre[k] / 2, specs[k].low)) and hi == pytest.approx(
            min(centre[k] * 2, specs[k].high)
        )
    assert prior.unit(prior.values(np.full(len(prior.keys), 0.3))) == pytest.approx(np.full(len(prior.keys), 0.3))
    units = np.random.default_rng(1).uniform(0.0, 1.0, (20, 5))
    parents, x = propose(units, [3, 7, 1], 50, np.random.default_rng(2))
    assert parents[:3] == [3, 7, 1] and set(parents) == {1, 3, 7} and len(parents) == 50
    assert ((x >= 0) & (x <= 1)).all()
    again = propose(units, [3, 7, 1], 50, np.random.default_rng(2))
    assert again[0] == parents and (again[1] == x).all()
    assert reflect(np.array([-0.2, 1.3, 0.5, 2.4])) == pytest.approx([0.2, 0.7, 0.5, 0.4])


def test_weighted_quantile_and_systematic_resampling():
    v = np.arange(10.0)
    assert weighted_quantile(v, np.ones(10), 0.5) == pytest.approx(4.5)
    assert weighted_quantile(v, np.eye(10)[3] + 1e-12, 0.5) == pytest.approx(3.0, abs=1e-6)
    assert systematic_resample(np.array([0.5, 0.25, 0.25]), 4) == [0, 0, 1, 2]
    assert systematic_resample(np.array([1.0, 0.0, 0.0])) == [0, 0, 0]


# --- posterior what-ifs ------------------------------------------------------------------------------------
def test_posterior_runs_are_independent_of_workers_and_spread_over_the_sets(tmp_path):
    post = load_posterior(fake_posterior(tmp_path / "post", sets=3, spread=0.4))
    assert [post.member(r) for r in range(6)] == [0, 1, 2, 0, 1, 2]
    one = run_scenarios(["fosen"], replicates=6, detail=False, execution=SERIAL, posterior=post)
    two = run_scenarios(
        ["fosen"], replicates=6, detail=False, execution=Execution(workers=2, progress=False), posterior=post.folder
    )
    pd.testing.assert_frame_equal(one.rows, two.rows)
    plain = run_scenarios(["fosen"], replicates=6, detail=False, execution=SERIAL)
    assert not one.rows.equals(plain.rows)  # the sets were used
    assert (one.summary()["method"].str.contains("replicates over 3 posterior sets")).all()
    # replicate 3 uses set 0: the same as running set 0's values directly with replicate 3's seed
    direct = run_scenarios(["fosen"], replicates=4, detail=False, execution=SERIAL, **post.values(0)).rows.iloc[3]
    assert direct.drop("scenario").equals(one.rows.iloc[3].drop(["scenario", "posterior_set"]))
    assert list(one.rows["posterior_set"]) == [0, 1, 2, 0, 1, 2]


def test_compare_under_a_posterior_pairs_sets_and_seeds(tmp_path):
    post = load_posterior(fake_posterior(tmp_path / "post", sets=4, spread=0.6))
    same = {"same": {"pilot_funding": load_defaults().as_dict()["pilot_funding"]}}
    table = compare("fosen", same, replicates=8, execution=SERIAL, posterior=post)
    assert (table["difference"] == 0).all()  # both arms of a pair: same set, same seed
    assert (table["posterior_sets"] == 4).all() and table["method"].str.contains("posterior sets").all()
    assert (table["depends_on"] == "").all()  # fewer than FLAG_MIN_SETS sets: no flags


def test_flags_name_unconstrained_parameters_that_drive_a_difference(tmp_path):
    k = FLAG_MIN_SETS + 5
    post = load_posterior(fake_posterior(tmp_path / "post", sets=k, spread=0.8, ratio=0.95))
    x = np.log([post.values(j)["hosting_value"] for j in range(k)])
    assert flag_unconstrained(np.tile(x, 2), post)[0][0] in post.keys  # every parameter moves together here
    assert flag_unconstrained(np.zeros(2 * k), post) == []
    tight = load_posterior(fake_posterior(tmp_path / "tight", sets=k, spread=0.8, ratio=0.2))
    assert tight.unconstrained == [] and flag_unconstrained(np.tile(x, 2), tight) == []


def test_robustness_corners_go_to_the_posterior_quantiles(tmp_path):
    post = load_posterior(fake_posterior(tmp_path / "post", sets=5, spread=0.4))
    q = posterior_quantiles(post)
    corners = {c.name: c for c in build_corners(cases=[], quantiles=q, basis="post")}
    for key in CALIBRATED:
        spec = by_name()[key]
        low, high = corners[f"{key} low"], corners[f"{key} high"]
        assert low.value == pytest.approx(min(max(q[key][0], spec.low), spec.high))
        assert high.value == pytest.approx(min(max(q[key][1], spec.low), spec.high))
        assert "posterior 5% quantile (post)" in low.source


# --- bad input: one line, exit 2, nothing written -----------------------------------------------------------
@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (None, ("missing-folder", "--posterior", "no such folder")),
        ("rm accepted.csv", ("accepted.csv", "missing")),
        ("hosting_value=abc", ("accepted.csv", "hosting_value", "row 1", "finite number")),
        ("hosting_value=99", ("accepted.csv", "hosting_value", "row 1")),
        ("drop weight", ("accepted.csv", "weight", "missing column")),
        ("weight=-1", ("accepted.csv", "weight")),
        ("garbage", ("accepted.csv",)),
        ("rm identifiability.csv", ("identifiability.csv", "missing")),
    ],
)
@pytest.mark.parametrize("command", ["run fosen", "compare fosen --variant a:pilot_funding=0", "validate"])
def test_bad_posterior_is_one_line_exit_2(tmp_path, capsys, damage, needles, command):
    folder = tmp_path / "missing-folder"
    if damage is not None:
        folder = fake_posterior(tmp_path / "post")
        table = pd.read_csv(folder / "accepted.csv")
        if damage.startswith("rm "):
            (folder / damage[3:]).unlink()
        elif damage == "garbage":
            (folder / "accepted.csv").write_bytes(b'\x00\xff\x00 not a csv\n"unclosed')
        elif damage.startswith("drop "):
            table.drop(columns=damage[5:]).to_csv(folder / "accepted.csv", index=False)
        else:
            key, value = damage.split("=")
            table[key] = table[key].astype(object)
            table.loc[0, key] = value
            table.to_csv(folder / "accepted.csv", index=False)
    out = tmp_path / "out"
    extra = ["--out", str(out)] if not command.startswith("validate") else []
    code = main(
        [*command.split(), "--replicates", "2", "--quiet", "--workers", "1", "--posterior", str(folder), *extra]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()


# --- the committed result ----------------------------------------------------------------------------------
def test_defaults_hold_the_committed_point_estimate_made_with_the_default_command():
    meta = json.loads((COMMITTED / "metadata.json").read_text())
    made_by = ["run.py", "calibrate", "--out", "docs/calibration/posterior"]
    # how the runs were executed (workers, progress bar) does not change the result (tested above), so
    # only the options that do must be the README's command
    command, kept = meta["command_line"], []
    for i, word in enumerate(command):
        if word == "--quiet" or word == "--workers" or (i and command[i - 1] == "--workers"):
            continue
        kept.append(word)
    assert kept in (made_by, [*made_by, "--force"])  # the README's command replaces the last
    assert meta["budget"] == asdict(Budget()) and meta["runs"] == Budget().runs(3)
    ident = pd.read_csv(COMMITTED / "identifiability.csv").set_index("parameter")
    assert meta["tied_at_best"] == 1 and meta["effective_sample_size"] > 1  # issue 20: no tie, ESS reported
    assert ((ident["q05"] <= ident["point"]) & (ident["point"] <= ident["q95"])).all()
    defaults = load_defaults().as_dict()
    for key in CALIBRATED:
        assert defaults[key] == float(f"{ident.loc[key, 'point']:.4g}"), key
    post = load_posterior(COMMITTED)
    assert post.size == Budget().sets and set(post.ratios) == set(CALIBRATED)
    summary = (ROOT / "docs" / "calibration" / "posterior-summary.md").read_text(encoding="utf-8")
    assert summary == (COMMITTED / "summary.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_calibration_on_a_dask_cluster_is_bit_identical(tmp_path):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        assert calibrate_cli(tmp_path / "dask", "--scheduler", cluster.scheduler_address) == 0
    assert calibrate_cli(tmp_path / "local", "--workers", "1") == 0
    same_results(tmp_path / "dask", tmp_path / "local")
    assert json.loads((tmp_path / "dask" / "metadata.json").read_text())["scheduler"].startswith("tcp://")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--factor", "1"], ("--factor", "above 1")),
        (["--factor", "nan"], ("--factor",)),
        (["--keep", "0"], ("--keep",)),
        (["--sets", "1"], ("--sets", "2 to")),
        (["--generations", "0"], ("--generations",)),
        (["--resume"], ("--resume", "--out")),
        (["--centre", "CENTRE"], ("c.json", "hosting_value", "missing")),
        (["--scheduler", "http://x"], ("--scheduler", "tcp://")),
    ],
)
def test_bad_calibrate_input_is_one_line_exit_2(tmp_path, capsys, args, needles):
    centre = json.loads((ROOT / "docs" / "calibration" / "centre.json").read_text())
    del centre["hosting_value"]
    (tmp_path / "c.json").write_text(json.dumps(centre))
    args = [str(tmp_path / "c.json") if a == "CENTRE" else a for a in args]
    out = [] if "--resume" in args else ["--out", str(tmp_path / "k")]
    assert main(["calibrate", *args, *out, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not (tmp_path / "k").exists()
