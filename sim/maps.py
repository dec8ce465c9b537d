"""The county map: every municipality at its real coordinates, sized by population, coloured by arrangement.

Used for county scenarios (``sim.county``): latitude and longitude from ``data/kommuner-2016.csv``
projected to km east and north of the county's centre (north up, no tile server), the cooperation
areas drawn as outlines (convex hulls), a scale bar. Same style and conventions as ``sim.plots``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.plots import NONE_COLOUR, _style, form_colour, form_label
from sim.scenario import Scenario
from sim.vocab import NONE

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
    arrangement changes, like :class:`sim.plots.RegionMap`).

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
        sizes = node_scale * (15 + 600 * np.sqrt(pops / pops.max()))
        self.nodes: list[Any] = []
        with _style() as plt:
            k = len(self.sectors)
            self.figure, axes = plt.subplots(1, k, figsize=figsize or (9 * k, 9.5), squeeze=False, layout="constrained")
            self.axes = list(axes[0])
            numbered = len(scenario.areas) <= MAX_NUMBERED_AREAS
            for ax in self.axes:
                for number, area in enumerate(scenario.areas, start=1):
                    pts = np.array([where[m] for m in area.members if m in where])
                    if len(pts) >= 3:
                        ax.fill(*hull(pts).T, facecolor="none", edgecolor="#888888", lw=1,
                                ls="--" if area.assumed else "-", zorder=1)  # fmt: skip
                    if len(pts) and numbered:
                        cx, cy = pts.mean(axis=0)
                        ax.annotate(str(number), (cx, cy), ha="center", va="center", fontsize=9, weight="bold",
                                    zorder=5)  # fmt: skip
                self.nodes.append(
                    ax.scatter(
                        pos[:, 0], pos[:, 1], s=sizes, c=NONE_COLOUR, edgecolor="white", linewidth=0.5, zorder=3
                    )  # fmt: skip
                )
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
            if numbered:
                handles += [
                    plt.Line2D([], [], ls="", marker=f"${k}$", markersize=8, color="black", label=area.name)
                    for k, area in enumerate(scenario.areas, start=1)
                ]
            self.legend_right = legend_right
            if legend_right:  # the title goes on the panels (a figure title would run into the legend)
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


def county_map(scenario: Scenario, municipalities: pd.DataFrame, sector: str, title: str):
    """Map of one replicate: node size = population, colour = the sector's arrangement, host ringed.

    Args:
        scenario: The county scenario (coordinates and areas).
        municipalities: ``municipalities.csv`` rows of one replicate.
        sector: The sector to colour by.
        title: Figure title.
    """
    drawn = CountyMap(scenario, [sector], title, names=list(municipalities["municipality"]))
    rows = municipalities.set_index("municipality").loc[drawn.names]
    hosts = set(rows[f"host_{sector}"]) - {""}
    return drawn.update({sector: list(rows[f"form_{sector}"])}, {sector: hosts}).figure


def area_summary(areas: pd.DataFrame, sectors: list[str]) -> pd.DataFrame:
    """Per area over replicates: share with a formal office per sector, mean members covered, stalls.

    Args:
        areas: ``areas.csv`` rows (one per area and replicate).
        sectors: Sector names.
    """
    rows: list[dict[str, Any]] = []
    for (name, assumed), g in areas.groupby(["area", "assumed"], sort=False):
        row: dict[str, Any] = {
            "area": name,
            "assumed": bool(assumed),
            "n_members": int(g["n_members"].iloc[0]),
            "residents": int(g["residents"].iloc[0]),
            "replicates": len(g),
        }
        for s in sectors:
            row[f"office_share_{s}"] = float((g[f"covered_{s}"] > 0).mean())
            row[f"covered_mean_{s}"] = float(g[f"covered_{s}"].mean())
            row[f"vulnerability_{s}"] = float(g[f"vulnerability_{s}"].mean())
        row["stall_share"] = float((g["stalls"] > 0).mean())
        causes: dict[str, int] = {}
        for text in g["stall_causes"]:
            for cause, n in _json_counts(text).items():
                causes[cause] = causes.get(cause, 0) + n
        row["stall_causes"] = "; ".join(f"{c} ({n})" for c, n in sorted(causes.items(), key=lambda x: -x[1]))
        rows.append(row)
    return pd.DataFrame(rows)


def _json_counts(text: Any) -> dict[str, int]:
    """A ``stall_causes`` cell (JSON ``{cause: count}``) as a dict; empty for an empty cell."""
    import json

    return json.loads(text) if isinstance(text, str) and text else {}


def area_outcomes(summary: pd.DataFrame, sector: str, title: str):
    """Per area: share of replicates with a joint office for ``sector`` and with a stopped negotiation (95 % Wilson)."""
    from sim.validation import wilson

    panels = ((f"office_share_{sector}", f"a joint {sector} office at the horizon"), ("stall_share", "a stop"))
    names = [f"{a}{' (assumed)' if assumed else ''} ({n})" for a, assumed, n in zip(
        summary["area"], summary["assumed"], summary["n_members"], strict=True)]  # fmt: skip
    y = np.arange(len(summary))[::-1]
    with _style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(summary) + 2), sharey=True, layout="constrained")
        for ax, (column, what) in zip(axes, panels, strict=True):
            shares = summary[column].to_numpy()
            n = summary["replicates"].to_numpy()
            lo, hi = np.array([wilson(round(s * k), int(k)) for s, k in zip(shares, n, strict=True)]).T
            ax.barh(y, shares, color=form_colour_any(), height=0.6)
            ax.errorbar(
                shares, y, xerr=np.clip([shares - lo, hi - shares], 0, None), fmt="none", color="black", lw=1, capsize=3
            )
            ax.set_xlim(0, 1)
            ax.set_xlabel(f"Share of replicates with {what}")
        axes[0].set_yticks(y, names)
        fig.suptitle(f"{title}\n(members in brackets; 95 % Wilson score intervals; {int(n.max())} replicates)")
    return fig


def form_colour_any() -> str:
    """The bar colour of the area panels."""
    return "#386cb0"
