"""The county map: every municipality at its real coordinates, sized by population, coloured by arrangement.

Used for county scenarios (``sim.inputs.county``): latitude and longitude from ``data/kommuner-2016.csv``
projected to km east and north of the county's centre (north up, no tile server), the cooperation
areas drawn as outlines (convex hulls), a scale bar. Same style and conventions as ``sim.views.plots``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.stats import wilson
from sim.inputs.lang import term
from sim.inputs.scenario import Scenario
from sim.inputs.vocab import NONE
from sim.views.borders import BORDERS_CREDIT, Projection, _knr2019_by_name, draw_borders
from sim.views.plots import NONE_COLOUR, _style, form_colour, form_label

#: Areas are numbered on the map and named in the legend up to this many (a national map shows outlines only).
MAX_NUMBERED_AREAS = 15


def project(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Km east and north of the mean point (equirectangular; good to a few % within a county)."""
    lat0 = float(np.mean(lat))
    x = (lon - np.mean(lon)) * 111.32 * np.cos(np.radians(lat0))
    y = (lat - np.mean(lat)) * 110.57
    return np.column_stack([x, y])


def hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of 2-D points, counter-clockwise (Andrew's monotone chain); fewer than 3 points as given."""
    pts = sorted(map(tuple, points))
    if len(pts) < 3:
        return np.array(pts)

    def half(seq):
        out: list[tuple[float, float]] = []
        for p in seq:
            # <= 0 also drops collinear points: an outline has corners only where it turns.
            while len(out) >= 2 and _turn(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(half(pts) + half(reversed(pts)))


def _turn(o, a, b) -> float:
    """Cross product of OA and OB: positive for a counter-clockwise turn."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


class CountyMap:
    """The county map as a figure built once, whose arrangements can be recoloured cheaply.

    One panel per sector: every municipality at its real coordinates, sized by population; the
    cooperation areas as outlines (dashed: assumed), numbered and named in the legend (up to
    :data:`MAX_NUMBERED_AREAS`); a scale bar and north arrow. Built once; :meth:`update` only
    recolours the nodes, rings the hosts and sets the title (the dashboard calls it when an
    arrangement changes, like :class:`sim.views.plots.RegionMap`).

    Attributes:
        names: The municipalities drawn, in scenario order.
        sectors: The sector names, one panel each.
        figure: The matplotlib figure.
    """

    def __init__(
        self,
        scenario: Scenario,
        sectors: list[str],
        title: str,
        names: list[str] | None = None,
        figsize: tuple[float, float] | None = None,
        node_scale: float = 1.0,
        legend_right: bool = False,
    ) -> None:
        """Draw the static parts.

        Args:
            scenario: The county scenario (coordinates and areas).
            sectors: Sector names to draw, one panel each.
            title: Figure title.
            names: Municipalities to draw (default: all of the scenario's).
            figsize: Figure size in inches (default 9 x 9.5 per panel).
            node_scale: Factor on the node areas (smaller figures want smaller nodes).
            legend_right: The legend in one column right of the map (a wide screen) instead of below it.
        """
        self.scenario, self.sectors, self.title = scenario, list(sectors), title
        facts = {m.name: m for m in scenario.municipalities}
        wanted = set(names) if names is not None else None
        self.names = [n for n in scenario.names if wanted is None or n in wanted]
        pos = project(np.array([facts[n].lat for n in self.names]), np.array([facts[n].lon for n in self.names]))
        where = dict(zip(self.names, pos, strict=True))
        pops = np.array([facts[n].population for n in self.names])
        # Marker area grows with the square root of population: the largest town does not cover its
        # neighbours, and the smallest stays visible.
        sizes = node_scale * (15 + 600 * np.sqrt(pops / pops.max()))
        self.nodes: list[Any] = []
        with _style() as plt:
            k = len(self.sectors)
            self.figure, axes = plt.subplots(1, k, figsize=figsize or (9 * k, 9.5), squeeze=False, layout="constrained")
            self.axes = list(axes[0])
            numbered = len(scenario.areas) <= MAX_NUMBERED_AREAS
            proj = Projection(
                np.array([facts[n].lat for n in self.names]), np.array([facts[n].lon for n in self.names])
            )
            for ax in self.axes:
                draw_borders(ax, self.names, proj, dict.fromkeys(self.names, "#fafafa"), 10.0)  # coast and borders
                _draw_areas(ax, scenario, where, numbered)
                self.nodes.append(
                    ax.scatter(
                        pos[:, 0], pos[:, 1], s=sizes, c=NONE_COLOUR, edgecolor="white", linewidth=0.5, zorder=3
                    )  # fmt: skip
                )
                _frame(ax, pos)
            self.legend_right = legend_right
            self._legend(plt, numbered)

    def _legend(self, plt, numbered: bool) -> None:
        """The forms, the host ring, the areas and the borders' credit; right of the map or below it."""
        scenario = self.scenario
        shown = [NONE, *scenario.params.vocab.form_names]
        handles = [
            plt.Line2D(
                [],
                [],
                marker="o",
                ls="",
                markersize=9,
                color=form_colour(scenario, f),
                label=form_label(scenario, f),
            )  # fmt: skip
            for f in shown
        ]
        handles.append(
            plt.Line2D([], [], marker="o", ls="", markersize=9, mfc="white", mec="black", mew=2, label="host")
        )
        handles.append(plt.Line2D([], [], color="#888888", label="cooperation area (dashed: assumed)"))
        handles.append(plt.Line2D([], [], color="#555555", lw=0.6, label=BORDERS_CREDIT["en"]))
        if numbered:
            handles += [
                plt.Line2D([], [], ls="", marker=f"${k}$", markersize=8, color="black", label=area.name)
                for k, area in enumerate(scenario.areas, start=1)
            ]
        if self.legend_right:  # the title goes on the panels (a figure title would run into the legend)
            self.figure.legend(handles=handles, loc="outside right upper", ncol=1, frameon=False)
        else:
            self.figure.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)

    def update(
        self, forms: dict[str, list[str]], hosts: dict[str, set[str]], when: str = "at the horizon"
    ) -> CountyMap:
        """Colour each panel's nodes by form and ring the hosts.

        Args:
            forms: Per sector name, the form of each municipality of :attr:`names` (``none`` if none).
            hosts: Per sector name, the municipalities hosting a joint office.
            when: The time the arrangements are from, for the title.
        """
        sc = self.scenario
        for ax, nodes, sector in zip(self.axes, self.nodes, self.sectors, strict=True):
            mine = hosts.get(sector, set())
            nodes.set_facecolor([form_colour(sc, f) if f != NONE else NONE_COLOUR for f in forms[sector]])
            nodes.set_edgecolor(["black" if n in mine else "white" for n in self.names])
            nodes.set_linewidth([2.5 if n in mine else 0.5 for n in self.names])
            if self.legend_right:
                ax.set_title(f"{self.title}: {sector} {when}\nnode size = population; north up", fontsize=11)
            elif len(self.sectors) > 1:
                ax.set_title(sector)
        if not self.legend_right:
            self.figure.suptitle(f"{self.title}\n{', '.join(self.sectors)} {when}; node size = population; north up")
        return self


def _draw_areas(ax, scenario: Scenario, where: dict[str, np.ndarray], numbered: bool) -> None:
    """The cooperation areas as outlines (dashed: assumed), numbered at their centre when ``numbered``."""
    for number, area in enumerate(scenario.areas, start=1):
        pts = np.array([where[m] for m in area.members if m in where])
        if len(pts) >= 3:
            ax.fill(*hull(pts).T, facecolor="none", edgecolor="#888888", lw=1,
                    ls="--" if area.assumed else "-", zorder=1)  # fmt: skip
        if len(pts) and numbered:
            cx, cy = pts.mean(axis=0)
            ax.annotate(str(number), (cx, cy), ha="center", va="center", fontsize=9, weight="bold",
                        zorder=5)  # fmt: skip


def _frame(ax, pos: np.ndarray) -> None:
    """A map panel without ticks or spines, north up, with a 50 km scale bar and a north arrow."""
    ax.set_aspect("equal")
    ax.margins(0.06)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    x0, y0 = pos[:, 0].min(), pos[:, 1].min()
    ax.plot([x0, x0 + 50], [y0 - 15, y0 - 15], color="black", lw=2)
    ax.annotate("50 km", (x0 + 25, y0 - 15), xytext=(0, 4), textcoords="offset points", ha="center",
                fontsize=9)  # fmt: skip
    ax.annotate("N ↑", (0.98, 0.98), xycoords="axes fraction", ha="right", va="top", fontsize=11)


def county_map(scenario: Scenario, municipalities: pd.DataFrame, sector: str, title: str):
    """Map of one replicate: node size = population, colour = the sector's arrangement, host ringed.

    Args:
        scenario: The county scenario (coordinates and areas).
        municipalities: ``municipalities.csv`` rows of one replicate.
        sector: The sector to colour by.
        title: Figure title.
    """
    drawn = CountyMap(scenario, [sector], title, names=list(municipalities["municipality"]))
    # In the map's order: update() takes one form per drawn municipality, aligned with names.
    rows = municipalities.set_index("municipality").loc[drawn.names]
    hosts = set(rows[f"host_{sector}"]) - {""}
    return drawn.update({sector: list(rows[f"form_{sector}"])}, {sector: hosts}).figure


def area_outcomes(summary: pd.DataFrame, sector: str, title: str):
    """Per area: share of replicates with a joint office for ``sector`` and with a stopped negotiation (95 % Wilson)."""
    panels = ((f"office_share_{sector}", f"a joint {sector} office at the horizon"), ("stall_share", "a stop"))
    names = [f"{a}{' (assumed)' if assumed else ''} ({n})" for a, assumed, n in zip(
        summary["area"], summary["assumed"], summary["n_members"], strict=True)]  # fmt: skip
    y = np.arange(len(summary))[::-1]
    with _style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(summary) + 2), sharey=True, layout="constrained")
        for ax, (column, what) in zip(axes, panels, strict=True):
            shares = summary[column].to_numpy()
            n = summary["replicates"].to_numpy()
            # The counts are recovered from the shares; round(), because (7 / 50) * 50 is 7.000000000000001.
            lo, hi = np.array([wilson(round(s * k), int(k)) for s, k in zip(shares, n, strict=True)]).T
            ax.barh(y, shares, color=form_colour_any(), height=0.6)
            err = np.clip([shares - lo, hi - shares], 0, None)  # rounding can put a limit a hair past the share
            ax.errorbar(shares, y, xerr=err, fmt="none", color="black", lw=1, capsize=3)
            ax.set_xlim(0, 1)
            ax.set_xlabel(f"Share of replicates with {what}")
        axes[0].set_yticks(y, names)
        fig.suptitle(f"{title}\n(members in brackets; 95 % Wilson score intervals; {int(n.max())} replicates)")
    return fig


