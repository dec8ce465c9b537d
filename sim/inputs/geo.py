"""Municipalities from data: places, distances, staff by population, and cooperation areas.

Everything here reads the files in the repository's ``data/`` folder (provenance in
``data/README.md``) and knows no municipality, region or county by name: names come from the data,
and the only codes used are the first two digits of a 2016 municipality number (its county).
Bad input is reported as :class:`sim.inputs.errors.InputError` (file, key, problem). numpy only; no
pandas.

Example::

    from sim.inputs import geo
    places = geo.load_places()
    region = geo.select_places(["1640", "1644", "0441"])
    km = geo.distance_matrix(region)                       # road km, ROAD_FACTOR x great circle
    planning, environment, agriculture = geo.staff_from_population(region[0].population, (1.60, 0.70, 1.12))
    areas = geo.areas_trondelag()                          # 48 municipalities of 2016 in areas
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from sim.inputs.errors import InputError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
PLACES_CSV = DATA_DIR / "kommuner-2016.csv"
REGIONS_CSV = DATA_DIR / "regions-trondelag-2016.csv"
STAFF_CSV = DATA_DIR / "pilot-staff-2016.csv"

EARTH_RADIUS_KM = 6371.0
"""Mean Earth radius (IUGG), km."""

ROAD_FACTOR = 1.3
"""Road distance per great-circle km between municipal centres (circuity, detour index).

A literature value, not measured for Norway: about 1.3 is the typical ratio of driving to
straight-line distance found across national motorway networks (Wang, Bette, Schreckenberg &
Guhr 2024, "How much longer do you have to drive than the crow has to fly?", arXiv:2406.06490);
national circuity factors are about 1.2 for the USA (Ballou, Rahardja & Sakai 2002, Transportation
Research A 36:843-848) and 1.26 for South Korea, which Kim et al. (2015, J. Korean Soc. Agric. Eng.
57(4):39-49) find lower than Europe's. Plausible range :data:`ROAD_FACTOR_RANGE`: the low end for
valleys with one trunk road (e.g. along a river), the high end for sparse rural networks, lakes and
fjords; a fjord crossing by ferry can exceed it, which a single factor cannot represent.
"""

ROAD_FACTOR_RANGE = (1.2, 1.6)
"""Plausible low and high :data:`ROAD_FACTOR` for sensitivity analysis (see its docstring)."""

STAFF_EXPONENT = 0.6
"""Exponent ``b`` of :func:`staff_from_population` (economies of scale: staff ~ population**b).

