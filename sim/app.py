"""Interactive dashboard (Mesa SolaraViz): ``python run.py dashboard`` or ``solara run sim/app.py``.

Choose a scenario, set levers and key parameters, then Step / Play / Reset: the region's map,
live competence / capacity / vulnerability and the event log update month by month.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import solara  # noqa: E402
from mesa.visualization import Slider, SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from sim import plots  # noqa: E402
from sim.model import MEASURES, CooperationModel  # noqa: E402
from sim.params import SECTORS  # noqa: E402
from sim.scenario import available_scenarios, month_label  # noqa: E402


def current_arrangements(model: CooperationModel) -> dict:
    """The arrangement in force per sector, in the shape of an outcome row (for the map)."""
    row = {}
    for s, sector in enumerate(SECTORS):
        live = [a for a in model.arrangements if s in a.sectors and a.ended is None]
        arr = live[-1] if live else None
        row[f"form_{sector}"] = arr.form if arr else "none"
        row[f"members_{sector}"] = ";".join(arr.members) if arr else ""
        row[f"host_{sector}"] = (arr.host or "") if arr else ""
    return row


@solara.component
def Status(model: CooperationModel):
    """Month and phase."""
    update_counter.get()
    shown = month_label(model.month - 1) if model.steps else month_label(model.month)
    solara.Markdown(f"**{model.scenario.name}** &nbsp; Month: **{shown}** &nbsp; "
                    f"Phase: **{model.project.phase.replace('_', ' ')}** &nbsp; "
                    f"Members: {', '.join(model.project.members)}")


@solara.component
def RegionMap(model: CooperationModel):
    """Municipalities sized by population, ties coloured by form, host ringed."""
    update_counter.get()
    fig = plots.region_map(model.scenario, current_arrangements(model), model.scenario.name, when="now")
    solara.FigureMatplotlib(fig, format="png")
    plt.close(fig)


@solara.component
def Measures(model: CooperationModel):
    """Competence, capacity and vulnerability so far, per municipality (mean over sectors)."""
    update_counter.get()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    done = model.month - model.scenario.start
    for k, (ax, measure) in enumerate(zip(axes, MEASURES, strict=True)):
        for i, name in enumerate(model.scenario.names):
            ax.plot(range(done), model.history[:done, i, :, k].mean(axis=1), label=name)
        ax.set_title(f"{measure.capitalize()} (mean over sectors)")
        ax.set_xlabel("Months since start")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png")
    plt.close(fig)


@solara.component
def EventLog(model: CooperationModel):
    """The latest proposals, votes, exits and decisions."""
    update_counter.get()
    lines = ["| month | event | details |", "|---|---|---|"]
    for e in reversed(model.events[-15:]):
        lines.append(f"| {e['month']} | {e['event'].replace('_', ' ')} | {e['details'][:160]} |")
    solara.Markdown("\n".join(lines))


def model_params() -> dict:
    """Dashboard controls; each is a keyword argument of ``CooperationModel``."""
    return {
        "scenario": {"type": "Select", "value": "fjellregionen", "values": available_scenarios(),
                     "label": "Scenario"},
        "rng": {"type": "InputText", "value": "1", "label": "Seed"},
        "agenda": {"type": "Select", "value": "choose", "values": ["choose", "bundle", "sector_by_sector"],
                   "label": "Agenda"},
        "allow_board_host": {"type": "Checkbox", "value": True, "label": "Allow joint political board (§28c)"},
        "allow_admin_host": {"type": "Checkbox", "value": True, "label": "Allow administrative host (§28b)"},
        "allow_network": {"type": "Checkbox", "value": True, "label": "Allow informal network"},
        "side_payments": {"type": "Checkbox", "value": True, "label": "Hosting as side payment"},
        "pilot_funding": Slider("Pilot funding (x historical)", 1.0, 0.0, 3.0, 0.1),
        "governor_follow_up": Slider("County Governor follow-up", 1.0, 0.0, 1.0, 0.1),
        "reform_intensity": Slider("Municipal reform intensity", 1.0, 0.0, 3.0, 0.1),
        "extra_political_involvement": Slider("Extra political involvement", 0.0, 0.0, 1.0, 0.05),
        "sensitivity_planning": Slider("Planning sensitivity", 5.0, 0.0, 5.0, 0.1),
        "steering_value": Slider("Host's steering value", 0.6, 0.0, 2.0, 0.05),
    }


class DashboardModel(CooperationModel):
    """``CooperationModel`` taking the seed as text, as the dashboard's input box gives it."""

    def __init__(self, scenario: str = "fjellregionen", rng: str | int | None = "1", **kwargs) -> None:
        seed = int(rng) if str(rng).strip().lstrip("-").isdigit() else None
        super().__init__(scenario, rng=seed, **kwargs)  # Mesa's parameter check wants **kwargs


def make_page(model: CooperationModel | None = None):
    """The SolaraViz page (a fresh model unless one is given)."""
    params = model_params()
    model = model or DashboardModel("fjellregionen", rng="1")
    return SolaraViz(model, components=[Status, RegionMap, Measures, EventLog], model_params=params,
                     name="Inter-municipal cooperation", play_interval=300)


page = make_page()
