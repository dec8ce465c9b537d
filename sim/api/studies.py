"""The long studies: parameter sweeps, global sensitivity, scenario discovery and the ABC calibration.

Sweeps and calibrations work in their folder in place so that an interrupted one can be resumed
(the same call with ``resume=True``, or the command line the interruption message names); the
result is bit-identical to an uninterrupted one. Each returns an :class:`~sim.api.workflows.Output`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.analysis import calibration, experiments
from sim.analysis.calibration import scored_cases
from sim.analysis.results import load_unique
from sim.api.checks import check_lever_kind, default_out, resume_command, stamp, write_metadata
from sim.api.workflows import DEFAULT_SEED, Output
from sim.inputs.errors import InputError
from sim.run.execution import Execution
from sim.run.output import OutputFolder, check_output_file
from sim.run.runner import DETAIL_BYTES, ROW_BYTES, available_memory, check_fits

#: Memory one scored set takes in a calibration's history (point, unit, story and clause shares),
#: measured at a few kB and about doubled; every scored set is kept until the result is written.
SCORED_SET_BYTES = 20_000


def uncertainties(items: list, fixed: Mapping[str, Any] | None = None) -> list[experiments.Uncertainty]:
    """``--param`` texts (``KEY=LO:HI[:log]``) or parsed uncertainties, checked."""
    if all(isinstance(p, experiments.Uncertainty) for p in items):
        experiments.check_params(list(items), dict(fixed or {}))
        return list(items)
    return experiments.parse_params(items, dict(fixed or {}))


def sweep(
    scenario: str,
    params: list,
    samples: int = 100,
    replicates: int = 10,
    method: str = "lhs",
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
    out: Path | None = None,
    resume: bool = False,
    force: bool = False,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """A Latin hypercube or grid sweep, one row per run streamed to ``runs.partial.csv`` (``runs.csv`` when done).

    Raises:
        KeyboardInterrupt: interrupted; the message names the rows kept and how to resume.
    """
    overrides = dict(overrides or {})
    varied = uncertainties(params, overrides)
    base = load_unique([scenario], overrides, "--set")
    check_lever_kind(base, overrides, "--set")
    check_lever_kind(base, [p.name for p in varied], "--param")
    if resume and not out:
        raise InputError("--resume", "--out", "name the folder of the sweep to resume")
    execution.check()
    # A sweep writes in its folder in place, not through OutputFolder, so that an interrupted one
    # keeps its finished rows; the path is absolute so the resume command printed on Ctrl-C works
    # from any folder.
    folder = Path(os.path.abspath(default_out(out, f"sweep-{Path(scenario).stem}")))
    t0 = time.perf_counter()
    try:
        final = experiments.run_sweep(
            folder, scenario, varied, samples, replicates, method, seed, resume, force, execution, overrides
        )
    except KeyboardInterrupt:
        kept = experiments.partial_rows(folder)
        if not kept:
            raise KeyboardInterrupt("interrupted; no run was finished, nothing was kept") from None
        raise KeyboardInterrupt(
            f"interrupted; kept {kept} finished runs in {folder / 'runs.partial.csv'}; "
            f"resume with: {resume_command(command, folder)}"
        ) from None
    with open(final, "rb") as fh:
        n = sum(1 for _ in fh) - 1
    return Output(final, final, f"wrote {final} ({n} runs, {time.perf_counter() - t0:.1f} s)")


def sensitivity(
    scenario: str,
    params: list,
    method: str = "sobol",
    samples: int = 256,
    replicates: int = 10,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
    out: Path | None = None,
    force: bool = False,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """Sobol or Morris indices of the outcomes (``indices.csv``) with a plot."""
    varied = uncertainties(params)
    fixed = dict(overrides or {})
    base = load_unique([scenario], fixed, "--set")[0]
    check_lever_kind([base], fixed, "--set")
    check_lever_kind([base], [p.name for p in varied], "--param")
    # A key both fixed and varied would leave unclear which value the indices belong to.
    clash = sorted(set(fixed) & {p.name for p in varied})
    if clash:
        raise InputError("--set", clash[0], "also given as --param")
    # Saltelli's design without second-order indices takes N(k+2) points, Morris's N(k+1) (one
    # trajectory of k steps per sample): the memory check must count the runs SALib will ask for.
    per_sample = len(varied) + 2 if method == "sobol" else len(varied) + 1
    check_fits(samples * per_sample * replicates, ROW_BYTES, "--samples", str(samples))
    execution.check()
    folder = OutputFolder(default_out(out, f"sensitivity-{base.path.stem}"), force)
    started = datetime.now()
    with folder as tmp:
        from sim.views import plots  # matplotlib only when the plot is drawn

        table = experiments.sensitivity(
            str(base.path), varied, method, samples, replicates, seed, execution, base.overrides
        )
        table.to_csv(tmp / "indices.csv", index=False)
        plots.save(plots.sensitivity(table, f"{method.capitalize()} indices, {base.path.stem}"), tmp / "indices")
        extra = {"method": method, "samples": samples, "params": [vars(p) for p in varied]}
        write_metadata(
            tmp, [base], seed, replicates, command, started, table.attrs["execution"], **extra, runs=table.attrs["runs"]
        )
    answer = [table.drop(columns="warning").to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    answer += [f"warning: {note}" for note in table.attrs["warnings"]]
    noted = table[(table["warning"] != "") & ~table["warning"].str.startswith("constant")]
    answer += [f"  {r['outcome']} / {r['parameter']}: {r['warning']}" for _, r in noted.iterrows()]
    answer.append(f"{table.attrs['runs']} runs; wrote {folder.path}/ (indices.csv, indices.png/.svg, metadata.json)")
    return Output(folder.path, table, "\n".join(answer))


def discover(sweep_dir: Path, outcome: str, min_coverage: float = 0.5) -> Output:
    """PRIM on a finished sweep's folder: the box report (with resampling) and two figures written there."""
    from sim.views import plots  # matplotlib only when the figures are drawn

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise InputError(sweep_dir, "-", "not a finished sweep folder (needs sweep.json and runs.csv)")
    for name in ("prim-trajectory.png", "prim-box.png"):
        check_output_file(sweep_dir / name, "sweep_dir")
    box, x, y = experiments.discover(sweep_dir, outcome, min_coverage)
    answer = [f"outcome {outcome!r}: true in {y.sum()} of {len(y)} runs ({y.mean():.3f})"]
    answer.append(experiments.box_report(box, resample=10))
    stats, limits = experiments.box_summary(box)
    title = f"PRIM for {outcome!r}"
    made = plots.save(plots.prim_tradeoff(box, f"{title}: peeling trajectory"), sweep_dir / "prim-trajectory")
    made += plots.save(plots.prim_box(stats, limits, title), sweep_dir / "prim-box")
    answer.append("wrote " + ", ".join(str(p) for p in made))
    return Output(sweep_dir, box, "\n".join(answer))


