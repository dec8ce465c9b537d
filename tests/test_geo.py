import ast
import hashlib
import math
import random
import re

import numpy as np
import pytest

from sim.inputs import geo
from sim.inputs.errors import InputError
from sim.inputs.params import load_defaults

TRONDELAG = ("16", "17")  # county numbers of Sør- and Nord-Trøndelag in 2016

# DOMAIN.md §7 (ext.): straight-line km between the pilots' representative points, by knr2016.
DOMAIN_KM = [
    ("0441", "0436", 18),  # Os - Tolga
    ("0441", "1640", 21),  # Os - Røros
    ("0441", "1644", 50),  # Os - Holtålen
    ("1640", "1644", 36),  # Røros - Holtålen
    ("0436", "1644", 57),  # Tolga - Holtålen
    ("1714", "1717", 26),  # Stjørdal - Frosta
    ("1714", "1664", 32),  # Stjørdal - Selbu
    ("1714", "1711", 35),  # Stjørdal - Meråker
    ("1714", "1665", 65),  # Stjørdal - Tydal
    ("1665", "1717", 89),  # Tydal - Frosta
    ("1624", "1630", 47),  # Rissa - Åfjord
    ("1718", "1630", 47),  # Leksvik - Åfjord
]


@pytest.fixture(scope="module")
def places():
    return geo.load_places()


# --- data files ---


def test_data_files_match_their_recorded_sha256():
    readme = (geo.DATA_DIR / "README.md").read_text(encoding="utf-8")
    for path in (geo.PLACES_CSV, geo.REGIONS_CSV, geo.STAFF_CSV):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"`{digest}`" in readme, f"{path.name}: SHA-256 {digest} not in data/README.md"


def test_geo_module_names_no_place_and_imports_no_pandas(places):
    source = (geo.DATA_DIR.parent / "sim" / "inputs" / "geo.py").read_text(encoding="utf-8")
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert "pandas" not in imported
    names = {p.name for p in places.values()} | {p.county for p in places.values()}
    names |= {row.split(",")[0] for row in geo.REGIONS_CSV.read_text(encoding="utf-8").splitlines()[1:]}
    found = [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", source)]
    assert not found, f"names in sim/inputs/geo.py: {found}"


# --- loading ---


def test_load_places_covers_428_and_the_readme_check_rows(places):
    assert len(places) == 428
    assert all(re.fullmatch(r"\d{4}", k) and p.knr == k for k, p in places.items())
    for knr, name, pop in [
        ("1640", "Røros", 5635),
        ("1714", "Stjørdal", 23308),
        ("1601", "Trondheim", 187353),
        ("0301", "Oslo", 658390),
    ]:
        assert (places[knr].name, places[knr].population) == (name, pop)
    assert sorted(k for k, p in places.items() if math.isnan(p.population)) == ["0706", "0719", "0720"]
    trondelag = [p for p in places.values() if p.knr[:2] in TRONDELAG]
    assert len(trondelag) == 48 and sum(p.population for p in trondelag) == 449_769
    assert {p.county for p in trondelag} == {"Sør-Trøndelag", "Nord-Trøndelag"}
    assert all(57 < p.lat < 72 and 4 < p.lon < 32 for p in places.values())
    assert {p.coord_method for p in places.values()} == {"polygon_centroid_2019_borders", "geonames_town"}


def test_load_places_is_cached_but_returns_a_fresh_dict(places):
    again = geo.load_places()
    assert again == places and again is not places
    assert again["1640"] is places["1640"]
    with pytest.raises(AttributeError):
        again["1640"].population = 1.0


def test_select_places_names_the_knr_without_population():
    chosen = geo.select_places(["1644", "1640"])
    assert [p.knr for p in chosen] == ["1644", "1640"]
    with pytest.raises(InputError) as err:
        geo.select_places(["1640", "0719"])
    assert err.value.key == "0719" and "no population" in err.value.problem
    with pytest.raises(InputError, match="9999"):
        geo.select_places(["9999"])


def test_population_falls_back_to_the_neighbouring_years(tmp_path):
    text = geo.PLACES_CSV.read_text(encoding="utf-8").replace(",5593,5635,5623,", ",5593,,5623,")
    path = tmp_path / "places.csv"
    path.write_text(text, encoding="utf-8")
    assert geo.load_places(path)["1640"].population == (5593 + 5623) / 2


@pytest.mark.parametrize(
    ("edit", "key", "problem"),
    [
        (lambda t: t.replace("knr2016,", "number,", 1), "header", "missing column"),
        (
            lambda t: t.replace(
                "1640,Røros,Røros,Sør-Trøndelag,5025,5593,5635", "1640,Røros,Røros,Sør-Trøndelag,5025,5593,many"
            ),
            "1640: pop_2016",
            "not a number",
        ),
        (lambda t: t.replace("62.57732,11.72852", "162.57732,11.72852"), "1640: lat", "outside"),
        (lambda t: t.replace("1644,Holtålen", "1640,Holtålen"), "1640", "duplicate"),
        (lambda t: t.replace("1644,Holtålen", "164,Holtålen"), "knr2016", "4-digit"),
        (lambda t: t.replace("62.57732,11.72852", ",11.72852"), "1640: lat", "empty"),
    ],
)
def test_bad_places_file_gives_one_line_input_error(tmp_path, edit, key, problem):
    path = tmp_path / "places.csv"
    path.write_text(edit(geo.PLACES_CSV.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as err:
        geo.load_places(path)
    assert key in err.value.key and problem in err.value.problem
    assert err.value.source == str(path) and "\n" not in str(err.value)


def test_missing_or_binary_file_gives_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        geo.load_places(tmp_path / "nowhere.csv")
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError):
        geo.load_places(path)


# --- distances ---


def test_haversine_oslo_trondheim_against_an_independent_formula():
    oslo, trondheim = (59.9139, 10.7522), (63.4305, 10.3951)  # city centres
    d = float(geo.great_circle_km(*oslo, *trondheim))
    p1, l1, p2, l2 = map(math.radians, (*oslo, *trondheim))  # spherical law of cosines
    cosines = 6371.0 * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1))
    assert d == pytest.approx(cosines, abs=1e-6)
    assert 385 < d < 395
    assert float(geo.great_circle_km(0, 0, 90, 0)) == pytest.approx(math.pi / 2 * 6371.0)
    assert float(geo.great_circle_km(10, 170, 10, -170)) == pytest.approx(float(geo.great_circle_km(10, 0, 10, 20)))


