"""The detector on tiered evaluations: a metric not measured now holds its streak; the cosine floor."""

from __future__ import annotations

from detect_synthetic import ETHICS, REFUSAL, flips

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.types import Verdict

COSINE = "driftguard/mechanism/direction_cosine"


def test_a_forward_only_evaluation_does_not_clear_a_generation_regression(make_eval):
    """Old code: the forward-only evaluation (no refusal rate) reset the count, so the FAIL never came."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    base, cur = flips(60, 60, 30)
    det.set_baseline(make_eval(0, {REFUSAL: base, ETHICS: [1.0] * 40}))
    assert det.assess(make_eval(1, {REFUSAL: cur, ETHICS: [1.0] * 40})).verdict == Verdict.WARN
    forward_only = det.assess(make_eval(2, {ETHICS: [1.0] * 40}))  # the refusal rate was not measured
    assert forward_only.verdict == Verdict.WARN and forward_only.streaks == {REFUSAL: 1}  # held, not cleared
    assert det.assess(make_eval(3, {REFUSAL: cur, ETHICS: [1.0] * 40})).verdict == Verdict.FAIL
    recovered = det.assess(make_eval(4, {REFUSAL: base, ETHICS: [1.0] * 40}))  # measured and recovered
    assert recovered.streaks == {} and recovered.verdict == Verdict.PASS
    state = det.state_dict()
    assert state["patience"]["streaks"] == {} and DriftDetector().load_state_dict(state) is None


def test_the_direction_cosine_is_a_floor(make_eval):
    det = DriftDetector(DriftGuardConfig(informational_metrics=[]))
    det.set_baseline(make_eval(0, {ETHICS: [1.0] * 10}, kl={COSINE: 1.0}))
    assert det.assess(make_eval(1, {ETHICS: [1.0] * 10}, kl={COSINE: 0.9})).regressions == []
    low = det.assess(make_eval(2, {ETHICS: [1.0] * 10}, kl={COSINE: 0.2}))
    [regression] = low.regressions
    assert regression.metric == COSINE and regression.threshold == 0.5 and regression.test == "budget"
    assert regression.adverse_change > 0 and regression.direction == "higher"
    off = DriftDetector(DriftGuardConfig(thresholds={"mechanism/direction_cosine": 0.0}, informational_metrics=[]))
    off.set_baseline(make_eval(0, {ETHICS: [1.0] * 10}, kl={COSINE: 1.0}))
    assert off.assess(make_eval(1, {ETHICS: [1.0] * 10}, kl={COSINE: 0.2})).regressions == [], "0 turns it off"


def test_informational_metrics_are_tested_and_reported_but_never_counted(make_eval):
    """Default: the mechanism metrics are informational (own Holm family); [] makes them count."""
    dprime = "driftguard/mechanism/refusal_dprime"
    base = [2.0] * 30
    cur = [1.0 + 0.01 * i for i in range(30)]
    counted = DriftDetector(DriftGuardConfig(informational_metrics=[]))
    noted = DriftDetector(DriftGuardConfig())
    assert dprime in noted.config.informational_metrics
    for det in (counted, noted):
        det.set_baseline(make_eval(0, {dprime: base, ETHICS: [1.0] * 40}, kl={COSINE: 1.0}))
    a = counted.assess(make_eval(1, {dprime: cur, ETHICS: [1.0] * 40}, kl={COSINE: 0.1}))
    b = noted.assess(make_eval(1, {dprime: cur, ETHICS: [1.0] * 40}, kl={COSINE: 0.1}))
    assert {r.metric for r in a.regressions} == {dprime, COSINE} and a.verdict == Verdict.WARN
    assert b.verdict == Verdict.PASS and not [r for r in b.regressions if not r.informational]
    assert {r.metric for r in b.regressions if r.informational} == {dprime, COSINE}
    assert dprime in b.informational and b.p_values[dprime] < 0.05 and b.p_values[ETHICS] == 1.0
