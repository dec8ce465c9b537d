"""Scenario files: the facts of one case, checked, merged with the shared parameter set.

A scenario file (``scenarios/<name>.toml``) holds facts only: municipalities, distances,
history, the reform timeline and who led the process. Behaviour comes from
``scenarios/defaults.toml``, the same for every case. See ``scenarios/README.md`` for the format.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.params import SECTORS, apply_overrides, load_defaults, read_toml, suggest

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULTS = SCENARIO_DIR / "defaults.toml"
EVENT_KINDS = ("talks", "agreed", "failed")


def month_index(text: Any, source: Path, key: str) -> int:
    """Parse ``YYYY-MM`` to a month count (year * 12 + month - 1)."""
    if not isinstance(text, str) or len(text) != 7 or text[4] != "-":
        raise InputError(source, key, f"expected a date YYYY-MM, got {text!r}")
    try:
        year, month = int(text[:4]), int(text[5:])
    except ValueError:
        raise InputError(source, key, f"expected a date YYYY-MM, got {text!r}") from None
    if not 1 <= month <= 12:
        raise InputError(source, key, f"month must be 01-12, got {text!r}")
    return year * 12 + month - 1


def month_label(index: int) -> str:
    """Format a month count as ``YYYY-MM``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Municipality:
    """Facts about one member (DOMAIN.md §7)."""

    name: str
    county: str
    population: float
    staff: tuple[float, float, float]


@dataclass(frozen=True)
class ReformEvent:
    """A municipal-reform event: merger talks, an agreed merger or failed talks (§1.3)."""

    month: int
    kind: str
    parties: tuple[str, ...]
    outsiders: tuple[str, ...]


@dataclass
class Scenario:
    """A resolved scenario: facts plus the full parameter set.

    Attributes:
        name: Case name (the region), from the file.
        description: One line.
        path: File it came from.
        sha256: SHA-256 of that file.
        facts: The raw fact tables as read (for ``show``).
        params: Complete flat parameter dict (defaults merged with overrides).
        overrides: The overrides applied on top of the defaults.
    """

    name: str
    description: str
    path: Path
    sha256: str
    facts: dict[str, Any]
    params: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    municipalities: tuple[Municipality, ...] = ()
    start: int = 0
    pilot_end: int = 0
    horizon: int = 0
    leader: str = "external"
    consultant: bool = False
    political_involvement: float = 0.0
    cooperation_history: float = 0.0
    reform_start: int = 0
    reform_deadline: int = 0
    distances: dict[frozenset, float] = field(default_factory=dict)
    shared_posts: tuple[tuple[tuple[str, ...], int], ...] = ()
    failed_sectors: frozenset[int] = frozenset()
    reform_events: tuple[ReformEvent, ...] = ()

    @property
    def names(self) -> list[str]:
        """Member names in file order."""
        return [m.name for m in self.municipalities]

    def distance(self, a: str, b: str) -> float:
        """Straight-line distance in km (0 for the same municipality)."""
        return 0.0 if a == b else self.distances[frozenset((a, b))]

    def with_overrides(self, overrides: dict[str, Any], source: str = "--set") -> Scenario:
        """Return a copy with more parameter overrides (checked)."""
        merged = {**self.overrides, **overrides}
        return load_scenario(self.path, merged, source)


