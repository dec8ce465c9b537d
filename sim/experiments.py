"""Experiments at scale: sweeps (with resume), Sobol/Morris sensitivity, PRIM scenario discovery.

Analysis is kept apart from the model: every run goes through ``sim.runner``; this module
designs the samples, streams the rows to disk and analyses them with SALib and the EMA
Workbench's PRIM.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.params import BY_NAME, suggest
from sim.runner import Job, execute
from sim.scenario import load_scenario, resolve_path


@dataclass(frozen=True)
class Uncertainty:
    """A parameter varied in an experiment (EMA Workbench's "uncertainty" or "lever").

    Attributes:
        name: Catalogue key.
        low: Lowest value.
        high: Highest value.
        log: Sample uniformly on a log scale.
    """

    name: str
    low: float
    high: float
    log: bool = False

    @classmethod
    def parse(cls, text: str) -> Uncertainty:
        """Parse ``KEY=LO:HI[:log]`` and check it against the catalogue."""
        key, sep, rng = text.partition("=")
        parts = rng.split(":")
        if not sep or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "log"):
            raise InputError("--param", text, "expected KEY=LO:HI or KEY=LO:HI:log")
        spec = BY_NAME.get(key)
        if spec is None:
            raise InputError("--param", key, "unknown parameter" + suggest(key, BY_NAME))
        if spec.kind not in ("float", "int"):
            raise InputError("--param", key, f"only numeric parameters can be sampled ({spec.kind})")
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError("--param", text, "LO and HI must be numbers") from None
        if not low < high:
            raise InputError("--param", text, "LO must be below HI")
        for v in (low, high):
            problem = spec.check(v if spec.kind == "float" else int(v))
            if problem:
                raise InputError("--param", key, problem)
        if len(parts) == 3 and low <= 0:
            raise InputError("--param", text, "a log scale needs LO > 0")
        return cls(key, low, high, len(parts) == 3)

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Map values in [0, 1] to the parameter's range (and type)."""
        if self.log:
            values = np.exp(np.log(self.low) + unit * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + unit * (self.high - self.low)
        return np.rint(values) if BY_NAME[self.name].kind == "int" else values


def design(params: list[Uncertainty], samples: int, method: str, seed: int) -> list[dict[str, Any]]:
    """Sample points: Latin hypercube (``lhs``) or a full grid (``grid``, ``samples`` per axis)."""
    if method == "grid":
        axes = [p.scale(np.linspace(0, 1, samples)) for p in params]
        mesh = np.meshgrid(*axes, indexing="ij")
        points = np.stack([m.ravel() for m in mesh], axis=1)
    else:
        from SALib.sample import latin

        problem = {"num_vars": len(params), "names": [p.name for p in params], "bounds": [[0, 1]] * len(params)}
        unit = latin.sample(problem, samples, seed=seed)
        points = np.stack([p.scale(unit[:, i]) for i, p in enumerate(params)], axis=1)
    return [_typed(params, row) for row in points]


def _typed(params: list[Uncertainty], row) -> dict[str, Any]:
    return {p.name: int(v) if BY_NAME[p.name].kind == "int" else float(v)
            for p, v in zip(params, row, strict=True)}


def sweep_jobs(scenario: str, points: list[dict[str, Any]], replicates: int, seed: int,
               overrides: dict[str, Any] | None = None) -> list[Job]:
    """One job per (sample, replicate); replicate r uses the same seed in every sample."""
    base = dict(overrides or {})
    return [Job(i * replicates + r, scenario, r, seed, tuple(sorted({**base, **pt}.items())),
                tags=(("sample", i), *pt.items()))
            for i, pt in enumerate(points) for r in range(replicates)]


def _complete_lines(path: Path) -> int:
    """Drop a torn last line (a run killed mid-write) and return the count of data rows."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = data[: data.rfind(b"\n") + 1]
    if keep != data:
        path.write_bytes(keep)
    lines = keep.count(b"\n")
    return max(0, lines - 1)  # minus the header


def run_sweep(out: Path, scenario: str, params: list[Uncertainty], samples: int, replicates: int,
              method: str = "lhs", seed: int = 20161214, resume: bool = False, force: bool = False,
              workers: int | None = None, scheduler: str | None = None, progress: bool = True,
              overrides: dict[str, Any] | None = None) -> Path:
    """Run a sweep, streaming rows to ``out/runs.partial.csv``; ``out/runs.csv`` when complete.

    Results arrive in job order, so the partial file is always a prefix of the final one and
    ``resume`` re-runs only the missing jobs: the final file is byte-identical to an
    uninterrupted sweep.
    """
    path = resolve_path(scenario)
    load_scenario(path, overrides)  # check before any work
    spec = {"scenario": str(path.resolve()), "params": [asdict(p) for p in params], "samples": samples,
            "replicates": replicates, "method": method, "seed": seed, "overrides": overrides or {}}
    spec_file, partial, final = out / "sweep.json", out / "runs.partial.csv", out / "runs.csv"
    if resume:
        if not spec_file.exists():
            raise InputError(out, "--resume", "no sweep to resume here (sweep.json missing)")
        if json.loads(spec_file.read_text()) != spec:
            raise InputError(spec_file, "--resume", "the sweep here was started with other arguments")
        if final.exists():
            return final
    elif out.exists() and any(out.iterdir()) and not force:
        raise InputError(out, "--out", "folder exists and is not empty (use --resume or --force)")
    else:
        out.mkdir(parents=True, exist_ok=True)
        for f in (partial, final):
            f.unlink(missing_ok=True)
        spec_file.write_text(json.dumps(spec, indent=2) + "\n")
    points = design(params, samples, method, seed)
    jobs = sweep_jobs(str(path), points, replicates, seed, overrides)
    done = _complete_lines(partial)
    with open(partial, "a", newline="", encoding="utf-8") as fh:
        writer = None
        for result in execute(jobs[done:], workers=workers, scheduler=scheduler, progress=progress):
            row = result["row"]
            if writer is None:
                writer = csv.DictWriter(fh, fieldnames=list(row), lineterminator="\n")
                if done == 0:
                    writer.writeheader()
            writer.writerow(row)
            fh.flush()
    os.replace(partial, final)
    return final


def read_runs(path: Path):
    """Read a sweep's runs.csv as a DataFrame."""
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[])


def _outcomes(rows) -> dict[str, np.ndarray]:
    """Per-sample outcome means over replicates (sample order)."""
    g = rows.groupby("sample", sort=True)
    formal = rows["formal_by_pilot_end"].astype(str) == "True"
    return {
        "p_formal": formal.groupby(rows["sample"]).mean().to_numpy(),
        "p_stall": (rows["stall_cause"].astype(str) != "").groupby(rows["sample"]).mean().to_numpy(),
        "months_to_agreement": g["months_to_agreement"].mean().to_numpy(),
        "vulnerability_horizon": g["vulnerability_horizon"].mean().to_numpy(),
    }


def sensitivity(scenario: str, params: list[Uncertainty], method: str, samples: int, replicates: int,
                seed: int = 20161214, workers: int | None = None, scheduler: str | None = None,
                progress: bool = True):
    """Sobol (Saltelli/Sobol' sampling) or Morris indices of the outcomes, with 95 % intervals.

    Outcomes, per sample as means over its replicates: ``p_formal`` (a formal agreement by the
    pilot's end), ``p_stall`` (the process stalled), ``months_to_agreement`` (to the first
    agreement; the horizon if none), ``vulnerability_horizon`` (mean vulnerability at the horizon).

    Returns:
        A DataFrame: outcome, parameter, and the method's indices with confidence intervals.
    """
    import pandas as pd
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": len(params), "names": [p.name for p in params], "bounds": [[0.0, 1.0]] * len(params)}
    if method == "sobol":
        unit = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    else:
        unit = morris_sample.sample(problem, samples, num_levels=4, seed=seed)
    points = [_typed(params, row) for row in np.stack([p.scale(unit[:, i]) for i, p in enumerate(params)], axis=1)]
    jobs = sweep_jobs(str(resolve_path(scenario)), points, replicates, seed)
    rows = pd.DataFrame([r["row"] for r in execute(jobs, workers=workers, scheduler=scheduler,
                                                    progress=progress)])
    out = []
    for name, y in _outcomes(rows).items():
        if np.std(y) == 0:  # a constant outcome has no variance to apportion
            out += [{"outcome": name, "parameter": p.name} for p in params]
            continue
        if method == "sobol":
            si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, p in enumerate(params):
                out.append({"outcome": name, "parameter": p.name, "S1": si["S1"][i],
                            "S1_conf": si["S1_conf"][i], "ST": si["ST"][i], "ST_conf": si["ST_conf"][i]})
        else:
            si = morris_analyze.analyze(problem, unit, y, num_levels=4, seed=seed)
            for i, p in enumerate(params):
                out.append({"outcome": name, "parameter": p.name, "mu_star": si["mu_star"][i],
                            "mu_star_conf": si["mu_star_conf"][i], "sigma": si["sigma"][i]})
    table = pd.DataFrame(out)
    table.attrs["runs"] = len(rows)
    return table


def evaluate_outcome(rows, expr: str) -> np.ndarray:
    """Evaluate an outcome expression on a runs table (pandas ``eval`` syntax).

    ``stalled`` and ``formal`` are defined for convenience, e.g. ``"stalled"`` or
    ``"stall_cause == 'governance_dispute'"``.
    """
    frame = rows.assign(stalled=rows["stall_cause"].astype(str) != "",
                        formal=rows["formal_by_pilot_end"].astype(str) == "True")
    try:
        value = frame.eval(expr)
    except Exception as exc:  # pandas raises many types for a bad expression
        raise InputError("--outcome", expr, f"cannot evaluate: {str(exc).splitlines()[0]}") from None
    value = np.asarray(value)
    if value.dtype != bool:
        raise InputError("--outcome", expr, "must be true/false for each run")
    return value


def discover(sweep_dir: Path, expr: str, min_coverage: float = 0.5, peel_alpha: float = 0.05):
    """PRIM (EMA Workbench) on a finished sweep: boxes where the outcome concentrates.

    PRIM peels the whole trajectory (threshold = the base rate); the chosen box is the densest on
    it that still covers at least ``min_coverage`` of the runs where the outcome holds.

    Returns:
        ``(prim_box, x, y)``: the EMA Workbench box (the chosen peel selected), the inputs and
        the outcome.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    spec_file, runs = sweep_dir / "sweep.json", sweep_dir / "runs.csv"
    if not spec_file.exists() or not runs.exists():
        raise InputError(sweep_dir, "-", "not a finished sweep folder (needs sweep.json and runs.csv)")
    names = [p["name"] for p in json.loads(spec_file.read_text())["params"]]
    rows = read_runs(runs)
    y = evaluate_outcome(rows, expr)
    if not y.any():
        raise InputError("--outcome", expr, "is true in no run: nothing to discover")
    x = rows[names].astype(float)
    finder = prim.Prim(x, y, threshold=float(y.mean()), peel_alpha=peel_alpha)  # keep peeling past the base rate
    box = finder.find_box()
    trajectory = box.peeling_trajectory
    eligible = trajectory[trajectory["coverage"] >= min_coverage]
    box.select(int(eligible["density"].idxmax()))
    return box, x, y


def box_report(box) -> str:
    """Plain-text summary of a PRIM box: coverage, density and limits."""
    stats = box.peeling_trajectory.iloc[box._cur_box]
    limits = box.box_lims[box._cur_box]
    buf = io.StringIO()
    buf.write(f"box {box._cur_box}: coverage {stats['coverage']:.3f}, density {stats['density']:.3f}, "
              f"mass {stats['mass']:.3f}, restricted dimensions {int(stats['res_dim'])}\n")
    for col in limits.columns:
        lo, hi = limits[col].iloc[0], limits[col].iloc[1]
        buf.write(f"  {col:30s} {lo:10.4g} .. {hi:.4g}\n")
    return buf.getvalue()
