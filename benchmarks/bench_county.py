"""County-scale benchmark (a script, not a timed test): python benchmarks/bench_county.py [--replicates N]

Prints, on one core, seconds per replicate (2014-2020, every area negotiating: the county
initiative is on) for regions of 5, 10, 20, 48, 100 and 425 municipalities (all with a population
in the data), the fitted growth exponent of time in the number of municipalities (log-log least
squares), peak traced memory per replicate, and a check that no outcome is NaN or infinite;
then ``trondelag`` and ``norway`` as shipped (with their pilots).

Targets (issue 12): trondelag <= 0.5 s per replicate, norway <= 5 s, exponent <= 1.3.
The regions of n municipalities are the n nearest to Trondheim's centre (by great circle) among
the 425 with a population in the data, grouped by ``areas = "rule"``; written to a temporary file.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from sim.core.model import CooperationModel
from sim.core.outcomes import area_rows, county_row
from sim.inputs import geo
from sim.inputs.loader import load_scenario

SIZES = (5, 10, 20, 48, 100, 425)
CENTRE = "1601"  # Trondheim, 2016


def region_file(folder: Path, n: int) -> Path:
    """A county file of the ``n`` municipalities nearest to the centre (no pilots)."""
    places = {k: p for k, p in geo.load_places().items() if not math.isnan(p.population)}
    c = places[CENTRE]
    d = {k: float(geo.great_circle_km(c.lat, c.lon, p.lat, p.lon)) for k, p in places.items()}
    keep = set(sorted(places, key=lambda k: (d[k], k))[:n])
    exclude = sorted(set(geo.load_places()) - keep)
    counties = sorted({k[:2] for k in geo.load_places()})
    path = folder / f"region-{n}.toml"
    path.write_text(
        "[county]\n"
        f'name = "{n} municipalities"\ndescription = "benchmark"\n'
        'start = "2014-01"\npilot_end = "2016-12"\nhorizon = "2020-12"\n'
        'reform_start = "2014-06"\nreform_deadline = "2016-06"\n'
        f"counties = {counties!r}\nexclude = {exclude!r}\n".replace("'", '"')
        + 'areas = "rule"\n\n[initiative]\nstart = "2015-01"\nmonths = 24\nsectors = ["agriculture"]\n',
        encoding="utf-8",
    )
    return path


def time_scenario(path: Path | str, replicates: int) -> tuple[float, float, bool]:
    """(seconds per replicate, peak traced MB of one replicate, every outcome finite)."""
    sc = load_scenario(path, {"county_initiative": True})
    finite = True
    t0 = time.perf_counter()
    for r in range(replicates):
        model = CooperationModel(sc, rng=r).run()
        row = county_row(model)
        areas = area_rows(model)
        numbers = [v for v in row.values() if isinstance(v, float)]
        numbers += [v for a in areas for v in a.values() if isinstance(v, float)]
        finite &= all(math.isfinite(v) for v in numbers) and bool(np.isfinite(model.history).all())
    seconds = (time.perf_counter() - t0) / replicates
    tracemalloc.start()
    CooperationModel(sc, rng=0).run()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak, finite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5, help="replicates per size (default 5)")
    args = parser.parse_args()
    sizes, times = [], []
    print(f"{'municipalities':>14s} {'s/replicate':>12s} {'peak MB':>8s}  finite")
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            seconds, peak, finite = time_scenario(region_file(Path(tmp), n), args.replicates)
            sizes.append(n)
            times.append(seconds)
            print(f"{n:14d} {seconds:12.3f} {peak:8.1f}  {finite}")
    slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
    print(f"growth exponent (log-log fit, {sizes[0]}-{sizes[-1]}): {slope:.2f}  (target <= 1.3)")
    for name, target in (("trondelag", 0.5), ("norway", 5.0)):
        seconds, peak, finite = time_scenario(name, args.replicates)
        print(f"{name}: {seconds:.3f} s per replicate (target <= {target}), peak {peak:.1f} MB, finite: {finite}")


if __name__ == "__main__":
    main()
