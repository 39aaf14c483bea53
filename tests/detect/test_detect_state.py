"""Detector state: JSON round trip (baseline, patience counter, last passing checkpoint), suite fingerprint checks."""

from __future__ import annotations

import json
import math

import pytest
from detect_synthetic import OTHER_SUITE, REFUSAL, SUITE, TOXIC, build_evaluation, flips

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.errors import BaselineMismatchError, DriftGuardError
from driftguard.types import Verdict

BASE, DROPPED = flips(200, 190, 70)


def _started(**config) -> DriftDetector:
    det = DriftDetector(DriftGuardConfig(**config))
    values = list(BASE)
    values[3] = math.nan  # an unscored baseline item must survive the JSON round trip
    det.set_baseline(build_evaluation(0, {REFUSAL: values, TOXIC: [0.0] * 200}))
    return det


def test_state_round_trip_keeps_baseline_patience_and_last_checkpoint():
    det = _started(patience=3)
    ok = det.assess(build_evaluation(50, {REFUSAL: BASE, TOXIC: [0.0] * 200}))
    assert det.mark_checkpoint("out/checkpoint-50", ok) == {"path": "out/checkpoint-50", "step": 50}
    first = det.assess(build_evaluation(100, {REFUSAL: DROPPED, TOXIC: [0.0] * 200}))
    assert first.verdict is Verdict.WARN
    state = json.loads(json.dumps(det.state_dict(), allow_nan=False))  # strict JSON: NaN stored as null
    resumed = DriftDetector(DriftGuardConfig(patience=3))
    resumed.load_state_dict(state, suite=SUITE)
    assert resumed.consecutive == 1
    assert resumed.last_passing_checkpoint == {"path": "out/checkpoint-50", "step": 50}
    assert resumed.baseline.values == det.baseline.values and resumed.baseline.step == 0
    assert resumed.baseline.metrics == det.baseline.metrics
    assert resumed.baseline.unscored == {REFUSAL: 1} and len(resumed.baseline.errors) == 1
    later = build_evaluation(150, {REFUSAL: DROPPED, TOXIC: [0.0] * 200})
    a, b = det.assess(later), resumed.assess(later)
    assert a.to_dict() == b.to_dict() and b.consecutive == 2 and b.verdict is Verdict.WARN
    assert resumed.assess(later).verdict is Verdict.FAIL  # third consecutive regression


def test_nan_baseline_metric_round_trips_as_null():
    det = DriftDetector(DriftGuardConfig())
    det.set_baseline(build_evaluation(0, {REFUSAL: [math.nan] * 4}))
    text = json.dumps(det.state_dict(), allow_nan=False)
    assert '"driftguard/safety/harmful_refusal_rate": null' in text
    other = DriftDetector(DriftGuardConfig())
    other.load_state_dict(json.loads(text))
    assert math.isnan(other.baseline.metrics[REFUSAL])


def test_baseline_from_another_suite_names_both_fingerprints():
    state = _started().state_dict()
    with pytest.raises(BaselineMismatchError) as info:
        DriftDetector(DriftGuardConfig()).load_state_dict(state, suite=OTHER_SUITE)
    assert SUITE.sha256 in str(info.value) and OTHER_SUITE.sha256 in str(info.value)
    det = DriftDetector(DriftGuardConfig())
    det.load_state_dict(state)
    with pytest.raises(BaselineMismatchError, match=OTHER_SUITE.sha256):
        det.assess(build_evaluation(10, {REFUSAL: BASE}, suite=OTHER_SUITE))
    pinned = DriftDetector(DriftGuardConfig(), suite=OTHER_SUITE)
    with pytest.raises(BaselineMismatchError, match=SUITE.sha256):
        pinned.set_baseline(build_evaluation(0, {REFUSAL: BASE}))


def test_mark_checkpoint_accepts_reports_and_skips_warn_or_errors():
    det = _started()
    assert det.mark_checkpoint("ck-1", {"verdict": "pass", "step": 1, "errors": []}) == {"path": "ck-1", "step": 1}
    assert det.mark_checkpoint("ck-2", {"verdict": "warn", "step": 2, "errors": []})["path"] == "ck-1"
    errored = {"verdict": "pass", "step": 3, "errors": [{"stage": "probe_pass"}]}
    assert det.mark_checkpoint("ck-3", errored)["path"] == "ck-1"
    unscored = det.assess(build_evaluation(4, {REFUSAL: BASE, TOXIC: [math.nan] + [0.0] * 199}))
    assert unscored.verdict is Verdict.WARN and unscored.errors == 1  # errors are never a pass
    assert det.mark_checkpoint("ck-4", unscored)["path"] == "ck-1"


@pytest.mark.parametrize("state, field", [
    ({"version": 99}, "version"),
    ("not a dict", "version"),
    ({"version": 1, "baseline": None, "consecutive": -1}, "consecutive"),
    ({"version": 1, "baseline": None, "consecutive": 0, "last_passing_checkpoint": "x"}, "last_passing_checkpoint"),
    ({"version": 1, "baseline": {"step": 0}}, "malformed baseline"),
])
def test_invalid_state_is_rejected_naming_the_field(state, field):
    with pytest.raises(DriftGuardError, match=field):
        DriftDetector(DriftGuardConfig()).load_state_dict(state)
