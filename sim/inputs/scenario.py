"""Scenario files: the facts of one case, checked, merged with the shared parameter set.

A scenario file (``scenarios/<name>.toml``, format in ``scenarios/README.md``) holds facts
only: municipalities, distances, the process's organisation, history, the reform timeline.
Behaviour comes from ``scenarios/defaults.toml``, the same for every case. Any number in a
file may be written as an *estimate* ``{ value = 1.8, low = 1.5, high = 2.1, source = "..." }``;
estimates are listed in :attr:`Scenario.estimates` so that robustness checks can move each one
to its low and high value (``load_scenario(..., estimates={key: value})``).
"""

from __future__ import annotations

import difflib
import hashlib
import math
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import permutations
from pathlib import Path
from typing import Any

from sim.inputs import geo
from sim.inputs.calendar import month_index
from sim.inputs.errors import InputError, ScenarioWarning
from sim.inputs.facts import AreaFacts, Initiative, RegionFacts
from sim.inputs.params import DEFAULTS, Params, apply_overrides, historical, suggest
from sim.inputs.vocab import Vocabulary

SCENARIO_DIR = DEFAULTS.parent
NOT_SCENARIOS = ("defaults", "patterns", "facts", "directions", "switches")
REFORM_KINDS = ("talks", "agreed", "failed")
__all__ = [
    "Estimate",
    "MunicipalityFacts",
    "ReformEvent",
    "Scenario",
    "available_scenarios",
    "load_region",
    "resolve_path",
]


@dataclass(frozen=True)
class Estimate:
    """An estimated input: the value used, its plausible range and where it comes from."""

    value: float
    low: float
    high: float
    source: str


@dataclass(frozen=True)
class MunicipalityFacts:
    """Facts about one member (DOMAIN.md §7): staff per sector in vocabulary order."""

    name: str
    county: str
    population: float
    staff: tuple[float, ...]
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class ReformEvent:
    """A municipal-reform event: merger talks, an agreed merger or failed talks (§1.3)."""

    month: int
    kind: str
    parties: tuple[str, ...]
    outsiders: tuple[str, ...]
    region: str = ""