def form_colour_any() -> str:
    """The bar colour of the area panels."""
    return "#386cb0"


# --- borders, coast and the share map (issue: maps people recognise) ------------------------------


def place_labels(ax, labels: list[tuple[str, float, float]], fontsize: float = 8.0) -> list[Any]:
    """Name places without overlap: each label at its point or, failing that, nearby with a leader line.

    Labels are tried in the order given (put the important ones first) at the point, then at
    offsets of growing distance in eight directions; the first position that overlaps no placed
    label and stays inside the axes is kept. The axes must have its final position and limits
    (placement is measured in pixels at the figure's dpi; a different dpi scales everything alike).

    Returns:
        The texts placed (a label that finds no place is left out and not returned).
    """
    fig = ax.figure
    # Placement is measured in pixels: the axes must take its final position and aspect now, not
    # at the next draw.
    ax.apply_aspect()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken: list[Any] = []
    placed = []
    steps = [(0, 0)] + [
        (r * dx, r * dy)
        for r in (9, 16, 24, 34)
        for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
    ]
    for text, x, y in labels:
        for dx, dy in steps:
            far = abs(dx) + abs(dy) > 12
            t = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="center" if dx == 0 else ("left" if dx > 0 else "right"),
                va="center" if dy == 0 else ("bottom" if dy > 0 else "top"),
                fontsize=fontsize,
                zorder=6,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6},
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#444444"} if far else None,
            )
            box = t.get_window_extent(renderer).expanded(1.12, 1.2)  # room for rendering at another dpi
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(b) for b in taken):
                taken.append(box)
                placed.append(t)
                break
            t.remove()
    return placed