def available_scenarios() -> list[str]:
    """Names of the case files in ``scenarios/`` (without defaults)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem not in ("defaults", "patterns"))


def resolve_path(name_or_path: str | Path) -> Path:
    """Find a scenario by name (in ``scenarios/``) or path.

    Raises:
        InputError: when neither exists; suggests close names.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidate = SCENARIO_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    names = available_scenarios()
    close = difflib.get_close_matches(str(name_or_path), names, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; available: {', '.join(names)}"
    raise InputError(name_or_path, "-", "no such scenario file or name" + hint)


class _Reader:
    """Checks keys and types of one table and names the file and key in every error."""

    def __init__(self, path: Path, table: dict, prefix: str, allowed: tuple[str, ...]) -> None:
        self.path, self.table, self.prefix = path, table, prefix
        for key in table:
            if key not in allowed:
                raise InputError(path, f"{prefix}{key}", "unknown key" + suggest(key, allowed))

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def get(self, name: str, kind: type | tuple, default: Any = ..., low=None, high=None) -> Any:
        if name not in self.table:
            if default is ...:
                raise InputError(self.path, self.key(name), "missing key")
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        numeric = float in kinds
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            if not (numeric and isinstance(value, int) and not isinstance(value, bool)):
                want = " or ".join(k.__name__ for k in kinds)
                raise InputError(self.path, self.key(name), f"expected {want}, got {value!r}")
        if numeric and not isinstance(value, bool):
            value = float(value)
            if not math.isfinite(value):
                raise InputError(self.path, self.key(name), f"expected a finite number, got {value!r}")
            if low is not None and value < low or high is not None and value > high:
                raise InputError(self.path, self.key(name), f"{value:g} is outside {low:g} to {high:g}")
        return value

    def month(self, name: str) -> int:
        return month_index(self.get(name, str), self.path, self.key(name))


def _positive(path: Path, key: str, value: float) -> None:
    if value <= 0:
        raise InputError(path, key, f"must be greater than 0, got {value:g}")


def load_scenario(
    name_or_path: str | Path, overrides: dict[str, Any] | None = None, source: str = "--set"
) -> Scenario:
    """Load, check and resolve a scenario.

    Args:
        name_or_path: A name in ``scenarios/`` (``"fosen"``) or a path to a TOML file.
        overrides: Parameter overrides (``--set``), strings or typed values.
        source: Name of the override source for error messages.

    Returns:
        The resolved :class:`Scenario`.

    Raises:
        InputError: on any problem, naming the file, the key and the problem.
    """
    path = resolve_path(name_or_path)
    raw = read_toml(path)
    top = _Reader(path, raw, "", ("region", "municipality", "distances", "shared_post",
                                  "failed_attempt", "reform_event"))
    region = top.get("region", dict)
    r = _Reader(path, region, "region.", (
        "name", "description", "start", "pilot_end", "horizon", "leader", "consultant",
        "political_involvement", "cooperation_history", "reform_start", "reform_deadline"))
    munis_raw = top.get("municipality", list)
    if len(munis_raw) < 2:
        raise InputError(path, "municipality", "a region needs at least two municipalities")
    munis: list[Municipality] = []
    for i, m in enumerate(munis_raw):
        if not isinstance(m, dict):
            raise InputError(path, f"municipality[{i}]", "expected a table")
        mr = _Reader(path, m, f"municipality[{i}].", ("name", "county", "population", "staff", "source"))
        name = mr.get("name", str)
        mr.prefix = f"municipality.{name}."
        if name in (x.name for x in munis):
            raise InputError(path, f"municipality.{name}", "defined twice")
        population = mr.get("population", float)
        _positive(path, mr.key("population"), population)
        staff_raw = mr.get("staff", dict)
        sr = _Reader(path, staff_raw, f"municipality.{name}.staff.", SECTORS)
        staff = tuple(sr.get(s, float, low=0.0, high=1000.0) for s in SECTORS)
        mr.get("source", str)
        munis.append(Municipality(name, mr.get("county", str), population, staff))
    names = [m.name for m in munis]

    def member(value: Any, key: str) -> str:
        if value not in names:
            raise InputError(path, key, f"{value!r} is not a municipality of this scenario"
                             + suggest(str(value), names))
        return value

    start, pilot_end, horizon = r.month("start"), r.month("pilot_end"), r.month("horizon")
    if pilot_end < start:
        raise InputError(path, "region.pilot_end", "is before region.start")
    if horizon < pilot_end:
        raise InputError(path, "region.horizon", "is before region.pilot_end")
    reform_start, reform_deadline = r.month("reform_start"), r.month("reform_deadline")
    if reform_deadline < reform_start:
        raise InputError(path, "region.reform_deadline", "is before region.reform_start")
    leader = r.get("leader", str)
    if leader != "external":
        member(leader, "region.leader")

    distances: dict[frozenset, float] = {}
    for i, row in enumerate(top.get("distances", list)):
        key = f"distances[{i}]"
        if not (isinstance(row, list) and len(row) == 3 and isinstance(row[2], int | float)
                and not isinstance(row[2], bool)):
            raise InputError(path, key, f"expected [name, name, km], got {row!r}")
        a, b = member(row[0], key), member(row[1], key)
        _positive(path, key, row[2])
        distances[frozenset((a, b))] = float(row[2])
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if frozenset((a, b)) not in distances:
                raise InputError(path, "distances", f"missing distance {a}-{b}")

    shared = []
    for i, post in enumerate(top.get("shared_post", list, [])):
        pr = _Reader(path, post, f"shared_post[{i}].", ("members", "sector", "source"))
        members = tuple(member(x, pr.key("members")) for x in pr.get("members", list))
        sector = pr.get("sector", str)
        if sector not in SECTORS:
            raise InputError(path, pr.key("sector"), f"unknown sector {sector!r}" + suggest(sector, SECTORS))
        pr.get("source", str)
        shared.append((members, SECTORS.index(sector)))
    failed = set()
    for i, attempt in enumerate(top.get("failed_attempt", list, [])):
        ar = _Reader(path, attempt, f"failed_attempt[{i}].", ("sectors", "year", "source"))
        for sector in ar.get("sectors", list):
            if sector not in SECTORS:
                raise InputError(path, ar.key("sectors"), f"unknown sector {sector!r}" + suggest(str(sector), SECTORS))
            failed.add(SECTORS.index(sector))
        ar.get("year", int, None)
        ar.get("source", str)
    events = []
    for i, ev in enumerate(top.get("reform_event", list, [])):
        er = _Reader(path, ev, f"reform_event[{i}].", ("date", "kind", "parties", "outsiders", "source"))
        kind = er.get("kind", str)
        if kind not in EVENT_KINDS:
            raise InputError(path, er.key("kind"), f"expected one of {', '.join(EVENT_KINDS)}, got {kind!r}")
        parties = tuple(member(x, er.key("parties")) for x in er.get("parties", list))
        outsiders = tuple(str(x) for x in er.get("outsiders", list, []))
        er.get("source", str)
        events.append(ReformEvent(er.month("date"), kind, parties, outsiders))

    params = apply_overrides(load_defaults(DEFAULTS), dict(overrides or {}), source)
    return Scenario(
        name=r.get("name", str), description=r.get("description", str), path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), facts=raw, params=params,
        overrides=dict(overrides or {}), municipalities=tuple(munis), start=start,
        pilot_end=pilot_end, horizon=horizon, leader=leader,
        consultant=r.get("consultant", bool),
        political_involvement=r.get("political_involvement", float, low=0.0, high=1.0),
        cooperation_history=r.get("cooperation_history", float, low=0.0, high=1.0),
        reform_start=reform_start, reform_deadline=reform_deadline, distances=distances,
        shared_posts=tuple(shared), failed_sectors=frozenset(failed), reform_events=tuple(events),
    )


def to_toml(data: dict[str, Any]) -> str:
    """Write the small subset of TOML the scenario files use (tables, arrays of tables)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    lines: list[str] = []
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{name}]")
            lines += [f"{k} = {value(v)}" for k, v in table.items()]
        elif isinstance(table, list) and table and all(isinstance(t, dict) for t in table):
            for t in table:
                lines.append(f"[[{name}]]")
                lines += [f"{k} = {value(v)}" for k, v in t.items()]
                lines.append("")
            continue
        else:
            lines.append(f"{name} = {value(table)}")
        lines.append("")
    return "\n".join(lines)
