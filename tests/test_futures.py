"""``robust``: variants across sampled futures on shared seeds (best share, mean and worst regret)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.analysis import futures
from sim.inputs.loader import load_scenario
from sim.run import codebook
from sim.run.execution import SERIAL
from sim.views.figures import save_robust_figure


def test_futures_are_drawn_within_the_ranges_and_reproducibly():
    sc = load_scenario("vaernesregionen")
    a = futures.sample_futures(sc, 12, seed=5)
    assert a == futures.sample_futures(sc, 12, seed=5)
    assert a != futures.sample_futures(sc, 12, seed=6)
    for f in a:
        for key, value in f.estimates:
            est = sc.estimates[key]
            assert est.low <= value <= est.high
            if key.endswith("council_stages"):
                assert value == int(value)


@pytest.fixture(scope="module")
def result():
    sc = load_scenario("vaernesregionen")
    same = {"reform_intensity": sc.params.as_dict()["reform_intensity"]}  # no change: must tie with the baseline
    return futures.robust(
        sc,
        {"same": same, "admin_only": {"allow.board_host": False}},
        futures=4,
        replicates=3,
        outcome="stalled",
        execution=SERIAL,
    )


def test_shared_seeds_make_an_unchanged_variant_tie_with_the_baseline(result):
    v = result["values"].pivot(index="future", columns="variant", values="value")
    assert (v["same"] == v["baseline"]).all()


def test_regret_is_the_shortfall_from_the_best_in_each_future(result):
    values = result["values"]
    assert (values["regret"] >= 0).all()
    assert (values.groupby("future")["regret"].min() == 0).all()
    s = result["summary"].set_index("variant")
    assert not result["higher_is_better"]  # a stop: less is better
    assert s.loc["same", "best_share"] == s.loc["baseline", "best_share"]
    assert (s["worst_regret"] >= s["mean_regret"]).all()


def test_every_robust_column_is_in_the_codebook(result, tmp_path):
    futures.save(result, tmp_path)
    save_robust_figure(result, tmp_path, "Værnesregionen")
    for name in ("futures.csv", "robust_values.csv", "robust_summary.csv"):
        for col in pd.read_csv(tmp_path / name, nrows=0).columns:
            assert codebook.column(name, col) is not None, f"{name}: {col}"
    assert (tmp_path / "robust.png").exists()


def test_an_unknown_outcome_is_refused():
    from sim.inputs.errors import InputError

    with pytest.raises(InputError, match="not an outcome"):
        futures.robust(load_scenario("fosen"), {"a": {}}, 2, 1, outcome="nope", execution=SERIAL)


def _cli(*args):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, str(root / "run.py"), *map(str, args)], cwd=root, capture_output=True, text=True, timeout=300
    )


def test_robust_command_writes_its_files_and_bad_settings_files_fail_in_one_line(tmp_path):
    res = _cli(
        "robust", "fosen", "--variant", "none:pilot_funding=0", "--futures", 2, "--replicates", 2,
        "--workers", 1, "--quiet", "--outcome", "stalled", "--out", tmp_path / "r",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "sampled futures" in res.stdout
    for name in ("futures.csv", "robust_values.csv", "robust_summary.csv", "robust.png", "metadata.json"):
        assert (tmp_path / "r" / name).exists(), name
    bad = tmp_path / "bad.toml"
    bad.write_text("[set]\npilot_funding = [1, 2]\n", encoding="utf-8")
    res = _cli("run", "fosen", "--set-file", bad, "--replicates", 1, "--out", tmp_path / "o")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert "set.pilot_funding" in res.stderr and not (tmp_path / "o").exists()