def test_haversine_broadcasts():
    d = geo.great_circle_km(np.array([60.0, 61.0])[:, None], 10.0, np.array([60.0, 62.0, 63.0]), 10.0)
    assert d.shape == (2, 3)
    assert d[0, 0] == 0 and d[1, 2] == pytest.approx(2 * math.pi * 6371.0 / 360 * 2)


def test_distance_matrix_is_a_metric_scaled_by_the_road_factor(places):
    ps = list(places.values())
    d = geo.distance_matrix(ps)
    assert d.shape == (428, 428) and np.all(np.isfinite(d))
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0) and np.all(d + np.eye(428) > 0)
    for j in range(len(ps)):  # d[i, k] <= d[i, j] + d[j, k] for all i, k
        assert np.all(d <= d[:, j, None] + d[None, j, :] + 1e-9)
    assert np.allclose(geo.distance_matrix(ps, 1.0) * geo.ROAD_FACTOR, d)
    low, high = geo.ROAD_FACTOR_RANGE
    assert 1.0 <= low < geo.ROAD_FACTOR < high
    with pytest.raises(ValueError):
        geo.distance_matrix(ps, 0.9)


def test_great_circle_is_close_to_the_domain_straight_lines(places):
    ratios = []
    for a, b, km in DOMAIN_KM:
        d = float(geo.great_circle_km(places[a].lat, places[a].lon, places[b].lat, places[b].lon))
        ratios.append(d / km)
    assert 0.9 < np.median(ratios) < 1.1
    assert all(0.7 < r < 1.3 for r in ratios)  # the points differ (centroids vs towns), not the geometry


# --- staff ---


STAFF = {s.name: s.staff_per_1000 for s in load_defaults().vocab.sectors}
C = tuple(STAFF.values())


def test_staff_rule_matches_the_pilots():
    checks = {c.case: c for c in geo.check_staff_rule(STAFF)}
    assert set(checks) == {"Fjellregionen", "Værnesregionen", "Fosen"}
    assert abs(checks["Fjellregionen"].rel_error) <= 0.05  # 6.55 agriculture posts (§2.1)
    assert 0 <= checks["Værnesregionen"].rel_error <= 0.10  # "drøyt 45" FTE, a little over 45 (§2.2)
    fosen = checks["Fosen"]  # 32 employees in seven groups, more than the three sectors (§2.3)
    assert fosen.kind == "upper" and 0.6 * fosen.observed <= fosen.predicted <= fosen.observed


def test_staff_rule_puts_about_half_the_vaernes_staff_in_the_centre(places):
    members = ("1714", "1664", "1665", "1711", "1717")
    totals = {k: sum(geo.staff_from_population(places[k].population, C)) for k in members}
    assert totals["1714"] / sum(totals.values()) == pytest.approx(0.5, abs=0.05)  # §2.2


