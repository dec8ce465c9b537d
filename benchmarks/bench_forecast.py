"""Forecast benchmark (a script, not a timed test): python benchmarks/bench_forecast.py [--replicates N] [--workers W]

Runs ``trondelag-2017`` (the forecast from January 2017, issue 21) through ``sim.analysis.forecast.run_forecast``
and prints wall time and the CPU time of this process and its workers, and the CPU seconds per
replicate on one core for ``trondelag-2017`` and ``norway`` (with the decided mergers).

Targets (issue 21): 1,000 forecast replicates on 2 cores in under 2 minutes; a national replicate
<= 5 s on one core. On a shared machine compare the CPU times, not the wall time.
"""

from __future__ import annotations

import argparse
import resource
import time

from sim.analysis.forecast import run_forecast
from sim.core.model import CooperationModel
from sim.inputs.loader import load_scenario
from sim.run.execution import Execution


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), _cpu()
    run_forecast(replicates=args.replicates, execution=Execution(workers=args.workers, progress=False))
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    print(f"trondelag-2017: {args.replicates} replicates on {args.workers} workers: {wall:.1f} s wall, {cpu:.1f} s CPU")
    for name, n in (("trondelag-2017", 20), ("norway", 3)):
        sc = load_scenario(name)
        start = time.process_time()
        for r in range(n):
            CooperationModel(sc, rng=r).run()
        print(f"{name}: {(time.process_time() - start) / n:.3f} s CPU per replicate on one core")


if __name__ == "__main__":
    main()
