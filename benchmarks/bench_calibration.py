"""Calibration cost (a script, not a timed test): python benchmarks/bench_calibration.py [--sets N] [--workers K]

Times one generation of ``N`` parameter sets (``score_sets``: every scored case, the default
replicates, common random numbers) at 1 worker and at ``K`` workers (default: all cores), prints the
time per scored set and per run, the parallel efficiency, and extrapolates the default budget of
``python run.py calibrate`` (``sim.analysis.calibration.Budget()``). Target: the default budget within
10 minutes on 2 cores (issue 20). For a Dask cluster, pass ``--scheduler tcp://HOST:8786``: the same sets are
timed there (the runner sends chunks sized by the cluster's worker threads).
"""

from __future__ import annotations

import argparse
import os
import time

from sim.analysis.calibration import (
    CENTRE_FILE,
    FACTOR,
    Budget,
    Prior,
    first_generation,
    load_centre,
    score_sets,
    scored_cases,
)
from sim.run.execution import Execution

TARGET_SECONDS = 10 * 60


def time_sets(points: list[dict], replicates: int, workers: int | None, scheduler: str | None) -> float:
    """Wall seconds to score ``points`` (results discarded)."""
    t0 = time.perf_counter()
    for _ in score_sets(points, replicates, 1, Execution(workers, scheduler, progress=False)):
        pass
    return time.perf_counter() - t0


def main() -> None:
    """Measure and print the per-set cost and the default budget's extrapolated wall time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=40, help="parameter sets to time (default 40)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers (default: all cores)")
    parser.add_argument("--scheduler", help="a Dask scheduler address instead of local processes")
    args = parser.parse_args()

    budget, cases = Budget(), len(scored_cases())
    prior = Prior.around(load_centre(CENTRE_FILE), FACTOR)
    points = [prior.values(u) for u in first_generation(prior, args.sets, seed=1)]
    per_set_runs = cases * budget.replicates
    print(
        f"scoring {args.sets} sets x {budget.replicates} replicates x {cases} cases = {args.sets * per_set_runs} runs"
    )
    one = time_sets(points[: max(2, args.sets // 4)], budget.replicates, 1, None) / max(2, args.sets // 4)
    print(f"  1 worker : {one:.3f} s per set, {one / per_set_runs * 1000:.1f} ms per run")
    where = args.scheduler or f"{args.workers} workers"
    many = time_sets(points, budget.replicates, args.workers, args.scheduler) / args.sets
    print(f"  {where}: {many:.3f} s per set, {many / per_set_runs * 1000:.1f} ms per run (wall)")
    if not args.scheduler:
        print(f"  parallel efficiency {one / many / args.workers:.0%}")
    total_sets = budget.sets * budget.generations
    estimate = many * total_sets
    print(
        f"default budget: {budget.generations} generations x {budget.sets} sets x {budget.replicates} replicates "
        f"x {cases} cases = {budget.runs(cases):,} runs; extrapolated {estimate / 60:.1f} min with {where} "
        f"(target <= {TARGET_SECONDS // 60} min on 2 cores: {'met' if estimate <= TARGET_SECONDS else 'NOT met'})"
    )
    print(f"  sampler overhead per generation is negligible (numpy on {len(prior.keys)} x {budget.sets} numbers)")


if __name__ == "__main__":
    main()
