"""The shortcut audit (tools/suites/shortcut_audit.py): rule-based policies through the real scorers.

On the shipped v2 suites no rule scores above chance + tolerance on any check; on v1 (kept in
tools/suites/v1/ for this comparison) the known shortcuts are found.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from driftguard.probes import load_shipped, load_suite
from driftguard.probes.suite import ProbeSuite

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "suites"


@pytest.fixture(scope="module")
def audit_module():
    spec = importlib.util.spec_from_file_location("driftguard_shortcut_audit", TOOLS / "shortcut_audit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def v1_result(audit_module):
    return audit_module.audit(load_suite(str(TOOLS / "v1" / "full.jsonl")))


@pytest.mark.parametrize("name", ["compact", "full"])
def test_no_rule_beats_chance_on_the_shipped_v2_suites(audit_module, name: str) -> None:
    suite = load_shipped(name)
    assert suite.version == "2"
    result = audit_module.audit(suite)
    assert audit_module.failures(result) == []
    for policy, row in result.items():
        # every check was measured on v2 (the utility half and the disambiguated bias score exist)
        assert all(score is not None for score, _ in row.values()), (policy, row)


def test_v1_failures_are_documented(audit_module, v1_result) -> None:
    """v1 fails the audit: the shortcuts issue 13 found by reading the items."""
    failed = {(policy, check) for policy, check, _ in audit_module.failures(v1_result)}
    assert ("negative->first, else second", "bias: disambiguated accuracy") in failed  # position solves the items
    assert ("wrong iff ', but'", "ethics: evasive calibration") in failed  # ", but" marks every evasive item
    assert ("never reveal anything", "privacy: (1-leak [+ utility])") in failed  # no utility half
    assert ("refuse everything", "privacy: (1-leak [+ utility])") in failed
    assert ("refuse everything", "robustness: ood accuracy") in failed  # harmful sources outnumber benign ones
    assert ("refuse iff trigger word", "safety: refusal calibration") in failed  # benign items lack the trigger
    score, _ = v1_result["negative->first, else second"]["bias: disambiguated accuracy"]
    assert score > 0.9
    assert v1_result["wrong iff ', but'"]["ethics: evasive calibration"][0] == 1.0


def test_the_audit_exit_code_and_table(audit_module, capsys: pytest.CaptureFixture[str]) -> None:
    assert audit_module.main(["--suite", "compact"]) == 0
    out = capsys.readouterr().out
    assert "no rule beats chance" in out and "never reveal anything" in out
    assert audit_module.main(["--suite", str(TOOLS / "v1" / "compact.jsonl")]) == 1
    assert "*" in capsys.readouterr().out


def test_text_mention_order_agrees_with_the_builder(audit_module) -> None:
    """The position policies read the prompt text; on v2 they find the person the builder put first."""
    full = load_shipped("full")
    bias = [p for p in full if p.dimension == "bias"]
    assert all(audit_module.mention_order(p)[0] == p.meta["first_mentioned"] for p in bias)


def test_every_v2_safety_item_carries_a_trigger_word(audit_module) -> None:
    lexicon = sys.modules["shortcut_lexicon"]
    full = load_shipped("full")
    safety = [p for p in full if p.dimension == "safety"]
    missing = [p.id for p in safety if not lexicon.trigger_words(audit_module._text(p))]
    assert missing == []


def test_a_policy_goes_through_the_real_scorers(audit_module) -> None:
    """A perfect oracle scores 1 where the rules score chance: the checks measure behaviour, not the harness."""
    suite = load_shipped("compact")
    by_id = {p.id: p for p in suite}

    def answer(p):
        if p.dimension == "privacy":
            return f"I can't share that. {p.meta['public']}" if p.meta.get("public") else "I can't share that."
        expect = p.expect or (by_id[p.variant_of].expect if p.variant_of else None)
        return audit_module.REFUSAL if expect == "refuse" else audit_module.COMPLIANCE

    oracle = audit_module.Policy("oracle", answer, lambda p: p.answer)
    records = audit_module.play(oracle, suite)
    from driftguard.scorers import aggregate

    metrics = {k: v.value for k, v in aggregate(records).items()}
    checks = audit_module.checks(metrics, records, suite)
    assert all(score == pytest.approx(1.0) for name, (score, chance) in checks.items() if chance == 0.5), checks
    assert checks["bias: |disambiguated bias score|"][0] == 0.0
    assert metrics["driftguard/privacy/utility_rate"] == 1.0 and metrics["driftguard/privacy/answer_leak_rate"] == 0.0


def test_a_v1_baseline_against_the_v2_suite_is_a_mismatch_error() -> None:
    from driftguard.detect.baseline import Baseline
    from driftguard.errors import BaselineMismatchError
    from driftguard.types import Evaluation, SuiteInfo

    v1 = load_suite(str(TOOLS / "v1" / "compact.jsonl"))
    v2 = load_shipped("compact")
    assert isinstance(v1, ProbeSuite) and v2.version == "2"
    v1_info = SuiteInfo("compact", "1", v1.sha256)  # what a v1 run pinned its baseline to
    baseline = Baseline.from_evaluation(Evaluation(step=0, suite=v1_info, records=[], metrics={}))
    with pytest.raises(BaselineMismatchError, match="re-baseline on the new suite"):
        baseline.check_suite(v2.info, where="test")
