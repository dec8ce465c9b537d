"""Load any scenario file: a region (pilot) file or a county file, told apart by its tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.inputs.county import load_county
from sim.inputs.params import DEFAULTS, apply_overrides, load_defaults, read_toml
from sim.inputs.scenario import Scenario, load_region, resolve_path


def load_scenario(
    name_or_path: str | Path,
    overrides: dict[str, Any] | None = None,
    source: str = "--set",
    estimates: dict[str, float] | None = None,
    defaults: Path = DEFAULTS,
) -> Scenario:
    """Load, check and resolve a scenario.

    Args:
        name_or_path: A name in ``scenarios/`` (``"fosen"``) or a path to a TOML file.
        overrides: Parameter overrides (``--set`` strings or typed values).
        source: Name of the override source for error messages.
        estimates: Estimated inputs moved to another value, by key (robustness checks).
        defaults: The shared parameter file (tests pass a fixture with another vocabulary).

    Raises:
        InputError: on any problem, naming the file, the key and the problem.
    """
    path = resolve_path(name_or_path)
    raw = read_toml(path)
    shared = load_defaults(defaults)
    params = apply_overrides(shared, dict(overrides or {}), source)
    if "county" in raw:
        sc = load_county(path, raw, params, dict(overrides or {}), dict(estimates or {}))
    else:
        sc = load_region(path, raw, params, overrides, estimates)
    # The shared set before overrides travels with the scenario: a county's pilots run with the
    # §4 levers at these values until the initiative starts (Scenario.before_levers), without
    # reading the file again in a worker.
    return replace(sc, defaults=shared)