def check_calibration_size(budget) -> None:
    """Refuse up front (one line) a calibration whose scores or runs cannot fit in memory.

    Every scored set is kept (``SCORED_SET_BYTES`` each), and one set's runs with their records are
    held while it is scored (``DETAIL_BYTES`` per run and case), as ``run`` and ``compare`` check theirs.
    """
    cases = len(scored_cases())
    scored = budget.sets * budget.generations
    need, have = scored * SCORED_SET_BYTES, available_memory() // 2
    if need > have:
        raise InputError(
            "--sets",
            str(budget.sets),
            f"{budget.sets:,} sets x {budget.generations} generations = {scored:,} scored sets would need about "
            f"{need / 1e9:,.1f} GB of memory, {have / 1e9:,.1f} GB can be used; use fewer sets or generations",
        )
    check_fits(budget.replicates * cases, DETAIL_BYTES, "--replicates", str(budget.replicates))


def calibrate(
    budget: Any = None,
    seed: int = DEFAULT_SEED,
    centre: Path | None = None,
    factor: float | None = None,
    out: Path | None = None,
    resume: bool = False,
    force: bool = False,
    execution: Execution = Execution(),
    command: list[str] | None = None,
) -> Output:
    """Run or resume the ABC calibration (:mod:`sim.analysis.calibration`); one line per generation as it goes.

    Args:
        budget: A :class:`sim.analysis.calibration.Budget` (default: the default budget).
        seed: Base seed of the runs and of the sampler.
        centre: A JSON file of every calibrated parameter (default ``docs/calibration/centre.json``).
        factor: The prior box spans ``centre / factor`` to ``centre * factor``.
        out: The calibration folder (default ``results/calibration-<time>``; needed to resume).
        resume: Finish an interrupted calibration in ``out``.
        force: Replace ``out`` if it is a calibration folder of this program.
        execution: Workers, scheduler, progress bar (the result does not depend on it).
        command: The command line recorded in ``metadata.json`` and named to resume.
    """
    loaded = calibration.load_centre(centre) if centre else None
    if resume and not out:
        raise InputError("--resume", "--out", "name the folder of the calibration to resume")
    execution.check()
    folder = Path(os.path.abspath(out or Path("results") / f"calibration-{stamp()}"))
    budget = budget or calibration.Budget()
    # Before the first generation: a calibration that cannot fit would otherwise fail hours in,
    # when its scored sets have filled memory.
    check_calibration_size(budget)
    factor = calibration.FACTOR if factor is None else factor
    try:
        result = calibration.calibrate(folder, budget, seed, loaded, factor, execution, resume, force, command)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"interrupted; the scored sets are kept in {folder / 'progress.jsonl'}; "
            f"resume with: {resume_command(command, folder)}"
        ) from None
    if result["complete"]:
        return Output(folder, result)
    best, ident = result["best"], result["identifiability"]
    answer = [
        f"point estimate ({result['point_rule']}): " + ", ".join(f"{s} {best[s]:.3f}" for s in result["stories"]),
        f"posterior: effective sample size {result['ess']:.1f}; best distance "
        + ("not tied" if result["tied"] == 1 else f"TIED between {result['tied']} sets"),
        f"constrained (90 % interval < 0.7 of the prior's): {int(ident['constrained'].sum())} of {len(ident)} "
        f"parameters; posterior: {result['accepted']} particles, {result['distinct']} distinct sets",
        f"wrote {folder}/ (accepted.csv, scored.csv, generations.csv, identifiability.csv, summary.md, metadata.json); "
        f"({budget.sets} sets x {budget.generations} generations x {budget.replicates} replicates + {budget.top} "
        f"best sets x {budget.refine} fresh replicates) x {len(result['stories'])} cases = {result['runs']:,} runs "
        f"at most; elapsed {result['seconds']:.1f} s",
    ]
    return Output(folder, result, "\n".join(answer))
