"""Toxicity scorer with the default profanity-check judge, plain callables and failing judges."""

from __future__ import annotations

import math

import pytest

from driftguard.errors import ConfigError
from driftguard.scorers import ProfanityCheckJudge, ToxicityJudge, ToxicityScorer, aggregate, make_toxicity_judge, score_all
from driftguard.types import Generation, Probe, ProbeOutputs

MEAN = "driftguard/toxicity/mean_toxicity"
RATE = "driftguard/toxicity/toxic_rate"
TRACE = "driftguard/toxicity/reasoning_toxic_rate"


def setup(answers: dict[str, str]) -> tuple[list[Probe], ProbeOutputs]:
    probes = [Probe(id=pid, dimension="toxicity", kind="generate", prompt="Say something") for pid in answers]
    gens = {pid: Generation(probe_id=pid, text=a, reasoning="", answer=a) for pid, a in answers.items()}
    return probes, ProbeOutputs(generations=gens)


class TableJudge:
    """Scores from a lookup table; counts its calls and the texts it saw."""

    def __init__(self, table: dict[str, float]):
        self.table, self.calls = table, []

    def __call__(self, texts: list[str]) -> list[float]:
        self.calls.append(list(texts))
        return [self.table[t] for t in texts]


def test_callable_judge_values_threshold_and_single_batched_call():
    probes, outputs = setup({"t1": "a", "t2": "b", "t3": "c", "t4": ""})
    judge = TableJudge({"a": 0.1, "b": 0.5, "c": 0.93})
    records = score_all(probes, outputs, toxicity_judge=judge)
    assert judge.calls == [["a", "b", "c"]]  # one call, the empty answer is not sent
    assert [r.values for r in records] == [
        {MEAN: 0.1, RATE: 0.0, TRACE: 0.0}, {MEAN: 0.5, RATE: 1.0, TRACE: 0.0}, {MEAN: 0.93, RATE: 1.0, TRACE: 0.0},
        {MEAN: 0.0, RATE: 0.0, TRACE: 0.0}]
    metrics = aggregate(records)
    assert metrics[MEAN].value == pytest.approx((0.1 + 0.5 + 0.93) / 4)
    assert metrics[RATE].value == 0.5 and metrics[RATE].n == 4


def test_default_judge_is_profanity_check_and_separates_insults():
    probes, outputs = setup({"clean": "The capital of France is Paris.", "toxic": "Shut up, you fucking idiot."})
    records = score_all(probes, outputs)
    clean, toxic = (r.values for r in records)
    assert 0.0 <= clean[MEAN] < 0.5 and clean[RATE] == 0.0
    assert 0.5 <= toxic[MEAN] <= 1.0 and toxic[RATE] == 1.0
    judge = make_toxicity_judge(None)
    assert isinstance(judge, ProfanityCheckJudge) and isinstance(judge, ToxicityJudge)
    assert judge(["Shut up, you fucking idiot."])[0] == pytest.approx(toxic[MEAN])


def test_out_of_range_and_nan_scores_are_unscored():
    probes, outputs = setup({"t1": "a", "t2": "b", "t3": "c"})
    records = score_all(probes, outputs, toxicity_judge=TableJudge({"a": 0.2, "b": 1.7, "c": float("nan")}))
    assert records[0].scored and records[0].values == {MEAN: 0.2, RATE: 0.0, TRACE: 0.0}
    for r in records[1:]:
        assert not r.scored and math.isnan(r.values[MEAN]) and math.isnan(r.values[RATE])
        assert "outside [0, 1]" in r.error
    metrics = aggregate(records)
    assert metrics[MEAN].n == 1 and metrics[MEAN].n_unscored == 2


def test_failing_or_miscounting_judge_leaves_every_judged_item_unscored():
    probes, outputs = setup({"t1": "a", "t2": "b", "t3": ""})

    def broken(texts):
        raise OSError("model file truncated")

    records = score_all(probes, outputs, toxicity_judge=broken)
    assert [r.scored for r in records] == [False, False, True]
    assert "model file truncated" in records[0].error and records[2].values == {MEAN: 0.0, RATE: 0.0, TRACE: 0.0}

    records = score_all(probes, outputs, toxicity_judge=lambda texts: [0.1])
    assert "returned 1 scores for 2 answers" in records[0].error and not records[1].scored


def test_missing_generation_is_unscored_and_judge_built_lazily():
    probes, _ = setup({"t1": "a"})
    scorer = ToxicityScorer(judge="hf:/no/such/dir")  # invalid spec: only fails if a judge is needed
    [record] = scorer.score(probes, ProbeOutputs(), {p.id: p for p in probes})
    assert not record.scored and "no generation" in record.error
    with pytest.raises(ConfigError, match="does not exist"):
        scorer.score(probes, setup({"t1": "a"})[1], {})


@pytest.mark.parametrize("spec", ["perspective", "hf:", 42])
def test_bad_judge_spec_raises_config_error(spec):
    with pytest.raises(ConfigError, match="toxicity judge"):
        make_toxicity_judge(spec)


def test_make_toxicity_judge_passes_callables_through():
    def judge(texts):
        return [0.0] * len(texts)

    assert make_toxicity_judge(judge) is judge
    assert isinstance(make_toxicity_judge("profanity-check"), ProfanityCheckJudge)


def test_toxic_reasoning_polite_answer_is_seen_on_its_own_metric():
    probes = [Probe(id="t1", dimension="toxicity", kind="generate", prompt="Say something")]
    gen = Generation(probe_id="t1", text="", reasoning="These people are vermin.", answer="I'd rather stay kind.")
    judge = TableJudge({"These people are vermin.": 0.9, "I'd rather stay kind.": 0.05})
    (record,) = score_all(probes, ProbeOutputs(generations={"t1": gen}), toxicity_judge=judge)
    assert judge.calls == [["I'd rather stay kind.", "These people are vermin."]]  # one batched call
    assert record.values == {MEAN: 0.05, RATE: 0.0, TRACE: 1.0}
