"""Interactive dashboard (Mesa SolaraViz): ``python run.py dashboard`` or ``solara run sim/app.py``.

Choose a scenario, set levers and key parameters, then Step / Play / Reset: the region's map,
live competence / capacity / vulnerability and the event log update month by month. Every
control is generated from the parameter catalogue (``sim.params``): its range, default and
meaning are the catalogue's.
"""

from __future__ import annotations

import json

import solara
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim import plots
from sim.model import MEASURES, CooperationModel
from sim.params import by_name, load_defaults
from sim.records import month_label
from sim.scenario import available_scenarios
from sim.vocab import NONE

#: Behavioural parameters shown besides the levers (the rest stay at the shared values).
KEY_PARAMETERS = ("sensitivity.planning", "coordination_cost", "board_experience_weight", "leader_weight")


def current_arrangements(model: CooperationModel) -> dict:
    """The arrangement in force per sector, in the shape of an outcome row (for the map)."""
    row = {}
    for sector in model.p.sectors:
        live = [a for a in model.arrangements if sector.index in a.sectors and a.ended is None]
        arr = live[-1] if live else None
        row[f"form_{sector.name}"] = arr.form.name if arr else NONE
        row[f"members_{sector.name}"] = json.dumps(list(arr.members) if arr else [])
        row[f"host_{sector.name}"] = (arr.host or "") if arr else ""
    return row


@solara.component
def Status(model: CooperationModel):
    """Month and phase."""
    update_counter.get()
    shown = month_label(model.month - 1) if model.steps else month_label(model.month)
    project = model.project
    solara.Markdown(
        f"**{model.scenario.name}** &nbsp; Month: **{shown}** &nbsp; "
        f"Phase: **{project.phase.replace('_', ' ')}** &nbsp; Members: {', '.join(project.members)}"
    )


@solara.component
def RegionMap(model: CooperationModel):
    """Municipalities sized by population, ties coloured by form, host ringed."""
    update_counter.get()
    fig = plots.region_map(model.scenario, current_arrangements(model), model.scenario.name, when="now")
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def Measures(model: CooperationModel):
    """Competence, capacity and vulnerability so far, per municipality (mean over sectors)."""
    import matplotlib.pyplot as plt

    update_counter.get()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), layout="constrained")
    done = max(1, model.month - model.scenario.start)
    for k, (ax, measure) in enumerate(zip(axes, MEASURES, strict=True)):
        for i, name in enumerate(model.scenario.names):
            ax.plot(range(done), model.history[:done, i, :, k].mean(axis=1), label=name)
        ax.set_title(f"{measure.capitalize()} (mean over sectors)")
        ax.set_xlabel("Months since start")
    axes[0].legend(fontsize=7)
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def EventLog(model: CooperationModel):
    """The latest proposals, votes, exits and decisions."""
    update_counter.get()
    lines = ["| month | event | what happened |", "|---|---|---|"]
    for e in reversed(model.events[-15:]):
        lines.append(f"| {month_label(e.month)} | {e.kind.replace('_', ' ')} | {e.text} |")
    solara.Markdown("\n".join(lines))


def _control(key: str, value):
    spec = by_name()[key]
    label = f"{spec.meaning} ({spec.unit})" if spec.unit != "-" else spec.meaning
    if spec.kind == "bool":
        return {"type": "Checkbox", "value": value, "label": label}
    if spec.kind == "choice":
        return {"type": "Select", "value": value, "values": list(spec.choices), "label": label}
    step = 1 if spec.kind == "int" else round((spec.high - spec.low) / 50, 4)
    return Slider(label, value, spec.low, spec.high, step)


def model_params() -> dict:
    """Dashboard controls, each a keyword argument of ``CooperationModel``, from the catalogue."""
    defaults = load_defaults().as_dict()
    scenarios = available_scenarios()
    controls = {
        "scenario": {"type": "Select", "value": scenarios[0], "values": scenarios, "label": "Scenario"},
        "rng": {"type": "InputText", "value": "1", "label": "Seed"},
    }
    levers = [k for k, s in by_name().items() if s.lever]
    for key in (*levers, *KEY_PARAMETERS):
        controls[key] = _control(key, defaults[key])
    return controls


class DashboardModel(CooperationModel):
    """``CooperationModel`` taking the seed as text, as the dashboard's input box gives it."""

    def __init__(self, scenario: str | None = None, rng: str | int | None = "1", **kwargs) -> None:
        seed = int(rng) if str(rng).strip().lstrip("-").isdigit() else None
        super().__init__(scenario or available_scenarios()[0], rng=seed, **kwargs)  # Mesa wants **kwargs


def make_page(model: CooperationModel | None = None):
    """The SolaraViz page (a fresh model unless one is given)."""
    model = model or DashboardModel(rng="1")
    return SolaraViz(
        model,
        components=[Status, RegionMap, Measures, EventLog],
        model_params=model_params(),
        name="Inter-municipal cooperation",
        play_interval=300,
    )


page = make_page()