@dataclass(frozen=True)
class Existing:
    """An arrangement already in force when the run starts (a county file's ``[[arrangement]]``).

    Attributes:
        name: Its name (recorded as its region in the records).
        form: Form name; ``sectors``: sector indices; ``members``: member names; ``host``: host name.
        until: Last month it runs (None: to the horizon); ``source``: where the facts come from.
    """

    name: str
    form: str
    sectors: tuple[int, ...]
    members: tuple[str, ...]
    host: str | None
    until: int | None
    source: str


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: facts plus the full parameter set.

    Attributes:
        name: Case name (the region), from the file.
        description: One line.
        path: File it came from; ``sha256`` its hash.
        facts: The raw tables as read (for ``show``).
        params: The typed parameter set (defaults merged with overrides).
        overrides: The parameter overrides applied.
        estimates: Every estimated input, by key (``region.council_stages``).
        estimate_overrides: Estimates moved away from their value (robustness checks).
        municipalities: Members' facts; ``regions``: one :class:`RegionFacts` per negotiation.
        start, pilot_end, horizon, reform_start, reform_deadline: Months (see :func:`month_index`).
        distances: km by unordered pair of names.
        shared_posts: Existing shared posts: (members, sector index).
        reform_events: Merger talks and their outcomes.
        kind: ``"region"`` (one negotiating area, a pilot file) or ``"county"`` (many areas,
            ``sim.inputs.county``).
        areas: A county's cooperation areas (empty for a region file).
        initiative: A county's initiative settings (None for a region file).
        matrix, index: A county's distances as a matrix, and each name's row in it.
        pilot_files: A county's pilot files (their stems), one per entry of ``regions``.
        existing: Arrangements already in force at the start (county files).
        mergers: Scheduled mergers (:class:`sim.inputs.mergers.Merger`, county files with ``county.mergers``).
        self_start: Self-started negotiations (:class:`sim.inputs.facts.SelfStart`; None: only pilots and levers).
        defaults: The shared parameter set before any override (a county's pilots run with its
            §4 levers until the initiative starts, :func:`sim.inputs.params.historical`); carried
            here so that a run needs no file.
    """

    name: str
    description: str
    path: Path
    sha256: str
    facts: dict[str, Any]
    params: Params
    overrides: dict[str, Any]
    estimates: dict[str, Estimate]
    estimate_overrides: dict[str, float]
    municipalities: tuple[MunicipalityFacts, ...]
    regions: tuple[RegionFacts, ...]
    start: int
    pilot_end: int
    horizon: int
    reform_start: int
    reform_deadline: int
    distances: dict[frozenset, float] = field(default_factory=dict)
    shared_posts: tuple[tuple[tuple[str, ...], int], ...] = ()
    reform_events: tuple[ReformEvent, ...] = ()
    kind: str = "region"
    areas: tuple[AreaFacts, ...] = ()
    initiative: Initiative | None = None
    matrix: Any = field(default=None, compare=False)  # derived from ``distances``, which are compared
    index: dict[str, int] = field(default_factory=dict)
    pilot_files: tuple[str, ...] = ()
    existing: tuple[Existing, ...] = ()
    mergers: tuple[Any, ...] = ()
    self_start: Any = None
    defaults: Params | None = None

    @property
    def names(self) -> list[str]:
        """Member names in file order."""
        return [m.name for m in self.municipalities]

    def distance(self, a: str, b: str) -> float:
        """Distance in km (0 for the same municipality)."""
        if a == b:
            return 0.0
        if self.matrix is not None:
            # A county has hundreds of members: a matrix, not a dict of pairs, keeps lookups fast and
            # the pickled scenario small for the workers.
            return float(self.matrix[self.index[a], self.index[b]])
        return self.distances[frozenset((a, b))]

    def with_overrides(self, overrides: dict[str, Any], source: str = "keyword argument") -> Scenario:
        """A copy with more parameter overrides (checked); the file is not read again.

        Overrides change parameters only, never the facts read from the file (the vocabulary, which
        the facts depend on, is not a parameter that can be overridden).
        """
        params = apply_overrides(self.params, dict(overrides), source)
        # replace() builds a new object from the fields only, so a cached before_levers of the old
        # scenario is never carried over to the new parameters.
        return replace(self, params=params, overrides={**self.overrides, **overrides})

    # cached_property writes into the instance's __dict__, past the frozen dataclass's __setattr__;
    # safe because a Scenario's parameters never change after it is made.
    @cached_property
    def before_levers(self) -> Params:
        """The parameters with every §4 lever at its shared value: a county's run until its initiative starts.

        Worked out once per scenario (:func:`sim.inputs.params.historical`), not in every model run.
        """
        if self.defaults is None:
            raise ValueError(f"{self.path}: a scenario built without sim.inputs.loader.load_scenario has no defaults")
        return historical(self.params, self.defaults)

    def with_horizon(self, until: int) -> Scenario:
        """A copy that stops at ``until`` (the pilot ends no later)."""
        return replace(self, horizon=until, pilot_end=min(self.pilot_end, until))


def available_scenarios() -> list[str]:
    """Names of the case files in ``scenarios/`` (without defaults and patterns)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem not in NOT_SCENARIOS)


