"""Gate-test fixtures: report files written by the real detector + report writer from synthetic evaluations."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detect"))  # detect_synthetic (shared builders)

from detect_synthetic import BENIGN, KL, REFUSAL, build_evaluation, flips  # noqa: E402

from driftguard.config import DriftGuardConfig  # noqa: E402
from driftguard.detect.detector import DriftDetector  # noqa: E402
from driftguard.report import build_report, write_report  # noqa: E402

BASE, DROPPED = flips(200, 190, 70)  # harmful refusal 0.95 -> 0.60
SMALL = flips(200, 190, 4)[1]  # 0.95 -> 0.93: below the 0.05 threshold, a pass
BENIGN_ITEMS = [1.0] * 90 + [0.0] * 10


@pytest.fixture()
def run_dir(tmp_path) -> Path:
    """A run with checkpoints: 50 (small drop, pass), 100 (warn), 150 (fail),
    200 (clean but a probe errored: warn, the patience counter is held)."""
    det = DriftDetector(DriftGuardConfig(patience=2))
    baseline = build_evaluation(0, {REFUSAL: BASE, BENIGN: BENIGN_ITEMS}, kl={KL: 0.0})
    det.set_baseline(baseline)
    plan = [(50, SMALL, (), 0.1), (100, DROPPED, (), 0.2), (150, DROPPED, (), 0.3),
            (200, BASE, ("benign_compliance_rate-0003",), 0.3)]
    for step, refusal, errors, kl in plan:
        ev = build_evaluation(step, {REFUSAL: refusal, BENIGN: BENIGN_ITEMS}, kl={KL: kl}, errors=errors)
        ckpt = tmp_path / f"checkpoint-{step}"
        ckpt.mkdir()
        write_report(ckpt / "driftguard.json", build_report(ev, det.assess(ev), baseline, checkpoint=str(ckpt)))
    return tmp_path
