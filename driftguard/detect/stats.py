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


def mcnemar_exact(b: int, c: int, alternative: Literal["two-sided", "greater"] = "two-sided") -> float:
    """Exact McNemar p-value from the discordant pair counts ``b`` (1 -> 0) and ``c`` (0 -> 1).

    Under H0 the ``b + c`` discordant pairs split Binomial(b + c, 1/2); ``greater`` is the one-sided
    P(B >= b). No discordant pairs -> 1.0.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    return float(binomtest(b, n, 0.5, alternative=alternative).pvalue)


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


# -- one-sided, cluster-aware tests (the detector's default) --------------------------------------------

_LATTICE_SCALES = (1, 2, 3, 4, 6, 8, 12)  # window sizes whose averaged 0/1 or -1/0/+1 differences are exact
_EXACT_ENUMERATION = 12  # up to 2**12 sign patterns are enumerated; more (off-lattice) -> Monte Carlo


def mcnemar_one_sided(b: int, c: int) -> float:
    """One-sided exact McNemar p-value for "more 1 -> 0 flips (``b``) than 0 -> 1 flips (``c``)": P(B >= b)."""
    return mcnemar_exact(b, c, alternative="greater")


def _lattice(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``values`` as integers times ``1/scale`` for the smallest scale that makes them integral, else None."""
    for scale in _LATTICE_SCALES:
        scaled = values * scale
        rounded = np.rint(scaled)
        if np.all(np.abs(scaled - rounded) < 1e-9) and np.abs(rounded).sum() <= 200_000:
            return rounded.astype(np.int64), scale
    return None


def signflip_pvalue(adverse: np.ndarray, *, n_resamples: int = 2000, seed: int = 0) -> float:
    """One-sided sign-flip (randomisation) p-value of H0 "each unit's adverse change is symmetric about 0".

    ``adverse`` holds one value per independent unit (a probe, or a template cluster: the sum of its
    items' paired differences), oriented so that > 0 is worse. ``p = P(sum(eps * |a|) >= sum(a))`` over
    independent random signs ``eps``. Exact when the values lie on a small lattice (0/1 outcomes, bias
    scores, their window averages: a convolution) or when at most 12 units are non-zero (enumeration);
    otherwise ``n_resamples`` seeded random sign patterns, ``p = (1 + #extreme) / (n_resamples + 1)``; when no
    pattern is as extreme, the smaller of that floor and Hoeffding's bound on the exact p-value (so a strong
    continuous regression can still meet the small levels a late FAIL is spent at; valid: below the floor the
    p-value is an upper bound of the exact one, at or above it the Monte Carlo p-value decides).
    """
    a = np.asarray(adverse, dtype=float).ravel()
    if np.isnan(a).any():
        raise ValueError("adverse changes contain NaN: drop unscored items before testing")
    a = a[a != 0]
    if a.size == 0:
        return 1.0
    observed = float(a.sum())
    magnitudes = np.abs(a)
    lattice = _lattice(magnitudes)
    if lattice is not None:
        ints, scale = lattice
        dist = np.array([1.0])  # distribution of sum(eps * |a|) shifted by sum|a|, on the integer lattice
        for v in ints:
            grown = np.zeros(dist.size + 2 * int(v))
            grown[: dist.size] += 0.5 * dist
            grown[2 * int(v):] += 0.5 * dist
            dist = grown
        total = int(ints.sum())
        threshold = int(round(observed * scale)) + total  # index of the observed sum
        return float(min(1.0, dist[max(threshold, 0):].sum()))
    if a.size <= _EXACT_ENUMERATION:
        signs = ((np.arange(2 ** a.size)[:, None] >> np.arange(a.size)) & 1) * 2 - 1
        sums = signs @ magnitudes
        return float(np.mean(sums >= observed - 1e-12))
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, n_resamples, _BOOT_CHUNK):
        signs = rng.choice((-1.0, 1.0), size=(min(_BOOT_CHUNK, n_resamples - start), a.size))
        extreme += int(np.sum(signs @ magnitudes >= observed - 1e-12))
    p = (1 + extreme) / (n_resamples + 1)
    if extreme == 0:  # at the Monte Carlo floor: Hoeffding's bound on the exact p-value may be smaller (still valid)
        p = min(p, _hoeffding(observed, magnitudes))
    return p


def _hoeffding(observed: float, magnitudes: np.ndarray) -> float:
    """``P(sum(eps * |a|) >= observed) <= exp(-observed^2 / (2 sum a^2))`` for ``observed > 0`` (Hoeffding)."""
    if observed <= 0:
        return 1.0
    return float(math.exp(-observed ** 2 / (2 * float(np.sum(magnitudes ** 2)))))


def min_signflip_pvalue(adverse: np.ndarray, *, n_resamples: int = 2000) -> float:
    """The smallest p-value :func:`signflip_pvalue` can return for these units (all signs adverse): Tarone's screen."""
    a = np.asarray(adverse, dtype=float).ravel()
    m = int(np.count_nonzero(a))
    if m == 0:
        return 1.0
    exact = 0.5 ** m
    nonzero = np.abs(a[a != 0])
    if _lattice(nonzero) is not None or m <= _EXACT_ENUMERATION:
        return exact
    return max(exact, min(1.0 / (n_resamples + 1), _hoeffding(float(nonzero.sum()), nonzero)))


def tarone_holm(p_values: Mapping[str, float], min_p: Mapping[str, float], alpha: float) -> dict[str, float]:
    """Step-down Tarone-Holm at level ``alpha``: adjusted p-values (reject where ``<= alpha``).

    Discrete tests cannot all reject: a metric with 2 discordant pairs never reaches p < 0.25. Tarone's
    screen counts only the hypotheses that *could* reject: at each step ``K`` is the smallest integer with
    ``#{i remaining: min_p_i <= alpha / K} <= K``; those hypotheses are tested at ``alpha / K`` and the
    rejected ones leave the family (Hommel & Krummenauer 1998's step-down). FWER <= alpha. The adjusted
    value reported is ``min(1, p_i * K)`` with the ``K`` of the step that decided ``i`` (monotone in the
    order of rejection), and 1.0 for a hypothesis screened out at the last step.
    """
    for name, p in p_values.items():
        if p is None or math.isnan(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p-value of {name!r} is {p!r}: must be a number in [0, 1]")
    remaining = set(p_values)
    adjusted: dict[str, float] = {}
    running = 0.0  # adjusted values are monotone in the order of rejection
    while remaining:
        k = 1
        while sum(1 for i in remaining if min_p[i] <= alpha / k) > k:
            k += 1
        rejected = sorted((i for i in remaining if min_p[i] <= alpha / k and p_values[i] <= alpha / k),
                          key=lambda i: p_values[i])
        if not rejected:
            for i in remaining:  # a hypothesis screened out (cannot reject at alpha / k) is reported as 1.0
                adjusted[i] = max(running, min(1.0, p_values[i] * k)) if min_p[i] <= alpha / k else 1.0
            break
        for i in rejected:
            running = max(running, min(1.0, p_values[i] * k))
            adjusted[i] = running
        remaining -= set(rejected)
    return {name: adjusted[name] for name in p_values}
