"""The command line as a user meets it: good runs, help, safe output folders (bad input: test_bad_inputs.py)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.inputs.errors import InputError
from sim.run.output import MARKER, STALE_SECONDS, OutputFolder, clean_stale

ROOT = Path(__file__).resolve().parent.parent
FJELL = (ROOT / "tests" / "data" / "explicit-region.toml").read_text(encoding="utf-8")


def cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(res, *needles):
    assert res.returncode == 2, res.stderr
    lines = [x for x in res.stderr.strip().splitlines() if x]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "o"
    res = cli("run", "fjellregionen", "--replicates", 4, "--out", out, "--quiet", "--set", "pilot_funding=0.5")
    assert res.returncode == 0, res.stderr
    for name in [
        "runs.csv",
        "timeline.csv",
        "events.csv",
        "summary.csv",
        "metadata.json",
        "fjellregionen-outcomes.png",
        "fjellregionen-fan-charts.svg",
        "fjellregionen-timeline.png",
        "fjellregionen-map.png",
    ]:
        assert (out / name).is_file(), name
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["base_seed"] == 20161214 and len(meta["scenarios"][0]["sha256"]) == 64
    assert meta["scenarios"][0]["parameters"]["pilot_funding"] == 0.5
    assert meta["program"] == "imc-sim" and meta["scheduler"] is None
    assert meta["workers"] >= 1 and meta["chunk_size"] >= 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no temp folder left


def test_until_stops_early(tmp_path):
    out = tmp_path / "o"
    assert (
        cli("run", "fosen", "--replicates", 2, "--until", "2014-06", "--out", out, "--quiet", "--no-plots").returncode
        == 0
    )
    months = (out / "timeline.csv").read_text().splitlines()[-1]
    assert "2014-06" in months


def test_compare_list_show(tmp_path):
    res = cli(
        "compare",
        "vaernesregionen",
        "--variant",
        "admin:allow.board_host=false",
        "--replicates",
        20,
        "--out",
        tmp_path / "c",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "admin changes: " in res.stdout and (tmp_path / "c" / "comparison.png").exists()  # one sentence
    assert "Formal agreement for agriculture" in (tmp_path / "c" / "comparison.csv").read_text()  # the full table
    res = cli("list")
    assert res.returncode == 0 and "reform_intensity" in res.stdout and "fosen" in res.stdout
    res = cli("show", "fosen", "--set", "pilot_funding=0")
    assert res.returncode == 0 and "pilot_funding = 0.0" in res.stdout
    assert cli("--help").returncode == 0 and "example" in cli("run", "--help").stdout


def test_workers_capped_at_the_number_of_runs(tmp_path):
    res = cli("run", "fosen", "--replicates", 2, "--workers", 1000, "--out", tmp_path / "o", "--quiet", "--no-plots")
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "o" / "metadata.json").read_text())["workers"] == 2


def test_help_is_formatted():
    for command in ["", "validate", "run", "compare", "sweep", "sensitivity", "discover", "dashboard", "list", "show"]:
        text = cli(*([command] if command else []), "--help").stdout
        assert "%%" not in text and "example" in text, command
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("example"))
        assert lines[at + 1].startswith("  python run.py"), command  # examples on their own lines
    assert "95 %" in cli("validate", "--help").stdout


def test_until_error_names_the_option_once(tmp_path):
    res = cli("run", "fosen", "--until", "2017-13", "--out", tmp_path / "o")
    assert_one_line_error(res, "--until")
    assert res.stderr.count("--until") == 1


def test_help_and_list_do_not_import_heavy_libraries():
    code = (
        "import sys, io, contextlib; from sim.cli import main\n"
        "for argv in (['--help'], ['list'], ['run', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "heavy = [m for m in ('mesa', 'matplotlib', 'pandas', 'SALib', 'dask', 'distributed', 'scipy') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "", res.stdout + res.stderr
    t0 = time.perf_counter()
    assert cli("--help").returncode == 0 and cli("list").returncode == 0
    assert time.perf_counter() - t0 < 6  # both; about 0.1 s each on an idle machine


def test_folders_follow_the_umask(tmp_path):
    for umask, mode in ((0o022, 0o755), (0o002, 0o775)):
        out = tmp_path / f"o{umask:o}" / "deep"
        res = subprocess.run(
            [
                sys.executable,
                str(ROOT / "run.py"),
                "run",
                "fosen",
                "--replicates",
                "2",
                "--out",
                str(out),
                "--quiet",
                "--no-plots",
            ],
            capture_output=True,
            text=True,
            preexec_fn=lambda u=umask: os.umask(u),
        )
        assert res.returncode == 0, res.stderr
        assert out.stat().st_mode & 0o777 == mode and out.parent.stat().st_mode & 0o777 == mode
        assert (out / "runs.csv").stat().st_mode & 0o777 == mode & 0o666


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_folders_are_cleaned_and_nothing_else(tmp_path):
    old = time.time() - STALE_SECONDS - 60
    killed = tmp_path / ".o.imc-tmp-0badcafe"  # its run was killed
    running = tmp_path / ".o.imc-tmp-00c0ffee"  # its run is alive (this test)
    elsewhere = tmp_path / ".o.imc-tmp-0000abcd"  # made on another machine sharing the folder
    foreign = tmp_path / ".o.imc-tmp-deadbeef"  # no marker: not ours
    replaced = tmp_path / ".o.imc-old-0000cafe"  # a replaced result folder left by a kill
    replacing = tmp_path / ".o.imc-old-1111cafe"  # one being replaced right now
    for folder, pid, host in (
        (killed, dead_pid(), None),
        (running, os.getpid(), None),
        (elsewhere, 1, "other"),
        (foreign, None, None),
        (replaced, None, None),
        (replacing, None, None),
    ):
        folder.mkdir()
        (folder / "runs.csv").write_text("x\n")
        if pid is not None:
            (folder / MARKER).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname()}))
    for folder in (replaced, replacing):
        (folder / "metadata.json").write_text(json.dumps({"program": "imc-sim", "files": ["runs.csv"]}))
    os.utime(replaced, (old, old))
    user = tmp_path / "notes.imc-tmp-12345678"  # not hidden: never touched
    user.mkdir()
    res = cli("run", "fosen", "--replicates", 2, "--out", tmp_path / "o", "--quiet", "--no-plots")
    assert res.returncode == 0, res.stderr
    assert not killed.exists() and not replaced.exists()
    assert running.exists() and elsewhere.exists() and foreign.exists() and replacing.exists() and user.exists()
    assert clean_stale(tmp_path) == []


def test_output_folder_never_replaces_a_folder_that_appeared(tmp_path):
    """Data loss 2, deterministic: the target appears while a run works; both results survive."""
    target = tmp_path / "o"
    out = OutputFolder(target)
    assert out.tmp.parent == tmp_path and out.tmp.name.startswith(".o.imc-tmp-")  # beside, never inside
    with pytest.raises(InputError, match="o-2"):
        with out as tmp:
            (tmp / "runs.csv").write_text("second\n")
            target.mkdir()
            (target / "runs.csv").write_text("first\n")
    assert (target / "runs.csv").read_text() == "first\n"
    assert (tmp_path / "o-2" / "runs.csv").read_text() == "second\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_output_folder_force_replaces_only_the_folder_it_checked(tmp_path):
    target = tmp_path / "o"
    with OutputFolder(target) as tmp:
        (tmp / "metadata.json").write_text(json.dumps({"program": "imc-sim"}))
    with OutputFolder(target, force=True) as tmp:  # a previous result folder: replaced
        (tmp / "metadata.json").write_text(json.dumps({"program": "imc-sim", "n": 2}))
    assert json.loads((target / "metadata.json").read_text())["n"] == 2
    out = OutputFolder(target, force=True)
    os.rename(target, tmp_path / "moved")  # meanwhile another run puts its own result there
    target.mkdir()
    (target / "metadata.json").write_text(json.dumps({"program": "imc-sim", "n": 3}))
    with pytest.raises(InputError, match="appeared"):
        with out as tmp:
            (tmp / "metadata.json").write_text(json.dumps({"program": "imc-sim", "n": 4}))
    assert json.loads((target / "metadata.json").read_text())["n"] == 3
    assert json.loads((tmp_path / "o-2" / "metadata.json").read_text())["n"] == 4
    (target / "notes.txt").write_text("mine")  # a user's own file: no longer only our results
    with pytest.raises(InputError, match="not a result folder"):
        OutputFolder(target, force=True)


def test_concurrent_runs_with_the_same_out_lose_nothing(tmp_path):
    """Data loss 2, as a user meets it: two runs a moment apart into the same --out."""
    out = tmp_path / "o"
    procs = []
    for seed in (1, 2):
        procs.append(
            (
                seed,
                subprocess.Popen(
                    [
                        sys.executable,
                        str(ROOT / "run.py"),
                        "run",
                        "fosen",
                        "--replicates",
                        "4",
                        "--seed",
                        str(seed),
                        "--out",
                        str(out),
                        "--quiet",
                        "--no-plots",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
        time.sleep(0.3)
    results = [(seed, p.wait(timeout=300), p.stderr.read()) for seed, p in procs]
    seeds_on_disk = {json.loads(m.read_text())["base_seed"] for m in tmp_path.glob("o*/metadata.json")}
    for seed, code, err in results:
        assert "Traceback" not in err and code in (0, 2), err
        if code == 0 or "results are in" in err:
            assert seed in seeds_on_disk, (seed, err)  # every run that finished is on disk
    assert any(code == 0 for _, code, _ in results)


def test_python_api_names_the_keyword():
    from sim.analysis.results import compare, run_scenarios

    with pytest.raises(InputError) as info:
        run_scenarios(["fosen"], replicates=2, reform_intensty=0)
    assert str(info.value).startswith("keyword argument: reform_intensty: unknown parameter")
    with pytest.raises(InputError, match="^keyword argument: nokey"):
        compare("fosen", {"a": {"nokey": 1}}, replicates=2)
    with pytest.raises(InputError, match="twice"):
        run_scenarios(["fosen", "fosen"], replicates=2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_the_dashboard_stops_its_server(how):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # SIGINT as in a terminal, even when this suite runs in the background (which ignores it, and an
        # ignored signal stays ignored across exec)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert f"http://127.0.0.1:{port}" in proc.stdout.readline()
        assert listening(port)
        proc.send_signal(how)
        proc.wait(timeout=30)
        deadline = time.time() + 20
        while listening(port) and time.time() < deadline:
            time.sleep(0.2)
        assert not listening(port), "the solara server is still listening"
        if how != signal.SIGKILL:
            assert proc.returncode == 0 and "Traceback" not in proc.stderr.read()
    finally:
        proc.kill()


def test_a_killed_run_leaves_a_hidden_folder_that_the_next_run_removes(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "run",
            "vaernesregionen",
            "--replicates",
            "2000",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not list(tmp_path.glob(".o.imc-tmp-*")) and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()  # not reaped yet: a zombie, as under a careless parent
    assert list(tmp_path.glob(".o.imc-tmp-*"))
    res = cli("run", "fosen", "--replicates", 2, "--out", tmp_path / "o", "--quiet", "--no-plots")
    proc.wait()
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_distances_far_from_the_triangle_inequality_give_one_warning_line(tmp_path):
    text = FJELL.replace('["Os", "Holtålen", 50]', '["Os", "Holtålen", 200]')
    path = tmp_path / "detour.toml"
    path.write_text(text, encoding="utf-8")
    res = cli("run", path, "--replicates", 2, "--no-plots", "--quiet", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    warnings = [x for x in res.stderr.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1, res.stderr
    assert "Os-Holtålen" in warnings[0] or "Holtålen-Os" in warnings[0], res.stderr


KNR = """[region]
name = "Numbered"
description = "x"
start = "2014-01"
pilot_end = "2015-12"
horizon = "2016-06"
leader = "external"
consultant = false
politicians_in_steering_group = false
council_stages = 1
cooperation_history = 0.5
reform_start = "2014-06"
reform_deadline = "2015-06"