def resolve_path(name_or_path: str | Path) -> Path:
    """Find a scenario by name (in ``scenarios/``) or path; suggest close names when neither exists."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if path.is_dir():
            raise InputError(path, "-", "is a folder, expected a scenario TOML file")
        return path
    candidate = SCENARIO_DIR / f"{name_or_path}.toml"
    # defaults.toml, patterns.toml and the like sit beside the scenarios but are not cases.
    if candidate.is_file() and path.name not in NOT_SCENARIOS:
        return candidate
    names = available_scenarios()
    close = difflib.get_close_matches(str(name_or_path), names, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; available: {', '.join(names)}"
    raise InputError(name_or_path, "-", "no such scenario file or name" + hint)


class Reader:
    """Checks keys and types of one table and names the file and key in every error."""

    def __init__(
        self, path: Path, table: Any, prefix: str, allowed: tuple[str, ...], estimates: dict, moved: dict[str, float]
    ) -> None:
        if not isinstance(table, dict):
            raise InputError(path, prefix.rstrip(".") or "-", f"expected a table, got {table!r}")
        self.path, self.table, self.prefix, self.estimates, self.moved = path, table, prefix, estimates, moved
        for key in table:
            if key not in allowed:
                raise InputError(path, f"{prefix}{key}", "unknown key" + suggest(key, allowed))

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def get(self, name: str, kind: type, default: Any = ...) -> Any:
        """A required (or defaulted) value of one type (``float`` accepts whole numbers)."""
        if name not in self.table:
            if default is ...:
                raise InputError(self.path, self.key(name), "missing key")
            return default
        value = self.table[name]
        if kind is float:
            return self._number(self.key(name), value)
        # bool is a subclass of int in Python: `true` must not pass where a number is asked for.
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise InputError(self.path, self.key(name), f"expected {kind.__name__}, got {value!r}")
        if kind is str and not value.strip():
            raise InputError(self.path, self.key(name), "must not be empty")
        return value

    def number(self, name: str, low: float | None = None, high: float | None = None, default: Any = ...) -> float:
        """A number or an estimate table, within ``low``-``high`` (estimates recorded)."""
        raw = self.table.get(name, default)
        if raw is ...:
            raise InputError(self.path, self.key(name), "missing key")
        key = self.key(name)
        if isinstance(raw, dict):
            er = Reader(self.path, raw, f"{key}.", ("value", "low", "high", "source"), {}, {})
            for k in ("value", "low", "high"):
                if k not in raw:
                    raise InputError(self.path, er.key(k), "missing key")
            numbers = {k: er._number(er.key(k), raw[k]) for k in ("value", "low", "high")}
            est = Estimate(numbers["value"], numbers["low"], numbers["high"], er.get("source", str))
            if not est.low <= est.value <= est.high:
                raise InputError(self.path, key, "an estimate needs low <= value <= high")
            for side in ("low", "high"):
                v = numbers[side]
                # The ends are checked too: a robustness corner moves the input to them, and the model must
                # accept every value a corner can take.
                if low is not None and v < low or high is not None and v > high:
                    raise InputError(self.path, f"{key}.{side}", f"{v:g} is outside {low:g} to {high:g}")
            self.estimates[key] = est
            # A robustness corner replaces the value here; the range check below applies to it too.
            value = self.moved.get(key, est.value)
        else:
            value = self._number(key, raw)
        for bound, ok in ((low, value >= (low or 0)), (high, value <= (high or 0))):
            if bound is not None and not ok:
                raise InputError(self.path, key, f"{value:g} is outside {low:g} to {high:g}")
        return value

    def _number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(self.path, key, f"expected a number, got {value!r}")
        # A bound on size catches typos (1e21 for 1e2) before they overflow inside the model.
        if not math.isfinite(value) or abs(value) > 1e12:
            raise InputError(self.path, key, f"expected a finite number of sensible size, got {value!r}")
        return float(value)

    def month(self, name: str) -> int:
        return month_index(self.get(name, str), self.path, self.key(name))

    def table_list(self, name: str) -> list:
        items = self.get(name, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise InputError(self.path, f"{name}[{i}]", f"expected a table, got {item!r}")
        return items


_REGION_KEYS = (
    "name",
    "description",
    "start",
    "pilot_end",
    "horizon",
    "leader",
    "consultant",
    "politicians_in_steering_group",
    "council_stages",
    "cooperation_history",
    "board_experience",
    "reform_start",
    "reform_deadline",
    "pre_project_months",
    "main_project_months",
    "study_months",
)

_DURATIONS = ("pre_project_months", "main_project_months", "study_months")  # stated per pilot (§2.1-§2.3)


def load_region(
    path: Path,
    raw: dict,
    params: Params,
    overrides: dict[str, Any] | None = None,
    estimates: dict[str, float] | None = None,
) -> Scenario:
    """Build a region (pilot) scenario from its parsed file; every error names the file and key.

    Args:
        path: The scenario file.
        raw: Its parsed tables.
        params: The parameter set (defaults with overrides applied).
        overrides: The overrides, recorded in the scenario.
        estimates: Estimated inputs moved to another value, by key (robustness checks).

    Raises:
        InputError: on any problem, naming the file, the key and the problem.
    """
    f = _ScenarioFile(path, raw, params.vocab, dict(estimates or {}))
    munis, places = f.municipalities()
    r = f.reader(f.top.get("region", dict), "region.", _REGION_KEYS)
    start, pilot_end, horizon, reform_start, reform_deadline = _dates(r)
    leader = r.get("leader", str)
    if leader != "external":
        f.member(leader, "region.leader")
    distances = f.distances(places)
    region = f.region(r, leader)
    shared = f.shared_posts()
    # Stamped with the region: a county holds several pilots' reform events side by side.
    events = tuple(replace(ev, region=region.name) for ev in f.reform_events())
    f.check_estimates()
    return Scenario(
        name=region.name,
        description=r.get("description", str),
        path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        facts=raw,
        params=params,
        overrides=dict(overrides or {}),
        estimates=f.found,
        estimate_overrides=f.moved,
        municipalities=tuple(munis),
        regions=(region,),
        start=start,
        pilot_end=pilot_end,
        horizon=horizon,
        reform_start=reform_start,
        reform_deadline=reform_deadline,
        distances=distances,
        shared_posts=shared,
        reform_events=events,
    )


class _ScenarioFile:
    """The tables of one scenario file, read and checked (every error names the file and key)."""

    def __init__(self, path: Path, raw: dict, vocab: Vocabulary, moved: dict[str, float]) -> None:
        self.path, self.sector_names, self.moved = path, vocab.sector_names, moved
        self.staff_per_1000 = vocab.staff_per_1000
        self.found: dict[str, Estimate] = {}
        self.top = self.reader(
            raw, "", ("region", "municipality", "distances", "shared_post", "failed_attempt", "reform_event")
        )
        self.names: list[str] = []

    def reader(self, table: Any, prefix: str, allowed: tuple[str, ...]) -> Reader:
        return Reader(self.path, table, prefix, allowed, self.found, self.moved)

    def municipalities(self) -> tuple[list[MunicipalityFacts], dict[str, Any]]:
        """Members (at least two), with population and coordinates from the data file where a ``knr`` is given."""
        munis: list[MunicipalityFacts] = []
        places: dict[str, Any] = {}
        for i, m in enumerate(self.top.table_list("municipality")):
            mr = self.reader(m, f"municipality[{i}].", ("name", "knr", "county", "population", "staff", "source"))
            name = mr.get("name", str).strip()
            # From here on errors name the member, not its position in the file.
            mr.prefix = f"municipality.{name}."
            if name in self.names:
                raise InputError(self.path, f"municipality.{name}", "defined twice")
            place = _place(mr, "population" in m) if "knr" in m else None
            if place:
                if place.knr in (p.knr for p in places.values()):
                    raise InputError(self.path, mr.key("knr"), f"{place.knr} is also another member's number")
                places[name] = place
            population = mr.number("population", 1.0, 1e8, default=place.population if place else ...)
            county = mr.get("county", str, place.county if place else ...)
            if "staff" in m:
                sr = self.reader(mr.get("staff", dict), f"{mr.prefix}staff.", self.sector_names)
                staff = tuple(sr.number(s, 0.0, 1e5) for s in self.sector_names)
            else:
                staff = staff_rule(self.path, mr.key("staff"), population, self.staff_per_1000)
            # Read only to require it: every fact in a scenario file carries its source.
            mr.get("source", str)
            lat, lon = (place.lat, place.lon) if place else (None, None)
            munis.append(MunicipalityFacts(name, county, population, staff, lat, lon))
            self.names.append(name)
        if len(munis) < 2:
            raise InputError(self.path, "municipality", "a region needs at least two municipalities")
        return munis, places

    def distances(self, places: dict[str, Any]) -> dict[frozenset, float]:
        """Typed distances, or computed ones when every member has a ``knr`` and none are typed."""
        # Computed distances are road estimates from coordinates; typed ones are the file's own
        # figures. They are never mixed in one scenario: every pair is of one kind.
        if "distances" in self.top.table or len(places) < len(self.names):
            return _distances(self.path, self.top.get("distances", list), self.names, self.member)
        matrix = geo.distance_matrix([places[n] for n in self.names])
        return {
            frozenset((a, b)): float(matrix[i, j])
            for i, a in enumerate(self.names)
            for j, b in enumerate(self.names)
            if i < j
        }

    def region(self, r: Reader, leader: str) -> RegionFacts:
        """The negotiating area's facts (one negotiation per scenario file)."""
        return RegionFacts(
            name=r.get("name", str),
            members=tuple(self.names),
            leader=leader,
            consultant=r.get("consultant", bool),
            politicians_in_steering_group=r.get("politicians_in_steering_group", bool),
            council_stages=r.number("council_stages", 0.0, 20.0),
            cooperation_history=r.number("cooperation_history", 0.0, 1.0),
            board_experience=r.number("board_experience", 0.0, 1.0, default=0.0),
            failed_sectors=self.failed_sectors(),
            sectors=tuple(range(len(self.sector_names))),
            **{k: r.number(k, 1.0, 60.0) for k in _DURATIONS if k in r.table},
        )

    def member(self, value: Any, key: str) -> str:
        if value not in self.names:
            hint = suggest(str(value), self.names)
            raise InputError(self.path, key, f"{value!r} is not a municipality of this scenario" + hint)
        return value

    def distinct(self, values: list, key: str, at_least: int) -> tuple[str, ...]:
        """Members named at most once each, at least ``at_least`` of them."""
        names = tuple(self.member(x, key) for x in values)
        if len(set(names)) < len(names):
            raise InputError(self.path, key, "a member is named twice")
        if len(names) < at_least:
            raise InputError(self.path, key, f"expected at least {at_least} member{'s' if at_least > 1 else ''}")
        return names

    def sectors_of(self, values: Any, key: str) -> list[int]:
        if not isinstance(values, list) or not values:
            raise InputError(self.path, key, f"expected a list of sectors, got {values!r}")
        for v in values:
            if v not in self.sector_names:
                raise InputError(self.path, key, f"unknown sector {v!r}" + suggest(str(v), self.sector_names))
        return [self.sector_names.index(v) for v in values]

    def shared_posts(self) -> tuple[tuple[tuple[str, ...], int], ...]:
        out = []
        for i, post in enumerate(self.top.table_list("shared_post")):
            pr = self.reader(post, f"shared_post[{i}].", ("members", "sector", "source"))
            members = self.distinct(pr.get("members", list), pr.key("members"), at_least=2)
            out.append((members, self.sectors_of([pr.get("sector", str)], pr.key("sector"))[0]))
            pr.get("source", str)
        return tuple(out)

    def failed_sectors(self) -> frozenset[int]:
        failed: set[int] = set()
        for i, attempt in enumerate(self.top.table_list("failed_attempt")):
            ar = self.reader(attempt, f"failed_attempt[{i}].", ("sectors", "year", "source"))
            failed.update(self.sectors_of(ar.get("sectors", list), ar.key("sectors")))
            ar.get("year", int, None)
            ar.get("source", str)
        return frozenset(failed)

    def reform_events(self) -> tuple[ReformEvent, ...]:
        events = []
        for i, ev in enumerate(self.top.table_list("reform_event")):
            er = self.reader(ev, f"reform_event[{i}].", ("date", "kind", "parties", "outsiders", "source"))
            kind = er.get("kind", str)
            if kind not in REFORM_KINDS:
                raise InputError(self.path, er.key("kind"), f"expected one of {', '.join(REFORM_KINDS)}, got {kind!r}")
            parties = self.distinct(er.get("parties", list), er.key("parties"), at_least=1)
            outsiders = er.get("outsiders", list, [])
            if not all(isinstance(x, str) and x.strip() and x not in self.names for x in outsiders):
                raise InputError(self.path, er.key("outsiders"), "expected names of non-members")
            outsiders = tuple(outsiders)
            er.get("source", str)
            events.append(ReformEvent(er.month("date"), kind, parties, outsiders))
        return tuple(events)

    def check_estimates(self) -> None:
        """Refuse estimate overrides that name no estimated input of this file."""
        unknown = sorted(set(self.moved) - set(self.found))
        if unknown:
            hint = suggest(unknown[0], self.found)
            raise InputError(self.path, unknown[0], "not an estimated input of this scenario" + hint)