Calibrated so that the regional centre of the §2.2 pilot holds about half its staff: "Om lag
halvparten av de ansatte ville ha kontorplass på [regionsenteret]" (NIVI 2016 §2.2); b = 0.61 gives
exactly one half with the 2016 populations, rounded to 0.6 (share 0.49).
"""


@dataclass(frozen=True)
class Place:
    """One municipality of 2016 (a row of ``data/kommuner-2016.csv``).

    Attributes:
        knr: Municipality number of 2016, 4 digits (the first two are the county number).
        name: Name (SSB spelling).
        county: County (fylke) of 2016.
        population: Residents on 1 January 2016 (SSB 07459). Where pop_2016 is empty, the mean of
            pop_2015 and pop_2017 that are present (no row of the shipped file needs this); NaN
            where the file has no figure for 2015-2017 (three rows; see :func:`select_places`).
        lat: Latitude, WGS84 degrees.
        lon: Longitude, WGS84 degrees.
        coord_method: ``polygon_centroid_2019_borders`` or ``geonames_town`` (data/README.md).
    """

    knr: str
    name: str
    county: str
    population: float
    lat: float
    lon: float
    coord_method: str


@dataclass(frozen=True)
class Area:
    """A cooperation area: the municipalities that negotiate together.

    Attributes:
        name: The regional council's name, or for a rule area "<most populous member> area".
        members: Municipality numbers (knr2016), sorted.
        assumed: True where any membership comes from a rule rather than a source.
        source: Where the membership comes from, and which rule placed whom.
    """

    name: str
    members: tuple[str, ...]
    assumed: bool
    source: str


@dataclass(frozen=True)
class StaffCheck:
    """The staff rule against one pilot's known staff (a row of ``data/pilot-staff-2016.csv``).

    Attributes:
        case: The pilot's name, from the data file.
        members: Municipality numbers.
        sectors: Sectors the observed figure covers.
        kind: ``target`` (should match) or ``upper`` (observed covers more tasks; an upper bound).
        observed: FTE (or employees) given by the report.
        predicted: Sum of :func:`staff_from_population` over members and sectors.
    """

    case: str
    members: tuple[str, ...]
    sectors: tuple[str, ...]
    kind: str
    observed: float
    predicted: float

    @property
    def rel_error(self) -> float:
        """Relative error of the prediction, (predicted - observed) / observed."""
        return (self.predicted - self.observed) / self.observed


# --- loading ---------------------------------------------------------------------------------------

_PLACE_COLUMNS = ("knr2016", "name", "county2016", "pop_2015", "pop_2016", "pop_2017", "lat", "lon", "coord_method")
_CACHE: dict[tuple[str, int, int], dict[str, Place]] = {}


def _read_rows(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """Read a UTF-8 CSV file whose header has ``columns``; InputError otherwise."""
    start = 1
    try:
        # utf-8-sig: a byte-order mark, as spreadsheet programs write it, is not taken for part of the
        # first column's name.
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, strict=True)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, "header", f"missing column(s) {', '.join(missing)}")
            rows, start = [], reader.line_num + 1
            for row in reader:
                # DictReader pads a short row and gathers a long row's extras without a word; a shifted column
                # would put a population where a latitude belongs.
                if None in row or None in row.values():  # csv's restkey / restval: a row of the wrong width
                    fields = len(row) - (None in row) + len(row.get(None) or ()) - list(row.values()).count(None)
                    raise InputError(
                        path, f"line {reader.line_num}", f"{fields} fields, the header has {len(reader.fieldnames)}"
                    )
                rows.append(row)
                start = reader.line_num + 1
    except FileNotFoundError:
        raise InputError(path, "-", "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "-", "is a folder, not a CSV file") from None
    except csv.Error as exc:
        raise InputError(path, f"line {start}", f"not a valid CSV row ({exc}; an unbalanced quote?)") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise InputError(path, "-", f"not a readable UTF-8 CSV file ({exc})") from None
    if not rows:
        raise InputError(path, "-", "no rows")
    return rows


def _number(path: Path, key: str, text: str | None, low: float, high: float) -> float:
    """Parse a number in [low, high]; empty gives NaN."""
    text = (text or "").strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, key, f"not a number: {text!r}") from None
    if not low <= value <= high:
        raise InputError(path, key, f"{value:g} is outside [{low:g}, {high:g}]")
    return value


def load_places(path: str | Path = PLACES_CSV) -> dict[str, Place]:
    """Load the municipalities of 2016, keyed by knr2016 (cached per file version).

    Args:
        path: A CSV file with the columns of ``data/kommuner-2016.csv`` (data/README.md).

    Returns:
        A new dict ``{knr: Place}`` in file order (the Place objects are shared and frozen).

    Raises:
        InputError: Missing file or column, bad municipality number, duplicate, or a value that is
            not a number or out of range (file, key, problem).
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise InputError(path, "-", "file not found") from None
    # Keyed by the file's time and size as well as its path: an edited data file (a notebook, a
    # long-lived dashboard) is read again, never served stale.
    cache_key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if cache_key not in _CACHE:
        places: dict[str, Place] = {}
        for line, row in enumerate(_read_rows(path, _PLACE_COLUMNS), start=2):
            knr = (row["knr2016"] or "").strip()
            if not (len(knr) == 4 and knr.isdigit()):
                raise InputError(path, f"line {line}: knr2016", f"not a 4-digit municipality number: {knr!r}")
            if knr in places:
                raise InputError(path, knr, f"duplicate municipality number (line {line})")
            # at least 1 resident: a municipality of 0 has no services to share (and would divide by 0)
            pops = {y: _number(path, f"{knr}: pop_{y}", row[f"pop_{y}"], 1, 1e8) for y in (2015, 2016, 2017)}
            population = pops[2016]
            if math.isnan(population):
                neighbours = [p for p in (pops[2015], pops[2017]) if not math.isnan(p)]
                population = sum(neighbours) / len(neighbours) if neighbours else math.nan
            lat = _number(path, f"{knr}: lat", row["lat"], -90, 90)
            lon = _number(path, f"{knr}: lon", row["lon"], -180, 180)
            name, county, method = (row[c].strip() for c in ("name", "county2016", "coord_method"))
            for column, value in (("name", name), ("county2016", county), ("lat", lat), ("lon", lon)):
                if value == "" or (isinstance(value, float) and math.isnan(value)):
                    raise InputError(path, f"{knr}: {column}", "empty")
            places[knr] = Place(knr, name, county, population, lat, lon, method)
        _CACHE[cache_key] = places
    # A copy of the dict (the Places are frozen): a caller that drops or adds entries cannot
    # change what the next caller gets.
    return dict(_CACHE[cache_key])


