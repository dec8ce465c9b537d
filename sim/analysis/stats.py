"""Interval statistics shared by every table and figure: Wilson, Newcombe and Student t.

One place for the methods named in the ``method`` column of ``summary.csv`` and ``comparison.csv``.
"""

from __future__ import annotations

import math


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial share.

    The limits are clamped to bracket the share itself: at 0 or ``n`` successes the formula's
    limit equals the share up to a rounding error (``1 - 1e-16``), which would otherwise put the
    share just outside its own interval (and give plots negative error bars).
    """
    # Wilson rather than the normal (Wald) interval: the shares scored here sit near 0 (null models)
    # or 1 (stories), where Wald's interval shrinks to nothing and undercovers badly.
    if n == 0:
        # No replicate: nothing is known, the interval is the whole range.
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


#: Two-sided 95 %: the standard normal quantile used by the score intervals.
Z95 = 1.959964

#: How each interval is computed (the ``method`` column of ``summary.csv`` and ``comparison.csv``).
METHODS = {
    "share": "Wilson score",
    "mean": "Student t",
    "paired share": "Newcombe hybrid score, paired (1998, method 10)",
    "paired mean": "paired Student t",
}


def t_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student t interval (``n - 1`` degrees of freedom).

    The interval is ``mean ± t(1 - (1 - level)/2, n - 1) · sd / sqrt(n)``. With fewer than two
    values there is no interval (NaN limits); with identical values it has zero width, which is
    then exact (every replicate gave the same number).

    Args:
        values: The sample (e.g. one value per replicate, or paired differences).
        level: Confidence level.

    Returns:
        ``(mean, low, high)``.
    """
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan, math.nan
    # Imported here: scipy is slow to import and most callers need only the score intervals.
    from scipy.stats import t

    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, min(mean, mean - half), max(mean, mean + half)  # bracket the mean despite rounding


def newcombe_paired(both: int, first_only: int, second_only: int, neither: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for a difference of paired proportions (1998, method 10).

    Each of ``n`` pairs is a (first, second) pair of yes/no outcomes, counted in the four cells of
    the paired 2x2 table. The difference is ``p1 - p2`` with ``p1 = (both + first_only) / n`` and
    ``p2 = (both + second_only) / n``. The interval combines the Wilson score intervals
    ``(l1, u1)`` and ``(l2, u2)`` of the two marginal shares ("square and add"), corrected for
    their correlation ``phi``::

        low  = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)^2)

    where ``phi = (A - n/2) / sqrt(r1 r2 c1 c2)`` if ``A = both·neither - first_only·second_only``
    exceeds ``n/2``, 0 if ``0 <= A <= n/2``, ``A / sqrt(r1 r2 c1 c2)`` if ``A < 0`` (continuity-corrected
    phi; 0 when a margin is empty). Unlike the normal (Wald) interval it never has zero width: if
    every pair moves the same way, or none moves, the Wilson limits of the margins still leave room.

    References: R. G. Newcombe (1998), Improved confidence intervals for the difference between
    binomial proportions based on paired data, Statistics in Medicine 17, 2635-2650; worked
    examples in Fagerland, Lydersen and Laake (2017), Statistical Analysis of Contingency Tables,
    chapter 8.

    Args:
        both: Pairs with yes in both.
        first_only: Pairs with yes in the first only.
        second_only: Pairs with yes in the second only.
        neither: Pairs with no in both.
        z: Standard normal quantile (1.96 for 95 %).

    Returns:
        ``(low, high)`` for ``p1 - p2``.
    """
    # Paired, not two independent shares: arms run on the same seeds (common random numbers), so
    # their outcomes are positively correlated and the unpaired interval would be far too wide.
    n = both + first_only + second_only + neither
    if n == 0:
        return (-1.0, 1.0)
    k1, k2 = both + first_only, both + second_only
    p1, p2 = k1 / n, k2 / n
    l1, u1 = wilson(k1, n, z)
    l2, u2 = wilson(k2, n, z)
    margins = k1 * (n - k1) * k2 * (n - k2)
    a = both * neither - first_only * second_only
    if margins == 0 or 0 <= a <= n / 2:
        phi = 0.0
    else:
        phi = (a - n / 2 if a > n / 2 else a) / math.sqrt(margins)
    d = p1 - p2
    # max(0, .): with phi close to 1 rounding can make the radicand a hair below zero.
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = d + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, min(d, low)), min(1.0, max(d, high))  # bracket the difference despite rounding
