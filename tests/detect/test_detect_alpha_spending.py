"""Alpha spending: every evaluation that can FAIL spends its own term; k counts per metric; FAIL-blind is said."""

from __future__ import annotations

import math
import warnings

import pytest
from detect_synthetic import ETHICS, REFUSAL

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.detect.patience import spent_alpha


def churn(n: int, moved: int = 2) -> tuple[list[float], list[float]]:
    """(baseline, current) 0/1 outcomes where ``moved`` items go 1 -> 0 and ``moved`` go 0 -> 1: no regression,
    but changes that, all adverse, would reach the threshold -- the metric is tested and spends alpha."""
    base = [1.0] * (n - moved) + [0.0] * moved
    return base, [0.0] * moved + [1.0] * (n - 2 * moved) + [1.0] * moved


ETH0, ETH = churn(40)
E8_0, E8 = churn(8, 1)
REF0, REF = churn(60, 3)


def test_unscheduled_evaluations_spend_their_own_alpha_term(make_eval):
    """Old code: an irregular evaluation (save, on_evaluate, end) reused the last scheduled level."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    det.set_baseline(make_eval(0, {ETHICS: ETH0}))
    scheduled = det.assess(make_eval(1, {ETHICS: ETH}))
    save = det.assess(make_eval(1, {ETHICS: ETH}), scheduled=False)
    nxt = det.assess(make_eval(2, {ETHICS: ETH}))
    assert scheduled.fail_alpha == pytest.approx(spent_alpha(0.05, 1))
    assert save.fail_alpha == pytest.approx(spent_alpha(0.05, 2)), "the save consumes the next term"
    assert nxt.fail_alpha == pytest.approx(spent_alpha(0.05, 3))
    assert nxt.fail_k == {ETHICS: 3}


def test_forward_only_evaluations_do_not_advance_k_of_generation_metrics(make_eval):
    """generate_every=4: the refusal rate is tested at evaluations 1 and 5; its second test is its k=2."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    det.set_baseline(make_eval(0, {REFUSAL: REF0, ETHICS: ETH0}))
    det.assess(make_eval(1, {REFUSAL: REF, ETHICS: ETH}))
    for step in (2, 3, 4):
        forward = det.assess(make_eval(step, {ETHICS: ETH}))
        # each metric of the family owns 1/M of alpha; a forward-only evaluation spends only the ethics share
        assert forward.fail_alpha == pytest.approx(spent_alpha(0.05, step) / 2)
    full = det.assess(make_eval(5, {REFUSAL: REF, ETHICS: ETH}))
    assert full.fail_k == {REFUSAL: 2, ETHICS: 5}
    assert full.fail_alpha == pytest.approx((spent_alpha(0.05, 2) + spent_alpha(0.05, 5)) / 2)
    assert full.fail_alpha > 3 * spent_alpha(0.05, 5), "old code: spent_alpha(alpha, 5) for every metric"


def test_run_level_bound_holds_over_any_mix_of_tiers(make_eval):
    """The levels spent over a run (forward, full, unscheduled) sum to at most alpha."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    det.set_baseline(make_eval(0, {REFUSAL: REF0, ETHICS: ETH0}))
    total = 0.0
    for step in range(1, 200):
        cols = {ETHICS: ETH, **({REFUSAL: REF} if step % 4 == 0 else {})}
        total += det.assess(make_eval(step, cols), scheduled=step % 7 != 0).fail_alpha
    assert total < 0.05


def test_fail_blind_metrics_are_reported_and_warned_once(make_eval):
    """8 items: the best one-sided p is 1/256; once the spent level is below it the metric can never FAIL."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    det.set_baseline(make_eval(0, {ETHICS: E8_0, REFUSAL: REF0}))
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(1, 12):
            seen.append(det.assess(make_eval(step, {ETHICS: E8, REFUSAL: REF})).fail_blind_metrics)
    # k-th level: 0.05 * 6 / (pi^2 k^2) (two metrics of equal k share it); below 1/256 from k = 3 on
    first = next(k for k in range(1, 100) if spent_alpha(0.05, k) < 0.5 ** 8) - 1
    assert seen[:first] == [[]] * first and all(s == [ETHICS] for s in seen[first:])
    blind = [w for w in caught if "FAIL-blind" in str(w.message)]
    assert len(blind) == 1 and ETHICS in str(blind[0].message)
    assert REFUSAL not in sum(seen, [])
    assert math.isfinite(spent_alpha(0.05, first + 1))


def test_resume_restores_per_metric_k(make_eval):
    det = DriftDetector(DriftGuardConfig(patience=2))
    det.set_baseline(make_eval(0, {REFUSAL: REF0, ETHICS: ETH0}))
    det.assess(make_eval(1, {REFUSAL: REF, ETHICS: ETH}))
    det.assess(make_eval(2, {ETHICS: ETH}))
    det.assess(make_eval(3, {ETHICS: ETH}), scheduled=False)
    resumed = DriftDetector(DriftGuardConfig(patience=2))
    resumed.load_state_dict(det.state_dict())
    a = resumed.assess(make_eval(4, {REFUSAL: REF, ETHICS: ETH}))
    assert a.fail_k == {REFUSAL: 2, ETHICS: 4}


def test_the_report_carries_the_spending_and_the_fail_blind_metrics(make_eval):
    from driftguard.report import build_report

    det = DriftDetector(DriftGuardConfig(patience=2))
    det.set_baseline(make_eval(0, {ETHICS: E8_0, REFUSAL: REF0}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(1, 5):
            evaluation = make_eval(step, {ETHICS: E8, REFUSAL: REF})
            assessment = det.assess(evaluation)
    report = build_report(evaluation, assessment)
    assert report["fail_blind_metrics"] == [ETHICS]
    assert report["fail_k"] == {ETHICS: 4, REFUSAL: 4} and report["fail_alpha"] == pytest.approx(spent_alpha(0.05, 4))


def test_an_evaluation_that_cannot_flag_spends_nothing(make_eval):
    """The callback assesses the baseline against itself (irregular, no change): before, it consumed k = 1 of every
    metric, so the first real evaluation tested at spent_alpha(2) -- 4x stricter than the spending allows."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    baseline = make_eval(0, {ETHICS: ETH0, REFUSAL: REF0})
    det.set_baseline(baseline)
    own = det.assess(baseline, scheduled=False)
    assert own.fail_k == {} and own.fail_alpha == 0.0 and own.fail_blind_metrics == []
    first = det.assess(make_eval(1, {ETHICS: ETH, REFUSAL: REF}))
    assert first.fail_k == {ETHICS: 1, REFUSAL: 1}
    assert first.fail_alpha == pytest.approx(spent_alpha(0.05, 1))
