"""Every ``python run.py ...`` command of README.md and scenarios/README.md runs as written.

The commands are read from the READMEs themselves (fenced code blocks, with their ``\\`` line
continuations, and inline code spans), in the order they appear, and run one after another in one
temporary folder, with the replicate counts as written: later commands find what earlier ones wrote
(``results/sweep`` for ``discover``, ``docs/calibration/posterior`` for ``--posterior``). Commands
that cannot run here are listed in :data:`CANNOT_RUN` with the reason; everything else must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "scenarios" / "README.md"]

#: Placeholders that make a command unrunnable as written, and why.
CANNOT_RUN = {
    "HEAD": "needs a running Dask cluster: HEAD stands for its head node's address",
    "FOLDER": "FOLDER is a placeholder for a calibration result folder",
    "NAME": "NAME is a placeholder for a scenario name",
    " ... ": "'...' stands for the arguments of the sweep above (its resume is tested in tests/test_experiments.py)",
    "run.py dashboard": "starts a web server that runs until stopped (tested in tests/test_dashboard.py)",
    "fosen-settings.toml": "reads a settings file saved from the dashboard (tests/test_futures.py, test_dashboard.py)",
    "SCENARIO": "SCENARIO and FILE are placeholders",
}


def readme_commands(path: Path) -> list[str]:
    """Every ``python run.py ...`` command in a Markdown file, in order, whitespace normalised."""
    text = path.read_text(encoding="utf-8")
    found: list[tuple[int, str]] = []
    blocks = list(re.finditer(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M))
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block.group(1))
        for offset, line in enumerate(joined.splitlines()):
            line = re.sub(r"\s{2,}#.*$", "", line).strip()  # a trailing comment
            for part in line.split("&&"):
                part = " ".join(part.split())
                if part.startswith("python run.py"):
                    found.append((block.start() + offset, part))
    outside = text
    for block in reversed(blocks):
        outside = outside[: block.start()] + " " * (block.end() - block.start()) + outside[block.end() :]
    for span in re.finditer(r"`(python run\.py[^`]*)`", outside):
        found.append((span.start(), " ".join(span.group(1).split())))
    return [command for _, command in sorted(found, key=lambda f: f[0])]


def all_commands() -> list[str]:
    return [c for path in READMES for c in readme_commands(path)]


def test_the_readmes_have_commands_and_each_is_run_or_explained():
    commands = all_commands()
    assert len(commands) >= 20
    assert "python run.py" in commands  # the fresh start
    assert any(c.startswith("python run.py forecast trondelag-2017") for c in commands)
    skipped = [c for c in commands if any(p in f" {c} " for p in CANNOT_RUN)]
    assert len(skipped) <= 8, skipped


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path):
    """Run them all (about 25 min on 2 quiet cores, of which the default calibration 10; the times are printed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    # as in a checkout: the committed calibration is there before the README's own calibrate replaces it
    shutil.copytree(ROOT / "docs" / "calibration" / "posterior", tmp_path / "docs" / "calibration" / "posterior")
    failures, times = [], []
    for command in all_commands():
        reason = next((why for p, why in CANNOT_RUN.items() if p in f" {command} "), None)
        if reason:
            print(f"\nnot run: {command}\n  ({reason})")
            continue
        args = shlex.split(command)[2:]  # after "python run.py"
        t0 = time.monotonic()
        res = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        seconds = time.monotonic() - t0
        times.append(seconds)
        print(f"\n{seconds:7.1f} s  exit {res.returncode}  {command}", flush=True)
        if res.returncode != 0 or "Traceback" in res.stderr:
            failures.append(f"{command}: exit {res.returncode}: {res.stderr.strip()[-600:]}")
    print(f"\n{len(times)} commands in {sum(times) / 60:.1f} min")
    assert not failures, "\n".join(failures)
    stale = committed_forecast_differences(tmp_path)
    assert not stale, "docs/forecast/ is stale; re-run the README's forecast commands:\n" + "\n".join(stale)


def committed_forecast_differences(folder: Path) -> list[str]:
    """The README quotes docs/forecast/: what the README's forecast commands (run in ``folder``) give differently.

    The committed ``forecast.csv`` (1,000 replicates) and ``levers.csv`` (200 paired) are compared
    with the files the same commands wrote, matched by their command line in ``metadata.json``.
    """
    import json

    import pandas as pd

    committed = ROOT / "docs" / "forecast"
    wanted = {"forecast.csv": ["--replicates", "1000"], "levers.csv": ["--replicates", "200", "--levers"]}
    out = []
    for name, flags in wanted.items():
        made = [
            m.parent / name
            for m in folder.glob("results/forecast-*/metadata*.json")
            if (m.parent / name).exists()
            and all(f in json.loads(m.read_text(encoding="utf-8"))["command_line"] for f in flags)
            and "--posterior" not in json.loads(m.read_text(encoding="utf-8"))["command_line"]
        ]
        if not made:
            out.append(f"{name}: no README command wrote it")
            continue
        new, old = pd.read_csv(made[0]), pd.read_csv(committed / name)
        numbers = old.select_dtypes("number").columns
        if list(new.columns) != list(old.columns) or len(new) != len(old):
            out.append(f"{name}: columns or rows differ")
        elif not (new[numbers] - old[numbers]).abs().le(1e-9).all().all():
            out.append(f"{name}: numbers differ")
    return out


def test_the_readme_quotes_the_committed_forecast():
    """The README's forecast numbers and lever table are those of docs/forecast/ (made by its commands)."""
    import pandas as pd

    from sim.analysis.forecast import COUNTY, digest

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    folder = ROOT / "docs" / "forecast"
    assert digest(pd.read_csv(folder / "levers.csv")) in text, "README's lever table is not docs/forecast/levers.csv"
    county = pd.read_csv(folder / "forecast.csv").set_index("area").loc[COUNTY]
    for key in ("p_new_office_agriculture_2022", "p_nothing"):
        quoted = f"{county[key]:.2f} [{county[key + '_low']:.2f}, {county[key + '_high']:.2f}]"
        assert quoted in " ".join(text.split()), f"README does not quote {key} = {quoted} of docs/forecast/forecast.csv"
