"""Adding a sector is data: planning split into land-use planning and building/mapping.

The test copies the program (``run.py``, ``sim/``, ``scenarios/``, ``data/``, the calibration's
prior centre) to a temporary folder and changes only the scenario files (with
:func:`sim.analysis.variants.split_folder`, the split read from ``scenarios/directions.toml``) and the centre there: one
``[[sector]]`` table becomes two, every per-sector value and every list of sectors names both.
Then it runs the command line of the copy: a pilot, ``validate``, ``compare`` on a pilot, a county
run, and a small calibration whose posterior a run then uses. The copy's ``sim/`` is the
project's, byte for byte: nothing in the code names a sector. A posterior made with the three
sectors is refused in one line.
"""

from __future__ import annotations

import csv
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.analysis.variants import read_splits, split_folder, split_keys, split_text

ROOT = Path(__file__).resolve().parent.parent
OLD = "planning"
#: The split is data (``[split.planning]`` in scenarios/directions.toml) and the transformation is the
#: library's (sim.analysis.variants), which the §3.2 experiment of ``validate --directions`` uses too.
SPLIT = read_splits()[OLD]
NEW = SPLIT.names


def test_the_split_is_the_one_this_test_expects():
    assert SPLIT.old == OLD and NEW == ("land_use", "building")