def _place(mr: Reader, has_population: bool) -> Any:
    """The data file's municipality with this 2016 number (a population in the file overrides the data's)."""
    knr = mr.get("knr", str).strip()
    places = geo.load_places()
    if knr not in places:
        raise InputError(mr.path, mr.key("knr"), f"no municipality numbered {knr!r} in 2016 (data/kommuner-2016.csv)")
    if not has_population and math.isnan(places[knr].population):
        raise InputError(mr.path, mr.key("knr"), f"the data file has no population for {knr}; give population")
    return places[knr]


def _dates(r: Reader) -> tuple[int, int, int, int, int]:
    """Start, pilot end, horizon, reform start and deadline, in order."""
    start, pilot_end, horizon = r.month("start"), r.month("pilot_end"), r.month("horizon")
    reform_start, reform_deadline = r.month("reform_start"), r.month("reform_deadline")
    for key, earlier, later in (
        ("pilot_end", start, pilot_end),
        ("horizon", pilot_end, horizon),
        ("reform_deadline", reform_start, reform_deadline),
    ):
        if later < earlier:
            before = {"pilot_end": "start", "horizon": "pilot_end", "reform_deadline": "reform_start"}[key]
            raise InputError(r.path, f"region.{key}", f"is before region.{before}")
    # A horizon a century out is a typo in the year (2107 for 2017), not a scenario.
    if horizon - start > 1200:
        raise InputError(r.path, "region.horizon", "more than 100 years after region.start")
    return start, pilot_end, horizon, reform_start, reform_deadline


