"""Reports state which judges scored them, and a baseline scored by other judges is a BaselineMismatchError."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "detect"))

from detect_synthetic import BENIGN, REFUSAL, SUITE, build_evaluation  # noqa: E402

from driftguard.config import DriftGuardConfig  # noqa: E402
from driftguard.detect.baseline import Baseline  # noqa: E402
from driftguard.detect.detector import DriftDetector  # noqa: E402
from driftguard.errors import BaselineMismatchError, ConfigError, ReportError  # noqa: E402
from driftguard.report import build_report, render_markdown, validate_report  # noqa: E402
from driftguard.scorers.judge_info import suite_judges  # noqa: E402
from driftguard.types import Evaluation, Probe  # noqa: E402

BEHAVIOUR = {"refusal": {"name": "driftguard-behaviour", "version": "2"},
             "toxicity": {"name": "profanity-check+lexicons", "version": "x"}}
MARKERS = {**BEHAVIOUR, "refusal": {"name": "driftguard-markers", "version": "1"}}


def evaluation(step: int, judges: dict | None) -> Evaluation:
    suite = SUITE.with_judges(judges) if judges else SUITE
    return build_evaluation(step, {REFUSAL: [1.0] * 40 + [0.0] * 10, BENIGN: [1.0] * 50}, suite=suite)


def test_baseline_scored_by_another_judge_is_a_mismatch():
    detector = DriftDetector(DriftGuardConfig())
    detector.set_baseline(evaluation(0, BEHAVIOUR))
    with pytest.raises(BaselineMismatchError, match=r"driftguard-markers.*driftguard-behaviour.*re-baseline"):
        detector.assess(evaluation(10, MARKERS))
    assert detector.assess(evaluation(10, BEHAVIOUR)).regressions == []


def test_unknown_judges_on_one_side_do_not_block_old_states():
    detector = DriftDetector(DriftGuardConfig())
    detector.set_baseline(evaluation(0, None))  # a baseline stored before judges were recorded
    detector.assess(evaluation(10, BEHAVIOUR))


def test_judges_survive_the_state_round_trip_and_still_pin_the_baseline():
    detector = DriftDetector(DriftGuardConfig())
    detector.set_baseline(evaluation(0, BEHAVIOUR))
    restored = DriftDetector(DriftGuardConfig())
    restored.load_state_dict(detector.state_dict(), suite=SUITE)  # the suite alone (no judges) still loads
    assert restored.baseline.suite.judges_dict() == BEHAVIOUR
    with pytest.raises(BaselineMismatchError):
        restored.assess(evaluation(10, MARKERS))
    again = Evaluation.from_dict(evaluation(3, BEHAVIOUR).to_dict())
    assert again.suite == SUITE.with_judges(BEHAVIOUR)
    assert Baseline.from_dict(Baseline.from_evaluation(again).to_dict()).suite.judges == again.suite.judges


def test_report_has_a_judges_key_validated_and_rendered():
    detector = DriftDetector(DriftGuardConfig())
    base = evaluation(0, BEHAVIOUR)
    detector.set_baseline(base)
    current = evaluation(10, BEHAVIOUR)
    report = build_report(current, detector.assess(current))
    assert report["judges"] == BEHAVIOUR and report["suite"]["sha256"] == SUITE.sha256
    validate_report(report)
    assert "refusal `driftguard-behaviour` v2" in render_markdown(report)
    legacy = {k: v for k, v in report.items() if k != "judges"}
    validate_report(legacy)  # schema v1 reports without the key stay valid
    with pytest.raises(ReportError, match=r"judges.refusal.version"):
        validate_report({**report, "judges": {"refusal": {"name": "x"}}})


def test_suite_judges_lists_the_roles_the_suite_uses():
    probes = [Probe(id="s", dimension="safety", kind="generate", prompt="p", expect="refuse"),
              Probe(id="p", dimension="privacy", kind="generate", prompt="p", secret="1234-5678")]
    judges = suite_judges(probes)
    assert set(judges) == {"refusal", "leak"}
    assert judges["refusal"]["name"] == "driftguard-behaviour"

    def my_judge(prompts, answers):
        return [False] * len(answers)

    named = suite_judges(probes, refusal_judge=my_judge)["refusal"]
    assert named["name"].endswith("my_judge") and named["version"] == "unversioned"
    tox = suite_judges([Probe(id="t", dimension="toxicity", kind="generate", prompt="p")], toxicity_judge="profanity-check")
    assert tox["toxicity"]["name"] == "profanity-check+lexicons"


def test_config_refusal_judge_is_validated():
    assert DriftGuardConfig().refusal_judge == "behaviour"
    with pytest.raises(ConfigError, match="refusal_judge = 'llm'"):
        DriftGuardConfig(refusal_judge="llm")


def test_probe_pass_records_its_judges(tiny_model, tiny_tokenizer):
    from driftguard.probe_pass import run_probe_pass
    from driftguard.probes.loaders import load_suite

    config = DriftGuardConfig(suite=str(Path(__file__).resolve().parents[1] / "fixtures" / "mini_suite.jsonl"),
                              max_new_tokens=4, batch_size=8, refusal_judge="markers")
    suite = load_suite(config.suite)
    evaluation, _ = run_probe_pass(tiny_model, tiny_tokenizer, suite, config, step=0)
    judges = evaluation.suite.judges_dict()
    assert judges["refusal"] == {"name": "driftguard-markers", "version": "1"}
    assert evaluation.suite.sha256 == suite.sha256
    assert set(judges) <= {"refusal", "toxicity", "leak"}