def test_staff_rule_is_increasing_and_small_places_have_one_to_three_posts():
    pops = [0, 500, 850, 2000, 5000, 23_500, 190_000]
    staff = np.array([geo.staff_from_population(p, C) for p in pops])
    assert np.all(np.diff(staff, axis=0) > 0)
    planning, environment, agriculture = geo.staff_from_population(2000, C)
    assert all(0.9 <= s <= 3 for s in (planning, environment, agriculture))  # §1.1: 1-3 posts per field
    for bad in (-1, math.nan, math.inf):
        with pytest.raises(ValueError):
            geo.staff_from_population(bad, C)


def test_bad_staff_file_gives_input_error(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(geo.STAFF_CSV.read_text(encoding="utf-8").replace(",agriculture,", ",farming,", 1), "utf-8")
    with pytest.raises(InputError, match="farming"):
        geo.check_staff_rule(STAFF, path)


# --- areas ---


def test_every_trondelag_municipality_is_in_exactly_one_area(places):
    areas = geo.areas_trondelag()
    members = [k for a in areas for k in a.members]
    assert len(members) == len(set(members))
    assert {k for k in places if k[:2] in TRONDELAG} <= set(members)
    outside = {k for k in members if k[:2] not in TRONDELAG}
    assert {"0436", "0441"} <= outside  # Fjellregionen's Hedmark members stay in their area
    by_knr = {k: a for a in areas for k in a.members}
    assert len({by_knr[k].name for k in ("1640", "1644", "0441", "0436")}) == 1
    assert len({by_knr[k].name for k in ("1714", "1664", "1665", "1711", "1717")}) == 1
    assert len({by_knr[k].name for k in ("1624", "1718", "1630")}) == 1
    assert all(len(a.members) >= 2 for a in areas)


def test_unknown_memberships_are_assumed_and_known_councils_are_not():
    regions = geo.REGIONS_CSV.read_text(encoding="utf-8").splitlines()[1:]
    known = {row.split(",")[2] for row in regions}
    areas = geo.areas_trondelag()
    by_knr = {k: a for a in areas for k in a.members}
    unknown = [k for k in geo.load_places() if k[:2] in TRONDELAG and k not in known]
    assert len(unknown) == 18
    assert all(by_knr[k].assumed for k in unknown)
    assert all(k in by_knr[k].source or by_knr[k].source.startswith("rule") for k in unknown)
    assert not any(by_knr[k].assumed for k in ("1640", "1714", "1624", "1601"))


def test_overlaps_follow_the_documented_rule():
    by_knr = {k: a for a in geo.areas_trondelag() for k in a.members}
    # in Trondheimsregionen (10 members) and a smaller council: the smaller one
    for knr, council in [("1714", "Værnesregionen"), ("1663", "Værnesregionen"), ("1624", "Fosen regionråd")]:
        assert by_knr[knr].name == council and f"{knr} also in" in by_knr[knr].source
    # in two councils of 10: the one whose other members are nearer
    assert by_knr["1638"].name == "Orkdalsregionen" and by_knr["1657"].name == "Trondheimsregionen"


def test_areas_are_deterministic_and_independent_of_input_order(places):
    shuffled = list(places.values())
    random.Random(3).shuffle(shuffled)
    assert geo.areas_by_rule(places) == geo.areas_by_rule(shuffled)
    assert geo.areas_trondelag() == geo.areas_trondelag(places={p.knr: p for p in shuffled})


def test_areas_by_rule_covers_norway_within_counties(places):
    areas = geo.areas_by_rule(places, max_size=6)
    members = [k for a in areas for k in a.members]
    assert sorted(members) == sorted(places)
    assert all(len(a.members) <= 6 and a.assumed for a in areas)
    assert all(len({places[k].county for k in a.members}) == 1 for a in areas)
    one = geo.areas_by_rule(places, county="Nord-Trøndelag", max_size=100)
    assert len(one) == 1 and len(one[0].members) == 23
    with pytest.raises(ValueError):
        geo.areas_by_rule(places, county="Atlantis")


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace(",1640,Røros,", ",1640,Roros,"), "is not the data file's"),
        (lambda t: t.replace(",1644,Holtålen,", ",9999,Holtålen,"), "no municipality"),
        (lambda t: t.replace("knr2016", "kommune", 1), "missing column"),
        (lambda t: t + t.splitlines()[-1] + "\n", "listed twice"),
    ],
)
def test_bad_regions_file_gives_input_error(tmp_path, edit, problem):
    path = tmp_path / "regions.csv"
    path.write_text(edit(geo.REGIONS_CSV.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as err:
        geo.areas_trondelag(path)
    assert problem in err.value.problem and err.value.source == str(path)
