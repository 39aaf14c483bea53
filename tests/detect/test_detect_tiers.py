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
    det = DriftDetector(DriftGuardConfig(informational=[]))
    det.set_baseline(make_eval(0, {ETHICS: [1.0] * 10}, kl={COSINE: 1.0}))
    assert det.assess(make_eval(1, {ETHICS: [1.0] * 10}, kl={COSINE: 0.9})).regressions == []
    low = det.assess(make_eval(2, {ETHICS: [1.0] * 10}, kl={COSINE: 0.2}))
    [regression] = low.regressions
    assert regression.metric == COSINE and regression.threshold == 0.5 and regression.test == "budget"
    assert regression.adverse_change > 0 and regression.direction == "higher"
    off = DriftDetector(DriftGuardConfig(thresholds={"mechanism/direction_cosine": 0.0}, informational=[]))
    off.set_baseline(make_eval(0, {ETHICS: [1.0] * 10}, kl={COSINE: 1.0}))
    assert off.assess(make_eval(1, {ETHICS: [1.0] * 10}, kl={COSINE: 0.2})).regressions == [], "0 turns it off"


def test_informational_metrics_are_tested_and_reported_but_never_counted(make_eval):
    """Default: the mechanism metrics are informational (own Holm family); [] makes them count."""
    dprime = "driftguard/mechanism/refusal_dprime"
    base = [2.0] * 30
    cur = [1.0 + 0.01 * i for i in range(30)]
    counted = DriftDetector(DriftGuardConfig(informational=[]))
    noted = DriftDetector(DriftGuardConfig())
    assert dprime in noted.config.informational
    for det in (counted, noted):
        det.set_baseline(make_eval(0, {dprime: base, ETHICS: [1.0] * 40}, kl={COSINE: 1.0}))
    a = counted.assess(make_eval(1, {dprime: cur, ETHICS: [1.0] * 40}, kl={COSINE: 0.1}))
    b = noted.assess(make_eval(1, {dprime: cur, ETHICS: [1.0] * 40}, kl={COSINE: 0.1}))
    assert {r.metric for r in a.regressions} == {dprime, COSINE} and a.verdict == Verdict.WARN
    assert b.regressions == [] and b.verdict == Verdict.PASS and b.consecutive == 0
    assert {r.metric for r in b.informational} == {dprime, COSINE}
    assert b.p_values[dprime] < 0.05 and b.p_values[ETHICS] == 1.0
    assert b.to_dict()["informational"][0]["metric"] in (dprime, COSINE)