def county_share_map(scenario: Scenario, municipalities: pd.DataFrame, sector: str, title: str, lang: str = "en"):
    """Where the joint offices are: per municipality, the share of replicates in which it is in one.

    Municipality borders and the coast from ``data/borders-2019.geojson`` (Kartverket, named on
    the map); each municipality of the scenario is coloured by the share of replicates in which it
    is served by a formal joint office for ``sector`` at the horizon (a merger is not one, §4.3),
    its neighbours outside the scenario in grey, the sea in blue; a black ring at a municipality
    grows with the share of replicates in which it hosts (vertskommune); every municipality is
    named (larger ones first; a name that does not fit at its shape gets a leader line).

    Args:
        scenario: The county scenario.
        municipalities: ``municipalities.csv`` rows of every replicate.
        sector: The sector to map.
        title: Figure title.
        lang: ``en`` or ``nb`` for the legend and captions.
    """
    import matplotlib as mpl

    n = int(municipalities["replicate"].nunique())
    share, hosting = _office_shares(scenario, municipalities, sector)
    facts = {m.name: m for m in scenario.municipalities}
    names = list(share)
    proj = Projection(np.array([facts[m].lat for m in names]), np.array([facts[m].lon for m in names]))
    cmap = mpl.colormaps["YlGn"]
    # From 0.08, not 0: a share of 0 is still tinted, so a scenario member never looks blank.
    colours = {m: cmap(0.08 + 0.92 * share[m]) for m in names}
    with _style() as plt:
        fig = plt.figure(figsize=(14, 11))
        ax = fig.add_axes((0.01, 0.04, 0.72, 0.86))
        shapes, _ = draw_borders(ax, names, proj, colours)
        where = {m: proj(facts[m].lon, facts[m].lat)[0] for m in names}
        ring = [(where[m], hosting.get(m, 0.0)) for m in names if hosting.get(m, 0.0) > 0]
        if ring:
            xy = np.array([p for p, _ in ring])
            ax.scatter(xy[:, 0], xy[:, 1], s=[40 + 360 * h for _, h in ring], facecolor="none",
                       edgecolor="black", lw=1.6, zorder=4)  # fmt: skip
        # The most populous places are named first, so they keep their spot when space runs out.
        order = sorted(shapes.values(), key=lambda ms: -sum(facts[m].population for m in ms))
        labels = []
        for members in order:
            x, y = np.mean([where[m] for m in members], axis=0)
            labels.append((" / ".join(members), x, y))
        placed = place_labels(ax, labels)
        ax.set_title(_wrap_title(title, 90), fontsize=12, loc="left")
        _share_key(fig, cmap, sector, lang)
        notes = [term("map_replicates", lang).format(n=n), term("map_grey", lang), BORDERS_CREDIT[lang]]
        if any(len(ms) > 1 for ms in shapes.values()):
            notes.insert(2, term("map_merged", lang))
        if len(placed) < len(labels):
            notes.insert(2, term("map_unplaced", lang).format(k=len(labels) - len(placed)))
        fig.text(0.76, 0.06, "\n".join(_wrap_title(t, 34) for t in notes), fontsize=9, va="bottom")
    return fig


