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
    assert forward_only.verdict == Verdict.WARN and forward_only.consecutive == 1
    assert det.assess(make_eval(3, {REFUSAL: cur, ETHICS: [1.0] * 40})).verdict == Verdict.FAIL
    det.assess(make_eval(4, {REFUSAL: base, ETHICS: [1.0] * 40}))  # measured and recovered: the streak ends
    assert det.consecutive == 0 and det.regressed == set()
    state = det.state_dict()
    assert state["regressed"] == [] and DriftDetector().load_state_dict(state) is None


def test_the_direction_cosine_is_a_floor(make_eval):
    det = DriftDetector(DriftGuardConfig())
    det.set_baseline(make_eval(0, {ETHICS: [1.0] * 10}, kl={COSINE: 1.0}))
    assert det.assess(make_eval(1, {ETHICS: [1.0] * 10}, kl={COSINE: 0.9})).regressions == []
    low = det.assess(make_eval(2, {ETHICS: [1.0] * 10}, kl={COSINE: 0.2}))
    [regression] = low.regressions
    assert regression.metric == COSINE and regression.threshold == 0.5 and regression.test == "budget"
    assert regression.adverse_change > 0 and regression.direction == "higher"
    off = DriftDetector(DriftGuardConfig(thresholds={"mechanism/direction_cosine": 0.0}))
    off.set_baseline(make_eval(0, {ETHICS: [1.0] * 10}, kl={COSINE: 1.0}))
    assert off.assess(make_eval(1, {ETHICS: [1.0] * 10}, kl={COSINE: 0.2})).regressions == [], "0 turns it off"