[[municipality]]
name = "A"
knr = "1714"
source = "t"

[[municipality]]
name = "B"
knr = "1664"
source = "t"

[[municipality]]
name = "C"
knr = "1665"
source = "t"
"""

HOSTILE_FILES = [
    (
        '[[municipality]]\nname = "C"',
        '[[shared_post]]\nmembers = ["A", "A"]\nsector = "agriculture"\nsource = "s"\n\n[[municipality]]\nname = "C"',
        ["shared_post[0].members", "named twice"],
    ),
    ('knr = "1664"', 'knr = "1714"', ["municipality.B.knr", "another member"]),
    ('knr = "1664"', 'knr = "9999"', ["municipality.B.knr", "no municipality numbered"]),
    (
        "council_stages = 1",
        'council_stages = { value = { value = 2 }, low = 1, high = 3, source = "s" }',
        ["council_stages.value", "expected a number"],
    ),
    (
        "council_stages = 1",
        'council_stages = { value = 1, low = -1, high = 3, source = "s" }',
        ["council_stages.low", "outside"],
    ),
    (
        '[[municipality]]\nname = "C"',
        '[[reform_event]]\ndate = "2015-01"\nkind = "talks"\nparties = []\n'
        'source = "s"\n\n[[municipality]]\nname = "C"',
        ["reform_event[0].parties", "at least 1"],
    ),
]


@pytest.mark.parametrize("old,new,needles", HOSTILE_FILES)
def test_hostile_scenario_files_numbered_members(tmp_path, old, new, needles):
    path = tmp_path / "numbered.toml"
    text = KNR.replace(old, new, 1)
    assert text != KNR
    path.write_text(text, encoding="utf-8")
    res = cli("run", path, "--replicates", 2, "--no-plots", "--quiet", "--out", tmp_path / "o")
    assert_one_line_error(res, *needles)
    assert not (tmp_path / "o").exists()


def test_a_population_in_the_file_stands_in_for_a_missing_one_in_the_data(tmp_path):
    path = tmp_path / "numbered.toml"
    path.write_text(KNR.replace('knr = "1665"', 'knr = "0706"\npopulation = 40000'), encoding="utf-8")
    res = cli("run", path, "--replicates", 2, "--no-plots", "--quiet", "--out", tmp_path / "o")
    assert res.returncode == 0, res.stderr


def test_validate_never_overwrites_a_users_file(tmp_path):
    precious = tmp_path / "precious.toml"
    precious.write_text("precious data\n")
    res = cli("validate", "--replicates", 2, "--quiet", "--json", precious)
    assert_one_line_error(res, "--json", "not written by this program")
    assert precious.read_text() == "precious data\n"
    mine = tmp_path / "v.json"
    assert cli("validate", "--replicates", 2, "--quiet", "--json", mine, "--workers", 1).returncode == 0
    assert cli("validate", "--replicates", 2, "--quiet", "--json", mine, "--workers", 1).returncode == 0  # ours
    res = cli(
        "validate", "--robustness", "--replicates", 2, "--quiet", "--out", tmp_path / "r", "--json", tmp_path / "r"
    )
    assert_one_line_error(res, "--json", "--out")
    assert not (tmp_path / "r").exists()


def test_calibrate_refuses_a_centre_with_unknown_or_bad_values(tmp_path):
    for centre, needle in (({"merger": 1}, "not a calibrated parameter"), ({"council_months": 100}, "outside")):
        path = tmp_path / "c.json"
        path.write_text(json.dumps(centre))
        res = cli("calibrate", "--centre", path, "--sets", 2, "--replicates", 1, "--refine", 2, "--out", tmp_path / "k")
        assert_one_line_error(res, str(path), needle)
        assert not (tmp_path / "k").exists()


@pytest.mark.slow
def test_the_main_job_without_arguments(tmp_path):
    """The README's first command: `python run.py` prints the validation table and writes results/."""
    res = cli(cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "fjellregionen.story" in res.stdout and "votes.csv" in res.stdout
    (folder,) = (tmp_path / "results").iterdir()
    assert (folder / "votes.csv").is_file() and (folder / "vaernesregionen-timeline.png").is_file()
