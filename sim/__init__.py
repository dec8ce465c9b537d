"""Agent-based model of inter-municipal cooperation on planning, environment and agriculture.

Reproduces three pilots evaluated by NIVI Analyse (2016). The Python API that the CLI, the
notebooks and the dashboard share::

    from sim import CooperationModel, load_scenario, validate
    model = CooperationModel("fjellregionen", rng=1).run()
    model.event_log(); model.timeline()
"""

from sim.errors import InputError
from sim.model import CooperationModel
from sim.runner import Job, execute, replicate_seed, run_rows
from sim.scenario import available_scenarios, load_scenario
from sim.validation import validate

__all__ = ["CooperationModel", "InputError", "Job", "available_scenarios", "execute", "load_scenario",
           "replicate_seed", "run_rows", "validate"]
