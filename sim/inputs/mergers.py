"""The municipal reform's decided mergers, read from a code-change table (report §1.3, §2.1).

A county file's ``county.mergers`` names the table (``data/mergers-2016-2020.csv``: what each
2016 municipality became by 2020). Every 2020 municipality made of two or more 2016
municipalities of the scenario becomes one :class:`Merger` on 1 January of its ``merged_from``
year. Members outside the scenario are left out; a municipality split between several new ones
goes whole to the unit that took the largest share, ties to the unit made of more 2016
municipalities. What a merger does to the model's state: :mod:`sim.core.merging`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sim.inputs.errors import InputError

_COLUMNS = ("knr2016", "name2016", "knr2020", "name2020", "share", "merged_from", "n_2016_units")


@dataclass(frozen=True)
class Merger:
    """A decided merger: its members (2016 names in the scenario), new name and first month."""

    name: str
    knr: str
    month: int
    members: tuple[str, ...]


def load_mergers(path: Path, key: str, table: Path, name_of: dict[str, str], first: int, last: int) -> tuple:
    """The mergers of ``table`` among the scenario's municipalities (``name_of``: knr -> name).

    Args:
        path: The county file (for errors).
        key: Its key naming the table.
        table: The code-change CSV.
        name_of: The scenario's municipalities by 2016 number.
        first: The run's first month; mergers from it or earlier are left out.
        last: The run's last month; mergers after it are left out.

    Raises:
        InputError: a missing file, column or malformed value.
    """
    if not table.is_file():
        raise InputError(path, key, f"no such file {table}")
    with table.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or any(c not in rows[0] for c in _COLUMNS):
        raise InputError(path, key, f"{table.name} needs the columns {', '.join(_COLUMNS)}")
    best: dict[str, dict] = {}
    for row in rows:
        try:
            share, units = float(row["share"]), int(row["n_2016_units"])
            year = int(row["merged_from"]) if row["merged_from"].strip() else None
        except ValueError:
            bad = f"{table.name}: bad share, n_2016_units or merged_from for {row['knr2016']}"
            raise InputError(path, key, bad) from None
        # A municipality split between new ones goes whole to the unit with the largest share, a tie
        # to the unit made of more 2016 municipalities: the model has no partial members.
        rank = (share, units)
        if row["knr2016"] not in best or rank > best[row["knr2016"]]["rank"]:
            best[row["knr2016"]] = {"rank": rank, "to": row["knr2020"], "name": row["name2020"], "year": year}
    groups: dict[tuple, list[str]] = {}
    for knr, b in sorted(best.items()):
        if b["year"] is not None and knr in name_of:
            groups.setdefault((b["to"], b["name"], b["year"]), []).append(name_of[knr])
    out = []
    for (knr2020, name, year), members in sorted(groups.items(), key=lambda x: (x[0][2], x[0][0])):
        # A merger takes effect on 1 January of its year: month index year * 12.
        month = year * 12
        if len(members) >= 2 and first < month <= last:
            out.append(Merger(name, knr2020, month, tuple(members)))
    return tuple(out)
