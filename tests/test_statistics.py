"""Intervals (Newcombe's paired interval, t intervals), Sobol warnings and the PRIM report."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sim.analysis.results import compare_rows, summarise

# --- Newcombe's hybrid score interval for paired proportions -----------------------------------------
from sim.analysis.stats import newcombe_paired, t_interval, wilson
from sim.run.execution import SERIAL


def test_newcombe_matches_the_published_example():
    # Cavo et al. (2012), complete response before and after consolidation therapy, as worked in
    # Fagerland, Lydersen and Laake (2017), Statistical Analysis of Contingency Tables, ch. 8:
    # estimate -0.0621, Newcombe square-and-add 95 % CI -0.1186 to -0.0046.
    low, high = newcombe_paired(59, 6, 16, 80)
    assert low < (6 - 16) / 161 < high  # the interval brackets the estimate
    assert low == pytest.approx(-0.1186, abs=5e-5)
    assert high == pytest.approx(-0.0046, abs=5e-5)


@pytest.mark.parametrize("n", [1, 3, 10, 50, 300])
def test_newcombe_has_width_when_every_pair_moves_the_same_way(n):
    up = newcombe_paired(0, n, 0, 0)  # every pair: no -> yes
    down = newcombe_paired(0, 0, n, 0)
    assert up[1] == 1.0 and 0 < up[1] - up[0] and up[0] < 1.0
    assert down[0] == -1.0 and 0 < down[1] - down[0] and down[1] > -1.0
    assert up[0] == pytest.approx(-down[1])
    still = newcombe_paired(n, 0, 0, 0)  # nobody moves: the interval is still not a point
    assert still[0] < 0 < still[1]


def test_newcombe_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(20161214)
    probs = (0.3, 0.15, 0.05, 0.5)  # both, first only, second only, neither
    true = probs[1] - probs[2]
    cells = rng.multinomial(40, probs, size=2000)
    covered = [lo <= true <= hi for lo, hi in (newcombe_paired(*map(int, c)) for c in cells)]
    assert 0.935 <= np.mean(covered) <= 0.97


def test_wilson_brackets_the_share_at_every_count():
    """At 0 or n successes the formula's limit equals the share up to rounding (1 - 1.1e-16 for n = 50):
    clamped, the share never falls outside its own interval (plots would get negative error bars)."""
    for n in range(1, 1001):
        for k in {0, 1, n // 2, n - 1, n} & set(range(n + 1)):
            low, high = wilson(k, n)
            assert 0.0 <= low <= k / n <= high <= 1.0, (k, n, low, high)


def test_newcombe_and_t_bracket_their_estimate_whatever_the_counts():
    for cells in [(n, 0, 0, 0) for n in range(1, 300)] + [(0, n, 0, 0) for n in range(1, 300)]:
        low, high = newcombe_paired(*cells)
        d = (cells[1] - cells[2]) / sum(cells)
        assert low <= d <= high, cells
    for values in ([0.1] * 3, [1 / 3] * 7, [0.7, 0.7, 0.7 + 1e-16], [1e300, 1e300]):
        mean, low, high = t_interval(values)
        assert low <= mean <= high, values


def test_area_chart_gets_no_negative_error_bars_when_every_run_stops():
    """The README's county command crashed when every one of 50 replicates stopped (issue 17):
    matplotlib refuses negative error bars ("'xerr' must not contain negative values")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.views import maps

    n = [50, 50, 19, 24]
    summary = pd.DataFrame(
        {
            "area": list("abcd"),
            "assumed": [False, True, False, False],
            "n_members": [3, 4, 5, 6],
            "replicates": n,
            "office_share_agriculture": [1.0, 0.0, 1.0, 0.5],
            "stall_share": [1.0, 1.0, 0.0, 1.0],
        }
    )
    fig = maps.area_outcomes(summary, "agriculture", "every run stops")
    assert len(fig.axes) == 2
    plt.close(fig)


def test_t_interval():
    mean, low, high = t_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert high - mean == pytest.approx(3.182446 * math.sqrt(5 / 3) / 2, rel=1e-5)  # t(0.975, 3)
    assert math.isnan(t_interval([1.0])[1])
    rng = np.random.default_rng(7)
    covered = []
    for _ in range(2000):
        _, lo, hi = t_interval(list(rng.normal(1.0, 2.0, size=5)))
        covered.append(lo <= 1.0 <= hi)
    assert 0.935 <= np.mean(covered) <= 0.965


def _rows(vocab, stalled: list[bool], competence: list[float]) -> list[dict]:
    row = {"formal_by_pilot_end": False, "stall_cause": ""}
    for s in vocab.sector_names:
        row |= {f"formal_{s}": False, f"network_{s}": False, f"form_{s}": "none"}
    rows = []
    for st, c in zip(stalled, competence, strict=True):
        r = dict(row, stalled=st, stall_cause="governance_dispute" if st else "")
        for t in ("pilot_end", "horizon"):
            r |= {f"competence_{t}": c, f"capacity_{t}": 1.0, f"vulnerability_{t}": 0.5}
        rows.append(r)
    return rows


@pytest.fixture(scope="module")
def vocab():
    from sim.inputs.loader import load_scenario

    return load_scenario("fosen").params.vocab


