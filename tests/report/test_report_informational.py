"""Informational metrics in reports, history, alerts and the gate: shown, flagged, never counted (issue 14 item 3)."""

from __future__ import annotations

from detect_synthetic import REFUSAL, build_evaluation

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.gate import check_report
from driftguard.report import build_report, history_row, validate_report
from driftguard.report_render import render_markdown
from driftguard.sinks.alerts import AlertState, plan_alerts

LEAK = "driftguard/privacy/reasoning_leak_rate"


def _report():
    config = DriftGuardConfig(patience=1, informational_metrics=[LEAK])
    det = DriftDetector(config)
    baseline = build_evaluation(0, {REFUSAL: [1.0] * 43, LEAK: [0.0] * 43})
    det.set_baseline(baseline)
    current = build_evaluation(1, {REFUSAL: [1.0] * 43, LEAK: [1.0] * 20 + [0.0] * 23})
    return build_report(current, det.assess(current), baseline, config=config)


def test_pass_report_lists_the_informational_regression():
    report = _report()
    validate_report(report, where="report")  # PASS with an informational regression is consistent
    assert report["verdict"] == "pass" and [r["metric"] for r in report["regressions"]] == [LEAK]
    assert report["regressions"][0]["informational"] is True
    assert history_row(report)["regressions"][0]["informational"] is True
    assert "informational: regressed" in render_markdown(report)


def test_informational_regression_neither_alerts_nor_blocks_the_gate():
    from driftguard.gate import GatePolicy

    report = _report()
    alerts, _ = plan_alerts(AlertState(), report, step=1)
    assert alerts == []
    problems, missing = check_report(report, GatePolicy())
    assert problems == [] and missing == []
