"""Paired significance tests on per-item records. Pure numpy/scipy, no torch.

Every test takes the *paired* values of one metric (the same probes, scored at the baseline and
now) and returns a two-sided p-value. :func:`holm` adjusts the p-values of one evaluation for
multiple testing (family-wise error rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
from scipy.stats import binomtest, wilcoxon

Statistic = Callable[[np.ndarray], np.ndarray]
StatisticName = Literal["mean", "abs_mean"]

_BOOT_CHUNK = 256  # bootstrap replicates drawn per block: memory stays O(chunk * n)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts ``b`` and ``c``.

    Under H0 the ``b + c`` discordant pairs split Binomial(b + c, 1/2). No discordant pairs -> 1.0.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    return float(binomtest(b, n, 0.5, alternative="two-sided").pvalue)


def mcnemar_from_pairs(baseline: np.ndarray, current: np.ndarray) -> float:
    """Exact McNemar on paired 0/1 outcomes: b = 1 -> 0 flips, c = 0 -> 1 flips."""
    base, cur = _paired(baseline, current)
    if not (np.isin(base, (0.0, 1.0)).all() and np.isin(cur, (0.0, 1.0)).all()):
        raise ValueError("McNemar needs 0/1 outcomes; use paired_bootstrap_pvalue for continuous values")
    b = int(np.sum((base == 1) & (cur == 0)))
    c = int(np.sum((base == 0) & (cur == 1)))
    return mcnemar_exact(b, c)


def mean_statistic(x: np.ndarray) -> np.ndarray:
    """Mean over the last axis (items)."""
    return x.mean(axis=-1)


def abs_mean_statistic(x: np.ndarray) -> np.ndarray:
    """|mean| over the last axis: the statistic of a metric whose ideal value is 0 (bias score)."""
    return np.abs(x.mean(axis=-1))


_STATISTICS: dict[str, Statistic] = {"mean": mean_statistic, "abs_mean": abs_mean_statistic}


def paired_bootstrap_pvalue(
    baseline: np.ndarray,
    current: np.ndarray,
    statistic: StatisticName | Statistic = "mean",
    n_boot: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided paired bootstrap p-value for H0: ``statistic(current) == statistic(baseline)``.

    Items are resampled as pairs (probe i keeps its baseline and current value together). The
    observed difference ``T = s(current) - s(baseline)`` is compared with its bootstrap
    distribution shifted to the null (``T* - T``): ``p = (1 + #{|T* - T| >= |T|}) / (n_boot + 1)``.
    ``statistic`` is ``"mean"``, ``"abs_mean"`` (for metrics where 0 is ideal) or a callable that
    reduces the last axis of an array. No difference at all (every pair equal) -> 1.0.
    """
    base, cur = _paired(baseline, current)
    if n_boot < 1:
        raise ValueError(f"n_boot = {n_boot}: must be >= 1, e.g. 2000")
    stat = _STATISTICS[statistic] if isinstance(statistic, str) else statistic
    if np.array_equal(base, cur):
        return 1.0
    observed = float(stat(cur) - stat(base))
    rng = np.random.default_rng(seed)
    n = base.shape[0]
    extreme = 0
    for start in range(0, n_boot, _BOOT_CHUNK):
        idx = rng.integers(0, n, size=(min(_BOOT_CHUNK, n_boot - start), n))
        replicates = stat(cur[idx]) - stat(base[idx])
        # a small tolerance so that ties with |T| (discrete data) count as "at least as extreme"
        extreme += int(np.sum(np.abs(replicates - observed) >= abs(observed) - 1e-12))
    return (1 + extreme) / (n_boot + 1)


def wilcoxon_pvalue(baseline: np.ndarray, current: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of the paired differences (scipy).

    Zero differences are dropped (``zero_method="wilcox"``); all differences zero -> 1.0.
    """
    base, cur = _paired(baseline, current)
    diff = cur - base
    if not np.any(diff != 0):
        return 1.0
    return float(wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm step-down adjusted p-values: monotone in the raw order and capped at 1.

    With m tests sorted ascending, ``p_adj(i) = max_{j <= i} min(1, (m - j) * p(j))`` (j from 0).
    """
    for name, p in p_values.items():
        if p is None or math.isnan(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p-value of {name!r} is {p!r}: must be a number in [0, 1]")
    order = sorted(p_values, key=lambda k: p_values[k])
    m = len(order)
    adjusted: dict[str, float] = {}
    running = 0.0
    for rank, name in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[name])))
        adjusted[name] = running
    return {name: adjusted[name] for name in p_values}


def _paired(baseline: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    base = np.asarray(baseline, dtype=float).ravel()
    cur = np.asarray(current, dtype=float).ravel()
    if base.shape != cur.shape:
        raise ValueError(f"paired samples differ in length: baseline {base.shape[0]}, current {cur.shape[0]}")
    if base.size == 0:
        raise ValueError("no paired items: a test needs at least one item scored at the baseline and now")
    if np.isnan(base).any() or np.isnan(cur).any():
        raise ValueError("paired samples contain NaN: drop unscored items before testing")
    return base, cur
