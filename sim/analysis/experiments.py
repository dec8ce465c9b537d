"""Experiments at scale: sweeps (with resume), Sobol/Morris sensitivity, PRIM scenario discovery.

Analysis is kept apart from the model: every run goes through ``sim.run.runner``; this module
designs the samples, streams the rows to disk and analyses them with SALib and the EMA
Workbench's PRIM. Jobs are generated lazily, so memory stays bounded however large a sweep is;
what cannot fit (in memory, or on disk for a sweep) is refused before any work.
"""

from __future__ import annotations

import contextlib
import csv
import heapq
import io
import itertools
import json
import math
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.inputs.errors import InputError
from sim.inputs.loader import load_scenario
from sim.inputs.params import BY_NAME, suggest
from sim.inputs.scenario import resolve_path
from sim.run.execution import Execution
from sim.run.output import check_replaceable, clean_stale, make_parents, metadata, write_json
from sim.run.runner import ROW_BYTES, Job, available_memory, check_fits, run_job


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
    def parse(cls, text: str, source: str = "--param") -> Uncertainty:
        """Parse ``KEY=LO:HI[:log]`` and check it against the catalogue."""
        key, sep, rng = text.partition("=")
        key, parts = key.strip(), rng.split(":")
        if not sep or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip() != "log"):
            raise InputError(source, text, "expected KEY=LO:HI or KEY=LO:HI:log")
        spec = BY_NAME.get(key)
        if spec is None:
            raise InputError(source, key, "unknown parameter" + suggest(key, BY_NAME))
        if spec.kind not in ("float", "int"):
            raise InputError(source, key, f"only numeric parameters can be sampled ({spec.kind})")
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(source, text, "LO and HI must be numbers") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise InputError(source, text, "LO and HI must be finite numbers")
        if spec.kind == "int" and not (low.is_integer() and high.is_integer()):
            raise InputError(source, text, f"{key} takes whole numbers")
        if not low < high:
            raise InputError(source, text, "LO must be below HI")
        for v in (low, high):
            problem = spec.check(v if spec.kind == "float" else int(v))
            if problem:
                raise InputError(source, key, problem)
        # Sampled as exp(uniform(log LO, log HI)): defined only for LO > 0.
        if len(parts) == 3 and low <= 0:
            raise InputError(source, text, "a log scale needs LO > 0")
        return cls(key, low, high, len(parts) == 3)

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Map values in [0, 1] to the parameter's range (and type)."""
        if self.log:
            values = np.exp(np.log(self.low) + unit * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + unit * (self.high - self.low)
        values = np.clip(values, self.low, self.high)  # exp(log(x)) may overshoot the range by an ulp
        # Rounded after scaling: on a linear scale each whole number inside the range gets an equal
        # share of the samples, the two ends half a share each.
        return np.rint(values) if BY_NAME[self.name].kind == "int" else values


def parse_params(
    items: Iterable[str], fixed: dict[str, Any] | None = None, source: str = "--param"
) -> list[Uncertainty]:
    """Parse ``--param`` items; refuse a key given twice or also fixed by ``--set``."""
    params = [Uncertainty.parse(text, source) for text in items]
    check_params(params, fixed, source)
    return params


def check_params(params: list[Uncertainty], fixed: dict[str, Any] | None = None, source: str = "--param") -> None:
    """Refuse no parameter, a parameter given twice, or one that is also fixed."""
    if not params:
        raise InputError(source, "-", "give at least one parameter to vary")
    seen: set[str] = set()
    for p in params:
        if p.name in seen:
            raise InputError(source, p.name, "given twice")
        if p.name in (fixed or {}):
            raise InputError(source, p.name, "is also fixed by --set; give it once")
        seen.add(p.name)


class Design:
    """Sample points: Latin hypercube (``lhs``) or a full grid (``grid``, ``samples`` per axis).

    Grid points are computed from their index on demand, so a grid of any size takes no memory;
    a Latin hypercube is a table of ``samples`` rows (refused up front when it would not fit).

    Attributes:
        size: Number of points.
    """

    def __init__(
        self, params: list[Uncertainty], samples: int, method: str, seed: int, source: str = "--samples"
    ) -> None:
        self.params, self.samples, self.method = params, samples, method
        width = len(params) * 8 * (1 if method == "grid" else 4)  # bytes per sample (SALib copies)
        if samples * width > available_memory() // 4:
            raise InputError(
                source,
                str(samples),
                f"a {'grid' if method == 'grid' else 'Latin hypercube'} design with {samples:,} samples per parameter "
                "would not fit in memory",
            )
        if method == "grid":
            self.axes = [p.scale(np.linspace(0, 1, samples)) for p in params]
            self.size = samples ** len(params)
        else:
            from SALib.sample import latin

            problem = {"num_vars": len(params), "names": [p.name for p in params], "bounds": [[0, 1]] * len(params)}
            # Sampled on the unit cube and scaled per parameter: the log scale and whole-number rounding
            # stay ours, and the same seed gives the same design whatever the ranges.
            unit = latin.sample(problem, samples, seed=seed)
            self.table = np.stack([p.scale(unit[:, i]) for i, p in enumerate(params)], axis=1)
            self.size = samples

    def point(self, i: int) -> dict[str, Any]:
        """Point number ``i`` (grid order: the last parameter varies fastest)."""
        if self.method != "grid":
            return _typed(self.params, self.table[i])
        # Point i is decoded from its index (mixed radix), so a resumed sweep recomputes any point
        # without storing the grid.
        digits = []
        for _ in self.params:
            i, d = divmod(i, self.samples)
            digits.append(d)
        return _typed(self.params, [axis[d] for axis, d in zip(self.axes, reversed(digits), strict=True)])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rows = itertools.product(*self.axes) if self.method == "grid" else iter(self.table)
        return (_typed(self.params, row) for row in rows)


def design(params: list[Uncertainty], samples: int, method: str, seed: int) -> list[dict[str, Any]]:
    """Sample points as a list (see :class:`Design` for large designs)."""
    return list(Design(params, samples, method, seed))


def _typed(params: list[Uncertainty], row) -> dict[str, Any]:
    return {p.name: int(v) if BY_NAME[p.name].kind == "int" else float(v) for p, v in zip(params, row, strict=True)}


def sweep_job(
    scenario: str,
    index: int,
    point: dict[str, Any],
    replicates: int,
    seed: int,
    overrides: dict[str, Any] | None = None,
) -> Job:
    """Job ``index`` of a sweep: sample ``index // replicates`` (at ``point``), replicate ``index % replicates``."""
    sample, r = divmod(index, replicates)
    return Job(
        index,
        scenario,
        r,
        seed,
        # The design's value wins over a fixed one (check_params refuses a clash anyway). Sorted: the
        # runner caches scenarios by this tuple.
        tuple(sorted({**(overrides or {}), **point}.items())),
        tags=(("sample", sample), *point.items()),
    )


def sweep_jobs(
    scenario: str, points: Iterable[dict[str, Any]], replicates: int, seed: int, overrides: dict[str, Any] | None = None
) -> Iterator[Job]:
    """One job per (sample, replicate), generated lazily; replicate r uses the same seed in every sample."""
    for i, pt in enumerate(points):
        # Replicate r has the same seed at every design point (common random numbers), so differences
        # between points are the parameters', not the draws'.
        for r in range(replicates):
            yield sweep_job(scenario, i * replicates + r, pt, replicates, seed, overrides)


# --- resumable sweeps -------------------------------------------------------------------------------
class _Rows:
    """Checks a line of runs.partial.csv against the sweep: field count, keys, design values, types."""

    def __init__(
        self, header: list[str], reference: dict[str, Any], points: Design, replicates: int, seed: int
    ) -> None:
        self.header, self.points, self.replicates = header, points, replicates
        self.header_line = _csv_line(header)
        self.col = {name: i for i, name in enumerate(header)}
        self.seed = str(seed)
        self.kinds = [
            "bool" if isinstance(v, bool) else "num" if isinstance(v, int | float) else "any"
            for v in reference.values()
        ]

    def index(self, line: bytes) -> int | None:
        """The job index a line holds, or None when the line is damaged or does not belong."""
        # A line without its newline was being written when the sweep was killed: never trusted.
        if not line.endswith(b"\n"):
            return None
        try:
            fields = next(csv.reader([line.decode("utf-8")]))
            sample, r = int(fields[self.col["sample"]]), int(fields[self.col["replicate"]])
        except (UnicodeDecodeError, csv.Error, StopIteration, ValueError, IndexError):
            return None
        if (
            len(fields) != len(self.header)
            or not 0 <= sample < self.points.size
            or not 0 <= r < self.replicates
            # The seed and the design values are checked too: a line from another sweep (a file copied in)
            # must not pass for one of this sweep's runs.
            or fields[self.col["seed"]] != self.seed
        ):
            return None
        if any(fields[self.col[k]] != str(v) for k, v in self.points.point(sample).items()):
            return None
        for value, kind in zip(fields, self.kinds, strict=True):
            if kind == "bool" and value not in ("True", "False"):
                return None
            if kind == "num":
                try:
                    float(value)
                except ValueError:
                    return None
        return sample * self.replicates + r

    def valid(self, path: Path, start: int, offset: int = 0) -> Iterator[tuple[int, bytes]]:
        """Valid rows of a file with index >= start, in increasing order (others skipped)."""
        if not path.exists():
            return
        last = start - 1
        with open(path, "rb") as fh:
            fh.seek(offset)
            for line in fh:
                i = self.index(line)
                # Strictly increasing: a duplicated line (written twice around a crash) is kept once.
                if i is not None and i > last:
                    last = i
                    yield i, line


def _csv_line(values: list[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")


def _repair(partial: Path, salvage: Path, rows: _Rows) -> int:
    """Keep the longest valid gap-free prefix of ``partial`` and return its row count.

    Valid rows after damage (a torn or missing row, a foreign header) are moved to ``salvage``
    (merged with what it held) so that only missing or damaged runs are run again.
    """
    if not partial.exists():
        return 0
    done, cut = 0, 0
    with open(partial, "rb") as fh:
        if fh.readline() == rows.header_line:
            cut = fh.tell()
            for line in fh:
                if rows.index(line) != done:
                    break
                done, cut = done + 1, cut + len(line)
    if cut == partial.stat().st_size:
        return done
    # The final runs.csv is runs.partial.csv renamed, so the partial file must stay a gap-free
    # prefix in job order; valid rows after a gap wait in the salvage file and are copied in, not
    # run again, when their turn comes.
    merged = heapq.merge(rows.valid(partial, done, cut), rows.valid(salvage, done))
    tmp = salvage.with_name(salvage.name + ".tmp")
    with open(tmp, "wb") as out:
        last = done - 1
        for i, line in merged:
            if i > last:
                out.write(line)
                last = i
    os.replace(tmp, salvage)
    os.truncate(partial, cut)
    return done


def _read_spec(spec_file: Path) -> dict[str, Any]:
    try:
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(spec_file.parent, "--resume", "no sweep to resume here (sweep.json missing)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(spec_file, "-", f"cannot read the sweep description: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("params"), list):
        raise InputError(spec_file, "-", "not a sweep description (expected an object with params)")
    return spec


def _existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _check_new(out: Path, force: bool) -> bool:
    """Check where a new sweep goes; True when it replaces a previous result folder (``force``)."""
    if not (out.is_symlink() or out.exists()):
        return False
    if not out.is_dir():
        raise InputError(out, "--out", "is a file; give a folder")
    if not any(out.iterdir()):
        return False
    if not force:
        raise InputError(out, "--out", "folder exists and is not empty (use --resume or --force)")
    check_replaceable(out)
    return True


def _start(out: Path, spec: dict[str, Any], replace: bool) -> tuple[list[Path], Path | None]:
    """Create the sweep folder and claim it with sweep.json.

    A folder being replaced is moved aside (deleted once the new sweep has rows, put back if it
    fails before). Returns the folders created and where the replaced folder went.
    """
    clean_stale(out.parent)
    trash = None
    if replace:
        trash = out.with_name(f".{out.name}.imc-old-{secrets.token_hex(4)}")
        os.rename(out, trash)
        os.utime(trash)  # recent: not taken for a stale leftover by another run
    created = make_parents(out, "--out")
    try:
        if not out.exists():
            out.mkdir()
            created.append(out)
        # Exclusive creation is atomic: of two sweeps started into one folder at once, one gets it.
        with open(out / "sweep.json", "x", encoding="utf-8") as fh:  # claims the folder
            fh.write(json.dumps(spec, indent=2) + "\n")
    except FileExistsError:
        raise InputError(out, "--out", "another sweep started in this folder meanwhile") from None
    except OSError as exc:
        _undo(out, created, trash)
        raise InputError(out, "--out", f"cannot write here: {exc.strerror or exc}") from None
    return created, trash


def _undo(out: Path, created: list[Path], trash: Path | None) -> None:
    """Remove what a sweep that failed before its first row wrote; put a replaced folder back."""
    for name in ("sweep.json", "metadata.json", "runs.partial.csv"):
        (out / name).unlink(missing_ok=True)
    for p in reversed(created):
        with contextlib.suppress(OSError):
            p.rmdir()
    if trash is not None:
        os.rename(trash, out)


@contextlib.contextmanager
def _locked(spec_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on the sweep for its duration (refuse a second writer)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    with open(spec_file, "rb") as fh:
        try:
            # flock, not a lock file: the kernel releases it when the process dies, so a killed sweep
            # leaves no stale lock behind to block its own resume.
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(spec_file.parent, "--out", "another sweep is writing to this folder") from None
        yield


#: The files a sweep folder holds (``metadata.json``: what ``--force`` may remove).
SWEEP_FILES = ["sweep.json", "runs.csv", "runs.partial.csv", "runs.salvage.csv", "runs.salvage.csv.tmp"]


def _first_row(out: Path, job, points: Design, replicates: int, seed: int, resume: bool) -> _Rows:
    """Run the first job for the table's columns and a reference row; refuse a sweep that would not fit on disk."""
    # Job 0 is run here only to learn the header and a row's size (for the disk check); the
    # executor runs it again in its turn, which gives the same row (same seed), so the file does
    # not depend on this probe.
    reference = run_job(job(0))["row"]
    total = points.size * replicates
    _check_disk(out, total - (partial_rows(out) if resume else 0), len(_csv_line(list(reference.values()))), total)
    return _Rows(list(reference), reference, points, replicates, seed)


def run_sweep(
    out: Path,
    scenario: str,
    params: list[Uncertainty],
    samples: int,
    replicates: int,
    method: str = "lhs",
    seed: int = 20161214,
    resume: bool = False,
    force: bool = False,
    execution: Execution = Execution(),
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Run a sweep, streaming rows to ``out/runs.partial.csv``; ``out/runs.csv`` when complete.

    Results arrive in job order, so the partial file is a prefix of the final one. ``resume``
    checks every row already written (field count, sample and replicate keys, design values,
    types), keeps the valid ones and runs only what is missing or damaged: the final file is
    byte-identical to an uninterrupted sweep. Every input is checked before anything is written;
    a sweep that fails before its first row leaves nothing behind.

    Raises:
        InputError: bad input, a folder in use, or a sweep that would not fit on disk.
    """
    started = datetime.now()
    path, overrides = resolve_path(scenario), dict(overrides or {})
    base = load_scenario(path, overrides)
    check_params(params, overrides)
    spec = _spec(path, params, samples, replicates, method, seed, overrides)
    out = Path(os.path.abspath(out))
    if resume and _complete(out, spec, force):
        return out / "runs.csv"
    replace = False if resume else _check_new(out, force)
    points = Design(params, samples, method, seed)
    total = points.size * replicates
    execution.check()

    def job(i: int) -> Job:
        return sweep_job(str(path), i, points.point(i // replicates), replicates, seed, overrides)

    rows = _first_row(out, job, points, replicates, seed, resume)
    created, trash = ([], None) if resume else _start(out, spec, replace)
    record = {"seed": seed, "replicates": replicates, "started": started, "kind": "sweep", "design": spec}
    record["files"] = SWEEP_FILES
    try:
        with _locked(out / "sweep.json"):
            write_json(out / "metadata.json", metadata([base], **record))
            used = _stream(out, rows, job, total, execution)
            os.replace(out / "runs.partial.csv", out / "runs.csv")
            (out / "runs.salvage.csv").unlink(missing_ok=True)
            write_json(out / "metadata.json", metadata([base], execution=used, runs=total, **record))
    except BaseException:
        if not resume and not partial_rows(out):
            _undo(out, created, trash)
            trash = None
        raise
    finally:
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    return out / "runs.csv"


def _spec(
    path: Path,
    params: list[Uncertainty],
    samples: int,
    replicates: int,
    method: str,
    seed: int,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """What defines a sweep (``sweep.json``): a resume must match it exactly."""
    return {
        "scenario": str(path.resolve()),
        "params": [asdict(p) for p in params],
        "samples": samples,
        "replicates": replicates,
        "method": method,
        "seed": seed,
        "overrides": overrides,
    }


def _complete(out: Path, spec: dict[str, Any], force: bool) -> bool:
    """Check that ``out`` holds this very sweep, to resume; True when it is already complete."""
    if force:
        raise InputError("--resume", "--force", "give one of them")
    spec_file = out / "sweep.json"
    if _read_spec(spec_file) != spec:
        raise InputError(spec_file, "--resume", "the sweep here was started with other arguments")
    return (out / "runs.csv").exists()


def _check_disk(out: Path, runs: int, row_bytes: int, total: int) -> None:
    """Refuse a sweep whose rows would not fit on the disk of ``out``."""
    where = _existing(out)
    need, free = runs * row_bytes, shutil.disk_usage(where).free
    if need > free:
        raise InputError(
            "--samples x --replicates",
            f"{total:,} runs",
            f"would write about {need / 1e9:,.1f} GB; {free / 1e9:,.1f} GB free in {where}",
        )


def _stream(out: Path, rows: _Rows, job, total: int, execution: Execution) -> dict[str, Any]:
    """Append every missing row to ``runs.partial.csv`` in job order; return how the runs were executed.

    Valid rows kept from damage (``runs.salvage.csv``) are copied in place; only the others run.
    """
    partial, salvage = out / "runs.partial.csv", out / "runs.salvage.csv"
    done = _repair(partial, salvage, rows)
    todo = total - done - sum(1 for _ in rows.valid(salvage, done))

    # Walked twice in the same order: once to feed the executor the jobs to run, once to write the
    # file. Results come back in job order, so each gap takes the next result.
    def fill(run_it: bool) -> Iterator[Job | bytes]:  # in job order: a kept line, or a job to run
        kept = rows.valid(salvage, done)
        nxt = next(kept, None)
        for i in range(done, total):
            if nxt is not None and nxt[0] == i:
                line, nxt = nxt[1], next(kept, None)
                if not run_it:
                    yield line
            else:
                yield job(i) if run_it else b""

    used: dict[str, Any] = {}
    results = execution.execute(fill(True), todo, used)
    with open(partial, "ab") as fh:
        if fh.tell() == 0:
            fh.write(rows.header_line)
        for line in fill(False):
            if not line:
                row = next(results)["row"]
                line = _csv_line([row[k] for k in rows.header])
            fh.write(line)
            # Flushed row by row: a kill loses at most the row being written, which the resume then
            # detects as torn.
            fh.flush()
    next(results, None)  # let the executor finish and shut down
    return used


def partial_rows(out: Path) -> int:
    """Rows already kept in an interrupted sweep's ``runs.partial.csv`` (0 when there is none)."""
    path = Path(out) / "runs.partial.csv"
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return max(0, sum(1 for _ in fh) - 1)


def read_runs(path: Path):
    """Read a sweep's runs.csv as a DataFrame.

    Raises:
        InputError: the file is missing, empty or not a readable CSV table.
    """
    import pandas as pd

    try:
        # Empty cells stay "" rather than NaN: "no stall" is an empty stall_cause, and tests like
        # stall_cause != '' must see it as text.
        return pd.read_csv(path, keep_default_na=False, na_values=[])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, "-", f"cannot read the runs table: {str(exc).splitlines()[0]}") from None


def _outcomes(rows) -> dict[str, np.ndarray]:
    """Per-sample outcome means over replicates (sample order); a county's own outcomes for a county run."""
    g = rows.groupby("sample", sort=True)
    if "formal_by_pilot_end" not in rows:  # a county run (sim.core.outcomes.county_row)
        mean_vul = [c for c in rows.columns if c.startswith("vulnerability_") and c.endswith("_mean")]
        names = [c for c in rows.columns if c.startswith("covered_")] + mean_vul
        return {c: g[c].mean().to_numpy() for c in [*names, "stalls"]}
    formal = rows["formal_by_pilot_end"].astype(str) == "True"
    return {
        "p_formal": formal.groupby(rows["sample"]).mean().to_numpy(),
        "p_stall": (rows["stall_cause"].astype(str) != "").groupby(rows["sample"]).mean().to_numpy(),
        "months_to_agreement": g["months_to_agreement"].mean().to_numpy(),
        "vulnerability_horizon": g["vulnerability_horizon"].mean().to_numpy(),
    }


def sensitivity(
    scenario: str,
    params: list[Uncertainty],
    method: str,
    samples: int,
    replicates: int,
    seed: int = 20161214,
    execution: Execution = Execution(),
    overrides: dict[str, Any] | None = None,
):
    """Sobol (Saltelli/Sobol' sampling) or Morris indices of the outcomes, with 95 % intervals.

    Outcomes, per sample as means over its replicates: ``p_formal`` (a formal agreement by the
    pilot's end), ``p_stall`` (the process stalled), ``months_to_agreement`` (to the first
    agreement; the horizon if none), ``vulnerability_horizon`` (mean vulnerability at the horizon).
    For a county scenario: ``covered_<sector>``, ``vulnerability_<sector>_mean`` and ``stalls``
    (``sim.core.outcomes.county_row``). ``overrides`` are fixed parameter values for every run.

    Returns:
        A DataFrame: outcome, parameter, the method's indices with their 95 % half-widths
        (``S1``, ``S1_conf``, ``ST``, ``ST_conf`` or ``mu_star``, ``mu_star_conf``, ``sigma``) and
        ``warning`` (why a row should not be read at face value; see :func:`sobol_warnings`; a
        constant outcome has one row per parameter with only a warning). ``attrs`` holds the
        number of ``runs``, the ``samples``, the ``execution`` (scheduler, workers, chunk size)
        and ``warnings`` (table-level sentences).
    """
    import pandas as pd
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": len(params), "names": [p.name for p in params], "bounds": [[0.0, 1.0]] * len(params)}
    points_per_sample = len(params) + 2 if method == "sobol" else len(params) + 1
    check_fits(samples * points_per_sample * replicates, ROW_BYTES, "--samples", str(samples))
    if method == "sobol":
        unit = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    else:
        # num_levels must be the same here and in morris_analyze.analyze (_indices), or the elementary
        # effects are computed with the wrong step.
        unit = morris_sample.sample(problem, samples, num_levels=4, seed=seed)
    points = [_typed(params, row) for row in np.stack([p.scale(unit[:, i]) for i, p in enumerate(params)], axis=1)]
    jobs = sweep_jobs(str(resolve_path(scenario)), points, replicates, seed, overrides)
    used: dict[str, Any] = {}
    rows = pd.DataFrame(execution.rows(jobs, len(points) * replicates, used))
    out = [
        entry for name, y in _outcomes(rows).items() for entry in _indices(problem, params, method, unit, name, y, seed)
    ]
    table = pd.DataFrame(out)
    if "warning" not in table:
        table["warning"] = ""
    table["warning"] = table["warning"].fillna("")
    warnings = sobol_warnings(table, samples) if method == "sobol" else []
    table.attrs.update(runs=len(rows), execution=used, samples=samples, warnings=warnings)
    return table


def _indices(problem: dict, params: list[Uncertainty], method: str, unit, name: str, y, seed: int) -> list[dict]:
    """One outcome's Sobol (S1, ST) or Morris (mu*, sigma) indices per parameter, as table rows."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    if np.std(y) == 0:  # a constant outcome has no variance to apportion
        return [
            {"outcome": name, "parameter": p.name, "warning": f"constant ({y[0]:.3g}) in every sample: no index"}
            for p in params
        ]
    if method == "sobol":
        # seed: the bootstrap intervals (*_conf) are then reproducible too.
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        si = morris_analyze.analyze(problem, unit, y, num_levels=4, seed=seed)
        keys = ("mu_star", "mu_star_conf", "sigma")
    return [{"outcome": name, "parameter": p.name, **{k: si[k][i] for k in keys}} for i, p in enumerate(params)]


#: Fewer Saltelli base samples than this give Sobol indices too uncertain to rank parameters.
MIN_SOBOL_SAMPLES = 64

#: Plain-language names of the sensitivity outcomes (per-sample means over replicates).
SENSITIVITY_OUTCOMES = {
    "p_formal": "Share with a formal agreement by the pilot's end",
    "p_stall": "Share where the process stopped",
    "months_to_agreement": "Months to the first agreement (horizon if none)",
    "vulnerability_horizon": "Mean vulnerability at the horizon",
}


def sobol_warnings(table, samples: int) -> list[str]:
    """Flag Sobol indices that should not be read at face value; fill the table's ``warning`` column.

    Three checks, per row (index ``S1`` or ``ST`` with its 95 % half-width ``*_conf``):

    - the index is negative beyond its interval (``index + conf < 0``), or above 1 beyond it:
      impossible for a variance share, so the estimate is unreliable (too few samples, or too
      much replicate noise);
    - the interval is wider than the index (``conf > |index|``): the index cannot be told apart
      from zero;

    and, for the whole table, fewer than :data:`MIN_SOBOL_SAMPLES` base samples.

    Args:
        table: The result of :func:`sensitivity` with ``method="sobol"`` (modified in place: the
            ``warning`` column is filled, joined with "; ").
        samples: The number of Saltelli base samples ``N``.

    Returns:
        Table-level warnings, one sentence each (printed by the CLI, kept in ``attrs["warnings"]``).
    """
    notes: list[str] = []
    if samples < MIN_SOBOL_SAMPLES:
        notes.append(
            f"only N = {samples} base samples (< {MIN_SOBOL_SAMPLES}): Sobol indices are very uncertain; "
            "read the intervals, not the bars"
        )
    counts = {"negative": 0, "wide": 0}  # "negative": outside [0, 1] beyond the interval
    for i, row in table.iterrows():
        flags = [row["warning"]] if row["warning"] else []
        for key in ("S1", "ST"):
            value, conf = row.get(key), row.get(f"{key}_conf")
            if value is None or conf is None or not np.isfinite(value) or not np.isfinite(conf):
                continue
            if value + conf < 0:
                flags.append(f"{key} = {value:.2f} is negative beyond its interval (±{conf:.2f})")
                counts["negative"] += 1
            elif value - conf > 1:
                flags.append(f"{key} = {value:.2f} is above 1 beyond its interval (±{conf:.2f})")
                counts["negative"] += 1
            elif conf > abs(value):
                flags.append(f"{key} interval ±{conf:.2f} is wider than the index {value:.2f}")
                counts["wide"] += 1
        table.at[i, "warning"] = "; ".join(flags)
    if counts["negative"]:
        notes.append(
            f"{counts['negative']} indices are negative (or above 1) beyond their interval (estimates unreliable)"
        )
    if counts["wide"]:
        notes.append(f"{counts['wide']} indices have intervals wider than the index (not distinguishable from 0)")
    constant = sorted(set(table.loc[table["warning"].str.startswith("constant"), "outcome"]))
    if constant:
        notes.append("constant outcome, no indices: " + ", ".join(constant))
    return notes


# --- outcome expressions: a small grammar over runs.csv columns, parsed, never evaluated as Python ---
_TOKEN = re.compile(
    r"""\s*(?:(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<str>'[^']*'|"[^"]*")"""
    r"""|(?P<name>[A-Za-z_]\w*)|(?P<op>==|!=|<=|>=|<|>|\(|\)|&|\||~))"""
)
_WORDS = {"and": "&", "or": "|", "not": "~"}
_KIND = {"bool": "true/false value", "num": "number", "str": "text"}
_CONSTANTS = {"true": True, "false": False}
# Limits on length and nesting: the parser is recursive, and a pathological --outcome must give
# one line of error, not a RecursionError from deep inside Python.
MAX_EXPRESSION = 2000
MAX_DEPTH = 50


def _tokens(expr: str, source: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            if not expr[pos:].strip():
                break
            bad = expr[pos:].lstrip()[0]
            raise InputError(
                source,
                expr,
                f"unexpected {bad!r} at position {len(expr) - len(expr[pos:].lstrip())}"
                " (allowed: column names, numbers, 'text', comparisons, and/or/not, parentheses)",
            )
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "num":
            out.append(("num", float(value)))
        elif kind == "str":
            out.append(("str", value[1:-1]))
        elif value.lower() in _WORDS:
            out.append(("op", _WORDS[value.lower()]))
        elif value.lower() in _CONSTANTS:
            out.append(("bool", _CONSTANTS[value.lower()]))
        else:
            out.append((kind, value))
    return out


class _Parser:
    """Recursive descent over the tokens, evaluating column arrays as it goes.

    or := and ('or' and)*; and := not ('and' not)*; not := 'not' not | cmp;
    cmp := atom [op atom]; atom := number | 'text' | name | true | false | '(' or ')'.
    """

    def __init__(self, expr: str, columns: dict[str, tuple[str, np.ndarray]], source: str) -> None:
        self.expr, self.columns, self.source = expr, columns, source
        self.tokens, self.pos, self.depth = _tokens(expr, source), 0, 0

    def fail(self, problem: str) -> InputError:
        return InputError(self.source, self.expr, problem)

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str) -> bool:
        if self.peek() == ("op", value):
            self.pos += 1
            return True
        return False

    def parse(self) -> tuple[str, Any]:
        if not self.tokens:
            raise self.fail("is empty")
        value = self.disjunction()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r} after a complete expression")
        return value

    def _logic(self, op: str, operand) -> tuple[str, Any]:
        left = operand()
        while self.take(op):
            right = operand()
            self.need_bool(left, op), self.need_bool(right, op)
            left = ("bool", (left[1] & right[1]) if op == "&" else (left[1] | right[1]))
        return left

    def disjunction(self) -> tuple[str, Any]:
        return self._logic("|", self.conjunction)

    def conjunction(self) -> tuple[str, Any]:
        return self._logic("&", self.negation)

    def negation(self) -> tuple[str, Any]:
        if self.take("~"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"nests deeper than {MAX_DEPTH} levels")
            value = self.negation()
            self.depth -= 1
            self.need_bool(value, "not")
            return ("bool", ~value[1] if isinstance(value[1], np.ndarray) else not value[1])
        return self.comparison()

    def need_bool(self, value: tuple[str, Any], op: str) -> None:
        if value[0] != "bool":
            word = {"&": "and", "|": "or"}.get(op, op)
            raise self.fail(f"'{word}' needs true/false values, got a {_KIND[value[0]]}")

    def comparison(self) -> tuple[str, Any]:
        left = self.atom()
        tok = self.peek()
        if tok is None or tok[0] != "op" or tok[1] not in ("==", "!=", "<", "<=", ">", ">="):
            return left
        self.pos += 1
        right = self.atom()
        nxt = self.peek()
        if nxt is not None and nxt[0] == "op" and nxt[1] in ("==", "!=", "<", "<=", ">", ">="):
            raise self.fail("chained comparisons are not supported; join them with 'and'")
        kinds = {left[0], right[0]}
        if kinds == {"num", "str"}:  # a text column that holds numbers, e.g. stall_month
            left, right = (self.numeric(v) if v[0] == "str" else v for v in (left, right))
        elif len(kinds) > 1:
            raise self.fail(f"cannot compare a {_KIND[left[0]]} with a {_KIND[right[0]]}")
        if "bool" in kinds and tok[1] not in ("==", "!="):
            raise self.fail(f"true/false values can only be compared with == or !=, not {tok[1]}")
        a, b = left[1], right[1]
        result = {
            "==": np.equal,
            "!=": np.not_equal,
            "<": np.less,
            "<=": np.less_equal,
            ">": np.greater,
            ">=": np.greater_equal,
        }[tok[1]](a, b)
        return ("bool", result)

    def numeric(self, value: tuple[str, Any]) -> tuple[str, Any]:
        import pandas as pd

        if not isinstance(value[1], np.ndarray):
            raise self.fail(f"cannot compare the text {value[1]!r} with a number")
        numbers = pd.to_numeric(pd.Series(value[1]), errors="coerce").to_numpy(dtype=float)
        if np.isnan(numbers).all():
            raise self.fail("compares a text column with a number")
        return ("num", numbers)

    def atom(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise self.fail("ends too early")
        self.pos += 1
        if tok == ("op", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"nests deeper than {MAX_DEPTH} levels")
            value = self.disjunction()
            if not self.take(")"):
                raise self.fail("a '(' is not closed")
            self.depth -= 1
            return value
        if tok[0] in ("num", "str", "bool"):
            return tok
        if tok[0] == "name":
            if tok[1] not in self.columns:
                raise self.fail(f"unknown column {tok[1]!r}" + suggest(tok[1], self.columns))
            return self.columns[tok[1]]
        raise self.fail(f"unexpected {tok[1]!r}")


def evaluate_outcome(rows, expr: str, source: str = "--outcome") -> np.ndarray:
    """Evaluate a true/false outcome expression on a runs table, one value per run.

    The expression is parsed by a small grammar and never evaluated as Python: column names of
    ``runs.csv``, numbers, quoted text, ``true``/``false``, comparisons (``== != < <= > >=``),
    ``and``/``or``/``not`` (or ``& | ~``) and parentheses. ``stalled`` (the process stalled) and
    ``formal`` (a formal agreement by the pilot's end) are defined for convenience, e.g.
    ``"stalled"`` or ``"stall_cause == 'governance_dispute' and steering_value > 1"``.

    Raises:
        InputError: anything outside the grammar, an unknown column, a comparison of mismatched
            kinds, or a result that is not true/false for each run.
    """
    import pandas as pd

    if len(expr) > MAX_EXPRESSION:
        raise InputError(source, expr[:40] + "...", f"is longer than {MAX_EXPRESSION} characters")
    columns: dict[str, tuple[str, np.ndarray]] = {}
    for name in rows.columns:
        col = rows[name]
        if pd.api.types.is_bool_dtype(col):
            columns[str(name)] = ("bool", col.to_numpy(dtype=bool))
        elif pd.api.types.is_numeric_dtype(col):
            columns[str(name)] = ("num", col.to_numpy(dtype=float))
        else:
            columns[str(name)] = ("str", col.astype(str).to_numpy(dtype=object))
    if "stall_cause" in rows:
        columns.setdefault("stalled", ("bool", rows["stall_cause"].astype(str).to_numpy(dtype=object) != ""))
    if "formal_by_pilot_end" in rows:
        columns.setdefault("formal", ("bool", rows["formal_by_pilot_end"].astype(str).to_numpy(dtype=object) == "True"))
    kind, value = _Parser(expr, columns, source).parse()
    if kind != "bool":
        raise InputError(source, expr, f"must be true/false for each run, got a {_KIND[kind]}")
    # A constant expression ("true") is one value: spread over every run like a column.
    return np.broadcast_to(np.asarray(value, dtype=bool), (len(rows),)).copy()


def _last_line_cut(runs: Path) -> bool:
    """The file does not end with a newline: a writer was stopped in the middle of a row."""
    with open(runs, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) != b"\n"


def _check_whole(runs: Path, rows, spec: dict[str, Any]) -> None:
    """Refuse a torn ``runs.csv``: a cut last line, a short row, or fewer rows than the sweep's design.

    Raises:
        InputError: naming the file and what is missing.
    """
    try:
        samples, replicates = int(spec["samples"]), int(spec["replicates"])
        expected = (samples ** len(spec["params"]) if spec.get("method") == "grid" else samples) * replicates
    except (KeyError, TypeError, ValueError):
        raise InputError(runs.parent / "sweep.json", "samples", "not a sweep description") from None
    cut = _last_line_cut(runs)
    short = rows.isna().any(axis=1).to_numpy()
    if cut or short.any() or len(rows) != expected:
        where = f"row {int(np.flatnonzero(short)[0]) + 1} is short; " if short.any() else ""
        raise InputError(
            runs,
            "-",
            f"torn or incomplete: {where}{len(rows)} runs, the sweep has {expected}"
            + ("; its last line is cut" if cut else "")
            + " (finish it with sweep ... --resume)",
        )


def discover(sweep_dir: Path, expr: str, min_coverage: float = 0.5, peel_alpha: float = 0.05):
    """PRIM (EMA Workbench) on a finished sweep: boxes where the outcome concentrates.

    PRIM peels the whole trajectory (threshold = the base rate); the chosen box is the densest on
    it that still covers at least ``min_coverage`` of the runs where the outcome holds.

    Returns:
        ``(prim_box, x, y)``: the EMA Workbench box (the chosen peel selected), the inputs and
        the outcome.

    Raises:
        InputError: not a finished sweep folder, an unreadable table, a bad expression, or an
            outcome that is the same in every run (nothing to discover).
    """
    import warnings

    sweep_dir = Path(sweep_dir)
    spec_file, runs = sweep_dir / "sweep.json", sweep_dir / "runs.csv"
    if not spec_file.is_file() or not runs.is_file():
        raise InputError(sweep_dir, "-", "not a finished sweep folder (needs sweep.json and runs.csv)")
    try:
        spec = _read_spec(spec_file)
        names = [str(p["name"]) for p in spec["params"]]
    except (KeyError, TypeError):
        raise InputError(spec_file, "params", "not a sweep description") from None
    if _last_line_cut(runs):  # checked before parsing: a line cut inside a quoted field defeats the parser
        raise InputError(runs, "-", "torn or incomplete: its last line is cut (finish it with sweep ... --resume)")
    rows = read_runs(runs)
    missing = [n for n in names if n not in rows.columns]
    if missing or not len(rows):
        raise InputError(runs, missing[0] if missing else "-", "column missing" if missing else "no runs")
    # PRIM on part of a sweep would find boxes in the samples that happened to finish first (the
    # design's early points), not in the design.
    _check_whole(runs, rows, spec)
    y = evaluate_outcome(rows, expr)
    if not y.any():
        raise InputError("--outcome", expr, "is true in no run: nothing to discover")
    # An outcome true in every run (or none) has no box to find; PRIM would return the whole space.
    if y.all():
        raise InputError("--outcome", expr, "is true in every run: nothing to discover")
    try:
        x = rows[names].astype(float)
    except (TypeError, ValueError):
        raise InputError(runs, ",".join(names), "parameter columns must be numbers") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    # The box is then chosen here, on the whole trajectory, by the coverage the user asked for,
    # rather than by the library's density threshold.
    finder = prim.Prim(x, y, threshold=float(y.mean()), peel_alpha=peel_alpha)  # keep peeling past the base rate
    box = finder.find_box()
    trajectory = box.peeling_trajectory
    eligible = trajectory[trajectory["coverage"] >= min_coverage]
    box.select(int(eligible["density"].idxmax()))
    return box, x, y


def _box_stats(i: int, row, y: np.ndarray) -> dict[str, float]:
    """The statistics of box ``i`` (its row of ``PrimBox.inspect``) and of the outcome ``y``."""
    return {
        "box": i,
        "base_rate": float(y.mean()),
        "cases": int(y.sum()),
        "runs": len(y),
        "coverage": float(row["coverage"]),
        "density": float(row["density"]),
        "mass": float(row["mass"]),
        "in_box": int(row["n"]),
        "restricted": int(row["res_dim"]),
    }


def _resample(box, i: int, iterations: int, seed: int):
    """``PrimBox.resample`` of box ``i`` with the global NumPy generator seeded (and restored); None if it cannot."""
    import warnings

    state = np.random.get_state()
    # The library draws from NumPy's global generator; seed it for a reproducible report and put
    # the caller's state back, so nothing else's stream shifts.
    np.random.seed(seed % 2**32)
    try:
        with warnings.catch_warnings():  # the library's own deprecation noise
            warnings.simplefilter("ignore")
            return box.resample(i, iterations=iterations)
    except AssertionError:  # a resample where the outcome is constant: too few runs to resample
        return None
    finally:
        np.random.set_state(state)


def box_summary(box, resample: int = 0, seed: int = 20161214) -> tuple[dict[str, float], Any]:
    """A PRIM box through the EMA Workbench's own inspection: statistics and restricted dimensions.

    Reads ``PrimBox.inspect(style="data")`` for the selected box: its statistics and the limits
    of the dimensions it restricts (with the quasi-p-values of Bryant and Lempert 2010, a one-sided
    binomial test per restricted limit: how likely a box this dense would be by chance without
    that restriction). Dimensions the box leaves at their sampled range are left out.

    Args:
        box: An EMA Workbench ``PrimBox`` (as returned by :func:`discover`).
        resample: When > 0, also run ``PrimBox.resample`` with this many iterations (PRIM on
            random halves of the data; the global NumPy generator is seeded with ``seed`` and
            restored afterwards) and report how often each restricted dimension is restricted again
            in the box of the same coverage and of the same density.
        seed: Seed for the resampling.

    Returns:
        ``(stats, limits)``. ``stats``: ``box`` (index on the peeling trajectory), ``base_rate``
        (share of all runs where the outcome holds), ``cases`` (runs where it holds), ``runs``,
        ``coverage`` (share of the cases inside the box), ``density`` (share of the box's runs
        where it holds), ``mass`` (share of all runs inside the box), ``in_box`` (runs inside),
        ``restricted``. ``limits``: a DataFrame indexed by parameter with ``lower``, ``upper``,
        ``sampled_low``, ``sampled_high``, ``qp_lower``, ``qp_upper`` (NaN where that side is not
        restricted) and, with ``resample``, ``reproduce_coverage`` and ``reproduce_density`` (%).
    """
    import pandas as pd

    i = int(box._cur_box)
    stats_row, lims = box.inspect(i, style="data")[0]
    stats = _box_stats(i, stats_row, np.asarray(box.prim.y))
    lims = lims.droplevel(0, axis=1)
    init = box.prim.box_init
    limits = pd.DataFrame(
        {
            "lower": lims.iloc[:, 0].astype(float),
            "upper": lims.iloc[:, 1].astype(float),
            "sampled_low": [float(init[n].iloc[0]) for n in lims.index],
            "sampled_high": [float(init[n].iloc[1]) for n in lims.index],
            "qp_lower": lims.iloc[:, 2].astype(float),
            "qp_upper": lims.iloc[:, 3].astype(float),
        },
        index=pd.Index([str(n) for n in lims.index], name="parameter"),
    )
    if resample > 0:
        scores = _resample(box, i, resample, seed)
        for column in ("reproduce coverage", "reproduce density"):
            limits[column.replace(" ", "_")] = [
                float(scores.loc[n, column]) if scores is not None else float("nan") for n in limits.index
            ]
    return stats, limits


def box_report(box, resample: int = 0, seed: int = 20161214) -> str:
    """Plain-text report of a PRIM box (see :func:`box_summary`).

    Base rate, coverage, density, mass and the restricted dimensions only, with their limits,
    sampled range and quasi-p-values (and how often resampling reproduces them, with ``resample``).
    """
    stats, limits = box_summary(box, resample, seed)
    buf = io.StringIO()
    buf.write(
        f"PRIM box {stats['box']} on the peeling trajectory\n"
        f"  base rate  {stats['base_rate']:.3f}  (outcome true in {stats['cases']} of {stats['runs']} runs)\n"
        f"  coverage   {stats['coverage']:.3f}  (share of those {stats['cases']} runs inside the box)\n"
        f"  density    {stats['density']:.3f}  (share of the {stats['in_box']} runs inside the box where it is true)\n"
        f"  mass       {stats['mass']:.3f}  (share of all runs inside the box)\n"
        f"  restricted dimensions: {stats['restricted']} (the others keep their sampled range)\n"
    )
    width = max([9, *(len(n) for n in limits.index)])
    head = f"  {'parameter':{width}s} {'box':>21s} {'sampled':>21s} {'qp lower':>9s} {'qp upper':>9s}"
    if "reproduce_coverage" in limits:
        head += "  reproduced % (coverage, density)"
    buf.write(head + "\n")

    def qp(v: float) -> str:
        return f"{v:9.2g}" if np.isfinite(v) else f"{'-':>9s}"

    for name, r in limits.iterrows():
        line = (
            f"  {name:{width}s} {r['lower']:10.4g}..{r['upper']:<9.4g} "
            f"{r['sampled_low']:10.4g}..{r['sampled_high']:<9.4g} {qp(r['qp_lower'])} {qp(r['qp_upper'])}"
        )
        if "reproduce_coverage" in limits:
            if math.isnan(r["reproduce_coverage"]):
                line += "  - (too few runs: a resample had the outcome constant)"
            else:
                line += f"  {r['reproduce_coverage']:.0f}, {r['reproduce_density']:.0f}"
        buf.write(line + "\n")
    return buf.getvalue()
