"""Paired tests and Holm against scipy and hand computations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from driftguard.detect.stats import (
    holm,
    mcnemar_exact,
    mcnemar_from_pairs,
    paired_bootstrap_pvalue,
    wilcoxon_pvalue,
)


def test_mcnemar_exact_known_values():
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)  # 2 * 0.5**5
    assert mcnemar_exact(3, 3) == pytest.approx(1.0)
    assert mcnemar_exact(0, 0) == 1.0
    # b=1, c=9: 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11/1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    with pytest.raises(ValueError, match="b=-1"):
        mcnemar_exact(-1, 2)


def test_mcnemar_from_pairs_counts_discordant_flips():
    base = np.array([1, 1, 1, 1, 0, 0, 1, 0])
    cur = np.array([0, 0, 0, 1, 0, 1, 1, 0])  # b = 3 (1->0), c = 1 (0->1)
    assert mcnemar_from_pairs(base, cur) == pytest.approx(mcnemar_exact(3, 1))
    with pytest.raises(ValueError, match="0/1"):
        mcnemar_from_pairs(np.array([0.5, 1.0]), np.array([1.0, 1.0]))


def test_holm_hand_computed():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    # sorted: a (x3) = 0.03, c (x2) = 0.06, b (x1) = 0.04 -> monotone max -> 0.06
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})
    assert holm({"x": 0.5, "y": 0.6}) == {"x": 1.0, "y": 1.0}
    assert holm({}) == {}
    assert holm({"only": 0.02}) == {"only": 0.02}


def test_holm_matches_brute_force_definition():
    rng = np.random.default_rng(3)
    p = {f"m{i}": float(v) for i, v in enumerate(rng.uniform(0, 0.2, size=7))}
    adjusted = holm(p)
    ranked = sorted(p, key=p.get)
    m = len(p)
    for name in p:
        expected = max(min(1.0, (m - r) * p[ranked[r]]) for r in range(ranked.index(name) + 1))
        assert adjusted[name] == pytest.approx(expected)
        assert adjusted[name] >= p[name]
    for a, b in itertools.pairwise(ranked):
        assert adjusted[a] <= adjusted[b]


def test_holm_rejects_invalid_p():
    with pytest.raises(ValueError, match="'bad'"):
        holm({"bad": math.nan})
    with pytest.raises(ValueError, match="1.5"):
        holm({"bad": 1.5})


def test_wilcoxon_matches_scipy_and_handles_all_zero():
    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    cur = base + rng.normal(0.4, 1.0, size=40)
    assert wilcoxon_pvalue(base, cur) == pytest.approx(sps.wilcoxon(cur - base).pvalue)
    assert wilcoxon_pvalue(base, base.copy()) == 1.0


def test_bootstrap_identical_samples_give_one():
    x = np.array([0.1, 0.5, 0.9, 0.3])
    assert paired_bootstrap_pvalue(x, x.copy()) == 1.0


def test_bootstrap_large_shift_gives_minimal_p():
    rng = np.random.default_rng(1)
    base = rng.normal(size=100)
    cur = base - 3.0 + rng.normal(0, 0.1, size=100)
    assert paired_bootstrap_pvalue(base, cur, n_boot=999) == pytest.approx(1 / 1000)


def test_bootstrap_agrees_with_paired_t_test():
    """For a moderate n the bootstrap p of the mean difference is close to the paired t-test p."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=300)
    noise = rng.normal(size=300)
    cur = base + (noise - noise.mean()) / noise.std() + 0.12  # t = 0.12 * sqrt(300) ~ 2.1
    p_t = sps.ttest_rel(cur, base).pvalue
    p_boot = paired_bootstrap_pvalue(base, cur, n_boot=4000, seed=0)
    assert 0.005 < p_t < 0.5  # an informative, non-degenerate case
    assert p_boot == pytest.approx(p_t, abs=0.03)


def test_bootstrap_is_deterministic_per_seed():
    rng = np.random.default_rng(2)
    base, cur = rng.normal(size=50), rng.normal(0.2, 1, size=50)
    assert paired_bootstrap_pvalue(base, cur, seed=5) == paired_bootstrap_pvalue(base, cur, seed=5)


def test_bootstrap_abs_mean_ignores_sign_flip():
    """A bias score that flips from +0.3 to -0.3 is not worse on |mean|; 0 -> 0.5 is."""
    base = np.array([1.0, 0, 1, 0, 1, 0, 1, 0, 0, 1, -1, 0] * 5)  # mean +0.3 -ish
    flipped = -base
    assert paired_bootstrap_pvalue(base, flipped, "abs_mean") == 1.0
    assert paired_bootstrap_pvalue(base, flipped, "mean") < 0.01
    unbiased = np.zeros(60)
    biased = np.array([1.0, 0.0] * 30)
    assert paired_bootstrap_pvalue(unbiased, biased, "abs_mean", n_boot=999) < 0.01


def test_bootstrap_custom_statistic_and_input_errors():
    base = np.arange(20, dtype=float)
    p = paired_bootstrap_pvalue(base, base + 5, statistic=lambda x: np.median(x, axis=-1), n_boot=200)
    assert p == pytest.approx(1 / 201)
    with pytest.raises(ValueError, match="length"):
        paired_bootstrap_pvalue(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        paired_bootstrap_pvalue(np.array([1.0, math.nan]), np.ones(2))
    with pytest.raises(ValueError, match="no paired items"):
        paired_bootstrap_pvalue(np.array([]), np.array([]))


def test_signflip_is_exact_on_lattices_and_valid_beyond_the_monte_carlo_floor():
    from driftguard.detect.stats import min_signflip_pvalue, signflip_pvalue

    assert signflip_pvalue(np.array([1.0] * 6 + [-1.0])) == pytest.approx(mcnemar_one_sided_ref(6, 1))
    assert signflip_pvalue(np.array([0.5, 0.5, 1.0])) == pytest.approx(1 / 8)  # window averages stay exact
    shifted = np.full(60, 2.0) + np.linspace(-0.1, 0.1, 60)  # a strong continuous regression on every item
    p = signflip_pvalue(shifted, n_resamples=500)
    assert p < 1 / 501 and p == pytest.approx(math.exp(-shifted.sum() ** 2 / (2 * np.sum(shifted ** 2))))
    assert min_signflip_pvalue(shifted, n_resamples=500) <= p
    rng = np.random.default_rng(0)  # under H0 (symmetric changes) rejections at 0.05 stay below 0.05
    rejections = sum(signflip_pvalue(rng.normal(0, 1, 30) * rng.choice([-1, 1], 30), n_resamples=400, seed=i) <= 0.05
                     for i in range(300))
    assert rejections / 300 <= 0.07


def mcnemar_one_sided_ref(b: int, c: int) -> float:
    return sum(math.comb(b + c, k) for k in range(b, b + c + 1)) / 2 ** (b + c)
