"""Experiments at scale: worker-independence (processes and Dask), resume after kill -9, SALib, PRIM."""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.analysis.experiments import Uncertainty, design
from sim.inputs.errors import InputError
from sim.run.execution import SERIAL
from sim.run.runner import Job, run_rows

ROOT = Path(__file__).resolve().parent.parent
JOBS = [
    Job(i, case, i % 7, 42, (("reform_intensity", 0.5 + (i % 3) / 2),))
    for i, case in enumerate(["fjellregionen", "vaernesregionen", "fosen"] * 8)
]


def sweep_cmd(out, *extra):
    return [
        sys.executable,
        str(ROOT / "run.py"),
        "sweep",
        "vaernesregionen",
        "--param",
        "steering_value=0:1.5",
        "--param",
        "maturation_rate=0.01:0.2:log",
        "--samples",
        "40",
        "--replicates",
        "15",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_bit_identical_with_one_and_two_workers():
    assert run_rows(JOBS, workers=1, progress=False) == run_rows(JOBS, workers=2, progress=False, chunk_size=3)


@pytest.mark.slow
def test_bit_identical_on_a_dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
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
    proc = subprocess.Popen(
        sweep_cmd(cut), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
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
        return subprocess.run([sys.executable, str(ROOT / "run.py"), *a], capture_output=True, text=True, timeout=600)

    res = run(
        "sensitivity",
        "vaernesregionen",
        "--param",
        "steering_value=0:1.5",
        "--param",
        "extra_political_involvement=0:1",
        "--samples",
        "16",
        "--replicates",
        "3",
        "--out",
        tmp_path / "s",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "p_stall" in res.stdout and (tmp_path / "s" / "indices.png").exists()
    res = run(
        "sweep",
        "vaernesregionen",
        "--param",
        "steering_value=0:1.5",
        "--param",
        "extra_political_involvement=0:1",
        "--samples",
        "40",
        "--replicates",
        "5",
        "--out",
        tmp_path / "w",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    res = run("discover", tmp_path / "w", "--outcome", "stalled")
    assert res.returncode == 0, res.stderr
    assert "coverage" in res.stdout and (tmp_path / "w" / "prim-box.png").exists()
    res = run("discover", tmp_path / "w", "--outcome", "no_such_column > 1")
    assert res.returncode == 2 and "--outcome" in res.stderr


# --- resume checks every kept row ------------------------------------------------------------------
SMALL = dict(scenario="fosen", samples=5, replicates=3, method="lhs", seed=7, execution=SERIAL)


def small_sweep(out, monkeypatch=None, **kw):
    from sim.analysis.experiments import Uncertainty, run_sweep
    from sim.run import runner

    calls = []
    if monkeypatch is not None:
        real = runner.run_job
        monkeypatch.setattr(runner, "run_job", lambda job: calls.append(job.index) or real(job))
    args = {**SMALL, **kw}
    params = [Uncertainty.parse("pilot_funding=0:2"), Uncertainty.parse("max_revisions=0:4")]
    final = run_sweep(out, args.pop("scenario"), params, args.pop("samples"), args.pop("replicates"), **args)
    return final, calls


@pytest.fixture(scope="module")
def full_sweep(tmp_path_factory):
    final, _ = small_sweep(tmp_path_factory.mktemp("full") / "s")
    return final.read_bytes()


def damage(lines, how):
    header, rows = lines[0], lines[1:]
    return {
        "torn-middle": [header, *rows[:4], rows[4][:25] + b"\n", *rows[5:9]],
        "missing-middle": [header, *rows[:4], *rows[5:9]],
        "header-only": [header],
        "empty": [],
        "torn-header": [header[:12]],
        "no-header": rows[:6],
        "duplicated-rows": [header, *rows[:5], *rows[3:9]],
        "reordered": [header, *rows[:3], rows[5], rows[4], rows[3], *rows[6:8]],
        "wrong-seed": [header, *rows[:4], rows[4].replace(b",7,", b",8,", 1), *rows[5:9]],
        "text-in-number": [header, *rows[:4], rows[4][:-10] + b"x" * 9 + b"\n", *rows[5:9]],
        "torn-last": [header, *rows[:6], rows[6][:30]],
        "binary": [b"\x00\xff\xfe garbage\n", b'"unclosed,\n'],
        "complete": [header, *rows],
    }[how]


@pytest.mark.parametrize(
    "how",
    [
        "torn-middle",
        "missing-middle",
        "header-only",
        "empty",
        "torn-header",
        "no-header",
        "duplicated-rows",
        "reordered",
        "wrong-seed",
        "text-in-number",
        "torn-last",
        "binary",
        "complete",
    ],
)
def test_resume_repairs_a_damaged_partial_file(tmp_path, full_sweep, monkeypatch, how):
    out = tmp_path / "s"
    final, _ = small_sweep(out)
    lines = full_sweep.splitlines(keepends=True)
    final.unlink()
    (out / "runs.partial.csv").write_bytes(b"".join(damage(lines, how)))
    final, calls = small_sweep(out, monkeypatch, resume=True)
    assert final.read_bytes() == full_sweep
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json", "runs.csv", "sweep.json"]
    tail = list(range(9, 15))  # never written
    expected = {
        "torn-middle": [4, *tail],
        "missing-middle": [4, *tail],
        "complete": [],
        "wrong-seed": [4, *tail],
        "text-in-number": [4, *tail],
        "torn-last": list(range(6, 15)),
        "duplicated-rows": tail,
        "reordered": [3, 4, *range(8, 15)],
    }
    if how in expected:
        assert calls == expected[how]  # only what is missing or damaged runs again


def test_resume_refuses_a_second_writer(tmp_path):
    import fcntl

    out = tmp_path / "s"
    final, _ = small_sweep(out)
    final.unlink()
    with open(out / "sweep.json", "rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(InputError, match="another sweep"):
            small_sweep(out, resume=True)


def test_a_failed_sweep_start_leaves_nothing(tmp_path, monkeypatch):
    from sim.run import runner

    def broken(*a, **k):
        raise InputError("--scheduler", "x", "gone")

    monkeypatch.setattr(runner, "make_executor", broken)
    with pytest.raises(InputError):
        small_sweep(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []


# --- jobs are generated lazily; memory stays bounded -------------------------------------------------
def test_execute_takes_jobs_lazily_and_caps_workers():
    from itertools import count, islice

    from sim.run.runner import execute

    taken = []

    def endless():
        for i in count():
            taken.append(i)
            yield Job(i, "fosen", i, 1)

    info = {}
    results = execute(endless(), workers=2, progress=False, chunk_size=1, total=10**12, execution=info)
    assert [r["index"] for r in islice(results, 3)] == [0, 1, 2]
    results.close()
    assert len(taken) < 10 and info == {"scheduler": None, "workers": 2, "chunk_size": 1}
    info = {}
    assert len(run_rows(JOBS[:2], workers=1000, progress=False, execution=info)) == 2
    assert info["workers"] == 2


def test_a_huge_grid_is_computed_point_by_point():
    from itertools import product

    from sim.analysis.experiments import Design

    params = [Uncertainty.parse(t) for t in ("pilot_funding=0:2", "max_revisions=0:4", "steering_value=0:1")]
    big = Design(params, 100_000, "grid", 1)
    assert big.size == 10**15
    assert big.point(10**15 - 1) == {"pilot_funding": 2.0, "max_revisions": 4, "steering_value": 1.0}
    small = Design(params, 4, "grid", 1)
    assert [small.point(i) for i in range(small.size)] == list(small) == design(params, 4, "grid", 1)
    assert list(small)[:3] == [
        dict(zip([p.name for p in params], v, strict=True)) for v in islice_product(small, product)
    ]


def islice_product(small, product):
    from itertools import islice

    return [(float(a), int(b), float(c)) for a, b, c in islice(product(*small.axes), 3)]


# --- outcome expressions: a parsed grammar, never Python ---------------------------------------------
@pytest.fixture(scope="module")
def runs_table():
    import pandas as pd

    return pd.DataFrame(
        {
            "stall_cause": ["", "governance_dispute", "", "x"],
            "formal_by_pilot_end": [True, False, False, True],
            "steering_value": [0.1, 1.2, 0.7, 2.0],
            "n_votes": [1, 2, 0, 3],
            "stall_month": ["", "2015-03", "", "2016-01"],
            "case": ["A", "A", "B", "B"],
        }
    )


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("stalled", [0, 1, 0, 1]),
        ("formal", [1, 0, 0, 1]),
        ("not stalled", [1, 0, 1, 0]),
        ("stall_cause == 'governance_dispute'", [0, 1, 0, 0]),
        ('stall_cause != "governance_dispute" and steering_value > 0.5', [0, 0, 1, 1]),
        ("(stalled or formal) and n_votes >= 2", [0, 1, 0, 1]),
        ("stalled & ~formal | n_votes == 0", [0, 1, 1, 0]),
        ("steering_value <= 1e0", [1, 0, 1, 0]),
        ("stall_month >= '2016'", [0, 0, 0, 1]),
        ("formal_by_pilot_end == true", [1, 0, 0, 1]),
        ("NOT stalled AND case == 'B'", [0, 0, 1, 0]),
    ],
)
def test_outcome_expressions(runs_table, expr, expected):
    from sim.analysis.experiments import evaluate_outcome

    assert evaluate_outcome(runs_table, expr).astype(int).tolist() == expected


@pytest.mark.parametrize(
    "expr",
    [
        "@os.system('touch pwned') == 0",
        "__import__('os').system('touch pwned')",
        "stalled.__class__",
        "open('pwned', 'w')",
        "steering_value > 1 if True else 0",
        "[stalled]",
        "lambda: 1",
        "steering_value",
        "'text'",
        "stalled and",
        "(stalled",
        "stalled)",
        "1 < steering_value < 2",
        "stalled == 1",
        "case > 1",
        "nope",
        "",
        "stalled ＝ 1",
        "n_votes > ２",
        "(" * 60 + "stalled" + ")" * 60,
        "x" * 3000,
    ],
)
def test_outcome_expressions_refused(runs_table, expr, tmp_path, monkeypatch):
    from sim.analysis.experiments import evaluate_outcome

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="^--outcome"):
        evaluate_outcome(runs_table, expr)
    assert list(tmp_path.iterdir()) == []


# --- the README's Dask commands, as written (HEAD = 127.0.0.1, free ports, two worker processes) --------
@pytest.mark.slow
def test_readme_dask_commands(tmp_path):
    import json
    import re
    import shlex
    import socket

    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("### Experiments at scale") : readme.index("### Dashboard")]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.startswith("dask ")]
    assert [c.split()[:2] for c in commands] == [["dask", "scheduler"], ["dask", "worker"]]
    assert "--host HEAD" in commands[0] and "--dashboard-address" in commands[0]
    port, dash = free_port(), free_port()

    def concrete(cmd):
        cmd = cmd.replace("HEAD", "127.0.0.1").replace(":8786", f":{port}").replace("--port 8786", f"--port {port}")
        cmd = cmd.replace(":8787", f":{dash}").replace("--nworkers 8", "--nworkers 2")
        return [str(Path(sys.executable).with_name("dask")), *shlex.split(cmd)[1:]]

    procs = [
        subprocess.Popen(
            concrete(c), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, start_new_session=True
        )
        for c in commands
    ]
    try:
        after = block[block.index("dask worker") :].replace("\\\n", " ")
        sweep = re.search(r"python run.py sweep (.*?)--scheduler tcp://HEAD:8786", after)
        args = shlex.split(sweep.group(1))
        args[args.index("--samples") + 1], args[args.index("--replicates") + 1] = "6", "3"
        args[args.index("--out") + 1] = str(tmp_path / "dask")
        cmd = [
            sys.executable,
            str(ROOT / "run.py"),
            "sweep",
            *args,
            "--quiet",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
        ]
        deadline = time.time() + 60
        while True:  # the workers take a few seconds to join
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if res.returncode == 0 or time.time() > deadline:
                break
            time.sleep(1)
        assert res.returncode == 0, res.stderr
        local = subprocess.run(
            [*cmd[:-2], "--out", str(tmp_path / "local"), "--workers", "1"], capture_output=True, text=True, timeout=300
        )
        assert local.returncode == 0, local.stderr
        assert (tmp_path / "dask" / "runs.csv").read_bytes() == (tmp_path / "local" / "runs.csv").read_bytes()
        meta = json.loads((tmp_path / "dask" / "metadata.json").read_text())
        assert meta["scheduler"] == f"tcp://127.0.0.1:{port}" and meta["workers"] == 2 and meta["chunk_size"] >= 1
        import urllib.request

        assert urllib.request.urlopen(f"http://127.0.0.1:{dash}/status", timeout=10).status == 200
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def _hear_ctrl_c() -> None:
    """In the child before exec: Ctrl-C as in a terminal, even when the test run itself ignores it.

    A suite started in the background (``cmd &`` in a script, ``nohup``) inherits SIGINT ignored, and an
    ignored signal stays ignored across exec, so the command under test would never see the Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_says_what_was_kept_and_how_to_resume(tmp_path):
    out = tmp_path / "cut"
    proc = subprocess.Popen(
        sweep_cmd(out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_hear_ctrl_c,
    )
    partial = out / "runs.partial.csv"
    deadline = time.time() + 120
    while time.time() < deadline and (not partial.exists() or partial.stat().st_size < 20000):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and "kept" in err and str(partial) in err, err
    kept = int(err.split("kept ")[1].split()[0])
    assert kept == partial.read_bytes().count(b"\n") - 1 > 0
    resume = shlex.split(err.split("resume with: ")[1].strip())
    assert resume[:2] == ["python", "run.py"] and resume[-1] == "--resume"
    res = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *resume[2:]], capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0 and (out / "runs.csv").read_bytes().count(b"\n") == 601, res.stderr


def test_sweep_force_replaces_a_previous_sweep_and_restores_it_on_failure(tmp_path, monkeypatch):
    from sim.run import runner

    out = tmp_path / "s"
    first = small_sweep(out)[0].read_bytes()
    assert small_sweep(out, force=True, seed=8)[0].read_bytes() != first
    second = (out / "runs.csv").read_bytes()

    def broken(*a, **k):
        raise InputError("--scheduler", "x", "gone")

    monkeypatch.setattr(runner, "make_executor", broken)
    with pytest.raises(InputError, match="gone"):
        small_sweep(out, force=True, seed=9)
    assert (out / "runs.csv").read_bytes() == second  # put back as it was
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_a_log_scale_never_leaves_the_allowed_range():
    u = Uncertainty.parse("vote_noise=0.01:5:log")
    points = design([u], 2, "grid", 1)
    values = [p["vote_noise"] for p in points]
    assert all(0.01 <= v <= 5.0 for v in values) and values[-1] == 5.0 and abs(values[0] - 0.01) < 1e-12