def test_split_text_copies_values_and_extends_lists():
    text = (
        'a = { planning = 0.5, environment = 1 }  # planning = 3\nb = ["planning", "x"]\nc = ["sensitivity.planning"]\n'
    )
    assert split_text(text, SPLIT) == (
        "a = { land_use = 0.5, building = 0.5, environment = 1 }  # planning = 3\n"
        'b = ["land_use", "building", "x"]\nc = ["sensitivity.land_use", "sensitivity.building"]\n'
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The program in a temporary folder, its scenario files split."""
    root = tmp_path_factory.mktemp("four-sectors")
    shutil.copy2(ROOT / "run.py", root / "run.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("sim", "scenarios", "data"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    split_folder(SPLIT, root / "scenarios", source=ROOT / "scenarios")
    centre = json.loads((ROOT / "docs" / "calibration" / "centre.json").read_text(encoding="utf-8"))
    (root / "docs" / "calibration").mkdir(parents=True)  # the calibration's default prior centre, split as well
    (root / "docs" / "calibration" / "centre.json").write_text(
        json.dumps(split_keys(centre, SPLIT), indent=1), encoding="utf-8"
    )
    defaults = (root / "scenarios" / "defaults.toml").read_text(encoding="utf-8")
    assert 'name = "land_use"' in defaults and f'name = "{OLD}"' not in defaults
    assert not re.search(rf"\b{OLD} = ", defaults.split("[levers]", 1)[1].replace("# ", "#")), "a value left unsplit"
    return root


def cli(root: Path, *args: str, code: int = 0) -> str:
    """Run the copy's command line and return its output (stdout, or stderr when ``code`` is not 0)."""
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "run.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == code, f"{' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout if code == 0 else done.stderr


def test_the_code_of_the_copy_is_the_projects(copy):
    diff = filecmp.dircmp(ROOT / "sim", copy / "sim", ignore=["__pycache__"])
    changed = []

    def walk(d):
        changed.extend(d.diff_files + d.left_only + d.right_only)
        for sub in d.subdirs.values():
            walk(sub)

    walk(diff)
    assert not changed


def test_the_vocabulary_has_four_sectors(copy):
    out = cli(copy, "list")
    assert f"sensitivity.{NEW[0]}" in out and f"sensitivity.{NEW[1]}" in out and f"sensitivity.{OLD}" not in out


@pytest.mark.slow
def test_a_pilot_runs_with_four_sectors(copy, tmp_path):
    cli(
        copy,
        "run",
        "vaernesregionen",
        "--replicates",
        "3",
        "--workers",
        "1",
        "--quiet",
        "--no-plots",
        "--out",
        str(tmp_path / "r"),
    )
    with open(tmp_path / "r" / "runs.csv", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert {f"form_{s}" for s in (*NEW, "environment", "agriculture")} <= set(row)
    assert f"form_{OLD}" not in row


@pytest.mark.slow
def test_validate_scores_every_story_with_four_sectors(copy):
    out = cli(copy, "validate", "--replicates", "4", "--workers", "2", "--quiet")
    for story in ("fjellregionen.story", "vaernesregionen.story", "fosen.story", "joint: every pilot's story"):
        assert story in out


@pytest.mark.slow
def test_compare_a_lever_on_a_new_sector(copy, tmp_path):
    out = cli(
        copy,
        "compare",
        "fjellregionen",
        "--variant",
        f"easy:sensitivity.{NEW[1]}=0.5",
        "--replicates",
        "4",
        "--workers",
        "2",
        "--quiet",
        "--out",
        str(tmp_path / "c"),
    )
    assert "easy" in out
    with open(tmp_path / "c" / "comparison.csv", encoding="utf-8") as f:
        outcomes = {r["outcome"] for r in csv.DictReader(f)}
    assert any(NEW[1] in o for o in outcomes)


@pytest.mark.slow
def test_a_county_runs_with_four_sectors(copy, tmp_path):
    cli(
        copy,
        "run",
        "trondelag",
        "--set",
        f"mandatory_host.{NEW[0]}=true",
        "--replicates",
        "2",
        "--workers",
        "2",
        "--quiet",
        "--no-plots",
        "--out",
        str(tmp_path / "county"),
    )
    with open(tmp_path / "county" / "runs.csv", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert any(NEW[0] in column for column in row) and not any(OLD in column for column in row)


@pytest.mark.slow
def fixed_keys(root: Path) -> list[str]:
    """``[calibration] fixed`` of the copy's shared parameter file."""
    from sim.inputs.params import read_toml

    return read_toml(root / "scenarios" / "defaults.toml")["calibration"]["fixed"]


def test_calibrate_and_run_under_its_posterior_with_four_sectors(copy, tmp_path):
    out = tmp_path / "cal"
    tiny = ("--sets", "2", "--generations", "1", "--replicates", "1", "--refine", "2", "--workers", "2", "--quiet")
    cli(copy, "calibrate", *tiny, "--out", str(out))
    spec = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert spec["vocabulary"]["sectors"] == [*NEW, "environment", "agriculture"]
    moved = {k.partition(".")[2] for k in spec["prior"]} | {k.partition(".")[2] for k in fixed_keys(copy)}
    assert NEW[1] in moved and OLD not in moved  # the split sector's keys, calibrated or fixed by the screen
    cli(
        copy,
        "run",
        "fosen",
        "--replicates",
        "2",
        "--quiet",
        "--no-plots",
        "--posterior",
        str(out),
        "--out",
        str(tmp_path / "r"),
    )


# --- a posterior made with three sectors is refused with four ---------------------------------------
POSTERIOR = ROOT / "docs" / "calibration" / "posterior"


def test_a_posterior_of_another_vocabulary_is_refused_in_one_line(copy):
    err = cli(copy, "run", "fosen", "--replicates", "2", "--quiet", "--posterior", str(POSTERIOR), code=2)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "calibration.json: vocabulary.sectors: made with sectors planning, environment, agriculture" in err
    assert "land_use, building, environment, agriculture" in err


def test_an_older_posterior_is_refused_by_its_columns(copy, tmp_path):
    """Without the record in calibration.json, a parameter column names the foreign sector."""
    folder = tmp_path / "post"
    shutil.copytree(POSTERIOR, folder)
    (folder / "calibration.json").unlink()
    # an older posterior that moved a per-sector value (before the screen fixed them): one more column
    accepted = folder / "accepted.csv"
    lines = accepted.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",sensitivity.planning", *(line + ",4.4" for line in lines[1:])]
    accepted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = cli(copy, "validate", "--replicates", "2", "--quiet", "--posterior", str(folder), code=2)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "accepted.csv: sensitivity.planning: made with another vocabulary: no sector 'planning'" in err


def test_a_posterior_with_another_form_is_refused(tmp_path):
    """In the project itself: a calibration.json that records a fifth form."""
    from sim.analysis.posterior import load_posterior
    from sim.inputs.errors import InputError
    from sim.inputs.params import load_defaults

    folder = tmp_path / "post"
    shutil.copytree(POSTERIOR, folder)
    spec = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    assert spec["vocabulary"] == load_defaults().vocab.names  # the committed posterior is ours
    assert load_posterior(folder).size > 0
    spec["vocabulary"]["forms"].append("purchase")
    (folder / "calibration.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(InputError, match=r"calibration.json: vocabulary.forms: made with forms .*, purchase;"):
        load_posterior(folder)


def test_the_calibrated_keys_must_name_the_vocabulary(tmp_path):
    """A sector removed from ``[[sector]]`` but left in ``[calibration]`` is one clear error."""
    from sim.inputs.errors import InputError
    from sim.inputs.params import calibrated, fixed_by_screen

    text = (ROOT / "scenarios" / "defaults.toml").read_text(encoding="utf-8")
    path = tmp_path / "defaults.toml"
    path.write_text(text.replace('"control_share.admin_host",', '"control_share.geodata",'), encoding="utf-8")
    with pytest.raises(InputError, match=r"calibration.parameters: unknown parameter 'control_share.geodata'"):
        calibrated(path)
    path.write_text(text.replace('"sensitivity.environment",', '"sensitivity.geodata",'), encoding="utf-8")
    with pytest.raises(InputError, match=r"calibration.fixed: unknown parameter 'sensitivity.geodata'"):
        fixed_by_screen(path)
    assert calibrated() == tuple(json.loads((POSTERIOR / "calibration.json").read_text(encoding="utf-8"))["prior"])
