"""What there is to run: the scenarios, the parameter catalogue and levers, and one scenario resolved.

Only ``sim.inputs`` is read here (no Mesa, pandas or matplotlib), so ``list`` and ``show`` answer at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.api.checks import check_lever_kind
from sim.inputs.calendar import month_label
from sim.inputs.loader import load_scenario
from sim.inputs.params import ALIASES, by_name, load_defaults
from sim.inputs.scenario import available_scenarios, to_toml


def catalogue() -> str:
    """The scenarios, then every policy lever and behavioural parameter with its default, unit, range and meaning."""
    lines = ["scenarios:"]
    lines += [f"  {name:18s} {load_scenario(name).description}" for name in available_scenarios()]
    defaults = load_defaults().as_dict()
    for title, lever in (("policy levers", True), ("behavioural parameters (shared by all cases)", False)):
        lines.append(f"\n{title}: KEY (default; unit; allowed) meaning [report section]")
        for key, p in by_name().items():
            if p.lever == lever:
                lines.append(f"  {key:34s} ({defaults[key]!s}; {p.unit}; {p.range_text}) {p.meaning} [{p.section}]")
        if lever:
            lines.append("  other names (§4.3): " + "; ".join(f"{a} = {k}" for a, k in ALIASES.items()))
    return "\n".join(lines)


def _where(sc) -> dict[str, Any]:
    """A county's areas (its distances come from the data), or a region's distances."""
    if sc.kind == "county":
        return {
            "area": [
                {"name": a.name, "members": list(a.members), "assumed": a.assumed, "source": a.source} for a in sc.areas
            ]
        }
    pairs = [(a, b) for i, a in enumerate(sc.names) for b in sc.names[i + 1 :]]
    return {"distances": [[a, b, round(sc.distance(a, b), 1)] for a, b in pairs]}


def show(scenario: str, overrides: Mapping[str, str] | None = None) -> str:
    """A scenario with the shared parameters merged in, as TOML (and its estimated inputs as comments)."""
    overrides = dict(overrides or {})
    sc = load_scenario(scenario, overrides)
    # show would otherwise print a county-only lever set on a pilot, which the runs would ignore.
    check_lever_kind([sc], overrides, "--set")
    params: dict[str, dict] = {}
    for name, value in sc.params.as_dict().items():
        params.setdefault(by_name()[name].group, {})[name] = value
    sectors = sc.params.vocab.sector_names
    munis = [
        {
            "name": m.name,
            "county": m.county,
            "population": m.population,
            "staff": dict(zip(sectors, (round(x, 3) for x in m.staff), strict=True)),
        }
        for m in sc.municipalities
    ]
    top = "county" if sc.kind == "county" else "region"
    header = dict(sc.facts[top])
    header.update(start=month_label(sc.start), pilot_end=month_label(sc.pilot_end), horizon=month_label(sc.horizon))
    facts = {k: v for k, v in sc.facts.items() if k not in ("distances", "municipality", "region", "county", "area")}
    groups = {f"parameters.{g}": t for g, t in params.items()}
    text = [
        f"# {sc.path} (sha256 {sc.sha256[:12]}), shared parameters merged"
        + (f", overrides {sc.overrides}" if sc.overrides else ""),
        to_toml({**_where(sc), top: header, "municipality": munis, **facts, **groups}),
    ]
    if sc.estimates:
        text.append("# estimated inputs (value, low, high):")
        text += [f"#   {k} = {e.value:g} ({e.low:g}-{e.high:g}): {e.source}" for k, e in sc.estimates.items()]
    return "\n".join(text)