def test_compare_rows_paired_intervals_are_never_zero_width(vocab):
    base = _rows(vocab, [False] * 20, [0.5 + 0.01 * i for i in range(20)])
    variant = _rows(vocab, [True] * 20, [0.6 + 0.01 * i + 0.001 * (i % 3) for i in range(20)])
    table = compare_rows(base, variant, vocab).set_index("outcome")
    stalled = table.loc["stalled"]
    assert stalled["difference"] == 1.0 and stalled["ci_high"] == 1.0
    assert stalled["ci_low"] < 1.0  # was +1.000 [+1.000, +1.000] with the normal approximation
    assert stalled["kind"] == "share" and "Newcombe" in stalled["method"] and stalled["n"] == 20
    same = table.loc["any_formal"]  # never formal in either arm
    assert same["difference"] == 0.0 and same["ci_low"] < 0 < same["ci_high"]
    comp = table.loc["competence_horizon"]
    assert comp["kind"] == "mean" and "t" in comp["method"]
    assert comp["ci_low"] < comp["difference"] < comp["ci_high"]


def test_summarise_names_its_methods(vocab):
    table = summarise(_rows(vocab, [True, False, True], [0.4, 0.5, 0.6]), vocab).set_index("outcome")
    assert table.loc["stalled", "method"] == "Wilson score"
    assert table.loc["competence_horizon", "method"] == "Student t"
    assert table.loc["competence_horizon", "ci_low"] == pytest.approx(0.5 - 4.302653 * 0.1 / math.sqrt(3), rel=1e-5)


# --- Sobol warnings ------------------------------------------------------------------------------------
def test_sobol_warnings_flag_small_n_negative_and_wide_indices():
    from sim.analysis.experiments import MIN_SOBOL_SAMPLES, sobol_warnings

    table = pd.DataFrame(
        [
            {"outcome": "p_stall", "parameter": "a", "S1": 0.6, "S1_conf": 0.1, "ST": 0.7, "ST_conf": 0.1},
            {"outcome": "p_stall", "parameter": "b", "S1": -0.255, "S1_conf": 0.2, "ST": 0.05, "ST_conf": 1.19},
            {"outcome": "p_formal", "parameter": "a", "warning": "constant (0) in every sample: no index"},
        ]
    )
    table["warning"] = table["warning"].fillna("")
    notes = sobol_warnings(table, 16)
    assert any("N = 16" in n and str(MIN_SOBOL_SAMPLES) in n for n in notes)
    assert any("negative" in n for n in notes) and any("wider" in n for n in notes)
    assert any("constant" in n and "p_formal" in n for n in notes)
    assert table.loc[0, "warning"] == ""
    assert "S1 = -0.26 is negative beyond its interval" in table.loc[1, "warning"]
    assert "ST interval ±1.19 is wider than the index 0.05" in table.loc[1, "warning"]
    assert sobol_warnings(table.iloc[:1].copy(), 256) == []


def test_sensitivity_carries_its_warnings():
    from sim.analysis.experiments import Uncertainty, sensitivity

    params = [Uncertainty.parse("steering_value=0:1.5"), Uncertainty.parse("extra_political_involvement=0:1")]
    table = sensitivity("vaernesregionen", params, "sobol", 8, 2, execution=SERIAL)
    assert "warning" in table and table.attrs["samples"] == 8
    assert any("N = 8" in n for n in table.attrs["warnings"])


# --- PRIM report -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prim_box(tmp_path_factory):
    from sim.analysis.experiments import Uncertainty, discover, run_sweep

    params = [
        Uncertainty.parse("steering_value=0:1.5"),
        Uncertainty.parse("extra_political_involvement=0:1"),
        Uncertainty.parse("pilot_funding=0:2"),
    ]
    out = tmp_path_factory.mktemp("prim") / "w"
    run_sweep(out, "vaernesregionen", params, 40, 3, execution=SERIAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box, x, y = discover(out, "stalled")
    return box, x, y


def test_prim_report_has_base_rate_coverage_density_and_only_restricted_dimensions(prim_box):
    from sim.analysis.experiments import box_report, box_summary

    box, x, y = prim_box
    stats, limits = box_summary(box)
    assert stats["base_rate"] == pytest.approx(y.mean()) and stats["runs"] == len(y)
    lims, init = box.box_lims[box._cur_box], box.prim.box_init
    restricted = {c for c in lims.columns if not np.allclose(lims[c].to_numpy(float), init[c].to_numpy(float))}
    assert set(limits.index) == restricted and len(restricted) == stats["restricted"]
    assert {"qp_lower", "qp_upper"} <= set(limits.columns)
    report = box_report(box)
    for word in ("base rate", "coverage", "density", "qp lower", "qp upper"):
        assert word in report
    for name in x.columns:
        assert (name in report) == (name in restricted), name


def test_prim_resampling_is_seeded_and_leaves_the_global_generator_alone(prim_box):
    from sim.analysis.experiments import box_summary

    box = prim_box[0]
    np.random.seed(5)
    state = np.random.get_state()[1].copy()
    _, a = box_summary(box, resample=4, seed=1)
    assert (np.random.get_state()[1] == state).all()
    assert {"reproduce_coverage", "reproduce_density"} <= set(a.columns)
    assert ((a["reproduce_coverage"] >= 0) & (a["reproduce_coverage"] <= 100)).all()


def test_sobol_warnings_flag_an_index_above_one():
    from sim.analysis.experiments import sobol_warnings

    table = pd.DataFrame([{"outcome": "p", "parameter": "a", "S1": 0.2, "S1_conf": 0.1, "ST": 1.6, "ST_conf": 0.3}])
    table["warning"] = ""
    assert any("above 1" in n for n in sobol_warnings(table, 128))
    assert "ST = 1.60 is above 1" in table.loc[0, "warning"]
