"""Experiments at scale: worker-independence (processes and Dask), resume after kill -9, SALib, PRIM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.experiments import Uncertainty, design
from sim.runner import Job, run_rows

ROOT = Path(__file__).resolve().parent.parent
JOBS = [Job(i, case, i % 7, 42, (("reform_intensity", 0.5 + (i % 3) / 2),))
        for i, case in enumerate(["fjellregionen", "vaernesregionen", "fosen"] * 8)]


def sweep_cmd(out, *extra):
    return [sys.executable, str(ROOT / "run.py"), "sweep", "vaernesregionen", "--param", "steering_value=0:1.5",
            "--param", "maturation_rate=0.01:0.2:log", "--samples", "40", "--replicates", "15", "--out", str(out),
            "--quiet", *extra]


def test_bit_identical_with_one_and_two_workers():
    assert run_rows(JOBS, workers=1, progress=False) == run_rows(JOBS, workers=2, progress=False, chunk_size=3)


@pytest.mark.slow
def test_bit_identical_on_a_dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      processes=True) as cluster:
        dask_rows = run_rows(JOBS, scheduler=cluster.scheduler_address, progress=False)
    assert dask_rows == run_rows(JOBS, workers=1, progress=False)


def test_parameter_specs_and_design():
    u = Uncertainty.parse("maturation_rate=0.01:0.2:log")
    assert u.log and u.low == 0.01
    points = design([u, Uncertainty.parse("max_revisions=0:4")], 30, "lhs", 1)
    assert len(points) == 30 and all(isinstance(p["max_revisions"], int) for p in points)
    assert all(0.01 <= p["maturation_rate"] <= 0.2 for p in points)
    assert design([u], 30, "lhs", 1) == design([u], 30, "lhs", 1)
    assert len(design([u, Uncertainty.parse("max_revisions=0:4")], 3, "grid", 1)) == 9
    for bad in ["nope=0:1", "maturation_rate=1:0", "maturation_rate=0:1:log", "agenda=0:1", "maturation_rate=0"]:
        with pytest.raises(InputError):
            Uncertainty.parse(bad)


@pytest.mark.slow
def test_resume_after_kill_gives_the_same_result(tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    subprocess.run(sweep_cmd(full), check=True, capture_output=True, timeout=600)
    proc = subprocess.Popen(sweep_cmd(cut), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    partial = cut / "runs.partial.csv"
    deadline = time.time() + 120
    while time.time() < deadline and (not partial.exists() or partial.stat().st_size < 20000):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial.exists() and not (cut / "runs.csv").exists(), "the sweep was not interrupted"
    done_before = partial.read_bytes().count(b"\n")
    assert 1 < done_before < 601
    res = subprocess.run(sweep_cmd(cut, "--resume"), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert (cut / "runs.csv").read_bytes() == (full / "runs.csv").read_bytes()
    res = subprocess.run(sweep_cmd(cut, "--resume", "--samples", "41"), capture_output=True, text=True)
    assert res.returncode == 2 and "other arguments" in res.stderr


@pytest.mark.slow
def test_sensitivity_and_discovery_from_the_cli(tmp_path):
    def run(*a):
        return subprocess.run([sys.executable, str(ROOT / "run.py"), *a], capture_output=True, text=True,
                                        timeout=600)
    res = run("sensitivity", "vaernesregionen", "--param", "steering_value=0:1.5", "--param",
              "extra_political_involvement=0:1", "--samples", "16", "--replicates", "3", "--out", tmp_path / "s",
              "--quiet")
    assert res.returncode == 0, res.stderr
    assert "p_stall" in res.stdout and (tmp_path / "s" / "indices.png").exists()
    res = run("sweep", "vaernesregionen", "--param", "steering_value=0:1.5", "--param",
              "extra_political_involvement=0:1", "--samples", "40", "--replicates", "5", "--out", tmp_path / "w",
              "--quiet")
    assert res.returncode == 0, res.stderr
    res = run("discover", tmp_path / "w", "--outcome", "stalled")
    assert res.returncode == 0, res.stderr
    assert "coverage" in res.stdout and (tmp_path / "w" / "prim-box.png").exists()
    res = run("discover", tmp_path / "w", "--outcome", "no_such_column > 1")
    assert res.returncode == 2 and "--outcome" in res.stderr
