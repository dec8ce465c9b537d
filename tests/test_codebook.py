"""The codebook (sim/run/codebook.py) names every column the CLI writes, and docs/outputs.md is current."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.run import codebook
from sim.run.execution import SERIAL

ROOT = Path(__file__).resolve().parents[1]


def test_outputs_md_is_generated_from_the_schema():
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert text == codebook.markdown(), "regenerate: python -m sim.run.codebook > docs/outputs.md"


def test_every_column_has_a_unit_and_a_meaning():
    for f in codebook.FILES:
        names = [c.name for c in f.columns]
        assert len(names) == len(set(names)), f"{f.name}: a column listed twice"
        for c in f.columns:
            assert c.unit.strip() and len(c.meaning) > 8, f"{f.name}: {c.name}"


def test_an_unknown_column_is_not_documented():
    assert codebook.column("runs.csv", "offices_agriculture") is not None  # the county runs.csv
    assert codebook.column("runs.csv", "no_such_column") is None
    assert codebook.column("timeline.csv", "offices_agriculture") is None


def test_outcome_labels_in_both_languages():
    assert codebook.outcome_label("offices_agriculture") == "Joint agriculture offices (formal)"
    assert codebook.outcome_label("offices_agriculture", "nb") == "Felles kontorer for landbruk (formelle)"
    assert "one person is away" in codebook.outcome_unit("vulnerability_agriculture_mean")
    assert codebook.outcome_unit("competence_horizon") == "0-1"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, list[Path]]:
    """The files ``run`` (a pilot and a county) and ``compare`` write, from a few replicates."""
    from sim.analysis.results import compare, run_scenarios
    from sim.views.figures import save_comparison

    out: dict[str, list[Path]] = {}
    for name, kwargs in (("fosen", {}), ("trondelag", {"county_initiative": True})):
        folder = tmp_path_factory.mktemp(name)
        run_scenarios([name], replicates=2, execution=SERIAL, **kwargs).save(folder)
        table = compare(name, {"v": {"reform_intensity": 0}}, replicates=2, execution=SERIAL)
        save_comparison(table, folder, name)
        out[name] = sorted(folder.glob("*.csv"))
    return out


@pytest.mark.parametrize("scenario", ["fosen", "trondelag"])
def test_every_written_column_is_in_the_codebook(written, scenario):
    files = written[scenario]
    assert {"runs.csv", "events.csv", "votes.csv", "summary.csv", "comparison.csv"} <= {p.name for p in files}
    missing = []
    for path in files:
        if not path.read_text(encoding="utf-8").strip():
            continue  # an empty table (no rows, no header)
        for col in pd.read_csv(path, nrows=0).columns:
            if codebook.column(path.name, col) is None:
                missing.append(f"{path.name}: {col}")
    assert not missing, "undocumented columns:\n" + "\n".join(missing)


def test_summary_labels_are_the_codebooks(written):
    summary = pd.read_csv([p for p in written["trondelag"] if p.name == "summary.csv"][0])
    for name, label in zip(summary["outcome"], summary["label"], strict=True):
        assert label == codebook.outcome_label(name)


def test_sweep_and_sensitivity_columns_are_in_the_codebook(tmp_path):
    from sim.analysis.experiments import Uncertainty, read_runs, run_sweep, sensitivity

    params = [Uncertainty.parse("steering_value=0:1.5"), Uncertainty.parse("extra_political_involvement=0:1")]
    runs = read_runs(run_sweep(tmp_path / "w", "fosen", params, 3, 1, execution=SERIAL))
    for col in runs.columns:
        assert codebook.column("runs.csv", col) is not None, f"runs.csv (sweep): {col}"
    table = sensitivity("fosen", params, "morris", 2, 1, execution=SERIAL)
    for col in table.columns:
        assert codebook.column("indices.csv", col) is not None, f"indices.csv: {col}"


def test_forecast_columns_are_in_the_codebook(tmp_path):
    from sim.analysis.forecast import run_forecast, save_tables

    result = run_forecast(
        "trondelag-2017", replicates=2, execution=SERIAL, levers={"initiative": {"county_initiative": True}}
    )
    files = save_tables(result, tmp_path)
    assert {"forecast.csv", "forecast_runs.csv", "groups.csv", "levers.csv", "lever_areas.csv"} <= set(files)
    missing = [
        f"{name}: {col}"
        for name in files
        if name.endswith(".csv")
        for col in pd.read_csv(tmp_path / name, nrows=0).columns
        if codebook.column(name, col) is None
    ]
    assert not missing, "undocumented columns:\n" + "\n".join(missing)
