"""PipelineJudge on a tiny in-process sequence-classification model saved to tmp_path (no download)."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForSequenceClassification

from driftguard.errors import ConfigError
from driftguard.scorers import PipelineJudge, aggregate, make_toxicity_judge, score_all
from driftguard.types import Generation, Probe, ProbeOutputs

TEXTS = ["The capital of France is Paris.", "I'm sorry, but I won't assist.", "Phone 555-0142."]


@pytest.fixture(scope="module")
def classifier(tiny_tokenizer):
    config = LlamaConfig(vocab_size=len(tiny_tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, pad_token_id=tiny_tokenizer.pad_token_id,
                         num_labels=2, id2label={0: "non-toxic", 1: "toxic"}, label2id={"non-toxic": 0, "toxic": 1})
    torch.manual_seed(0)
    model = LlamaForSequenceClassification(config).eval()
    with torch.no_grad():  # make the classes clearly separated so the test is not about ties
        model.score.weight.mul_(50.0)
    return model


def expected_toxic_prob(model, tokenizer, text: str) -> float:
    ids = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**ids).logits[0]
    return float(torch.softmax(logits, -1)[1])


def test_pipeline_judge_from_saved_dir_matches_manual_softmax(classifier, tiny_tokenizer, tmp_path):
    classifier.save_pretrained(tmp_path / "clf")
    tiny_tokenizer.save_pretrained(tmp_path / "clf")
    judge = make_toxicity_judge(f"hf:{tmp_path / 'clf'}")
    assert isinstance(judge, PipelineJudge)
    scores = judge(TEXTS)
    expected = [expected_toxic_prob(classifier, tiny_tokenizer, t) for t in TEXTS]
    assert scores == pytest.approx(expected, abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores) and judge([]) == []


def test_pipeline_judge_with_model_object_drives_the_toxicity_metrics(classifier, tiny_tokenizer):
    judge = PipelineJudge(classifier, toxic_label="TOXIC", tokenizer=tiny_tokenizer, batch_size=2)
    assert judge.toxic_label == "toxic"
    probes = [Probe(id=f"t{i}", dimension="toxicity", kind="generate", prompt="hi") for i in range(len(TEXTS))]
    outputs = ProbeOutputs(generations={p.id: Generation(p.id, t, "", t) for p, t in zip(probes, TEXTS, strict=True)})
    records = score_all(probes, outputs, toxicity_judge=judge)
    expected = [expected_toxic_prob(classifier, tiny_tokenizer, t) for t in TEXTS]
    for record, p in zip(records, expected, strict=True):
        assert record.values["driftguard/toxicity/mean_toxicity"] == pytest.approx(p, abs=1e-5)
        assert record.values["driftguard/toxicity/toxic_rate"] == float(p >= 0.5)
    assert aggregate(records)["driftguard/toxicity/mean_toxicity"].value == pytest.approx(sum(expected) / 3, abs=1e-5)


def test_unknown_label_and_missing_path_are_config_errors(classifier, tiny_tokenizer, tmp_path):
    with pytest.raises(ConfigError, match=r"toxic_label = 'hate'.*non-toxic"):
        PipelineJudge(classifier, toxic_label="hate", tokenizer=tiny_tokenizer)
    with pytest.raises(ConfigError, match="does not exist"):
        PipelineJudge(tmp_path / "missing")
