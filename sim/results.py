"""Results of many runs: outcome shares with intervals, comparisons, and safe writing to disk."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.params import FORMS, SECTORS
from sim.validation import wilson

FORMAL = set(FORMS[2:])

#: Binary outcomes: name -> (plain-English label, test on a runs.csv row).
BINARY: dict[str, tuple[str, Callable[[dict], bool]]] = {
    "any_formal": ("Any formal agreement by pilot end", lambda r: bool(r["formal_by_pilot_end"])),
    **{f"formal_{s}": (f"Formal agreement for {s}", lambda r, s=s: r[f"form_{s}"] in FORMAL)
       for s in SECTORS},
    **{f"network_{s}": (f"Network for {s}", lambda r, s=s: r[f"form_{s}"] == "network") for s in SECTORS},
    "stalled": ("Process stalled", lambda r: bool(r["stall_cause"])),
    "governance_dispute": ("Stalled over the governance form",
                           lambda r: r["stall_cause"] == "governance_dispute"),
}
#: Continuous outcomes (means over municipalities and sectors).
CONTINUOUS: dict[str, str] = {
    f"{m}_{t}": f"Mean {m} at {t.replace('_', ' ')}"
    for t in ("pilot_end", "horizon") for m in ("competence", "capacity", "vulnerability")
}


def _mean_ci(values: list[float]) -> tuple[float, float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, mean, mean
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = 1.959964 * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def summarise(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Outcome shares (Wilson 95 %) and means (normal 95 %) over replicates."""
    out = []
    for name, (label, test) in BINARY.items():
        k = sum(bool(test(r)) for r in rows)
        lo, hi = wilson(k, len(rows))
        out.append({"outcome": name, "label": label, "kind": "share", "value": k / len(rows),
                    "ci_low": lo, "ci_high": hi, "n": len(rows)})
    for name, label in CONTINUOUS.items():
        mean, lo, hi = _mean_ci([float(r[name]) for r in rows])
        out.append({"outcome": name, "label": label, "kind": "mean", "value": mean,
                    "ci_low": lo, "ci_high": hi, "n": len(rows)})
    return pd.DataFrame(out)