def select_places(knrs: Iterable[str], path: str | Path = PLACES_CSV) -> list[Place]:
    """The places with these municipality numbers, in the order given, each with a population.

    Args:
        knrs: Municipality numbers of 2016 (e.g. from a scenario file).
        path: The places file (see :func:`load_places`).

    Raises:
        InputError: An unknown number, or a municipality without population in the data (naming
            its knr).
    """
    places = load_places(path)
    chosen = []
    for knr in knrs:
        if knr not in places:
            raise InputError(path, knr, "no municipality with this number in 2016")
        if math.isnan(places[knr].population):
            raise InputError(path, knr, f"{places[knr].name} has no population for 2015-2017 in the data file")
        chosen.append(places[knr])
    return chosen


# --- distances -------------------------------------------------------------------------------------


def great_circle_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km by the haversine formula on a sphere of radius 6371.0 km.

    Vectorised: arguments are degrees, scalars or arrays that broadcast together.

    Returns:
        Distances in km (a 0-d array for scalar input; ``float(...)`` it if needed).
    """
    phi1, lam1, phi2, lam2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    # Clipped: for nearly antipodal points rounding can push h just above 1, and arcsin would give NaN.
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_matrix(places: Sequence[Place], road_factor: float = ROAD_FACTOR) -> np.ndarray:
    """Road-distance estimates between places: great-circle km times ``road_factor``.

    Args:
        places: The places, in the order of the rows and columns.
        road_factor: Road km per great-circle km (>= 1); default :data:`ROAD_FACTOR`.

    Returns:
        An (n, n) float array, exactly symmetric, with a zero diagonal.

    Raises:
        ValueError: road_factor below 1 or not finite.
    """
    if not (math.isfinite(road_factor) and road_factor >= 1.0):
        raise ValueError(f"road_factor must be a finite number >= 1, got {road_factor!r}")
    lat = np.array([p.lat for p in places], dtype=float)
    lon = np.array([p.lon for p in places], dtype=float)
    d = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * road_factor
    # Mirrored from one triangle: haversine(a, b) and haversine(b, a) may differ in the last bit,
    # and a distance must not depend on which member asks.
    d = np.triu(d, 1)
    return d + d.T


# --- staff -----------------------------------------------------------------------------------------


def staff_from_population(population: float, per_1000: Sequence[float]) -> tuple[float, ...]:
    """Staff (FTE) per sector of a municipality: ``c_s * (population / 1000) ** b``.

    Constants: ``c_s`` is each sector's ``staff_per_1000`` (``[[sector]]`` in
    ``scenarios/defaults.toml``) and :data:`STAFF_EXPONENT` is b = 0.6, both calibrated on
    the three pilots (NIVI 2016 §2.1-2.3; see :func:`check_staff_rule`) for municipalities of 850
    to 23,500 inhabitants. Beyond that it is an extrapolation; in cities it overstates agriculture,
    whose work follows farms rather than residents.

    Args:
        population: Residents (>= 0, finite).
        per_1000: ``c_s`` of each sector, in sector order (``Vocabulary.staff_per_1000``).

    Returns:
        FTE per sector, in the order of ``per_1000``.

    Raises:
        ValueError: A negative or non-finite population.
    """
    if not (math.isfinite(population) and population >= 0):
        raise ValueError(f"population must be a finite number >= 0, got {population!r}")
    scale = (population / 1000.0) ** STAFF_EXPONENT
    return tuple(c * scale for c in per_1000)


def check_staff_rule(
    per_1000: Mapping[str, float], path: str | Path = STAFF_CSV, places_path: str | Path = PLACES_CSV
) -> list[StaffCheck]:
    """Compare :func:`staff_from_population` with the pilots' known staff.

    Args:
        per_1000: The staff rule's coefficient by sector name (from the vocabulary).
        path: ``data/pilot-staff-2016.csv`` (case, knr2016 space-separated, sectors, fte, kind,
            source), with the figures of NIVI 2016 §2.1-2.3.
        places_path: The places file; populations are those of 2016 by knr.

    Returns:
        One :class:`StaffCheck` per row; ``rel_error`` is the relative error.

    Raises:
        InputError: A bad row (file, key, problem), an unknown knr, or a member without population.
    """
    path = Path(path)
    checks = []
    for row in _read_rows(path, ("case", "knr2016", "sectors", "fte", "kind")):
        case = row["case"].strip()
        members = tuple(row["knr2016"].split())
        sectors = tuple(row["sectors"].split())
        if unknown := [s for s in sectors if s not in per_1000]:
            raise InputError(path, f"{case}: sectors", f"unknown sector(s) {unknown}; known: {list(per_1000)}")
        if row["kind"] not in ("target", "upper"):
            raise InputError(path, f"{case}: kind", f"must be 'target' or 'upper', got {row['kind']!r}")
        observed = _number(path, f"{case}: fte", row["fte"], 1e-9, 1e6)
        if math.isnan(observed):
            raise InputError(path, f"{case}: fte", "empty")
        predicted = 0.0
        for place in select_places(members, places_path):
            staff = dict(zip(per_1000, staff_from_population(place.population, tuple(per_1000.values())), strict=True))
            predicted += sum(staff[s] for s in sectors)
        checks.append(StaffCheck(case, members, sectors, row["kind"], observed, predicted))
    return checks


# --- cooperation areas -----------------------------------------------------------------------------

AREA_MAX_SIZE = 8
"""Default largest area from :func:`areas_by_rule`. The known councils in
``data/regions-trondelag-2016.csv`` have 2-10 members (median 7.5); NIVI's report 2018:3 counts
395 members in 66 regional councils (6.0 on average), so a cap of 8 gives areas of about that size.
"""


def _as_list(places: Mapping[str, Place] | Iterable[Place]) -> list[Place]:
    """Places sorted by knr, from a dict or an iterable."""
    items = places.values() if isinstance(places, Mapping) else places
    # Sorted by number: the clustering's tie-breaks then do not depend on the order places come in.
    return sorted(items, key=lambda p: p.knr)


def cluster(group: list[Place], max_size: int) -> list[list[Place]]:
    """Average-linkage clustering of great-circle distances, merging only up to ``max_size``.

    Repeatedly merges the two clusters with the smallest mean distance between their members whose
    combined size is at most ``max_size``; stops when no such pair is left. Ties go to the pair
    that comes first in knr order (``group`` is sorted by knr), so the result is deterministic.
    """
    n = len(group)
    # No road factor: multiplying every distance by one constant changes no merge.
    link = distance_matrix(group, 1.0)
    np.fill_diagonal(link, np.inf)
    members = [[i] for i in range(n)]
    size = np.ones(n)
    while True:
        allowed = np.where(size[:, None] + size[None, :] <= max_size, link, np.inf)
        i, j = divmod(int(np.argmin(allowed)), n)  # symmetric: the first minimum has i < j
        if not np.isfinite(allowed[i, j]):
            break
        # Average linkage (Lance-Williams update): the merged cluster's distance to k is the
        # size-weighted mean of its parts'. Row j is retired with inf and size 0.
        link[i, :] = (size[i] * link[i, :] + size[j] * link[j, :]) / (size[i] + size[j])
        link[:, i] = link[i, :]
        link[i, i] = np.inf
        link[j, :] = link[:, j] = np.inf
        size[i], size[j] = size[i] + size[j], 0
        members[i], members[j] = members[i] + members[j], []
    return [[group[k] for k in sorted(m)] for m in members if m]


def _rule_area(cluster: list[Place], source: str) -> Area:
    """An assumed area named after its most populous member (NaN population counts as 0)."""
    largest = max(cluster, key=lambda p: (0.0 if math.isnan(p.population) else p.population, p.knr))
    return Area(f"{largest.name} area", tuple(p.knr for p in cluster), True, source)


def areas_by_rule(
    places: Mapping[str, Place] | Iterable[Place], county: str | None = None, max_size: int = AREA_MAX_SIZE
) -> list[Area]:
    """Cooperation areas by a rule, for municipalities whose membership is unknown.

    Rule: within each county of 2016, average-linkage clustering of great-circle distances between
    the municipalities' points, merging the closest pair of clusters while the merged cluster has at
    most ``max_size`` members (:func:`cluster`). Ties are broken by knr, so the result does not
    depend on the input's order. A municipality left alone (a one-municipality county, or when its
    neighbours' areas are full) is an area of one. Every area is marked assumed.

    Args:
        places: The places to group (e.g. :func:`load_places`); all 428 of Norway take about 0.01 s.
        county: Only this county (a ``county2016`` value); None for every county.
        max_size: Largest number of members in an area (default :data:`AREA_MAX_SIZE`).

    Returns:
        Areas sorted by (county, name), members sorted by knr.

    Raises:
        ValueError: max_size below 1, or a county that none of the places has.
    """
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, got {max_size}")
    chosen = [p for p in _as_list(places) if county is None or p.county == county]
    if not chosen:
        raise ValueError(f"no places in county {county!r}")
    by_county: dict[str, list[Place]] = {}
    for p in chosen:
        by_county.setdefault(p.county, []).append(p)
    source = (
        f"rule: average-linkage clustering within county2016, at most {max_size} members (sim.inputs.geo.areas_by_rule)"
    )
    areas = [_rule_area(c, source) for g in by_county.values() for c in cluster(g, max_size)]
    county_of = {p.knr: p.county for p in chosen}
    return sorted(areas, key=lambda a: (county_of[a.members[0]], a.name))


def _read_councils(path: Path, places: Mapping[str, Place]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Council membership from the regions file: ``{council: [knr]}`` and ``{council: type}``."""
    councils: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for line, row in enumerate(_read_rows(path, ("region", "type", "knr2016", "name")), start=2):
        region, knr, name = row["region"].strip(), row["knr2016"].strip(), row["name"].strip()
        if not region:
            raise InputError(path, f"line {line}: region", "empty")
        if knr not in places:
            raise InputError(path, f"{region}: {knr}", "no municipality with this number in 2016")
        # The name must match the data: a mistyped number that points at another municipality is caught
        # here rather than silently moving it to another council.
        if name != places[knr].name:
            raise InputError(path, f"{region}: {knr}", f"name {name!r} is not the data file's {places[knr].name!r}")
        if knr in councils.setdefault(region, []):
            raise InputError(path, f"{region}: {knr}", "listed twice")
        councils[region].append(knr)
        kinds[region] = row["type"].strip()
    return councils, kinds


