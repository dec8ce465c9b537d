"""Nothing left running: pool workers die with their parent, whatever ends it (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = str(ROOT / "run.py")

COMMANDS = {
    "run": ["run", "fosen", "--replicates", 400, "--workers", 2, "--quiet", "--no-plots", "--out", "o"],
    "sweep": ["sweep", "fosen", "--param", "pilot_funding=0:2", "--samples", 200, "--replicates", 4, "--workers", 2]
    + ["--quiet", "--out", "o"],
    "calibrate": [
        "calibrate",
        "--sets",
        40,
        "--generations",
        2,
        "--replicates",
        4,
        "--refine",
        4,
        "--workers",
        2,
        "--quiet",
    ]
    + ["--out", "o"],
}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_worker_survives_a_killed_parent(command, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, RUN, *map(str, COMMANDS[command])],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, f"no worker pool started: {proc.stderr.read().decode() if proc.poll() else ''}"
        time.sleep(1)  # the workers are busy with runs
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(10)
        survivors = [pid for pid in workers if _alive(pid)]
        assert survivors == [], f"{len(survivors)} of {len(workers)} workers outlived their parent"
    finally:
        for pid in [proc.pid, *workers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc.wait(timeout=10)
        proc.stderr.close()


def test_workers_are_spawned_inside_jupyter_and_forked_elsewhere(monkeypatch):
    """A forked copy of a Jupyter kernel shares its ZeroMQ sockets and could kill it (issue 17)."""
    import multiprocessing

    from sim.run.runner import _pool_context

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    if "fork" in multiprocessing.get_all_start_methods():
        assert _pool_context().get_start_method() == "fork"
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # as inside a kernel
    assert _pool_context().get_start_method() == "spawn"


def test_a_worker_whose_parent_is_gone_ends_itself():
    """The watchdog: a worker started for a parent that is no longer its parent exits at once."""
    code = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); from sim.run.runner import _worker_init; "
        "_worker_init(os.getppid() + 10**6); print('still here')"
    )
    res = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "still here" not in res.stdout


def test_run_says_how_many_replicates_its_tables_hold(tmp_path, capsys, monkeypatch):
    """The main job printed "200 replicates per case" above outcome tables made from 100 (issue 17)."""
    from sim.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["run", "fosen", "--replicates", "3", "--workers", "1", "--quiet", "--no-plots", "--out", "o"]) == 0
    out = capsys.readouterr().out
    assert "outcomes over 3 replicates per scenario" in out
    assert out.index("outcomes over 3 replicates") < out.index("Fosen")
