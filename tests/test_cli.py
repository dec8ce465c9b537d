"""The command line as a user meets it: good runs and every kind of bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FJELL = (ROOT / "scenarios" / "fjellregionen.toml").read_text(encoding="utf-8")


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def broken(tmp_path, old, new):
    text = FJELL.replace(old, new, 1)
    assert text != FJELL
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(res, *needles):
    assert res.returncode == 2, res.stderr
    lines = [x for x in res.stderr.strip().splitlines() if x]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


BAD_FILES = [
    ("population = 1950", "population = 0", ["population", "greater than 0"]),
    ("population = 1950", 'population = "many"', ["population", "expected float"]),
    ("political_involvement = 0.7", "political_involvement = 1.5", ["political_involvement", "outside"]),
    ('start = "2013-01"', 'start = "2013/01"', ["region.start", "YYYY-MM"]),
    ('horizon = "2017-12"', 'horizon = "2012-12"', ["region.horizon", "before"]),
    ('leader = "Røros"', 'leader = "Roros"', ["region.leader", "not a municipality", "Røros"]),
    ('["Os", "Tolga", 18]', '["Os", "Tolgaa", 18]', ["distances", "not a municipality"]),
    ("county = \"Hedmark\"", "countyy = \"Hedmark\"", ["countyy", "unknown key", "county"]),
    ("[region]", "[region\n", ["invalid TOML", "line"]),
]


@pytest.mark.parametrize("old,new,needles", BAD_FILES)
def test_bad_scenario_file(tmp_path, old, new, needles):
    path = broken(tmp_path, old, new)
    out = tmp_path / "out"
    res = cli("run", path, "--replicates", 2, "--out", out, "--quiet")
    assert_one_line_error(res, str(path), *needles)
    assert not out.exists()


def test_unknown_scenario_suggests(tmp_path):
    res = cli("run", "fjelregionen", "--out", tmp_path / "o")
    assert_one_line_error(res, "fjelregionen", "did you mean", "fjellregionen")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("setting,needles", [
    ("pilot_fundin=0", ["pilot_fundin", "unknown parameter", "pilot_funding"]),
    ("pilot_funding", ["--set", "KEY=VALUE"]),
    ("pilot_funding=lots", ["pilot_funding", "could not convert"]),
    ("reform_intensity=9", ["reform_intensity", "outside"]),
    ("agenda=random", ["agenda", "expected one of"]),
])
def test_bad_set(tmp_path, setting, needles):
    res = cli("run", "fosen", "--set", setting, "--out", tmp_path / "o", "--quiet")
    assert_one_line_error(res, *needles)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("n", ["0", "-3"])
def test_bad_replicates(tmp_path, n):
    res = cli("run", "fosen", "--replicates", n, "--out", tmp_path / "o")
    assert_one_line_error(res, "--replicates")
    assert not (tmp_path / "o").exists()


def test_bad_variant_and_until(tmp_path):
    assert_one_line_error(cli("compare", "fosen", "--variant", "nocolon"), "--variant", "NAME:KEY=VALUE")
    assert_one_line_error(cli("compare", "fosen", "--variant", "x:nokey=1"), "nokey", "unknown parameter")
    assert_one_line_error(cli("run", "fosen", "--until", "2017-13", "--out", tmp_path / "o"), "--until")


def test_existing_folder_refused_without_force(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert_one_line_error(cli("run", "fosen", "--replicates", 2, "--out", out), "--force")
    assert (out / "keep.txt").exists()


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "o"
    res = cli("run", "fjellregionen", "--replicates", 4, "--out", out, "--quiet", "--set", "pilot_funding=0.5")
    assert res.returncode == 0, res.stderr
    for name in ["runs.csv", "timeline.csv", "events.csv", "summary.csv", "metadata.json",
                 "fjellregionen-outcomes.png", "fjellregionen-fan-charts.svg",
                 "fjellregionen-timeline.png", "fjellregionen-map.png"]:
        assert (out / name).is_file(), name
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["base_seed"] == 20161214 and len(meta["scenarios"][0]["sha256"]) == 64
    assert meta["scenarios"][0]["parameters"]["pilot_funding"] == 0.5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no temp folder left


def test_until_stops_early(tmp_path):
    out = tmp_path / "o"
    assert cli("run", "fosen", "--replicates", 2, "--until", "2014-06", "--out", out, "--quiet",
               "--no-plots").returncode == 0
    months = (out / "timeline.csv").read_text().splitlines()[-1]
    assert "2014-06" in months


def test_compare_list_show(tmp_path):
    res = cli("compare", "vaernesregionen", "--variant", "admin:allow_board_host=false",
              "--replicates", 20, "--out", tmp_path / "c", "--quiet")
    assert res.returncode == 0, res.stderr
    assert "Formal agreement for agriculture" in res.stdout and (tmp_path / "c" / "comparison.png").exists()
    res = cli("list")
    assert res.returncode == 0 and "reform_intensity" in res.stdout and "fosen" in res.stdout
    res = cli("show", "fosen", "--set", "pilot_funding=0")
    assert res.returncode == 0 and "pilot_funding = 0.0" in res.stdout
    assert cli("--help").returncode == 0 and "example" in cli("run", "--help").stdout
