"""Speed against a reference commit, in one run (a script, not a timed test): python benchmarks/bench.py

Checks out ``--ref`` (default 199f47f, before issue 19) into a temporary git worktree and prints:

1. replicates per second of each pilot and of ``trondelag`` with this tree and with the reference,
   timed on the same replicates in the same process pool (``--workers``, default 1), the batches of
   the two interleaved, and the ratio; and how many of those replicates give the same outcome row;
2. validation 3 x 1000 (``run.py validate``) wall time on all cores and its peak RSS, for both;
3. county replicate time by size (5 to 425 municipalities, the county initiative on; regions of
   ``bench_county.py``) with the fitted growth exponent, and the peak traced memory per replicate;
4. the load average before and after (the machine may be shared: read the ratios, not the rates).

Targets (issue 19, 2 cores): pilots >= 5 x faster (<= 2.5 ms per replicate on one core),
``trondelag`` >= 3 x, validation 3 x 1000 <= 5 s, growth exponent <= 1.3, no more peak memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PILOTS = ["fjellregionen", "vaernesregionen", "fosen"]
REFERENCE = "199f47f"


def _use(root: str) -> None:
    """Make ``import sim`` in this process load the package of ``root`` (unloading any other)."""
    if sys.path[0] == root and "sim" in sys.modules:
        return
    for name in [n for n in sys.modules if n == "sim" or n.startswith("sim.")]:
        del sys.modules[name]
    sys.path[:] = [root, *(p for p in sys.path if p != root)]


def time_batch(root: str, scenario: str, replicates: list[int]) -> tuple[float, list[int]]:
    """CPU seconds to run ``replicates`` of ``scenario`` with the package at ``root``, and a hash of each outcome row.

    CPU time of the worker process, not wall time: on a shared machine it counts only the time
    this process ran (cache and frequency effects of the other load remain). The scenario is
    loaded (and a first replicate run) before the clock starts, as the runner caches scenarios.
    """
    _use(root)
    import sim

    # Chosen by the files, not by trying: an ImportError fallback let the installed (editable)
    # package's finder supply ``sim.core`` to a flat reference, which then timed this tree's code.
    if (Path(root) / "sim" / "core" / "model.py").exists():
        from sim.core.model import CooperationModel
        from sim.core.outcomes import county_row, outcome_row
        from sim.run.runner import _scenario, replicate_seed
    else:  # a reference commit from before the wings (flat sim/)
        from sim.model import CooperationModel  # type: ignore[no-redef]
        from sim.outcomes import county_row, outcome_row  # type: ignore[no-redef]
        from sim.runner import _scenario, replicate_seed  # type: ignore[no-redef]

    for module in (sim, sys.modules[CooperationModel.__module__], sys.modules[_scenario.__module__]):
        assert Path(module.__file__).is_relative_to(root), (module.__file__, root)
    sc = _scenario(scenario, ())
    row = county_row if sc.kind == "county" else outcome_row
    CooperationModel(sc, rng=replicate_seed(1, 10**6)).run()
    t = time.process_time()
    models = [CooperationModel(sc, rng=replicate_seed(1, r)).run() for r in replicates]
    seconds = time.process_time() - t
    return seconds, [hash(repr(sorted(row(m).items()))) for m in models]


def compare(roots: dict[str, str], cases: dict[str, int], workers: int, rounds: int) -> None:
    """Time each case with each tree, batches interleaved in one pool; print rates and ratios."""
    print(f"1. replicates per CPU second, {workers} worker(s), same replicates, batches interleaved ({rounds} rounds)")
    jobs = []
    for k in range(rounds):
        for case, n in cases.items():
            chunk = list(range(k * n, (k + 1) * n))
            order = list(roots) if k % 2 == 0 else list(reversed(roots))
            jobs += [(label, case, chunk) for label in order]
    spent = {(label, case): 0.0 for label in roots for case in cases}
    hashes: dict[tuple[str, str], list[int]] = {key: [] for key in spent}
    with ProcessPoolExecutor(workers) as pool:
        futures = [(label, case, pool.submit(time_batch, roots[label], case, chunk)) for label, case, chunk in jobs]
        for label, case, future in futures:
            seconds, h = future.result()
            spent[label, case] += seconds
            hashes[label, case] += h
    print(f"   {'scenario':16s} {'this tree':>12s} {'reference':>12s} {'ms/rep':>8s} {'ratio':>6s}  same rows")
    for case, n in cases.items():
        total = n * rounds
        new, ref = (total / spent[label, case] for label in roots)
        same = sum(a == b for a, b in zip(*(hashes[label, case] for label in roots), strict=True))
        print(f"   {case:16s} {new:10.1f}/s {ref:10.1f}/s {1000 / new:8.2f} {new / ref:5.2f}x  {same}/{total}")


def peak_run(cmd: list[str], cwd: str) -> tuple[float, float]:
    """Run a command in ``cwd`` with that tree first on the path: (wall seconds, peak RSS MB of its process tree)."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    env = {**os.environ, "PYTHONPATH": cwd}
    out = subprocess.run(
        [sys.executable, "-c", code, *cmd], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    seconds, kb = out.stdout.split()
    return float(seconds), int(kb) / 1024


def validation(roots: dict[str, str], replicates: int) -> None:
    """Wall time and peak RSS of ``run.py validate`` on all cores, for each tree."""
    n = os.cpu_count() or 1
    print(f"2. validation 3 x {replicates}, {n} workers (wall, peak RSS of the process tree)")
    for label, root in roots.items():
        cmd = [sys.executable, "run.py", "validate", "--replicates", str(replicates), "--workers", str(n), "--quiet"]
        seconds, peak = peak_run(cmd, root)
        print(f"   {label:10s} {seconds:6.1f} s   {peak:6.0f} MB")


def county_growth(root: str, replicates: int) -> None:
    """Seconds per county replicate by size and the fitted growth exponent (this tree, one core)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    _use(root)
    from bench_county import SIZES, region_file, time_scenario

    print("3. county replicate by size (this tree, 1 core, county initiative on)")
    print(f"   {'municipalities':>14s} {'s/replicate':>12s} {'peak MB':>8s}")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            seconds, peak, _ = time_scenario(region_file(Path(tmp), n), replicates)
            times.append(seconds)
            print(f"   {n:14d} {seconds:12.4f} {peak:8.1f}")
    slope = np.polyfit(np.log(SIZES), np.log(times), 1)[0]
    print(f"   growth exponent (log-log fit, {SIZES[0]}-{SIZES[-1]}): {slope:.2f} (target <= 1.3)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", default=REFERENCE, help=f"reference commit (default {REFERENCE})")
    ap.add_argument("--workers", type=int, default=1, help="pool size for part 1 (default 1: one core)")
    ap.add_argument("--rounds", type=int, default=4, help="interleaved rounds in part 1 (default 4)")
    ap.add_argument("--pilot-replicates", type=int, default=50, help="pilot replicates per batch (default 50)")
    ap.add_argument("--county-replicates", type=int, default=5, help="trondelag replicates per batch (default 5)")
    ap.add_argument("--validation", type=int, default=1000, help="replicates per case in part 2 (0: skip)")
    ap.add_argument("--sizes", type=int, default=3, help="replicates per county size in part 3 (0: skip)")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        ref = str(Path(tmp) / "reference")
        subprocess.run(["git", "worktree", "add", "--detach", ref, args.ref], cwd=ROOT, check=True, capture_output=True)
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout.strip()
            print(f"this tree: {ROOT} (HEAD {commit}, with any uncommitted changes); reference: {args.ref}")
            roots = {"this tree": str(ROOT), "reference": ref}
            cases = {**{c: args.pilot_replicates for c in PILOTS}, "trondelag": args.county_replicates}
            compare(roots, cases, args.workers, args.rounds)
            if args.validation:
                validation(roots, args.validation)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", ref], cwd=ROOT, check=False, capture_output=True)
    if args.sizes:
        county_growth(str(ROOT), args.sizes)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
