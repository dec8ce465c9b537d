"""Variants of the scenario data made in memory: a sector split in two, a per-case fact switched.

Two experiments of issue 20 change the data, not the code:

- **A split vocabulary** (Build 7, §3.2 l.2778-2783): one ``[[sector]]`` of ``defaults.toml``
  becomes several (e.g. planning into land-use planning and building/mapping); every per-sector
  value and every list of sectors in the scenario files names each new sector with the old one's
  value. The split itself is data (``[split.NAME]`` in ``scenarios/directions.toml``); nothing
  here names a sector. :func:`split_text` is the transformation ``tests/test_four_sectors.py``
  applies to a copy of the program; :func:`split_folder` writes the split files to a folder, and
  :func:`load_split` loads a case from there with the split defaults.
- **A switched fact** (Build 8): a case's ``region.consultant``, ``region.leader`` or one reform
  event's ``date`` set to another value the report allows (``scenarios/robustness.toml``);
  :func:`load_switched` loads the case with the parsed file changed in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.params import apply_overrides, load_defaults, read_toml
from sim.inputs.scenario import SCENARIO_DIR, Scenario, load_region, resolve_path

__all__ = ["Split", "load_split", "load_switched", "read_splits", "split_folder", "split_keys", "split_text"]


@dataclass(frozen=True)
class Split:
    """One sector split into several: ``old`` becomes ``new`` (each a ``[[sector]]`` table's keys)."""

    name: str
    old: str
    new: tuple[dict[str, Any], ...]
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The new sectors' names, in order."""
        return tuple(t["name"] for t in self.new)


def read_splits(path: Path = SCENARIO_DIR / "directions.toml") -> dict[str, Split]:
    """The ``[split.NAME]`` tables of ``path``: ``sector`` (the old name), ``into`` (the new tables), ``source``."""
    raw = read_toml(path).get("split", {})
    out = {}
    for name, item in raw.items():
        into = item.get("into")
        if "sector" not in item or not isinstance(into, list) or len(into) < 2:
            raise InputError(path, f"split.{name}", "needs `sector` and `into` (two or more [[sector]] tables)")
        for i, table in enumerate(into):
            if "name" not in table or "staff_per_1000" not in table:
                raise InputError(path, f"split.{name}.into[{i}]", "needs `name` and `staff_per_1000`")
        out[name] = Split(name, item["sector"], tuple(dict(t) for t in into), item.get("source", ""))
    return out


def _sector_tables(split: Split) -> str:
    def value(v: Any) -> str:
        return f'"{v}"' if isinstance(v, str) else repr(v)

    return "\n".join("[[sector]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in table.items()) for table in split.new)


def split_text(text: str, split: Split) -> str:
    """One scenario file with ``split.old`` split: values copied, lists extended; comments left alone.

    ``old = V`` inside an inline table becomes ``new1 = V, new2 = V``; ``"old"`` (or
    ``"prefix.old"``) in a list becomes ``"new1", "new2"``; the ``[[sector]]`` table of ``old``
    (its name line and the key lines after it) becomes the split's tables.
    """
    old, new = re.escape(split.old), split.names
    text = re.sub(rf'\[\[sector\]\]\nname = "{old}"\n(?:[a-z_0-9]+ = .*\n)*', _sector_tables(split), text)
    lines = []
    for line in text.splitlines():
        code, hash_, comment = line.partition("#")  # comments (and the prose in them) left alone
        each = lambda m: ", ".join(f"{s} = {m.group(1)}" for s in new) + m.group(2)  # noqa: E731
        code = re.sub(rf"\b{old} = ([^,}}]+?)(\s*[,}}])", each, code)
        code = re.sub(rf'"([\w.]*?){old}"', lambda m: ", ".join(f'"{m.group(1)}{s}"' for s in new), code)
        lines.append(code + hash_ + comment)
    return "\n".join(lines) + "\n"


def split_keys(values: dict[str, Any], split: Split) -> dict[str, Any]:
    """``{"x.old": v}`` -> ``{"x.new1": v, "x.new2": v}``; other keys as they are."""
    out = {}
    for key, value in values.items():
        name, _, item = key.rpartition(".")
        out.update({f"{name}.{s}": value for s in split.names} if item == split.old else {key: value})
    return out


#: Files copied as they are: the splits' own file names the old sector as data, not as a value to split.
KEEP = ("directions.toml",)


def split_folder(split: Split, folder: Path, source: Path = SCENARIO_DIR) -> Path:
    """Write every ``*.toml`` of ``source`` into ``folder`` with :func:`split_text` applied; return ``folder``.

    The files of :data:`KEEP` are copied unchanged.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        (folder / path.name).write_text(text if path.name in KEEP else split_text(text, split), encoding="utf-8")
    defaults = (folder / "defaults.toml").read_text(encoding="utf-8")
    if f'name = "{split.names[0]}"' not in defaults:
        raise InputError(source / "defaults.toml", f"split.{split.name}", f"no [[sector]] named {split.old!r}")
    return folder


def load_split(case: str, folder: Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Case ``case`` loaded from a split folder (:func:`split_folder`) with that folder's defaults."""
    return load_scenario(folder / f"{case}.toml", overrides, "direction.set", defaults=folder / "defaults.toml")


# --- switched facts (robustness) -------------------------------------------------------------------
def switch_raw(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of a parsed case file with ``key`` set: ``region.NAME`` or ``reform_event.I.date`` (I from 0)."""
    out = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    table, _, rest = key.partition(".")
    if table == "region":
        out["region"][rest] = value
    elif table == "reform_event":
        index, _, field = rest.partition(".")
        out["reform_event"][int(index)] = {**out["reform_event"][int(index)], field: value}
    else:
        raise ValueError(f"cannot switch {key!r}: only region.NAME and reform_event.I.FIELD")
    return out


@lru_cache(maxsize=64)
def load_switched(case: str, key: str, value: Any) -> Scenario:
    """Case ``case`` with one fact of its file switched (:func:`switch_raw`), checked as the file would be."""
    path = resolve_path(case)
    shared = load_defaults()
    sc = load_region(path, switch_raw(read_toml(path), key, value), apply_overrides(shared, {}, "switch"))
    return replace(sc, defaults=shared)
