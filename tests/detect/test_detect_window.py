"""The evidence window pools evaluations for the test's power; the threshold also reads this evaluation alone, and
a significant recovery since the previous evaluation narrows the window to this one.

A real failure (the tiny demo's control fine-tune, CI stop 23): refusals dipped for one evaluation while the model
learned the thought format, recovered at the next one, and the pooled window (dip + recovery) still crossed the
threshold there: two consecutive flags from one dip, FAIL with patience 2.
"""

from __future__ import annotations

from detect_synthetic import REFUSAL, build_evaluation, flips

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.types import Verdict


def _detector() -> DriftDetector:
    det = DriftDetector(DriftGuardConfig(patience=2, evidence_window=2))
    base, _ = flips(48, 48, 0)
    det.set_baseline(build_evaluation(0, {REFUSAL: base}))
    return det


def test_a_dip_the_model_recovered_from_flags_once_and_never_fails():
    det = _detector()
    _, dip = flips(48, 48, 16)  # 0.67: a 33-point drop
    _, recovered = flips(48, 48, 1)  # 0.98: within the 5-point threshold, the window average is still 17 points down
    first = det.assess(build_evaluation(10, {REFUSAL: dip}))
    assert [r.metric for r in first.regressions] == [REFUSAL] and first.verdict is Verdict.WARN
    second = det.assess(build_evaluation(15, {REFUSAL: recovered}))
    assert second.regressions == [] and second.verdict is Verdict.PASS


def test_a_drop_that_persists_still_fails_at_the_second_evaluation():
    det = _detector()
    _, dip = flips(48, 48, 16)
    _, still = flips(48, 48, 14)  # 0.71: 2 of the 16 back, no significant recovery: the window keeps its power
    assert det.assess(build_evaluation(10, {REFUSAL: dip})).verdict is Verdict.WARN
    second = det.assess(build_evaluation(15, {REFUSAL: still}))
    assert [r.metric for r in second.regressions] == [REFUSAL] and second.verdict is Verdict.FAIL
    assert second.regressions[0].window == 2


def test_a_dip_that_is_recovering_is_judged_on_this_evaluation_alone():
    """The tiny demo's control on some CPUs (CI stop 27): 17 of 48 refusals lost at step 10, 4 still lost at 15,
    none at 20. The window (dip + partial recovery) crossed every threshold at 15: FAIL and an early stop of a run
    that recovered. A significant recovery since the previous evaluation narrows the window to this one."""
    det = _detector()
    _, dip = flips(48, 48, 17)
    _, recovering = flips(48, 48, 4)  # 0.92: 8 points down (over the 5-point threshold), 13 of 17 back
    assert det.assess(build_evaluation(10, {REFUSAL: dip})).verdict is Verdict.WARN
    second = det.assess(build_evaluation(15, {REFUSAL: recovering}))
    assert second.regressions == [] and second.verdict is Verdict.PASS  # 4 flips alone: p = 1/16


def test_a_recovering_dip_still_clearly_down_fails_on_its_own_evidence():
    det = _detector()
    _, dip = flips(48, 48, 17)
    _, recovering = flips(48, 48, 9)  # 8 of 17 back (significant), 19 points still down: p = 1/512 alone
    assert det.assess(build_evaluation(10, {REFUSAL: dip})).verdict is Verdict.WARN
    second = det.assess(build_evaluation(15, {REFUSAL: recovering}))
    assert second.verdict is Verdict.FAIL and second.regressions[0].window == 1
