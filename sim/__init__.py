"""Agent-based model of inter-municipal cooperation on planning, environment and agriculture.

Reproduces three pilots evaluated by NIVI Analyse (2016). The Python API that the CLI, the
notebooks and the dashboard share::

    from sim import CooperationModel, load_scenario, validate
    model = CooperationModel("fjellregionen", rng=1).run()
    model.event_log(); model.vote_log(); model.timeline()

Names are imported on first use, so ``import sim`` is cheap.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CooperationModel": "sim.model", "InputError": "sim.errors", "Job": "sim.runner", "execute": "sim.runner",
    "replicate_seed": "sim.runner", "run_rows": "sim.runner", "available_scenarios": "sim.scenario",
    "load_scenario": "sim.scenario", "validate": "sim.validation",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
