"""Speed of the interactive surfaces (a script, not timed tests): python benchmarks/bench_interactive.py

Prints, against the targets that used to be pass/fail assertions in the tests:
1. each notebook's run time on a fresh kernel (target: under 120 s each);
2. the dashboard's Step for ``trondelag`` with the county initiative, model step without rendering
   (target: median under 0.1 s; the real-browser timings are printed by ``tests/test_dashboard.py``,
   targets Step <= 200 ms, Play < 30 s, county Step <= 200 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_TARGET_S = 120
STEP_TARGET_S = 0.1


def notebooks() -> None:
    import nbclient
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        nbclient.NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        seconds = time.perf_counter() - t0
        verdict = "ok" if seconds < NOTEBOOK_TARGET_S else "OVER TARGET"
        print(f"notebook {path.name}: {seconds:.1f} s (target < {NOTEBOOK_TARGET_S} s) {verdict}")


def dashboard_step() -> None:
    from sim.views import app
    from sim.views.app import DashboardModel

    model = DashboardModel("trondelag", rng="5", county_initiative=True)
    sc, times = model.scenario, []
    for _ in range(sc.horizon + 1 - sc.start):
        t0 = time.perf_counter()
        model.step()
        app.municipality_forms(model, ["agriculture"])
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    verdict = "ok" if median < STEP_TARGET_S else "OVER TARGET"
    print(
        f"dashboard Step, trondelag + county initiative (model, no rendering): median {1000 * median:.1f} ms, "
        f"max {1000 * max(times):.0f} ms (target median < {1000 * STEP_TARGET_S:.0f} ms) {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-notebooks", action="store_true", help="only the dashboard step")
    args = parser.parse_args()
    dashboard_step()
    if not args.no_notebooks:
        notebooks()


if __name__ == "__main__":
    main()