def _attach_loners(
    places: Mapping[str, Place],
    unknown: list[Place],
    groups: dict[str, list[str]],
    assumed: dict[str, bool],
    notes: dict[str, list[str]],
) -> None:
    """A municipality of unknown membership left alone joins its nearest neighbour's area (marked assumed)."""
    owner = {knr: region for region, ms in groups.items() for knr in ms}
    for p in (p for p in unknown if p.knr not in owner):
        candidates = sorted(owner)
        d = great_circle_km(p.lat, p.lon, [places[k].lat for k in candidates], [places[k].lon for k in candidates])
        # candidates is sorted by knr, and argmin takes the first minimum: a tie in distance is broken
        # by number, as everywhere in this module.
        nearest = candidates[int(np.argmin(d))]
        region = owner[p.knr] = owner[nearest]
        groups[region].append(p.knr)
        assumed[region] = True
        notes[region].append(
            f"{p.knr} (membership unknown) joins the area of its nearest neighbour {nearest} ({d.min():.0f} km)"
        )


def _overlap_rule(
    councils: dict[str, list[str]], places: Mapping[str, Place], notes: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Rule (a) of :func:`areas_trondelag`: each council member's one home (members by council).

    A municipality in several councils goes to the one with the fewest members, then to the one
    whose other members are nearest on average (great-circle), then by council name; the choice
    is added to the chosen council's ``notes``.
    """
    homes: dict[str, list[str]] = {}
    for region, members in councils.items():
        for knr in members:
            homes.setdefault(knr, []).append(region)

    def mean_km(knr: str, region: str) -> float:
        """Mean great-circle km from ``knr`` to the council's other members (inf if none)."""
        others = [places[k] for k in councils[region] if k != knr]
        if not others:
            return math.inf
        here = places[knr]
        return float(np.mean(great_circle_km(here.lat, here.lon, [p.lat for p in others], [p.lon for p in others])))

    groups: dict[str, list[str]] = {region: [] for region in councils}
    for knr, regions in homes.items():
        # The smallest council first: it is the more specific grouping (a broad forum is larger).
        region = min(regions, key=lambda r: (len(councils[r]), mean_km(knr, r), r))
        groups[region].append(knr)
        if len(regions) > 1:
            others = ", ".join(
                f"{r} ({len(councils[r])} members, {mean_km(knr, r):.0f} km)" for r in sorted(regions) if r != region
            )
            notes[region].append(
                f"{knr} also in {others}; placed here ({len(councils[region])} members, "
                f"{mean_km(knr, region):.0f} km) by the overlap rule"
            )
    return groups


def areas_trondelag(
    regions_csv: str | Path = REGIONS_CSV,
    places: Mapping[str, Place] | None = None,
    *,
    county_numbers: tuple[str, ...] = ("16", "17"),
    max_size: int = AREA_MAX_SIZE,
) -> list[Area]:
    """Cooperation areas for every municipality of the counties ``county_numbers`` (2016).

    Each regional council (or joint municipality) of ``regions_csv`` is an area with all its listed
    members, including those from other counties. Then:

    (a) Overlaps: a municipality in several councils goes to the one with the fewest members
        (the more specific grouping; the broad city-region forum is larger); on a tie, to the one
        whose other members are nearest on average (great-circle); then by council name. The
        choice is written in the area's ``source``. The area is not marked assumed.
    (b) Unknown membership: the municipalities of these counties that are in no council are
        grouped by :func:`areas_by_rule` (within their county, at most ``max_size``); those areas
        are assumed. A municipality the rule leaves alone joins the area of its nearest
        (great-circle) municipality, and that area is marked assumed, its ``source`` naming it.

    Args:
        regions_csv: Long-format council membership (``data/regions-trondelag-2016.csv``: region,
            type, knr2016, name, county2016, ...).
        places: The places (default :func:`load_places`).
        county_numbers: First two digits of the knr2016 of the counties to cover; the default is
            the two counties of 2016 that the regions file covers (16, 17).
        max_size: Largest rule area (default :data:`AREA_MAX_SIZE`).

    Returns:
        Areas, known ones first, each sorted by name; every municipality of these counties is in
        exactly one, and so is every other-county member of a council.

    Raises:
        InputError: A bad regions file: missing column, unknown knr, a name that does not match the
            places file, or a duplicate membership row.
    """
    path = Path(regions_csv)
    places = load_places() if places is None else places
    councils, kinds = _read_councils(path, places)
    notes = {region: [f"{kinds[region]} in {path.name}"] for region in councils}
    groups = _overlap_rule(councils, places, notes)
    assumed = dict.fromkeys(councils, False)
    homes = {knr for members in councils.values() for knr in members}
    unknown = [p for p in _as_list(places) if p.knr[:2] in county_numbers and p.knr not in homes]
    for area in areas_by_rule(unknown, max_size=max_size) if unknown else []:  # (b) unknown membership
        # A rule area of one would leave a municipality to negotiate with itself; _attach_loners puts
        # it in its nearest neighbour's area instead.
        if len(area.members) > 1:
            groups[area.name], notes[area.name], assumed[area.name] = list(area.members), [area.source], True
    _attach_loners(places, unknown, groups, assumed, notes)
    areas = [Area(r, tuple(sorted(ms)), assumed[r], "; ".join(notes[r])) for r, ms in groups.items() if ms]
    return sorted(areas, key=lambda a: (a.name not in councils, a.name))
