"""County and national scenarios: every municipality of some counties, in cooperation areas (§4).

A county file has a ``[county]`` table instead of ``[region]`` (format in ``scenarios/README.md``).
It names counties by their 2016 number; the municipalities, their population and coordinates
come from ``data/kommuner-2016.csv``, distances are computed (:func:`sim.geo.distance_matrix`,
great circle times the road factor) and staff comes from the staff rule
(:func:`sim.geo.staff_from_population`). Nothing is typed by hand.

Rules (each documented in docs/ODD.md, "County scenarios"):

* **Areas.** ``areas = "councils"``: the regional councils of the file ``councils`` names (e.g.
  ``data/regions-trondelag-2016.csv``)
  with the overlap rule and the rule for municipalities of unknown membership of
  :func:`sim.geo.areas_trondelag`; ``areas = "rule"``: :func:`sim.geo.areas_by_rule` (neighbours
  within the county, at most ``area_max_size``). Members outside the counties are dropped unless
  a pilot needs them.
* **Pilots keep their facts.** Each pilot file named in ``pilots`` keeps its members (names,
  staff, population), its negotiation (start, leader, organisation, history, board experience,
  failed attempts), its shared posts and its reform events. Its members are moved into the area
  that holds most of them; that area takes the pilot's facts for any later negotiation.
* **Other areas** take the ``[area]`` table's facts (estimates with their ranges); the most
  populous member leads.
* **Negotiations.** Only the pilots negotiate unless a §4 lever starts more: the County
  Governor's initiative (``county_initiative``) or the state's requirement (``mandatory_host``)
  opens one negotiation per area for the ``[initiative]`` sectors (:class:`sim.agents.CountyGovernor`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sim import geo
from sim.errors import InputError
from sim.params import Params, read_toml
from sim.region import AreaFacts, Initiative, RegionFacts

_COUNTY_KEYS = (
    "name",
    "description",
    "start",
    "pilot_end",
    "horizon",
    "reform_start",
    "reform_deadline",
    "counties",
    "areas",
    "councils",
    "area_max_size",
    "pilots",
    "exclude",
)
_AREA_KEYS = (
    "consultant",
    "politicians_in_steering_group",
    "council_stages",
    "cooperation_history",
    "board_experience",
)


def load_county(
    path: Path, raw: dict, params: Params, overrides: dict[str, Any], moved: dict[str, float], defaults: Path
) -> Any:
    """Build a county scenario (see the module docstring); every error names the file and key.

    Args:
        path: The county file.
        raw: Its parsed tables.
        params: The parameter set (defaults with overrides applied).
        overrides: The overrides, passed on to the pilots.
        moved: Estimated inputs moved away from their value; a pilot's keys are prefixed with
            its file stem (``vaernesregionen.region.board_experience``).
        defaults: The shared parameter file.

    Returns:
        A :class:`sim.scenario.Scenario` of kind ``"county"``.
    """
    from sim.scenario import Scenario, _Reader

    found: dict = {}
    top = _Reader(path, raw, "", ("county", "area", "initiative", "arrangement"), found, moved)
    c = _Reader(path, top.get("county", dict), "county.", _COUNTY_KEYS, found, moved)
    sector_names = params.vocab.sector_names
    start, pilot_end, horizon = c.month("start"), c.month("pilot_end"), c.month("horizon")
    if not start <= pilot_end <= horizon:
        raise InputError(path, "county.horizon", "needs start <= pilot_end <= horizon")
    places = geo.load_places()
    counties, exclude = _counties(path, c, places)
    pilots = _pilots(path, c, overrides, moved, defaults, found)
    munis, knrs = _members(path, places, counties, exclude, pilots, sector_names)
    name_of = dict(zip(knrs, (m.name for m in munis), strict=True))
    areas = _areas(path, c, top, places, counties, knrs, munis, pilots, sector_names, found, moved)
    area_of = {m: a.name for a in areas for m in a.members}
    regions = tuple(
        replace(p.regions[0], start=p.start, funded_until=p.pilot_end, area=area_of[p.names[0]]) for p in pilots
    )
    initiative = _initiative(path, top, sector_names, (start, pilot_end, horizon), found, moved)
    existing = _existing(path, top, name_of, params, found, moved, start)
    for i, ex in enumerate(existing):
        if len({area_of[m] for m in ex.members}) > 1:
            raise InputError(path, f"arrangement[{i}].members", "members of different cooperation areas")
        _check_pilot_overlap(path, i, ex, pilots, sector_names)
    unknown = sorted(set(moved) - set(found))
    if unknown:
        raise InputError(path, unknown[0], "not an estimated input of this scenario")
    reform_start, reform_deadline = c.month("reform_start"), c.month("reform_deadline")
    if reform_deadline < reform_start:  # as a region file (sim.scenario)
        raise InputError(path, "county.reform_deadline", "is before county.reform_start")
    return Scenario(
        name=c.get("name", str),
        description=c.get("description", str),
        path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        facts=raw,
        params=params,
        overrides=overrides,
        estimates=found,
        estimate_overrides=moved,
        municipalities=tuple(munis),
        regions=regions,
        start=min([start, *(p.start for p in pilots)]),
        pilot_end=pilot_end,
        horizon=horizon,
        reform_start=reform_start,
        reform_deadline=reform_deadline,
        shared_posts=tuple(post for p in pilots for post in p.shared_posts),
        reform_events=tuple(ev for p in pilots for ev in p.reform_events),
        kind="county",
        areas=tuple(areas),
        initiative=initiative,
        matrix=geo.distance_matrix([places[k] for k in knrs]),
        index={m.name: i for i, m in enumerate(munis)},
        pilot_files=tuple(p.path.stem for p in pilots),
        existing=existing,
    )


def _counties(path: Path, c: Any, places: dict) -> tuple[tuple[str, ...], set[str]]:
    """``county.counties`` (numbers that exist in 2016) and ``county.exclude`` (known numbers)."""
    counties = tuple(c.get("counties", list))
    if not counties or not all(isinstance(x, str) and len(x) == 2 and x.isdigit() for x in counties):
        raise InputError(path, "county.counties", "expected a list of two-digit county numbers of 2016")
    for number in counties:
        if not any(k[:2] == number for k in places):
            raise InputError(path, "county.counties", f"no municipality of 2016 has county number {number!r}")
    excluded = c.get("exclude", list, [])
    if not all(isinstance(k, str) for k in excluded):
        raise InputError(path, "county.exclude", "expected a list of municipality numbers as text")
    for knr in sorted(set(excluded) - set(places)):
        raise InputError(path, "county.exclude", f"no municipality numbered {knr!r} in 2016")
    return counties, set(excluded)


def _pilots(path: Path, c: Any, overrides: dict, moved: dict, defaults: Path, found: dict) -> list:
    """The pilot (region) files of ``county.pilots``, loaded with their own facts and estimates."""
    from sim.scenario import load_scenario

    pilots = []
    for i, name in enumerate(c.get("pilots", list, [])):
        key = f"county.pilots[{i}]"
        pilot_path = _pilot_path(path, name, key)
        if "county" in read_toml(pilot_path):
            raise InputError(path, key, f"{name!r} is a county file; a pilot must be a region file")
        stem = pilot_path.stem
        sub = {k.removeprefix(f"{stem}."): v for k, v in moved.items() if k.startswith(f"{stem}.")}
        pilot = load_scenario(pilot_path, overrides, "--set", sub, defaults)
        found.update({f"{stem}.{k}": v for k, v in pilot.estimates.items()})
        pilots.append(pilot)
    return pilots


def _members(
    path: Path, places: dict, counties: tuple[str, ...], exclude: set[str], pilots: list, sector_names: tuple
) -> tuple[list, list[str]]:
    """The counties' municipalities (less ``exclude``) and the pilots' members from elsewhere, by knr.

    A pilot's member keeps its facts from the pilot file; the others come from the data.
    """
    pilot_facts = {}
    for pilot in pilots:
        for m in pilot.municipalities:
            knr = _knr_of(pilot, m.name)
            if knr in pilot_facts:
                raise InputError(path, "county.pilots", f"{m.name} ({knr}) is a member of two pilots")
            if knr in exclude:
                raise InputError(path, "county.exclude", f"{knr} is a member of the pilot {pilot.name}")
            pilot_facts[knr] = m
    chosen = [p for p in places.values() if (p.knr[:2] in counties and p.knr not in exclude) or p.knr in pilot_facts]
    munis, knrs = [], []
    for p in sorted(chosen, key=lambda p: p.knr):
        if p.knr in pilot_facts:
            munis.append(pilot_facts[p.knr])
        else:
            if np.isnan(p.population):
                raise InputError(path, "county.exclude", f"{p.knr} {p.name} has no population in the data; exclude it")
            munis.append(_facts(p, _staff(path, p, sector_names)))
        knrs.append(p.knr)
    if len(munis) < 2:
        raise InputError(path, "county.counties", "fewer than two municipalities in these counties (less exclude)")
    if len({m.name for m in munis}) < len(munis):
        raise InputError(path, "county.pilots", "two members have the same name")
    return munis, knrs


def _areas(
    path: Path,
    c: Any,
    top: Any,
    places: dict,
    counties: tuple[str, ...],
    knrs: list[str],
    munis: list,
    pilots: list,
    sector_names: tuple,
    found: dict,
    moved: dict,
) -> list[AreaFacts]:
    """The cooperation areas by ``county.areas``, each pilot's members moved into its home area.

    An area with a pilot takes the pilot's facts; any other takes ``[area]``'s, and its most
    populous member leads.
    """
    from sim.scenario import _Reader

    name_of = dict(zip(knrs, (m.name for m in munis), strict=True))
    rule = c.get("areas", str)
    size = _whole(path, "county.area_max_size", c.number("area_max_size", 2, 50, default=geo.AREA_MAX_SIZE))
    if rule == "councils":
        councils = geo.DATA_DIR.parent / c.get("councils", str)
        if not councils.is_file():
            raise InputError(path, "county.councils", f"no such file {councils}")
        raw_areas = geo.areas_trondelag(councils, county_numbers=counties, max_size=size)
    elif rule == "rule":
        raw_areas = geo.areas_by_rule([places[k] for k in knrs], max_size=size)
    else:
        raise InputError(path, "county.areas", f"expected 'councils' or 'rule', got {rule!r}")
    groups = {a.name: [k for k in a.members if k in name_of] for a in raw_areas}
    home_of_pilot = {}
    for pilot in pilots:
        members = [_knr_of(pilot, n) for n in pilot.names]
        home = max(groups, key=lambda a: (sum(k in groups[a] for k in members), -len(groups[a])))
        if home in home_of_pilot:
            other = home_of_pilot[home].name
            raise InputError(path, "county.pilots", f"{pilot.name} and {other} share the area {home}")
        for a in groups:
            groups[a] = [k for k in groups[a] if k not in members or a == home]
        groups[home] += [k for k in members if k not in groups[home]]
        home_of_pilot[home] = pilot
    missing = [k for k in knrs if k not in {k for ms in groups.values() for k in ms}]
    if missing:
        raise InputError(path, "county.areas", f"{missing[0]} is in no area")

    a = _Reader(path, top.get("area", dict, {}), "area.", _AREA_KEYS, found, moved)
    template = dict(
        consultant=a.get("consultant", bool, False),
        politicians_in_steering_group=a.get("politicians_in_steering_group", bool, False),
        council_stages=a.number("council_stages", 0.0, 20.0, default=1.0),
        cooperation_history=a.number("cooperation_history", 0.0, 1.0, default=0.5),
        board_experience=a.number("board_experience", 0.0, 1.0, default=0.0),
    )
    order = {k: i for i, k in enumerate(knrs)}
    population = {m.name: m.population for m in munis}
    info = {r.name: (r.assumed, r.source) for r in raw_areas}
    areas = []
    for area, ms in groups.items():
        if not ms:
            continue
        members = tuple(name_of[k] for k in sorted(ms, key=order.get))
        largest = max(members, key=lambda m: (population[m], m))
        pilot = home_of_pilot.get(area)
        if pilot is not None:
            f = pilot.regions[0]
            leader = f.leader if f.leader in members else largest
            facts = replace(f, members=members, leader=leader, area=area, start=None, funded_until=None)
        else:
            facts = RegionFacts(
                area, members, largest, failed_sectors=frozenset(), sectors=tuple(range(len(sector_names))),
                area=area, **template,
            )  # fmt: skip
        areas.append(AreaFacts(area, members, *info[area], facts))
    return areas


def _initiative(
    path: Path, top: Any, sector_names: tuple, months_of: tuple[int, int, int], found: dict, moved: dict
) -> Initiative:
    """The ``[initiative]`` table: its start within the run (default: after the pilot), funded months, sectors."""
    from sim.scenario import _Reader

    start, pilot_end, horizon = months_of
    ini = _Reader(path, top.get("initiative", dict, {}), "initiative.", ("start", "months", "sectors"), found, moved)
    sectors = _sectors(path, "initiative.sectors", ini.get("sectors", list, list(sector_names)), sector_names)
    launch = ini.month("start") if "start" in ini.table else pilot_end + 1
    if not start <= launch <= horizon:
        raise InputError(path, "initiative.start", "must lie between county.start and county.horizon")
    months = _whole(path, "initiative.months", ini.number("months", 1, 240, default=24))
    return Initiative(launch, months, tuple(sector_names.index(s) for s in sectors))


def _existing(
    path: Path, top: Any, name_of: dict[str, str], params: Params, found: dict, moved: dict, start: int
) -> tuple:
    """The ``[[arrangement]]`` tables: arrangements in force at the start, members and host by ``knr``.

    A municipality is in at most one of them per sector; a host, where given, is a member.
    """
    from sim.scenario import Existing, _Reader

    vocab, out, taken = params.vocab, [], set()
    for i, t in enumerate(top.table_list("arrangement")):
        keys = ("name", "form", "sectors", "members", "host", "until", "source")
        r = _Reader(path, t, f"arrangement[{i}].", keys, found, moved)
        form = r.get("form", str)
        if form not in vocab.form_names:
            raise InputError(path, r.key("form"), f"unknown form {form!r}")
        sectors = _sectors(path, r.key("sectors"), r.get("sectors", list), vocab.sector_names)
        members = [str(k) for k in r.get("members", list)]
        if len(members) < 2 or any(k not in name_of for k in members) or len(set(members)) < len(members):
            raise InputError(path, r.key("members"), "expected two or more distinct knr of this scenario")
        host = r.get("host", str, "")
        if host and host not in members or vocab.form(form).needs_host and not host:
            raise InputError(path, r.key("host"), "expected the knr of one of the members (the form needs a host)")
        until = r.month("until") if "until" in t else None
        if until is not None and until < start:
            raise InputError(path, r.key("until"), "is before county.start")
        if vocab.form(form).merges and (len(sectors) < len(vocab.sector_names) or until is not None):
            # a merger makes one municipality: every sector at once, for good (§4.3)
            raise InputError(path, r.key("form"), f"{form!r} merges the members: every sector, no until")
        for k in members:
            for s in sectors:
                if (k, s) in taken:
                    raise InputError(path, r.key("members"), f"{k} is already in an arrangement for {s}")
                taken.add((k, s))
        out.append(
            Existing(
                r.get("name", str),
                form,
                tuple(vocab.sector_names.index(s) for s in sectors),
                tuple(name_of[k] for k in members),
                name_of[host] if host else None,
                until,
                r.get("source", str),
            )
        )
    return tuple(out)


def _check_pilot_overlap(path: Path, i: int, ex: Any, pilots: list, sector_names: tuple) -> None:
    """Refuse an ``[[arrangement]]`` that holds a pilot's member in a sector the pilot negotiates while it runs.

    A municipality is in at most one arrangement per sector; a pilot may make one for its members.
    """
    for pilot in pilots:
        facts = pilot.regions[0]
        if ex.until is not None and ex.until < pilot.start:
            continue
        both = sorted(set(ex.members) & set(pilot.names))
        sectors = [sector_names[s] for s in ex.sectors if s in facts.sectors]
        if both and sectors:
            raise InputError(
                path,
                f"arrangement[{i}].members",
                f"{both[0]} is a member of the pilot {pilot.name}, which negotiates {sectors[0]}: "
                "a municipality is in at most one arrangement per sector",
            )


def _pilot_path(path: Path, name: Any, key: str) -> Path:
    """A pilot named by scenario name, or by a path relative to the county file (or the working folder)."""
    from sim.scenario import resolve_path

    if not isinstance(name, str) or not name.strip():
        raise InputError(path, key, f"expected a scenario name or file, got {name!r}")
    beside = path.parent / name
    if beside.is_file():
        return beside
    try:
        found = resolve_path(name)
    except InputError:
        raise InputError(path, key, f"no scenario {name!r}") from None
    if not found.is_file():
        raise InputError(path, key, f"no scenario {name!r}")
    return found


def _sectors(path: Path, key: str, values: list, names: tuple[str, ...]) -> list[str]:
    """A non-empty list of distinct sector names."""
    if not values or len(set(map(str, values))) < len(values) or any(v not in names for v in values):
        raise InputError(path, key, f"expected distinct sector names of {', '.join(names)}")
    return values


def _whole(path: Path, key: str, value: float) -> int:
    """A number that must be whole (a count of members or months)."""
    if not float(value).is_integer():
        raise InputError(path, key, f"expected a whole number, got {value:g}")
    return int(value)


def _knr_of(pilot: Any, name: str) -> str:
    """A pilot member's 2016 number (county scenarios need every pilot member named by ``knr``)."""
    for m in pilot.facts.get("municipality", []):
        if m.get("name") == name and "knr" in m:
            return str(m["knr"]).strip()
    raise InputError(pilot.path, f"municipality.{name}.knr", "a pilot in a county scenario needs each member's knr")


def _staff(path: Path, place: geo.Place, sector_names: tuple[str, ...]) -> tuple[float, ...]:
    from sim.scenario import _staff_rule

    return _staff_rule(path, f"municipality {place.knr}", place.population, sector_names)


def _facts(place: geo.Place, staff: tuple[float, ...]) -> Any:
    from sim.scenario import MunicipalityFacts

    return MunicipalityFacts(place.name, place.county, place.population, staff, place.lat, place.lon)
