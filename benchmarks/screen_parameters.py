"""Screen the calibrated parameters one at a time (issue 20): python benchmarks/screen_parameters.py

Moves every parameter of ``[calibration] parameters`` (or ``--keys``) alone to each end of its prior
box and reports whether the graded calibration distance changes by more than its replicate noise
(:mod:`sim.analysis.screen`). Writes ``screen.csv`` and ``screen.md`` into ``--out`` (default
``results/screen``). The parameters found unconstrained are the ones ``scenarios/defaults.toml``
lists under ``[calibration] fixed``; ``--all`` screens those as well (re-run it after the model changes:
the screen is local to the defaults).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from sim.analysis.calibration import FACTOR
from sim.analysis.screen import markdown, screen
from sim.inputs.params import calibrated, fixed_by_screen
from sim.run.execution import Execution


def main() -> None:
    """Run the screen and write its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100, help="replicates per scored set (default 100)")
    parser.add_argument("--seed", type=int, default=20161214, help="base seed (default 20161214)")
    parser.add_argument("--factor", type=float, default=FACTOR, help=f"prior box factor (default {FACTOR})")
    parser.add_argument("--workers", type=int, default=1, help="workers (default 1)")
    parser.add_argument("--keys", nargs="*", default=(), help="parameters to screen (default: every calibrated one)")
    parser.add_argument("--all", action="store_true", help="screen the fixed parameters too (after a model change)")
    parser.add_argument("--out", type=Path, default=Path("results/screen"), help="output folder")
    args = parser.parse_args()
    t0 = time.perf_counter()
    keys = (*calibrated(), *fixed_by_screen()) if args.all else args.keys
    rows = screen(keys, args.replicates, args.seed, args.factor, Execution(args.workers, progress=False))
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "screen.csv", index=False)
    text = markdown(rows, args.replicates, args.factor)
    (args.out / "screen.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"{len(rows) - 1} parameters, {time.perf_counter() - t0:.0f} s; wrote {args.out}/screen.csv, screen.md")


if __name__ == "__main__":
    main()
