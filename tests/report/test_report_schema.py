"""Report schema v1: contract keys, strict JSON, validation naming the field, atomic write, history.jsonl."""

from __future__ import annotations

import json
import math

import pytest
from detect_synthetic import BENIGN, KL, REFUSAL, build_evaluation

from driftguard.detect.detector import DriftDetector
from driftguard.errors import ReportError
from driftguard.report import (
    append_history,
    build_report,
    history_row,
    read_history,
    read_report,
    validate_report,
    write_report,
)

CONTRACT_KEYS = {"schema_version", "step", "verdict", "suite", "baseline", "metrics", "regressions", "kl", "errors"}


def test_report_has_contract_keys_and_is_strict_json(scenario):
    config, det, baseline, current = scenario
    report = build_report(current, det.assess(current), baseline, config=config, checkpoint="out/checkpoint-100")
    assert set(report) >= CONTRACT_KEYS and report["schema_version"] == 1
    assert report["verdict"] == "warn" and report["multiple_testing"] == "tarone-holm" and report["alpha"] == 0.05
    assert report["suite"] == {"name": "synthetic", "version": "1", "sha256": "a" * 64}
    assert report["baseline"] == {"step": 0, "metrics": baseline.metrics}
    (reg,) = report["regressions"]
    assert {"metric", "baseline", "current", "delta", "p_value", "threshold"} <= set(reg)
    assert reg["metric"] == REFUSAL and reg["p_value"] < 0.05
    assert report["kl"]["mean"] == 0.21 and report["kl"]["by_dimension"] == {"safety": 0.35}
    assert report["unscored"] == {REFUSAL: {"baseline": 0, "current": 1}} and report["n_paired"][REFUSAL] == 199
    assert [e["probe_id"] for e in report["errors"]] == ["harmful_refusal_rate-0010"]
    json.dumps(report, allow_nan=False)
    validate_report(report)


def test_nan_metrics_become_null():
    det = DriftDetector()
    det.set_baseline(build_evaluation(0, {REFUSAL: [1.0] * 5, BENIGN: [1.0] * 5}))
    current = build_evaluation(1, {REFUSAL: [1.0] * 5, BENIGN: [math.nan] * 5})
    report = build_report(current, det.assess(current), None)
    assert report["metrics"][BENIGN] is None and report["kl"] is None and report["untested"] == [BENIGN]
    assert len(report["errors"]) == 5
    text = json.dumps(report, allow_nan=False)  # raises on any NaN/Infinity float
    assert ": NaN" not in text
    validate_report(json.loads(text))


def test_baseline_defaults_to_the_assessment_and_baseline_errors_are_carried():
    det = DriftDetector()
    baseline = build_evaluation(0, {REFUSAL: [1.0] * 5}, errors=["harmful_refusal_rate-0002"])
    det.set_baseline(baseline)
    current = build_evaluation(7, {REFUSAL: [1.0] * 5})
    report = build_report(current, det.assess(current))  # e.g. after a resume: no baseline Evaluation at hand
    assert report["baseline"] == {"step": 0, "metrics": {REFUSAL: 1.0}}
    assert report["errors"] == [{"stage": "score", "step": 0, "probe_id": "harmful_refusal_rate-0002",
                                 "type": "Unscored", "message": "judge timed out", "baseline": True}]
    at_baseline = build_report(baseline, det.assess(baseline), baseline)
    assert len(at_baseline["errors"]) == 1 and "baseline" not in at_baseline["errors"][0]  # not counted twice


def test_write_and_read_round_trip_atomically(scenario, tmp_path):
    config, det, baseline, current = scenario
    report = build_report(current, det.assess(current), baseline, config=config,
                          last_passing_checkpoint={"path": "ck-50", "step": 50})
    path = write_report(tmp_path / "ck" / "driftguard.json", report)
    assert read_report(path) == report
    assert sorted(p.name for p in path.parent.iterdir()) == ["driftguard.json"]  # no temp file left


def _valid(scenario) -> dict:
    config, det, baseline, current = scenario
    return build_report(current, det.assess(current), baseline, config=config)


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r.update(schema_version=2), "schema_version"),
    (lambda r: r.pop("step"), "'step'"),
    (lambda r: r.update(step="100"), "'step' must be int"),
    (lambda r: r.update(verdict="great"), "'verdict'"),
    (lambda r: r["suite"].pop("sha256"), "'suite.sha256'"),
    (lambda r: r["baseline"].update(step=None), "'baseline.step'"),
    (lambda r: r["metrics"].update({REFUSAL: "high"}), "metrics["),
    (lambda r: r["regressions"][0].update(delta="x"), "'regressions[0].delta'"),
    (lambda r: r["regressions"][0].pop("p_value"), "'regressions[0].p_value'"),
    (lambda r: r.update(errors="none"), "'errors'"),
    (lambda r: r.update(errors=["boom"]), "'errors[0]'"),
    (lambda r: r["kl"].update(mean="0.2"), "'kl.mean'"),
    (lambda r: r.update(verdict="pass"), "inconsistent"),
    (lambda r: r["deltas"].update({REFUSAL: [1]}), "deltas["),
])
def test_validate_names_the_field(scenario, mutate, field):
    report = _valid(scenario)
    mutate(report)
    with pytest.raises(ReportError, match=field.replace("[", r"\[").replace(".", r"\.")):
        validate_report(report, where="x.json")


def test_read_report_errors_name_the_file(tmp_path):
    with pytest.raises(ReportError, match="no such report"):
        read_report(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1,\n  "step": }')
    with pytest.raises(ReportError, match=r"bad\.json:2:\d+: invalid JSON"):
        read_report(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ReportError, match="JSON object"):
        read_report(bad)


def test_history_rows_are_appended_one_per_line(scenario, tmp_path):
    config, det, baseline, current = scenario
    path = tmp_path / "driftguard" / "history.jsonl"
    for ev in (baseline, current):
        append_history(path, history_row(build_report(ev, det.assess(ev), baseline)))
        assert path.read_text().endswith("\n")  # each row is complete on disk after the call
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    rows = [json.loads(line) for line in lines]
    assert all({"step", "metrics", "deltas", "regressions", "verdict"} <= set(r) for r in rows)
    assert [r["step"] for r in rows] == [0, 100] and [r["verdict"] for r in rows] == ["pass", "warn"]
    assert rows[1]["regressions"][0]["metric"] == REFUSAL and rows[1]["metrics"][KL] == 0.21
    assert rows[1]["errors"] == 1
    assert read_history(path) == rows


def test_history_with_nan_and_torn_last_line(tmp_path):
    path = tmp_path / "history.jsonl"
    append_history(path, {"step": 1, "metrics": {REFUSAL: math.nan}, "deltas": {}, "regressions": [], "verdict": "pass"})
    assert json.loads(path.read_text())["metrics"][REFUSAL] is None
    with open(path, "a") as f:
        f.write('{"step": 2, "metr')  # a crash mid-write
    with pytest.warns(UserWarning, match="truncated last line"):
        assert [r["step"] for r in read_history(path)] == [1]
    path.write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    with pytest.raises(ReportError, match=r"history\.jsonl:2"):
        read_history(path)
