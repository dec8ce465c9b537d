"""Parse once: a scenario file is read and its overrides checked in the process that builds the jobs.

Workers receive the loaded, checked :class:`sim.inputs.scenario.Scenario` (:func:`sim.run.runner.prepare`)
and never read a file; the rows are the same whatever the number of workers, and the same as a
job made with the loaded scenario itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.inputs import loader, params
from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.scenario import Scenario
from sim.run.runner import Job, execute, prepare, run_rows

OVERRIDES = (("sensitivity_noise", "0.3"), ("vote_noise", 0.2))


def jobs(scenario) -> list[Job]:
    return [Job(r, scenario, r, 5, OVERRIDES, until=2016 * 12 + 5) for r in range(4)]


def test_a_prepared_job_carries_the_checked_scenario():
    job = prepare(Job(0, "fjellregionen", 0, 5, OVERRIDES, estimates=(("region.council_stages", 2.5),)))
    assert job.prepared and isinstance(job.scenario, Scenario)
    assert job.overrides == () and job.estimates == () and job.until is None
    assert job.scenario.params.sensitivity_noise == 0.3  # the string was parsed, once
    assert job.scenario.regions[0].council_stages == 2.5
    assert prepare(job) is job
    with pytest.raises(InputError, match="Job.overrides: vote_noise"):
        prepare(Job(0, "fjellregionen", 0, 5, (("vote_noise", "loud"),)))


def test_no_worker_reads_a_file(monkeypatch):
    parent = os.getpid()
    real = params.read_toml

    def read_here_only(path):
        assert os.getpid() == parent, f"a worker read {path}"
        return real(path)

    monkeypatch.setattr(params, "read_toml", read_here_only)
    monkeypatch.setattr(loader, "read_toml", read_here_only)
    two = run_rows(jobs("vaernesregionen"), workers=2, progress=False)
    one = run_rows(jobs("vaernesregionen"), workers=1, progress=False)
    assert two == one


def test_each_experiment_reads_the_file_as_it_is_then(tmp_path):
    path = tmp_path / "region.toml"
    text = (Path(__file__).parent / "data" / "explicit-region.toml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    before = run_rows([Job(0, str(path), 0, 1)], workers=1, progress=False)
    path.write_text(text.replace("population = 5600", "population = 56000"), encoding="utf-8")
    after = run_rows([Job(0, str(path), 0, 1)], workers=1, progress=False)
    assert before != after


def test_a_loaded_scenario_runs_as_its_name_does():
    by_name = run_rows(jobs("fjellregionen"), workers=1, progress=False)
    loaded = run_rows(jobs(load_scenario("fjellregionen")), workers=2, progress=False)
    assert loaded == by_name
    changed = run_rows(jobs(load_scenario("fjellregionen", {"pilot_funding": 0})), workers=1, progress=False)
    assert changed != by_name  # the job runs the scenario it carries


def test_a_county_job_runs_alike_with_one_and_two_workers():
    county = [Job(r, "trondelag", r, 9, (("county_initiative", True),), detail="pilots") for r in range(2)]
    one = list(execute(county, workers=1, progress=False))
    two = list(execute(county, workers=2, progress=False))
    assert [o["row"] for o in one] == [o["row"] for o in two]
    assert [o["areas"] for o in one] == [o["areas"] for o in two]


@pytest.mark.parametrize("name", ["fjellregionen", "trondelag"])
def test_scenarios_compare_by_value_regions_and_counties_alike(name):
    """Two loads of one file are equal, a changed lever is not (a county's distance matrix once made ``==`` raise)."""
    first, second = load_scenario(name), load_scenario(name)
    assert first == second
    assert first != load_scenario(name, overrides={"county_initiative": True})
