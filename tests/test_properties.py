"""Property-based checks: any in-range parameters and any region of 2-60 members run cleanly.

Hypothesis draws values for every numeric parameter and lever within the catalogue's ranges, and
random regions (populations from 1 to 10^7, distances 1-500 km); the model must never raise and
every outcome row must be well-formed (no NaN, shares within 0-1, forms from the vocabulary).
"""

import json
import math

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sim.core.model import CooperationModel  # noqa: E402
from sim.core.outcomes import outcome_row  # noqa: E402
from sim.inputs.loader import load_scenario  # noqa: E402
from sim.inputs.params import by_name  # noqa: E402

SPECS = {k: s for k, s in by_name().items() if k != "null_model"}


def value_of(spec):
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "int":
        return st.integers(int(spec.low), int(spec.high))
    return st.floats(spec.low, spec.high, allow_nan=False, allow_infinity=False)


overrides = st.fixed_dictionaries({}, optional={k: value_of(s) for k, s in SPECS.items()})


def region_file(tmp_path, populations, distances, seed):
    names = [f"m{i:02d}" for i in range(len(populations))]
    lines = [
        "[region]",
        f'name = "random {seed}"',
        'description = "property test"',
        'start = "2014-01"',
        'pilot_end = "2015-12"',
        'horizon = "2016-12"',
        'leader = "external"',
        "consultant = false",
        "politicians_in_steering_group = true",
        "council_stages = 2",
        "cooperation_history = 0.5",
        'reform_start = "2014-06"',
        'reform_deadline = "2015-06"',
        "",
    ]
    for name, pop in zip(names, populations, strict=True):
        lines += [
            "[[municipality]]",
            f'name = "{name}"',
            'county = "x"',
            f"population = {pop!r}",
            'source = "test"',
            "",
        ]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    body = ", ".join(f'["{a}", "{b}", {distances[k % len(distances)]!r}]' for k, (a, b) in enumerate(pairs))
    path = tmp_path / f"r{seed}.toml"
    path.write_text(f"distances = [{body}]\n" + "\n".join(lines), encoding="utf-8")
    return path


def check_row(model, row):
    for key, value in row.items():
        if isinstance(value, float):
            assert math.isfinite(value), key
    forms = (*model.p.vocab.form_names, "none")
    for sector in model.p.vocab.sector_names:
        assert row[f"form_{sector}"] in forms
        assert set(json.loads(row[f"members_{sector}"])) <= set(model.scenario.names)
        assert 0.0 <= row[f"vulnerability_{sector}_horizon"] <= 1.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=overrides, seed=st.integers(0, 2**32 - 1))
def test_any_parameters_in_range_run_cleanly(params, seed):
    model = CooperationModel("vaernesregionen", rng=seed, **params).run()
    check_row(model, outcome_row(model))


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    populations=st.lists(st.floats(1.0, 1e7, allow_nan=False), min_size=2, max_size=60),
    distances=st.lists(st.floats(1.0, 500.0, allow_nan=False), min_size=1, max_size=40),
    params=overrides,
    seed=st.integers(0, 2**16),
)
def test_any_region_of_2_to_60_members_runs_cleanly(tmp_path_factory, populations, distances, params, seed):
    path = region_file(tmp_path_factory.mktemp("r"), populations, distances, seed)
    model = CooperationModel(load_scenario(path, params), rng=seed).run()
    check_row(model, outcome_row(model))


def test_a_region_where_no_member_may_host_runs_cleanly():
    """No credible host (every member below the host floor): the forms without a host are still valued."""
    model = CooperationModel(load_scenario("fosen", {"host_min_share": 2.0}), rng=3).run()
    assert not any(a.form.needs_host for a in model.arrangements)
    assert outcome_row(model)  # the outcome row is computed
