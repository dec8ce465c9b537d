"""Municipality borders and the coast for maps (``data/borders-2019.geojson``, Kartverket via SSB).

Read once and cached; drawn under the county map and the pilot map in the same projection.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection

from sim.inputs.geo import PLACES_CSV

BORDERS_GEOJSON = Path(__file__).resolve().parents[2] / "data" / "borders-2019.geojson"
#: The credit every map that draws the borders carries (CC BY 4.0 asks for it).
BORDERS_CREDIT = {
    "en": "Borders: Kartverket (CC BY 4.0), municipalities of 2019",
    "nb": "Kommunegrenser: Kartverket (CC BY 4.0), kommuner per 2019",
}
SEA = "#ffffff"
LAND = "#ececec"


# Cached for the process: the data files ship with the code and do not change under a run.
@cache
def _borders() -> dict[str, list[np.ndarray]]:
    """knr2019 -> outer rings (arrays of lon, lat) of that municipality's 2019 polygon."""
    data = json.loads(BORDERS_GEOJSON.read_text(encoding="utf-8"))
    out: dict[str, list[np.ndarray]] = {}
    for feature in data["features"]:
        geom = feature["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        out[feature["properties"]["knr2019"]] = [np.asarray(poly[0], dtype=float) for poly in polys]
    return out


@cache
def _knr2019_by_name() -> dict[str, str]:
    """Municipality name of 2016 -> its number in 2019 (``data/kommuner-2016.csv``)."""
    with PLACES_CSV.open(encoding="utf-8", newline="") as f:
        return {row["name"]: row["knr2019"] for row in csv.DictReader(f)}


class Projection:
    """Lon/lat to km east and north of a fixed origin (equirectangular, as :func:`project`)."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        # The origin is the mean of the points, as in maps.project: given the same municipalities,
        # borders and nodes land on the same km grid.
        self.lat0, self.lon0 = float(np.mean(lat)), float(np.mean(lon))

    def __call__(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Points (km east, km north), one row per coordinate pair."""
        x = (np.asarray(lon) - self.lon0) * 111.32 * np.cos(np.radians(self.lat0))
        y = (np.asarray(lat) - self.lat0) * 110.57
        return np.column_stack([x, y])


def draw_borders(ax, names: list[str], proj: Projection, colours: dict[str, Any], margin_km: float = 25.0):
    """Draw the land (every municipality near ``names`` in grey) and ``names`` filled by ``colours``.

    The sea (and the neighbouring countries, which the file does not hold) is the blank axes
    background, so the coast is where the grey and coloured shapes end. Names
    whose 2016 municipalities share a 2019 polygon (merged in 2017-2018) are drawn as one shape,
    coloured by the first of them (callers pass their mean). Sets the axes limits to the drawn
    municipalities plus ``margin_km``.

    Returns:
        ``{knr2019: [names]}`` of the shapes drawn for ``names``, and the limits ``(x0, x1, y0, y1)``.
    """
    knr = _knr2019_by_name()
    borders = _borders()
    shapes: dict[str, list[str]] = {}
    for n in names:
        if knr.get(n) in borders:
            shapes.setdefault(knr[n], []).append(n)
    mine = [proj(*ring.T) for k in shapes for ring in borders[k]]
    pts = np.vstack(mine) if mine else np.zeros((1, 2))
    x0, y0 = pts.min(axis=0) - margin_km
    x1, y1 = pts.max(axis=0) + margin_km
    others = []
    for k, rings in borders.items():
        if k in shapes:
            continue
        for ring in rings:
            xy = proj(*ring.T)
            # Only shapes that reach into the frame: the whole country under a county map would cost
            # seconds per figure and show nothing more.
            if xy[:, 0].max() > x0 and xy[:, 0].min() < x1 and xy[:, 1].max() > y0 and xy[:, 1].min() < y1:
                others.append(xy)
    ax.set_facecolor(SEA)
    ax.add_collection(PolyCollection(others, facecolor=LAND, edgecolor="white", lw=0.5, zorder=0.4))
    polys, fills = [], []
    for k, members in shapes.items():
        for ring in borders[k]:
            polys.append(proj(*ring.T))
            fills.append(colours[members[0]])
    ax.add_collection(PolyCollection(polys, facecolor=fills, edgecolor="#555555", lw=0.6, zorder=0.5))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    return shapes, (x0, x1, y0, y1)
