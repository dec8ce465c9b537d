"""Benchmarks (a script, not timed tests): python benchmarks/bench.py [--big]

Prints:
1. replicates per second for the three-case validation at 1 worker and at all workers, and the
   parallel efficiency;
2. the time share of model steps, data recording, outcome extraction and CSV writing;
3. peak RSS of a streamed sweep of 10^4 runs (and 10^5 with --big);
4. the runner's overhead over calling the model in a bare loop;
5. the same work through Mesa's batch_run (throughput and peak memory).
Targets (2 cores): 3 x 1000 validation <= 15 s wall, >= 80 % parallel efficiency, runner
overhead <= 10 %, more throughput and less memory than batch_run on equal work.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.analysis.validation import validate
from sim.core.model import CooperationModel
from sim.core.outcomes import outcome_row
from sim.inputs.loader import load_scenario
from sim.run.runner import Job, replicate_seed, run_rows

ROOT = Path(__file__).resolve().parent.parent

CASES = ["fjellregionen", "vaernesregionen", "fosen"]


def child_peak_mb(cmd: list[str]) -> tuple[float, float]:
    """Run a command; return (seconds, peak RSS in MB of it and its waited-for children)."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True)
    seconds, kb = out.stdout.split()
    return float(seconds), int(kb) / 1024


def validation_throughput(replicates: int) -> None:
    print("1. validation throughput (3 cases)")
    t1 = validate(replicates // 5, workers=1, progress=False)["seconds"]
    rate1 = 3 * (replicates // 5) / t1
    n = os.cpu_count() or 1
    tn = validate(replicates, workers=n, progress=False)["seconds"]
    raten = 3 * replicates / tn
    print(f"   1 worker : {rate1:7.1f} runs/s ({3 * (replicates // 5)} runs in {t1:.1f} s)")
    print(f"   {n} workers: {raten:7.1f} runs/s (3 x {replicates} in {tn:.1f} s wall; target <= 15 s)")
    print(f"   parallel efficiency {raten / rate1 / n:.0%} (target >= 80 %)")


def time_shares(n: int) -> None:
    print("2. where the time goes (in-process)")
    spent = {"history": 0.0, "DataCollector": 0.0}
    t_total = t_rows = 0.0
    rows = []
    for r in range(n):
        t = time.perf_counter()
        m = CooperationModel(CASES[r % 3], rng=replicate_seed(1, r))

        def timed(fn, key):
            def wrapper(*a):
                s = time.perf_counter()
                fn(*a)
                spent[key] += time.perf_counter() - s

            return wrapper

        m._record, m.datacollector.collect = (
            timed(m._record, "history"),
            timed(m.datacollector.collect, "DataCollector"),
        )
        m.run()
        t_total += time.perf_counter() - t
        t = time.perf_counter()
        rows.append(outcome_row(m))
        t_rows += time.perf_counter() - t
    t = time.perf_counter()
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    t_write = time.perf_counter() - t
    t_model = t_total - spent["history"] - spent["DataCollector"]
    total = t_total + t_rows + t_write
    for label, v in (
        ("model steps", t_model),
        ("recording: numpy history", spent["history"]),
        ("recording: Mesa DataCollector (agent variables)", spent["DataCollector"]),
        ("outcome rows", t_rows),
        ("CSV writing", t_write),
    ):
        print(f"   {label:48s} {v / total:6.1%}")


def sweep_memory(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        samples = runs // 10
        cmd = [
            sys.executable,
            str(ROOT / "run.py"),
            "sweep",
            "vaernesregionen",
            "--param",
            "steering_value=0:1.5",
            "--param",
            "extra_political_involvement=0:1",
            "--samples",
            str(samples),
            "--replicates",
            "10",
            "--out",
            f"{tmp}/sweep",
            "--quiet",
        ]
        seconds, peak = child_peak_mb(cmd)
    print(f"   sweep of {runs:>7d} runs: {seconds:7.1f} s, {runs / seconds:6.1f} runs/s, peak RSS {peak:6.0f} MB")


def runner_overhead(n: int) -> None:
    print("4. runner overhead over a bare loop (1 worker)")
    jobs = [Job(i, CASES[i % 3], i, 3) for i in range(n)]
    scenarios = {case: load_scenario(case) for case in CASES}  # loaded once, as the runner caches them
    t = time.perf_counter()
    for job in jobs:
        model = CooperationModel(scenarios[job.scenario], rng=replicate_seed(job.base_seed, job.replicate))
        outcome_row(model.run())
    bare = time.perf_counter() - t
    t = time.perf_counter()
    run_rows(jobs, workers=1, progress=False)
    runner = time.perf_counter() - t
    print(f"   bare loop {bare:.2f} s, runner {runner:.2f} s: overhead {runner / bare - 1:+.1%} (target <= 10 %)")


def against_batch_run(n: int) -> None:
    print(f"5. Mesa batch_run against the runner on equal work ({n} runs of one case, all cores)")
    code_batch = (
        "import mesa; "
        "from sim.core.model import CooperationModel; "
        f"r = mesa.batch_run(CooperationModel, {{'scenario': 'vaernesregionen', 'rng': list(range({n}))}}, "
        "number_processes=None, iterations=1, data_collection_period=-1, max_steps=1000, "
        "display_progress=False); print(len(r))"
    )
    code_runner = (
        "from sim.run.runner import Job, run_rows; "
        f"r = run_rows([Job(i, 'vaernesregionen', i, 1) for i in range({n})], progress=False); "
        "print(len(r))"
    )
    code_stream = (
        "import csv, tempfile; "
        "from sim.run.runner import Job, execute; "
        "fh = tempfile.TemporaryFile('w+'); w = None\n"
        f"for res in execute([Job(i, 'vaernesregionen', i, 1) for i in range({n})], progress=False):\n"
        "    w = w or csv.DictWriter(fh, fieldnames=list(res['row'])); w.writerow(res['row'])"
    )
    for label, code in (
        ("batch_run", code_batch),
        ("sim.run.runner, rows in memory", code_runner),
        ("sim.run.runner, rows streamed to disk", code_stream),
    ):
        seconds, peak = child_peak_mb([sys.executable, "-c", code])
        print(f"   {label:34s} {n / seconds:7.1f} runs/s, peak RSS {peak:6.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big", action="store_true", help="also the 10^5-run sweep (several minutes)")
    ap.add_argument("--replicates", type=int, default=1000)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    validation_throughput(args.replicates)
    time_shares(300)
    print("3. peak memory of a streamed sweep (largest process of the tree)")
    sweep_memory(10_000)
    if args.big:
        sweep_memory(100_000)
    runner_overhead(300)
    against_batch_run(3000)
    against_batch_run(20000)
    print(f"(benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
