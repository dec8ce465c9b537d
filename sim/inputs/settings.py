"""Settings files: what the dashboard saves and ``run.py run --set-file`` reads back.

A settings file is TOML with the scenario, the seed and a ``[set]`` table of the ``--set`` keys
that differ from the defaults, so a view can be shared and rerun exactly::

    scenario = "<a scenario name>"
    seed = 1
    [set]
    county_initiative = true

Values are checked by the parameter catalogue when the scenario is loaded, as ``--set`` values are.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError


def _value(value: Any) -> str:
    """A TOML value: booleans and numbers as they are, everything else as a quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # A JSON string is a valid TOML basic string (same quotes and escapes), with no hand-written
    # escaping to get wrong.
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(scenario: str, seed: Any, changed: dict[str, Any]) -> str:
    """The settings file text: scenario, seed and the changed parameters (sorted)."""
    lines = [
        "# Settings saved by the dashboard; rerun with:",
        f"#   python run.py run {scenario} --set-file THIS_FILE",
        f"scenario = {_value(scenario)}",
        f"seed = {_value(seed)}",
        "",
        "[set]",
    ]
    # Keys quoted: a dotted key (allow.board_host) unquoted would be a nested TOML table. Sorted,
    # so saving the same view twice gives the same file.
    lines += [f"{json.dumps(k)} = {_value(v)}" for k, v in sorted(changed.items())]
    return "\n".join(lines) + "\n"


def read_set_file(path: Path | str, source: str = "--set-file") -> tuple[dict[str, str], dict[str, Any]]:
    """The ``[set]`` table of a settings file as ``--set`` strings, and its other keys (scenario, seed).

    Raises:
        InputError: a missing or unreadable file, bad TOML, no ``[set]`` table, or a value that is a
            table or a list (one line naming the file, key and problem).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, source, f"cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, source, f"not valid TOML: {exc}") from None
    table = data.get("set")
    if not isinstance(table, dict):
        raise InputError(path, "set", "no [set] table of parameters")
    out = {}
    for key, value in table.items():
        if isinstance(value, dict | list):
            raise InputError(path, f"set.{key}", "must be one value, not a table or list")
        # Back to --set strings, so a settings file is checked by the same parser as the command line
        # (str(True) would be "True", which the catalogue reads as well, but one spelling is clearer).
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out, {k: v for k, v in data.items() if k != "set"}