def _office_shares(scenario: Scenario, rows: pd.DataFrame, sector: str) -> tuple[dict[str, float], pd.Series]:
    """Per municipality: the share of replicates in a formal joint office, and the share in which it hosts.

    Municipalities merged by 2019 share one shape and so one colour: their mean share.
    """
    # A merger is not a joint office (§4.3): its members become one municipality with its own staff.
    formal = {f.name for f in scenario.params.vocab.forms if f.formal and not f.merges}
    in_office = rows.assign(_in=rows[f"form_{sector}"].isin(formal)).groupby("municipality")["_in"].mean()
    hosting = (rows[f"host_{sector}"] == rows["municipality"]).groupby(rows["municipality"]).mean()
    names = [m for m in scenario.names if m in in_office.index]
    knr = _knr2019_by_name()
    shared: dict[str, list[str]] = {}
    for m in names:
        shared.setdefault(knr.get(m, m), []).append(m)
    # Municipalities merged by 2019 are one shape on the border map, so they get one colour: their mean.
    return {m: float(np.mean([in_office[x] for x in shared[knr.get(m, m)]])) for m in names}, hosting


def _share_key(fig, cmap, sector: str, lang: str) -> None:
    """The share map's right column: the colour scale and the host rings' sizes."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    cax = fig.add_axes((0.78, 0.50, 0.025, 0.36))
    fig.colorbar(mpl.cm.ScalarMappable(mpl.colors.Normalize(0.0, 1.0), cmap=cmap), cax=cax)
    cax.set_ylabel(term("map_share", lang).format(sector=term(sector, lang)), fontsize=10)
    handles = [
        plt.Line2D(
            [],
            [],
            ls="",
            marker="o",
            mfc="none",
            mec="black",
            mew=1.6,
            markersize=math.sqrt(40 + 360 * h),
            label=f"{h:.0%}",
        )  # fmt: skip
        for h in (0.1, 0.5, 1.0)
    ]
    fig.legend(
        handles=handles,
        title=term("map_host", lang),
        loc="upper left",
        bbox_to_anchor=(0.76, 0.45),
        frameon=False,
        labelspacing=1.4,
        borderpad=1.0,
    )


def _wrap_title(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
