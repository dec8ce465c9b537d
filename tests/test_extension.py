"""A newcomer's extensions: a fourth sector and a fifth governance form are data only.

The fixture adds the sector and the form to a copy of ``scenarios/defaults.toml`` (vocabulary
and one value per vector parameter) and writes a scenario that lists staff for four sectors; model,
outcomes, records, validation clauses and plots then run without any change to ``sim/``.
"""

import json
import math
import re
from pathlib import Path

import pytest

from sim.analysis.validation import Clause, Pattern, evaluate
from sim.core.model import CooperationModel
from sim.core.outcomes import outcome_row
from sim.core.records import Option
from sim.inputs.loader import load_scenario
from sim.inputs.params import load_defaults

ROOT = Path(__file__).resolve().parent.parent

NEW_SECTOR = '\n[[sector]]\nname = "geodata"\nlabel = "geodata and mapping"\nstaff_per_1000 = 0.4\n'
NEW_FORM = (
    '\n[[form]]\nname = "purchase"\nlabel = "purchase of services"\nsection = "§1.3"\n'
    "statutory = false\npools_staff = true\nneeds_host = true\nboard = false\nmerges = false\n"
)


def add_to_vectors(text: str) -> str:
    """One value for the new sector and the new form in every inline-table parameter."""

    def per_line(line: str) -> str:
        m = re.match(r"^(\w+) = \{(.*)\}(.*)$", line)
        if not m:
            return line
        body = m.group(2)
        if "planning" in body:
            body += ", geodata = false" if "false" in body or "true" in body else ", geodata = 0.5"
        if "admin_host" in body:
            value = "true" if "true" in body else "0.1"
            body += f", purchase = {value}"
        return f"{m.group(1)} = {{{body}}}{m.group(3)}"

    return "\n".join(per_line(line) for line in text.splitlines()) + "\n"


@pytest.fixture()
def extended(tmp_path):
    text = (ROOT / "scenarios" / "defaults.toml").read_text(encoding="utf-8")
    first_param = text.index("[levers]")
    text = text[:first_param] + NEW_SECTOR + NEW_FORM + "\n" + add_to_vectors(text[first_param:])
    defaults = tmp_path / "defaults.toml"
    defaults.write_text(text, encoding="utf-8")
    scenario = (ROOT / "scenarios" / "fosen.toml").read_text(encoding="utf-8")
    staff = "staff = { planning = 3.0, environment = 1.0, agriculture = 2.0, geodata = 1.0 }\nsource = "
    scenario = scenario.replace('source = "data/kommuner-2016.csv', staff + '"data/kommuner-2016.csv')
    path = tmp_path / "four-sectors.toml"
    path.write_text(scenario, encoding="utf-8")
    return load_scenario(path, defaults=defaults)


def test_the_vocabulary_grows_from_data(extended):
    vocab = extended.params.vocab
    assert vocab.sector_names[-1] == "geodata" and vocab.form_names[-1] == "purchase"
    assert len(extended.params.sensitivity) == 4 and len(extended.params.control_share) == len(vocab.forms) == 5
    assert extended.municipalities[0].staff == (3.0, 1.0, 2.0, 1.0)
    assert not vocab.form("purchase").formal and vocab.form("admin_host").formal


def test_model_outcomes_records_validation_and_plots_run(extended, tmp_path):
    plots = pytest.importorskip("sim.views.plots")
    rows, runs = [], []
    purchase = extended.params.vocab.form("purchase")
    for seed in range(8):
        m = CooperationModel(extended, rng=seed).run()
        names = tuple(m.scenario.names)
        value = m.municipality(names[1]).value(Option((3,), purchase, names[0], names), m.project.region)
        assert math.isfinite(value)  # a number: not NaN, not infinite
        row = outcome_row(m)
        assert {"form_geodata", "members_geodata", "vulnerability_geodata_horizon"} <= set(row)
        assert row["form_geodata"] in (*m.p.vocab.form_names, "none")
        rows.append(row)
        runs.append({"row": row, "votes": m.vote_rows(seed), "events": m.event_rows(seed)})
        assert all(json.loads(v["sectors"]) for v in runs[-1]["votes"])
    assert any(r["votes"] for r in runs), "something was put to a vote"
    pattern = Pattern(
        "x.geodata",
        "x",
        "primary",
        0.0,
        "geodata is networked or kept",
        (Clause("no_arrangement", {"sectors": ["geodata"], "formal_only": True}),),
    )
    result = evaluate([pattern], {("x", ()): runs})
    # the share is the runs without a formal geodata arrangement at the pilot's end, counted here from the rows
    expected = sum(not r["formal_geodata"] for r in rows) / len(rows)
    assert result["patterns"][0]["share"] == pytest.approx(expected)
    fig = plots.fan_charts(m.timeline().assign(scenario=m.scenario.name), m.scenario, "four sectors")
    assert len(fig.axes) >= 4 * 3
    fig = plots.region_map(m.scenario, row, "four sectors")
    assert len([a for a in fig.axes if a.get_title()]) == 4


def test_a_missing_value_for_the_new_sector_is_one_clear_error(tmp_path):
    from sim.inputs.errors import InputError

    text = (ROOT / "scenarios" / "defaults.toml").read_text(encoding="utf-8")
    first_param = text.index("[levers]")
    defaults = tmp_path / "defaults.toml"
    defaults.write_text(text[:first_param] + NEW_SECTOR + text[first_param:], encoding="utf-8")
    with pytest.raises(InputError, match="one value per sector"):
        load_defaults(defaults)
