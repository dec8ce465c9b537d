"""Agent-based model of inter-municipal cooperation on planning, environment and agriculture.

Reproduces three pilots evaluated by NIVI Analyse (2016). The Python API that the CLI, the
notebooks and the dashboard share::

    from sim import CooperationModel, load_scenario, validate
    model = CooperationModel("fjellregionen", rng=1).run()
    model.event_log(); model.timeline()

The names below are imported on first use, so ``import sim`` (and ``python run.py --help``)
does not load Mesa, pandas or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CooperationModel": "sim.core.model",
    "Execution": "sim.run.execution",
    "InputError": "sim.inputs.errors",
    "Job": "sim.run.runner",
    "available_scenarios": "sim.inputs.scenario",
    "execute": "sim.run.runner",
    "load_scenario": "sim.inputs.loader",
    "replicate_seed": "sim.run.runner",
    "run_rows": "sim.run.runner",
    "validate": "sim.analysis.validation",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
