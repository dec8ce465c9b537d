"""County and national scenarios: every municipality of some counties, in cooperation areas (§4).

A county file has a ``[county]`` table instead of ``[region]`` (format in ``scenarios/README.md``).
It names counties by their 2016 number; the municipalities, their population and coordinates
come from ``data/kommuner-2016.csv``, distances are computed (:func:`sim.inputs.geo.distance_matrix`,
great circle times the road factor) and staff comes from the staff rule
(:func:`sim.inputs.geo.staff_from_population`). Nothing is typed by hand.

Rules (each documented in docs/ODD.md, "County scenarios"):

* **Areas.** ``areas = "councils"``: the regional councils of the file ``councils`` names (e.g.
  ``data/regions-trondelag-2016.csv``)
  with the overlap rule and the rule for municipalities of unknown membership of
  :func:`sim.inputs.geo.areas_trondelag`; ``areas = "rule"``: :func:`sim.inputs.geo.areas_by_rule` (neighbours
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
  opens one negotiation per area for the ``[initiative]`` sectors (:class:`sim.core.agents.CountyGovernor`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.inputs import geo
from sim.inputs.errors import InputError
from sim.inputs.facts import SELF_START_KEYS, AreaFacts, Initiative, RegionFacts, SelfStart
from sim.inputs.mergers import load_mergers
from sim.inputs.params import Params, read_toml
from sim.inputs.scenario import Existing, MunicipalityFacts, Reader, Scenario, load_region, resolve_path, staff_rule

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
    "mergers",
)
_AREA_KEYS = (
    "consultant",
    "politicians_in_steering_group",
    "council_stages",
    "cooperation_history",
    "board_experience",
)


# Every reader of a county file shares one `found` dict (pilots' keys prefixed with their stem): each
# estimate anywhere in the scenario is listed in one place, so robustness moves each of them.
def load_county(path: Path, raw: dict, params: Params, overrides: dict[str, Any], moved: dict[str, float]) -> Scenario:
    """Build a county scenario (see the module docstring); every error names the file and key.

    Args:
        path: The county file.
        raw: Its parsed tables.
        params: The parameter set (defaults with overrides applied).
        overrides: The overrides (recorded).
        moved: Estimated inputs moved away from their value; a pilot's keys are prefixed with
            its file stem (``vaernesregionen.region.board_experience``).
    """
    found: dict = {}
    top = Reader(path, raw, "", ("county", "area", "initiative", "arrangement", "self_start"), found, moved)
    c = Reader(path, top.get("county", dict), "county.", _COUNTY_KEYS, found, moved)
    vocab = params.vocab
    start, pilot_end, horizon = _months(c)
    places = geo.load_places()
    counties, exclude = _counties(path, c, places)
    pilots = _pilots(path, c, params, overrides, moved, found)
    munis, knrs = _members(path, places, counties, exclude, pilots, vocab.staff_per_1000)
    name_of = dict(zip(knrs, (m.name for m in munis), strict=True))
    areas = _areas(path, c, top, places, counties, knrs, munis, pilots, vocab.sector_names, found, moved)
    running = [p for p in pilots if p.pilot_end >= start]  # the others are over: a forecast's history
    initiative = _initiative(path, top, vocab.sector_names, (start, pilot_end, horizon), found, moved)
    existing = _existing(path, top, name_of, params, found, moved, start)
    areas = _pull_into_areas(areas, existing, population={m.name: m.population for m in munis})
    regions = _running(path, areas, existing, running, vocab)
    mergers, self_start = _scheduled(path, c, top, name_of, (start, horizon), found, moved)
    reform_start, reform_deadline = c.month("reform_start"), c.month("reform_deadline")
    if reform_deadline < reform_start:  # as a region file (sim.inputs.scenario)
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
        start=min([start, *(p.start for p in running)]),
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
        pilot_files=tuple(p.path.stem for p in running),
        existing=existing,
        mergers=mergers,
        self_start=self_start,
    )


def _months(c: Reader) -> tuple[int, int, int]:
    """``county.start``, ``pilot_end`` and ``horizon`` (the pilots may end the month before the start)."""
    start, pilot_end, horizon = c.month("start"), c.month("pilot_end"), c.month("horizon")
    if not (start <= horizon and start - 1 <= pilot_end <= horizon):
        raise InputError(c.path, "county.horizon", "needs start - 1 <= pilot_end <= horizon")
    return start, pilot_end, horizon


def _running(path: Path, areas: list[AreaFacts], existing: tuple, running: list, vocab: Any) -> tuple[RegionFacts, ...]:
    """The pilots still running at the start as negotiations in their areas; arrangements in force checked.

    A network's members must share an area (it needs trust); a formal arrangement may span areas.
    """
    area_of = {m: a.name for a in areas for m in a.members}
    for i, ex in enumerate(existing):
        if len({area_of[m] for m in ex.members}) > 1 and not vocab.form(ex.form).formal:
            raise InputError(path, f"arrangement[{i}].members", "a network's members must share a cooperation area")
        _check_pilot_overlap(path, i, ex, running, vocab.sector_names)
    return tuple(
        replace(p.regions[0], start=p.start, funded_until=p.pilot_end, area=area_of[p.names[0]]) for p in running
    )


def _scheduled(
    path: Path, c: Reader, top: Reader, name_of: dict[str, str], months: tuple[int, int], found: dict, moved: dict
) -> tuple[tuple, SelfStart | None]:
    """``county.mergers`` (the merger table) and ``[self_start]``; then refuse unknown moved estimates.

    This is the last table that can hold an estimate, so every moved estimate must have been found.
    """
    mergers = ()
    if "mergers" in c.table:
        table = geo.DATA_DIR.parent / c.get("mergers", str)
        mergers = load_mergers(path, "county.mergers", table, name_of, *months)
    self_start = None
    if "self_start" in top.table:
        self_start = _self_start(
            Reader(path, top.get("self_start", dict), "self_start.", SELF_START_KEYS, found, moved)
        )
    unknown = sorted(set(moved) - set(found))
    if unknown:
        raise InputError(path, unknown[0], "not an estimated input of this scenario")
    return mergers, self_start


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


def _pilots(path: Path, c: Any, params: Params, overrides: dict, moved: dict, found: dict) -> list:
    """The pilot (region) files of ``county.pilots``, loaded with their own facts and estimates.

    A pilot takes the county's parameter set as it is (overrides already applied and checked).
    """
    pilots = []
    for i, name in enumerate(c.get("pilots", list, [])):
        key = f"county.pilots[{i}]"
        pilot_path = _pilot_path(path, name, key)
        raw = read_toml(pilot_path)
        if "county" in raw:
            raise InputError(path, key, f"{name!r} is a county file; a pilot must be a region file")
        stem = pilot_path.stem
        # A pilot's estimates are keyed by its file's stem: two pilots both have region.council_stages,
        # and a robustness corner must move one of them only.
        sub = {k.removeprefix(f"{stem}."): v for k, v in moved.items() if k.startswith(f"{stem}.")}
        pilot = load_region(pilot_path, raw, params, overrides, sub)
        found.update({f"{stem}.{k}": v for k, v in pilot.estimates.items()})
        pilots.append(pilot)
    return pilots


def _members(
    path: Path, places: dict, counties: tuple[str, ...], exclude: set[str], pilots: list, per_1000: tuple
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
    # Ordered by municipality number, not by file or dict order: the order of the members fixes
    # the order of the agents and so of the random draws, which must not change when a file is edited.
    for p in sorted(chosen, key=lambda p: p.knr):
        if p.knr in pilot_facts:
            munis.append(pilot_facts[p.knr])
        else:
            if np.isnan(p.population):
                raise InputError(path, "county.exclude", f"{p.knr} {p.name} has no population in the data; exclude it")
            munis.append(_facts(p, _staff(path, p, per_1000)))
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
    name_of = dict(zip(knrs, (m.name for m in munis), strict=True))
    raw_areas = _area_rule(path, c, places, counties, knrs)
    groups = {a.name: [k for k in a.members if k in name_of] for a in raw_areas}
    home_of_pilot = _pilot_homes(path, groups, pilots)
    missing = [k for k in knrs if k not in {k for ms in groups.values() for k in ms}]
    if missing:
        raise InputError(path, "county.areas", f"{missing[0]} is in no area")
    template = _area_template(Reader(path, top.get("area", dict, {}), "area.", _AREA_KEYS, found, moved))
    order = {k: i for i, k in enumerate(knrs)}
    population = {m.name: m.population for m in munis}
    info = {r.name: (r.assumed, r.source) for r in raw_areas}
    areas = []
    for area, ms in groups.items():
        if not ms:
            continue
        members = tuple(name_of[k] for k in sorted(ms, key=order.get))
        # The name breaks a tie in population, so the leader never depends on set or dict order.
        largest = max(members, key=lambda m: (population[m], m))
        pilot = home_of_pilot.get(area)
        if pilot is not None:
            f = pilot.regions[0]
            leader = f.leader if f.leader in members else largest
            facts = replace(f, members=members, leader=leader, area=area, start=None, funded_until=None)
            facts = replace(facts, pre_project_months=None, main_project_months=None, study_months=None)  # pilot-only
        else:
            facts = RegionFacts(
                area, members, largest, failed_sectors=frozenset(), sectors=tuple(range(len(sector_names))),
                area=area, **template,
            )  # fmt: skip
        areas.append(AreaFacts(area, members, *info[area], facts))
    return areas


def _area_rule(path: Path, c: Reader, places: dict, counties: tuple[str, ...], knrs: list[str]) -> list[geo.Area]:
    """The areas ``county.areas`` names: the regional councils of ``county.councils``, or the neighbour rule."""
    rule = c.get("areas", str)
    size = _whole(path, "county.area_max_size", c.number("area_max_size", 2, 50, default=geo.AREA_MAX_SIZE))
    if rule == "councils":
        councils = geo.DATA_DIR.parent / c.get("councils", str)
        if not councils.is_file():
            raise InputError(path, "county.councils", f"no such file {councils}")
        return geo.areas_trondelag(councils, county_numbers=counties, max_size=size)
    if rule == "rule":
        return geo.areas_by_rule([places[k] for k in knrs], max_size=size)
    raise InputError(path, "county.areas", f"expected 'councils' or 'rule', got {rule!r}")


def _pilot_homes(path: Path, groups: dict[str, list[str]], pilots: list) -> dict[str, Scenario]:
    """Move each pilot's members (by knr, in ``groups``) into the area that holds most of them: ``{area: pilot}``.

    On a tie, the smaller area; two pilots may not share an area.
    """
    home_of_pilot: dict[str, Scenario] = {}
    for pilot in pilots:
        members = [_knr_of(pilot, n) for n in pilot.names]
        home = max(groups, key=lambda a: (sum(k in groups[a] for k in members), -len(groups[a])))
        if home in home_of_pilot:
            other = home_of_pilot[home].name
            raise InputError(path, "county.pilots", f"{pilot.name} and {other} share the area {home}")
        for a in groups:
            # Out of every other area: each municipality is in exactly one area.
            groups[a] = [k for k in groups[a] if k not in members or a == home]
        groups[home] += [k for k in members if k not in groups[home]]
        home_of_pilot[home] = pilot
    return home_of_pilot


def _area_template(a: Reader) -> dict[str, Any]:
    """The ``[area]`` table: the facts of an area without a pilot (estimates with their ranges)."""
    return dict(
        consultant=a.get("consultant", bool, False),
        politicians_in_steering_group=a.get("politicians_in_steering_group", bool, False),
        council_stages=a.number("council_stages", 0.0, 20.0, default=1.0),
        cooperation_history=a.number("cooperation_history", 0.0, 1.0, default=0.5),
        board_experience=a.number("board_experience", 0.0, 1.0, default=0.0),
    )


def _pull_into_areas(areas: list[AreaFacts], existing: tuple, population: dict[str, float]) -> list[AreaFacts]:
    """Members of an arrangement in force placed in an *assumed* area move to the area of most of its members.

    An arrangement is better evidence of who cooperates than the neighbour rule that made an
    assumed area (e.g. a samkommune whose members the rule split). Sourced memberships stay; a
    formal arrangement may then span areas (it needs no trust between its members).
    """
    area_of = {m: a for a in areas for m in a.members}
    moves: dict[str, str] = {}
    for ex in existing:
        count: dict[str, int] = {}
        for m in ex.members:
            count[area_of[m].name] = count.get(area_of[m].name, 0) + 1
        # The area's name breaks ties, for the same reason: one answer on every run.
        home = max(count, key=lambda a: (count[a], a))
        for m in ex.members:
            if area_of[m].name != home and area_of[m].assumed:
                moves[m] = home
    if not moves:
        return areas
    out = []
    for a in areas:
        members = tuple(m for m in a.members if moves.get(m, a.name) == a.name)
        members += tuple(m for m in moves if moves[m] == a.name and m not in a.members)
        # An area emptied by the moves is dropped rather than kept with no one to negotiate.
        if not members:
            continue
        leader = a.facts.leader if a.facts.leader in members else max(members, key=lambda m: (population[m], m))
        moved_in = [m for m in members if m not in a.members]
        source = a.source + (f"; moved here by an arrangement in force: {', '.join(moved_in)}" if moved_in else "")
        out.append(replace(a, members=members, source=source, facts=replace(a.facts, members=members, leader=leader)))
    return out


def _initiative(
    path: Path, top: Any, sector_names: tuple, months_of: tuple[int, int, int], found: dict, moved: dict
) -> Initiative:
    """The ``[initiative]`` table: its start within the run (default: after the pilot), funded months, sectors."""
    start, pilot_end, horizon = months_of
    ini = Reader(path, top.get("initiative", dict, {}), "initiative.", ("start", "months", "sectors"), found, moved)
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
    vocab, out, taken = params.vocab, [], set()
    for i, t in enumerate(top.table_list("arrangement")):
        keys = ("name", "form", "sectors", "members", "host", "until", "source")
        r = Reader(path, t, f"arrangement[{i}].", keys, found, moved)
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
        # An arrangement that ended before the run is history, not something in force: refused rather
        # than silently ignored.
        if until is not None and until < start:
            raise InputError(path, r.key("until"), "is before county.start")
        if vocab.form(form).merges and (len(sectors) < len(vocab.sector_names) or until is not None):
            # a merger makes one municipality: every sector at once, for good (§4.3)
            raise InputError(path, r.key("form"), f"{form!r} merges the members: every sector, no until")
        for k in members:
            for s in sectors:
                # The model's invariant: a municipality is in at most one arrangement per sector.
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
    if not isinstance(name, str) or not name.strip():
        raise InputError(path, key, f"expected a scenario name or file, got {name!r}")
    # Beside the county file first, so a folder of scenario files copied elsewhere still runs.
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
    # By number, not by name: a pilot file may spell a name differently from the data; the 2016
    # number is unique.
    for m in pilot.facts.get("municipality", []):
        if m.get("name") == name and "knr" in m:
            return str(m["knr"]).strip()
    raise InputError(pilot.path, f"municipality.{name}.knr", "a pilot in a county scenario needs each member's knr")


def _staff(path: Path, place: geo.Place, per_1000: tuple[float, ...]) -> tuple[float, ...]:
    return staff_rule(path, f"municipality {place.knr}", place.population, per_1000)


def _facts(place: geo.Place, staff: tuple[float, ...]) -> MunicipalityFacts:
    return MunicipalityFacts(place.name, place.county, place.population, staff, place.lat, place.lon)


def _self_start(reader: Reader) -> SelfStart:
    """The ``[self_start]`` table through a scenario reader (errors name file and key)."""
    months = {"afterglow_months", "dissolution_months", "cooldown_months", "group_max"}
    bounds = {"rate": (0.0, 1.0), "group_max": (2, 50)}
    values = {}
    for key in SELF_START_KEYS:
        low, high = bounds.get(key, (0.0, 240.0 if key in months else 100.0))
        v = reader.number(key, low, high)
        # A moved estimate (a robustness corner, a sampled future) can fall between whole months.
        values[key] = int(round(v)) if key in months else v
    return SelfStart(**values)
