"""Every figure the CLI writes, for the three pilots, is readable at 1600 px.

No text overlaps another or leaves the figure.

The figures are rendered as ``run``, ``compare``, ``sensitivity`` and ``discover`` write them
(a few replicates each). The check records every text element actually drawn (tick labels,
titles, legend entries, annotations...), ignoring empty ones, and compares their bounding boxes
in pixels with a tolerance of 1 px (so tick labels may touch, but not overlap). Texts that belong
to an axes (data labels) must also stay inside that axes.
"""

from __future__ import annotations

import itertools

import matplotlib
import pytest

matplotlib.use("Agg")  # the test process only; sim.views.plots itself changes no global setting

import matplotlib.text as mtext  # noqa: E402

from sim.run.execution import SERIAL  # noqa: E402
from sim.views import plots  # noqa: E402
from sim.views.figures import figures as result_figures  # noqa: E402

PILOTS = ["fjellregionen", "vaernesregionen", "fosen"]
WIDTH = 1600  # px
TOLERANCE = 1.0  # px


def drawn_texts(fig, width: int = WIDTH) -> list[tuple[mtext.Text, object]]:
    """Draw ``fig`` at ``width`` pixels and return every visible, non-empty text with its box."""
    fig.set_dpi(width / fig.get_figwidth())
    seen: list[tuple[mtext.Text, object]] = []
    original = mtext.Text.draw

    def record(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            seen.append((self, self.get_window_extent(renderer)))

    mtext.Text.draw = record
    try:
        fig.canvas.draw()
    finally:
        mtext.Text.draw = original
    return seen


def _outside(inner, outer, tol: float = TOLERANCE) -> bool:
    return (
        inner.x0 < outer.x0 - tol or inner.y0 < outer.y0 - tol or inner.x1 > outer.x1 + tol or inner.y1 > outer.y1 + tol
    )


def text_problems(fig, width: int = WIDTH, tol: float = TOLERANCE) -> list[str]:
    """Overlapping texts, texts outside the figure and data labels outside their axes."""
    texts = drawn_texts(fig, width)
    problems = []
    for text, box in texts:
        if _outside(box, fig.bbox, tol):
            problems.append(f"outside the figure: {text.get_text()!r}")
        ax = text.axes
        if ax is not None and text in ax.texts and _outside(box, ax.bbox, tol):
            problems.append(f"outside its axes: {text.get_text()!r}")
    for (t1, b1), (t2, b2) in itertools.combinations(texts, 2):
        w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        if w > tol and h > tol:
            problems.append(f"overlap ({w:.0f} x {h:.0f} px): {t1.get_text()!r} / {t2.get_text()!r}")
    return problems


def test_the_check_finds_an_overlap():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.text(0.5, 0.5, "one label")
    ax.text(0.52, 0.5, "another label")
    ax.text(0.9, 0.1, "runs past the axes")
    ax.set_title("")  # empty texts are ignored
    problems = text_problems(fig)
    plt.close(fig)
    assert any(p.startswith("overlap") for p in problems)
    assert any("outside its axes" in p for p in problems)


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Every figure the CLI writes, keyed by file stem."""
    import warnings

    from sim.analysis.experiments import Uncertainty, box_summary, discover, run_sweep, sensitivity
    from sim.analysis.results import compare, run_scenarios

    pilots = run_scenarios(PILOTS, replicates=4, execution=SERIAL)
    figs = dict(result_figures(pilots))
    figs |= {f"{k}-nb": f for k, f in result_figures(pilots, "nb").items() if k.endswith(("fan-charts", "timeline"))}
    figs |= result_figures(run_scenarios(["trondelag"], replicates=3, execution=SERIAL, county_initiative=True))
    table = compare(
        "vaernesregionen",
        {"admin_only": {"allow.board_host": False}, "one_sector": {"agenda": "sector_by_sector"}},
        replicates=6,
        execution=SERIAL,
    )
    figs["comparison"] = plots.comparison(table, "Værnesregionen: variants against baseline")
    county = compare(
        "trondelag",
        {"initiative": {"county_initiative": True}, "mandatory_host": {"mandatory_host.agriculture": True}},
        replicates=3,
        execution=SERIAL,
    )
    figs["comparison-county"] = plots.comparison(county, "Trøndelag")
    figs["comparison-county-nb"] = plots.comparison(county, "Trøndelag", lang="nb")
    figs["lever-effects"] = plots.lever_effects(  # notebook 02's figure
        {"Værnesregionen": table, "Værnesregionen again": table}, ["any_formal", "stalled"], "Levers"
    )
    params = [Uncertainty.parse("steering_value=0:1.5"), Uncertainty.parse("extra_political_involvement=0:1")]
    for method, samples in (("sobol", 8), ("morris", 4)):
        t = sensitivity("vaernesregionen", params, method, samples, 2, execution=SERIAL)
        figs[f"indices-{method}"] = plots.sensitivity(t, f"{method.capitalize()} indices, vaernesregionen")
    out = tmp_path_factory.mktemp("sweep") / "w"
    run_sweep(out, "vaernesregionen", params, 40, 3, execution=SERIAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box, _, _ = discover(out, "stalled")
    stats, limits = box_summary(box)
    figs["prim-trajectory"] = plots.prim_tradeoff(box, "PRIM for 'stalled': peeling trajectory")
    figs["prim-box"] = plots.prim_box(stats, limits, "PRIM for 'stalled'")
    figs |= other_figures()
    yield figs
    import matplotlib.pyplot as plt

    for fig in figs.values():
        plt.close(fig)


def other_figures() -> dict:
    """The figures of ``robust``, ``forecast`` and ``validate --robustness`` (small runs, a made-up tornado table)."""
    import pandas as pd

    from sim.analysis import futures
    from sim.analysis.forecast import run_forecast
    from sim.inputs.loader import load_scenario
    from sim.views.figures import forecast_map, robust_figure

    result = futures.robust(
        load_scenario("fosen"), {"no_funds": {"pilot_funding": 0}}, futures=2, replicates=2, execution=SERIAL
    )
    forecast = run_forecast("trondelag-2017", replicates=3, execution=SERIAL)
    tornado = pd.DataFrame(
        {
            "baseline_share": 0.8,
            "case": ["", "", "fosen", "fosen"],
            "key": ["vote_noise", "vote_noise", "population.Osen", "population.Osen"],
            "side": ["low", "high", "low", "high"],
            "share": [0.7, 0.85, 0.4, 0.9],
            "value": [0.1, 0.3, 900, 1100],
        }
    )
    return {
        "robust": robust_figure(result, "Fosen"),
        "robust-nb": robust_figure(result, "Fosen", "nb"),
        "forecast-map": forecast_map(forecast, "agriculture", forecast["years"][-1]),
        "tornado": plots.tornado(tornado, "fosen: share of the story with one input moved"),
    }


EXPECTED = [
    *(f"{p}-{kind}" for p in PILOTS for kind in ("outcomes", "fan-charts", "timeline", "map")),
    *(f"{p}-{kind}-nb" for p in PILOTS for kind in ("fan-charts", "timeline")),
    "trondelag-areas-agriculture",
    "trondelag-map-agriculture",
    "comparison",
    "comparison-county",
    "comparison-county-nb",
    "lever-effects",
    "indices-sobol",
    "indices-morris",
    "prim-trajectory",
    "prim-box",
    "robust",
    "robust-nb",
    "forecast-map",
    "tornado",
]


@pytest.mark.slow
def test_every_cli_figure_is_rendered(figures):
    assert sorted(figures) == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_no_text_overlaps_or_leaves_the_figure(figures, name):
    problems = text_problems(figures[name])
    assert not problems, f"{name}: " + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_text_is_readable_at_1600_px(figures, name):
    heights = [box.height for _, box in drawn_texts(figures[name])]
    assert min(heights) >= 12, f"{name}: smallest text {min(heights):.1f} px high at {WIDTH} px width"


@pytest.mark.slow
def test_labels_are_plain_language(figures):
    from sim.inputs.vocab import Cause

    codes = {"admin_host", "board_host", "governance_dispute", *(str(c) for c in Cause)}
    for name, fig in figures.items():
        for text, _ in drawn_texts(fig):
            assert not any(code in text.get_text() for code in codes), f"{name}: raw code in {text.get_text()!r}"


def test_importing_plots_changes_no_global_setting():
    import subprocess
    import sys

    code = (
        "import matplotlib; before = matplotlib.get_backend(); rc = dict(matplotlib.rcParams); import sim.views.plots; "
        "assert matplotlib.get_backend() == before; assert dict(matplotlib.rcParams) == rc"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_cause_has_a_plain_label():
    from sim.inputs.vocab import Cause

    assert set(plots.CAUSES) == set(Cause)
    assert all("_" not in label for label in plots.CAUSES.values())
    assert all(
        "_" not in plots.cause_label(c, "nb") and plots.cause_label(c, "nb") != label
        for c, label in plots.CAUSES.items()
    )


def test_a_no_that_backs_the_form_and_names_another_host_is_not_shown_as_against():
    """Tolga backed the administrative host model and named itself as host (report §2.1): a diamond, not a cross."""
    vote = {"vote": "no", "form": "admin_host", "host": "B", "governance_form": "admin_host", "named_host": "T"}
    assert plots.backs_form_names_other_host(vote)
    assert not plots.backs_form_names_other_host({**vote, "governance_form": "board_host"})
    assert not plots.backs_form_names_other_host({**vote, "named_host": "B"})
    assert not plots.backs_form_names_other_host({**vote, "vote": "yes"})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["indices-sobol", "indices-morris"])
def test_sensitivity_ticks_name_parameters_in_words(figures, name):
    from sim.inputs.params import by_name

    ticks = [t.get_text() for ax in figures[name].axes if ax.axison for t in ax.get_yticklabels()]
    assert not any(t in ("steering_value", "extra_political_involvement") for t in ticks)
    if ticks:  # an outcome with indices: its rows are named by the catalogue's meaning
        assert any(t.replace("\n", " ").startswith("A host's value of political steering") for t in ticks)
    assert by_name()["steering_value"].meaning.startswith("A host's value of political steering")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_saved_figures_fit_1600_px(figures, name, tmp_path):
    from PIL import Image

    fig, path = figures[name], tmp_path / f"{name}.png"
    fig.savefig(path, bbox_inches="tight", dpi=plots.save_dpi(fig))  # as plots.save, which also closes it
    width = Image.open(path).size[0]
    assert width <= WIDTH, f"{name}: saved {width} px wide"


@pytest.mark.slow
def test_county_map_has_borders_kartverket_and_every_name(figures):
    from sim.inputs.loader import load_scenario

    fig = figures["trondelag-map-agriculture"]
    texts = " | ".join(t.get_text() for t, _ in drawn_texts(fig))
    assert "Kartverket" in texts
    missing = [m for m in load_scenario("trondelag").names if m not in texts]
    assert not missing, f"not named on the map: {missing}"
    assert len(fig.axes[0].collections) >= 2  # the land around and the scenario's municipalities, as polygons


def test_borders_file_is_recorded_with_its_sha256():
    import hashlib

    from sim.views.borders import BORDERS_GEOJSON

    digest = hashlib.sha256(BORDERS_GEOJSON.read_bytes()).hexdigest()
    assert f"`{digest}`" in (BORDERS_GEOJSON.parent / "README.md").read_text(encoding="utf-8")
