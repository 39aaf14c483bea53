"""Exact McNemar power: brute force agreement, monotonicity, and the suite power table."""

from __future__ import annotations

import math

import pytest

from driftguard.detect.stats import mcnemar_exact
from driftguard.probes.power import (
    critical_count,
    format_table,
    main,
    mcnemar_power,
    metric_items,
    min_detectable_drop,
    min_items_for_drop,
    power_table,
)
from driftguard.probes.suite import ProbeSuite
from driftguard.types import Probe


def brute_force_power(n: int, drop: float, alpha: float, churn: float) -> float:
    """Sum the multinomial probability of every (good->bad, bad->good, unchanged) count the test rejects."""
    pb, pc = drop + churn / 2, churn / 2
    pu = 1 - pb - pc
    total = 0.0
    for b in range(n + 1):
        for c in range(n + 1 - b):
            if b > c and mcnemar_exact(b, c) <= alpha:
                u = n - b - c
                total += math.comb(n, b) * math.comb(n - b, c) * pb**b * pc**c * pu**u
    return total


@pytest.mark.parametrize(("n", "drop", "churn"), [(6, 0.5, 0.1), (25, 0.3, 0.02), (40, 0.15, 0.05), (12, 0.6, 0.0)])
def test_power_matches_brute_force_enumeration(n: int, drop: float, churn: float) -> None:
    assert mcnemar_power(n, drop, 0.05, churn) == pytest.approx(brute_force_power(n, drop, 0.05, churn), abs=1e-12)


def test_critical_count_matches_direct_search() -> None:
    for m in range(0, 60):
        direct = next((b for b in range(m + 1) if b > m - b and mcnemar_exact(b, m - b) <= 0.05), m + 1)
        assert critical_count(m, 0.05) == direct


def test_power_rises_with_items_and_drop() -> None:
    by_n = [mcnemar_power(n, 0.2) for n in (10, 20, 40, 80, 160)]
    assert by_n == sorted(by_n) and by_n[-1] > 0.99
    by_drop = [mcnemar_power(40, d) for d in (0.0, 0.05, 0.1, 0.2, 0.4)]
    assert by_drop == sorted(by_drop) and by_drop[0] < 0.05


def test_min_detectable_drop_shrinks_with_items_and_is_consistent() -> None:
    drops = [min_detectable_drop(n) for n in (20, 40, 80, 160)]
    assert drops == sorted(drops, reverse=True)
    n = min_items_for_drop(0.2)
    assert mcnemar_power(n, 0.2) >= 0.8 > mcnemar_power(n - 1, 0.2)
    assert min_detectable_drop(n) <= 0.2 + 1e-4
    assert math.isinf(min_detectable_drop(3))


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match="alpha"):
        mcnemar_power(10, 0.1, alpha=1.5)
    with pytest.raises(ValueError, match="power"):
        min_detectable_drop(10, power=1.0)


def test_power_table_counts_each_metric_items() -> None:
    probes = [Probe(id=f"h{i}", dimension="safety", kind="generate", prompt="x", expect="refuse") for i in range(30)]
    probes += [Probe(id=f"e{i}", dimension="ethics", kind="choice", prompt="x", options=("wrong", "not wrong"), answer=0,
                     meta={"evasive": i % 3 == 0}) for i in range(30)]
    suite = ProbeSuite("t", "1", tuple(probes))
    items = metric_items(suite)
    assert items["driftguard/safety/harmful_refusal_rate"] == 30
    assert items["driftguard/ethics/accuracy"] == 20 and items["driftguard/ethics/evasive_fpr"] == 10
    rows = power_table(suite)
    row = next(r for r in rows if r["metric"] == "driftguard/safety/harmful_refusal_rate")
    assert row["min_drop"] < row["min_drop_alt_churn"] < row["min_drop_holm"]
    assert "| `driftguard/safety/harmful_refusal_rate` | 30 |" in format_table(suite, rows)


def test_main_prints_the_compact_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compact"]) == 0
    out = capsys.readouterr().out
    assert "Suite `compact` v2" in out and "driftguard/privacy/reasoning_leak_rate" in out


def test_templates_shrink_the_effective_sample_and_raise_the_detectable_drop() -> None:
    """Issue 13 item 3 / issue 14: items sharing a template are one cluster, not independent items."""
    from driftguard.probes.power import effective_items, metric_templates

    def suite(size: int) -> ProbeSuite:
        return ProbeSuite("t", "1", tuple(
            Probe(id=f"h{i}", dimension="safety", kind="generate", prompt="x", expect="refuse",
                  meta={"template": i // size} if size > 1 else {}) for i in range(48)))

    assert metric_templates(suite(4))["driftguard/safety/harmful_refusal_rate"] == 12
    assert metric_templates(suite(1))["driftguard/safety/harmful_refusal_rate"] == 48
    assert effective_items(48, 48, 0.3) == 48 and effective_items(48, 12, 1.0) == 12
    assert effective_items(48, 12, 0.3) == int(48 / 1.9)
    flat = next(r for r in power_table(suite(1)) if r["metric"] == "driftguard/safety/harmful_refusal_rate")
    clustered = next(r for r in power_table(suite(4)) if r["metric"] == "driftguard/safety/harmful_refusal_rate")
    assert clustered["effective_items"] == 25 and clustered["min_drop"] > flat["min_drop"]
    assert flat["min_drop_two_evaluations"] < flat["min_drop"]
    one_sided, two_sided = mcnemar_power(48, 0.1, alternative="greater"), mcnemar_power(48, 0.1)
    assert one_sided > two_sided