def staff_rule(path: Path, key: str, population: float, per_1000: tuple[float, ...]) -> tuple[float, ...]:
    """Staff per sector from the documented rule of ``sim.inputs.geo`` and each sector's coefficient."""
    try:
        return geo.staff_from_population(population, per_1000)
    except ValueError as exc:
        raise InputError(path, key, str(exc)) from None


def _distances(path: Path, rows: list, names: list[str], member) -> dict[frozenset, float]:
    """Distances ``[name, name, km]``: every pair once, positive and finite."""
    out: dict[frozenset, float] = {}
    for i, row in enumerate(rows):
        key = f"distances[{i}]"
        if not (
            isinstance(row, list) and len(row) == 3 and isinstance(row[2], int | float) and not isinstance(row[2], bool)
        ):
            raise InputError(path, key, f"expected [name, name, km], got {row!r}")
        a, b = member(row[0], key), member(row[1], key)
        if a == b:
            raise InputError(path, key, f"a distance from {a} to itself")
        # No two municipalities of the country are 5,000 km apart by road: a larger figure is a typo
        # (metres for km).
        if not math.isfinite(row[2]) or not 0 < row[2] < 5000:
            raise InputError(path, key, f"expected km between 0 and 5000, got {row[2]!r}")
        pair = frozenset((a, b))
        if pair in out:
            raise InputError(path, key, f"the distance {a}-{b} is given twice")
        out[pair] = float(row[2])
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if frozenset((a, b)) not in out:
                raise InputError(path, "distances", f"missing distance {a}-{b}")
    _warn_detours(path, names, out)
    return out


def _warn_detours(path: Path, names: list[str], d: dict[frozenset, float], margin: float = 1.5) -> None:
    """Warn (one line) when a distance exceeds a detour through a third member by a wide margin."""
    worst = None
    for a, b, c in permutations(names, 3):
        # A shortest road distance cannot exceed the route through a third member, so a wide excess is
        # most likely a typo; only warned, because the report's own figures are kept as given.
        direct, detour = d[frozenset((a, b))], d[frozenset((a, c))] + d[frozenset((c, b))]
        if direct > margin * detour and (worst is None or direct / detour > worst[0]):
            worst = (direct / detour, a, b, c, direct, detour)
    if worst:
        _, a, b, c, direct, detour = worst
        warnings.warn(
            f"{path}: distances: {a}-{b} is {direct:g} km, {direct / detour:.1f} times the "
            f"{detour:g} km through {c} (check the figures)",
            ScenarioWarning,
            stacklevel=3,
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
        # repr gives the shortest text that reads back to the same float, so `show`'s output, pasted
        # into a file, runs the same scenario.
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
