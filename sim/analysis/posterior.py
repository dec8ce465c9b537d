"""A calibration's accepted parameter sets, read back for what-ifs that carry parameter uncertainty.

``python run.py calibrate`` (:mod:`sim.analysis.calibration`) writes ``accepted.csv`` (one row per accepted
set: ``set, generation, index, weight, distance``, the primary stories' shares, ``joint``, then one
column per calibrated parameter) and ``identifiability.csv`` into its folder. :func:`load_posterior`
reads them and checks every value against the catalogue.

The sets carry importance weights (ABC population Monte Carlo). For runs they are turned into an
*equal-weight ensemble* of ``K`` sets by systematic resampling with a fixed offset (no random
numbers): replicate ``r`` of every case, arm and variant uses ensemble member ``r mod K``, so the
assignment depends neither on the number of workers nor on the scheduler, and both arms of a
paired comparison share the set as well as the seed (common random numbers).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sim.inputs.errors import InputError
from sim.inputs.params import by_name, calibrated, field_specs, fixed_by_screen, load_defaults, read_toml, suggest
from sim.inputs.scenario import SCENARIO_DIR

ROOT = Path(__file__).resolve().parents[2]

#: Parameters the calibration moves (the rest are facts, levers or documented estimates): data, in
#: ``[calibration]`` of ``scenarios/defaults.toml``, so a new sector or form says there whether it is calibrated.
CALIBRATED = calibrated()
#: The committed calibration result (``validate --robustness`` uses it when no ``--posterior`` is given).
COMMITTED = ROOT / "docs" / "calibration" / "posterior"
#: A parameter is *constrained* when its posterior 90 % interval is narrower than this share of the prior's.
CONSTRAINED_BELOW = 0.7
#: ``compare`` flags an unconstrained parameter whose set-level correlation with a paired difference exceeds this.
FLAG_CORRELATION = 0.3
#: ... and only when the comparison spans at least this many posterior sets.
FLAG_MIN_SETS = 20
#: Columns of ``accepted.csv`` besides the parameters and the story shares.
SCORE_COLUMNS = ("set", "generation", "index", "weight", "distance", "refined", "point")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under normalised ``weights`` (inverse of the weighted CDF, midpoints)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, v))


def systematic_resample(weights: np.ndarray, k: int | None = None) -> list[int]:
    """``k`` indices (default: as many as weights) drawn systematically with offset 1/2: deterministic."""
    w = np.asarray(weights, float)
    k = k or len(w)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return [int(i) for i in np.searchsorted(cdf, (np.arange(k) + 0.5) / k, side="left")]


def effective_sample_size(accepted) -> float:
    """Kish's effective sample size of the posterior's weights, duplicates merged.

    A particle whose moves were refused appears more than once in ``accepted.csv``; its copies are
    one set with their summed weight, so ``(sum w)^2 / sum w^2`` over the *distinct* sets counts how
    many sets the posterior really rests on (equal to the number of particles only when none repeats).
    """
    w = accepted.groupby(["generation", "index"], sort=False)["weight"].sum().to_numpy(float)
    return float(w.sum() ** 2 / (w**2).sum())


def tied_at_best(accepted, tolerance: float = 1e-12) -> int:
    """How many distinct sets share the best distance (1: the best is not tied).

    When the best sets were re-scored on fresh replicates (column ``refined``), the re-scored
    distance decides; otherwise the sampler's.
    """
    column = "refined" if "refined" in accepted and accepted["refined"].notna().any() else "distance"
    best = accepted[column].min()
    top = accepted[accepted[column] <= best + tolerance]
    return len(top.drop_duplicates(["generation", "index"]))


def point_estimate(accepted, keys, low, high) -> tuple[int, dict[str, float], str]:
    """The posterior's point estimate, chosen so that it lies inside its own 90 % intervals.

    Rule (docs/ODD.md III.vii): among the accepted sets whose every value lies inside its weighted
    5-95 % interval, the one with the smallest re-scored distance (column ``refined``: the best sets
    re-scored on fresh replicates), or, when none of them was re-scored, the smallest distance (ties:
    nearest the posterior median in the prior's unit cube, then the first). If no accepted set lies
    inside every interval, the set nearest the median in the unit cube, each value clipped into its
    interval (then it is not a scored set, and the rule says so).

    Args:
        accepted: ``accepted.csv`` as a table (``weight``, ``distance``, one column per key).
        keys: The parameters.
        low: Each parameter's prior low (above 0: log coordinates).
        high: Each parameter's prior high.

    Returns:
        ``(row, values, rule)``: the row it was taken from, its values, and which branch chose it.
    """
    w = accepted["weight"].to_numpy(float)
    lo, hi = np.log(np.asarray(low, float)), np.log(np.asarray(high, float))
    values = np.column_stack([accepted[k].to_numpy(float) for k in keys])
    q = np.array([[weighted_quantile(values[:, j], w, p) for j in range(len(keys))] for p in (0.05, 0.5, 0.95)])
    unit = (np.log(values) - lo) / (hi - lo)
    gap = np.sqrt(((unit - (np.log(q[1]) - lo) / (hi - lo)) ** 2).sum(axis=1))
    inside = ((values >= q[0] - 1e-12 * abs(q[0])) & (values <= q[2] + 1e-12 * abs(q[2]))).all(axis=1)
    specs, dist = by_name(), accepted["distance"].to_numpy(float)
    again = accepted["refined"].to_numpy(float) if "refined" in accepted else np.full(len(dist), np.nan)
    if inside.any():
        row = min(
            np.flatnonzero(inside),
            key=lambda i: (bool(np.isnan(again[i])), 0.0 if np.isnan(again[i]) else again[i], dist[i], gap[i], i),
        )
        return int(row), {k: _typed(specs[k], values[row, j]) for j, k in enumerate(keys)}, "best inside"
    row = int(np.argmin(gap))
    clipped = {}
    for j, k in enumerate(keys):
        v = min(max(values[row, j], q[0, j]), q[2, j])
        if specs[k].kind == "int":
            v = min(max(round(v), math.ceil(q[0, j])), math.floor(q[2, j]))
        clipped[k] = _typed(specs[k], v)
    return row, clipped, "nearest the median, clipped"


def _typed(spec, value: float) -> float:
    return int(round(value)) if spec.kind == "int" else float(value)


@dataclass(frozen=True)
class Posterior:
    """Accepted parameter sets of a calibration.

    Attributes:
        folder: Where it was read from.
        keys: The calibrated parameters (``--set`` keys), in file order.
        sets: One dict of parameter values per accepted set.
        weights: Normalised importance weights of the sets.
        ratios: Posterior 90 % interval width over the prior's, per parameter (``identifiability.csv``).
        prior: ``(low, high)`` of each parameter's prior box.
    """

    folder: Path
    keys: tuple[str, ...]
    sets: tuple[dict[str, float], ...]
    weights: tuple[float, ...]
    ratios: dict[str, float]
    prior: dict[str, tuple[float, float]]

    @cached_property
    def ensemble(self) -> list[int]:
        """Indices into ``sets`` of the equal-weight ensemble (systematic resampling, deterministic)."""
        return systematic_resample(np.array(self.weights))

    @property
    def size(self) -> int:
        """``K``: the number of ensemble members (replicate ``r`` uses member ``r mod K``)."""
        return len(self.sets)

    def member(self, replicate: int) -> int:
        """Index into ``sets`` of the set replicate ``replicate`` uses."""
        return self.ensemble[replicate % self.size]

    def values(self, replicate: int) -> dict[str, float]:
        """The parameter values replicate ``replicate`` runs with."""
        return self.sets[self.member(replicate)]

    def quantiles(self, q: float) -> dict[str, float]:
        """The weighted ``q`` quantile of every parameter."""
        w = np.array(self.weights)
        return {k: weighted_quantile(np.array([s[k] for s in self.sets]), w, q) for k in self.keys}

    @property
    def unconstrained(self) -> list[str]:
        """Parameters the cases leave (nearly) free: 90 % interval ratio at or above :data:`CONSTRAINED_BELOW`."""
        return [k for k in self.keys if self.ratios.get(k, 1.0) >= CONSTRAINED_BELOW]

    @property
    def note(self) -> str:
        """The words every interval made under this posterior carries."""
        return f"replicates over {self.size} posterior sets (parameter and stochastic uncertainty)"


def _read_csv(path: Path, source: str):
    import pandas as pd

    if not path.is_file():
        raise InputError(path, source, "missing (not a calibration result folder?)")
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, source, f"cannot read it as CSV ({str(exc).splitlines()[0][:120]})") from None
    if table.empty:
        raise InputError(path, source, "holds no rows")
    return table


def _number_column(table, path: Path, column: str) -> np.ndarray:
    import pandas as pd

    if column not in table.columns:
        raise InputError(path, column, "missing column")
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise InputError(
            path, column, f"row {int(bad[0]) + 1}: expected a finite number, got {table[column].iloc[bad[0]]!r}"
        )
    return values


def load_posterior(folder: Path | str, source: str = "--posterior") -> Posterior:
    """Read and check a calibration result folder (``accepted.csv``, ``identifiability.csv``).

    Raises:
        InputError: the folder or a file is missing or unreadable, a column is missing, a value is
            not a finite number or lies outside the catalogue's range, or the weights are not positive.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, source, "no such folder (give a calibration result folder)")
    path = folder / "accepted.csv"
    table = _read_csv(path, source)
    _check_vocabulary(folder / "calibration.json")
    keys = tuple(k for k in table.columns if k in CALIBRATED)
    known = {*SCORE_COLUMNS, "joint", *CALIBRATED, *fixed_by_screen(), *_pattern_ids()}  # fixed: columns ignored
    unknown = [str(c) for c in table.columns if c not in known]
    if unknown:  # a misspelt parameter would otherwise be dropped without a word
        raise InputError(path, unknown[0], _foreign(unknown[0]) or "unknown column" + suggest(unknown[0], CALIBRATED))
    if not keys:
        raise InputError(path, source, "no calibrated parameter column")
    specs, columns = by_name(), {}
    for key in keys:
        if key not in specs:
            raise InputError(path, key, _foreign(key) or "not a parameter of scenarios/defaults.toml")
    for key in keys:
        columns[key] = _number_column(table, path, key)
        for i, value in enumerate(columns[key]):
            problem = specs[key].check(int(value) if specs[key].kind == "int" else float(value))
            if problem:
                raise InputError(path, key, f"row {i + 1}: {problem}")
    weights = _number_column(table, path, "weight")
    if (weights < 0).any() or not weights.max() > 0:
        raise InputError(path, "weight", "weights must be 0 or more with a positive sum")
    weights = weights / weights.max()  # finite and at most 1: the sum cannot overflow (nor all underflow)
    ratios, prior = _read_identifiability(folder / "identifiability.csv", source)
    sets = tuple(
        {k: (int(columns[k][i]) if specs[k].kind == "int" else float(columns[k][i])) for k in keys}
        for i in range(len(table))
    )
    return Posterior(folder, keys, sets, tuple(float(w) for w in weights / weights.sum()), ratios, prior)


def _check_vocabulary(path: Path) -> None:
    """Refuse a posterior whose ``calibration.json`` records other sectors, forms or parameters than ours.

    A posterior made with another vocabulary would otherwise be applied without a word to the
    parameters the two share (docs/ODD.md III.vii). A file without the record (older results) is
    checked by its parameter columns only.
    """
    if not path.is_file():
        return
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, "-", f"cannot read it as JSON ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(spec, dict):
        raise InputError(path, "-", "expected a JSON object (a calibration's calibration.json)")
    recorded = spec.get("vocabulary")
    if recorded is not None:
        found = load_defaults().vocab.foreign(recorded) if isinstance(recorded, dict) else ("", "expected an object")
        if found:
            raise InputError(path, f"vocabulary.{found[0]}".rstrip("."), found[1])
    specs = by_name()
    for key in spec.get("prior") or {}:
        if key not in specs:
            raise InputError(path, f"prior.{key}", _foreign(key) or "not a parameter of scenarios/defaults.toml")


def _foreign(key: str) -> str:
    """Why ``key`` names a sector or form of another vocabulary (``sensitivity.planning``), or ''."""
    name, dot, item = key.partition(".")
    spec = next((s for s in field_specs() if s.name == name and s.per is not None), None)
    if not dot or spec is None:
        return ""
    vocab = load_defaults().vocab
    ours = vocab.sector_names if spec.per == "sector" else vocab.form_names
    if item in ours:
        return ""
    return (
        f"made with another vocabulary: no {spec.per} {item!r} in scenarios/defaults.toml "
        f"({spec.per}s: {', '.join(ours)})"
    )


def _pattern_ids() -> set[str]:
    """Ids of the validation patterns: ``accepted.csv`` has one share column per pattern."""
    return {str(t.get("id")) for t in read_toml(SCENARIO_DIR / "patterns.toml").get("pattern", [])}


def _read_identifiability(path: Path, source: str) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    table = _read_csv(path, source)
    for column in ("parameter", "prior_low", "prior_high", "ratio"):
        if column not in table.columns:
            raise InputError(path, column, "missing column")
    ratio, low, high = (_number_column(table, path, c) for c in ("ratio", "prior_low", "prior_high"))
    names = [str(x) for x in table["parameter"]]
    return dict(zip(names, map(float, ratio), strict=True)), {
        n: (float(lo), float(hi)) for n, lo, hi in zip(names, low, high, strict=True)
    }


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r, or 0 when either side is constant."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0 or not math.isfinite(sx * sy):
        return 0.0
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def flag_unconstrained(differences: np.ndarray, posterior: Posterior) -> list[tuple[str, float]]:
    """Unconstrained parameters a what-if answer depends on.

    Rule (docs/ODD.md III.vii): the paired differences of one outcome are averaged per ensemble
    member (replicate ``r`` belongs to member ``r mod K``); across members, a parameter that the
    calibration leaves unconstrained is flagged when its (log) value's Pearson correlation with
    the member means exceeds :data:`FLAG_CORRELATION` in absolute value. Needs at least
    :data:`FLAG_MIN_SETS` members with a replicate; otherwise nothing is flagged.

    Args:
        differences: Variant minus baseline, one per replicate (replicate order).
        posterior: The posterior the replicates ran under.

    Returns:
        ``[(parameter, r), ...]``, largest ``|r|`` first.
    """
    k = min(posterior.size, len(differences))
    if k < FLAG_MIN_SETS:
        return []
    means = np.array([np.mean(differences[j :: posterior.size]) for j in range(k)])
    flags = []
    for key in posterior.unconstrained:
        values = np.array([posterior.values(j)[key] for j in range(k)], float)
        r = correlation(np.log(values) if (values > 0).all() else values, means)
        if abs(r) > FLAG_CORRELATION:
            flags.append((key, round(r, 3)))
    return sorted(flags, key=lambda f: -abs(f[1]))


def posterior_argument(value: Any, source: str = "keyword argument") -> Posterior | None:
    """Accept a :class:`Posterior`, a folder, or ``None``."""
    if value is None or isinstance(value, Posterior):
        return value
    return load_posterior(value, source)
