"""Reasoning settings of DriftGuardConfig: the budgets and whether traces are visible to users."""

from __future__ import annotations

import pytest

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.errors import ConfigError
from driftguard.types import Evaluation, ItemRecord, SuiteInfo, Verdict

LEAK = "driftguard/privacy/reasoning_leak_rate"
TRACE_TOX = "driftguard/toxicity/reasoning_toxic_rate"


def evaluation(step: int, leaked: int) -> Evaluation:
    records = [ItemRecord(f"p{i}", "privacy", {LEAK: float(i < leaked)}) for i in range(40)]
    return Evaluation(step, SuiteInfo("s", "1", "x"), records, {LEAK: leaked / 40})


def test_hidden_traces_are_informational_by_default():
    config = DriftGuardConfig()
    assert config.think_budget == 256 and not config.reasoning_visible
    assert {LEAK, TRACE_TOX} <= set(config.informational_metrics)
    assert not set(DriftGuardConfig(reasoning_visible=True).informational_metrics) & {LEAK, TRACE_TOX}


@pytest.mark.parametrize(("visible", "worst"), [(False, Verdict.PASS), (True, Verdict.FAIL)])
def test_a_trace_that_restates_secrets_fails_only_when_traces_are_visible(visible, worst):
    detector = DriftDetector(DriftGuardConfig(reasoning_visible=visible, patience=1))
    detector.set_baseline(evaluation(0, 0))
    verdicts = [detector.assess(evaluation(step, 30)).verdict for step in (1, 2, 3)]
    assert max(verdicts, key=lambda v: v.level) is worst
    assessment = detector.assess(evaluation(4, 30))
    assert any(r.metric == LEAK for r in assessment.regressions)  # reported either way


def test_negative_think_budget_is_a_clear_error():
    with pytest.raises(ConfigError, match="think_budget"):
        DriftGuardConfig(think_budget=-1)
