"""Report-test fixtures: reports built by the real detector from synthetic per-item evaluations."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detect"))  # detect_synthetic (shared builders)

from detect_synthetic import BENIGN, KL, REFUSAL, build_evaluation, flips  # noqa: E402

from driftguard.config import DriftGuardConfig  # noqa: E402
from driftguard.detect.detector import DriftDetector  # noqa: E402


@pytest.fixture()
def scenario():
    """(config, detector, baseline eval, regressed eval at step 100 with KL and one errored item)."""
    config = DriftGuardConfig(patience=2)
    det = DriftDetector(config)
    base, cur = flips(200, 190, 70)
    baseline = build_evaluation(0, {REFUSAL: base, BENIGN: [1.0] * 100}, kl={KL: 0.0, "driftguard/kl/safety": 0.0})
    det.set_baseline(baseline)
    cur[10] = float("nan")
    current = build_evaluation(100, {REFUSAL: cur, BENIGN: [1.0] * 100}, kl={KL: 0.21, "driftguard/kl/safety": 0.35})
    return config, det, baseline, current