def compare_rows(base: list[dict[str, Any]], variant: list[dict[str, Any]]) -> pd.DataFrame:
    """Paired comparison on common random numbers: difference and its 95 % interval."""
    out = []
    outcomes = [(n, lab, lambda r, t=t: float(bool(t(r)))) for n, (lab, t) in BINARY.items()]
    outcomes += [(n, lab, lambda r, n=n: float(r[n])) for n, lab in CONTINUOUS.items()]
    for name, label, value in outcomes:
        b = [value(r) for r in base]
        v = [value(r) for r in variant]
        diff, lo, hi = _mean_ci([y - x for x, y in zip(b, v, strict=True)])
        out.append({"outcome": name, "label": label, "baseline": sum(b) / len(b),
                    "variant": sum(v) / len(v), "difference": diff, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(out)


def modal_replicate(rows: list[dict[str, Any]]) -> int:
    """Index of the first replicate with the most common final arrangement (representative)."""
    key = [tuple(r[f"form_{s}"] for s in SECTORS) + (r["stall_cause"],) for r in rows]
    mode = Counter(key).most_common(1)[0][0]
    return key.index(mode)


@dataclass
class Results:
    """Replicates of one or more scenarios: tables that convert to DataFrames and plot themselves.

    Attributes:
        scenarios: The resolved scenarios that were run.
        rows: One row per replicate (``runs.csv``).
        timeline: Tidy monthly state (``timeline.csv``); empty unless run with ``detail``.
        events: Event logs (``events.csv``); empty unless run with ``detail``.
    """

    scenarios: list
    rows: pd.DataFrame
    timeline: pd.DataFrame
    events: pd.DataFrame

    def _rows_of(self, name: str) -> list[dict[str, Any]]:
        return self.rows[self.rows["case"] == name].to_dict("records")

    def summary(self) -> pd.DataFrame:
        """Outcome shares and means with 95 % intervals, per scenario."""
        return pd.concat([summarise(self._rows_of(sc.name)).assign(scenario=sc.name) for sc in self.scenarios])

    def representative(self, name: str) -> dict[str, Any]:
        """The outcome row of the representative replicate of a scenario."""
        rows = self._rows_of(name)
        return rows[modal_replicate(rows)]

    def plots(self) -> dict[str, Any]:
        """Every plot for every scenario: ``{"<file stem>-<kind>": Figure}``."""
        from sim import plots

        figs = {}
        summary = self.summary()
        for sc in self.scenarios:
            stem = sc.path.stem
            figs[f"{stem}-outcomes"] = plots.outcome_shares(summary[summary["scenario"] == sc.name],
                                                             f"{sc.name}: outcomes")
            if len(self.timeline):
                figs[f"{stem}-fan-charts"] = plots.fan_charts(self.timeline[self.timeline["region"] == sc.name],
                                                              sc.name)
            rep = self.representative(sc.name)
            if len(self.events):
                ev = self.events[(self.events["region"] == sc.name) & (self.events["replicate"] == rep["replicate"])]
                figs[f"{stem}-timeline"] = plots.negotiation_timeline(ev, sc.names, sc.name)
            figs[f"{stem}-map"] = plots.region_map(sc, rep, sc.name)
        return figs

    def write(self, folder: Path) -> list[str]:
        """Write the CSV tables into ``folder``; return the file names."""
        self.rows.to_csv(folder / "runs.csv", index=False)
        self.timeline.to_csv(folder / "timeline.csv", index=False)
        self.events.to_csv(folder / "events.csv", index=False)
        self.summary().to_csv(folder / "summary.csv", index=False)
        return ["runs.csv", "timeline.csv", "events.csv", "summary.csv"]


def run_scenarios(scenarios: list, replicates: int = 100, seed: int = 20161214, detail: bool = True,
                  workers: int | None = None, scheduler: str | None = None, progress: bool = True,
                  until: int | None = None, **overrides: Any) -> Results:
    """Run replicates of scenarios (names, paths or loaded) through the experiment runner.

    ``until`` (a month index, see ``sim.scenario.month_index``) stops every run early.

    Example:
        >>> res = run_scenarios(["fosen"], replicates=50, reform_intensity=0)
        >>> res.summary()
    """
    from sim.runner import Job, execute
    from sim.scenario import Scenario, load_scenario

    loaded = [sc if isinstance(sc, Scenario) else load_scenario(sc, overrides) for sc in scenarios]
    if until is not None:
        loaded = [replace(sc, horizon=until, pilot_end=min(sc.pilot_end, until)) for sc in loaded]
    jobs = [Job(i * replicates + r, str(sc.path), r, seed, tuple(sorted({**sc.overrides, **overrides}.items())),
                (), detail, until)
            for i, sc in enumerate(loaded) for r in range(replicates)]
    results = list(execute(jobs, workers=workers, scheduler=scheduler, progress=progress))
    rows = pd.DataFrame([r["row"] for r in results])
    timeline = (pd.concat([r["timeline"].assign(region=r["row"]["case"]) for r in results], ignore_index=True)
                if detail else pd.DataFrame())
    events = pd.DataFrame([e for r in results for e in r.get("events", [])])
    return Results(loaded, rows, timeline, events)


def prepare_out_dir(out: Path, force: bool) -> None:
    """Refuse an existing non-empty folder unless ``force`` (checked before any work)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise InputError(out, "--out", "folder exists and is not empty (use --force to replace it)")


@contextmanager
def atomic_dir(out: Path, force: bool):
    """Yield a temporary folder beside ``out``; rename it to ``out`` only on success."""
    prepare_out_dir(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    os.replace(tmp, out)


def write_json(path: Path, data: Any) -> None:
    """Write JSON with stable formatting."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
