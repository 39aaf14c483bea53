"""The mechanism tier inside DriftMonitor: fitted at the baseline, read at every evaluation, forward tier, resume."""

from __future__ import annotations

import json

import pytest
import torch

from driftguard.config import DriftGuardConfig
from driftguard.errors import BaselineMismatchError
from driftguard.mechanism import DIRECTION_COSINE, HARMFUL_PROJECTION, MECHANISM_METRICS, REFUSAL_DPRIME
from driftguard.mechanism.activations import last_token_states
from driftguard.mechanism.probe import refusal_prompts
from driftguard.monitor import DriftMonitor
from driftguard.probes import load_suite
from driftguard.probes.suite import ProbeSuite
from driftguard.report import build_report, render_markdown
from driftguard.runner import render_prompt_ids

GENERATION_METRICS = ("driftguard/safety/harmful_refusal_rate", "driftguard/toxicity/mean_toxicity",
                      "driftguard/privacy/answer_leak_rate")


@pytest.fixture(scope="module")
def small_suite() -> ProbeSuite:
    """12 harmful + 12 benign safety prompts, a few choice and toxicity probes of the compact suite."""
    suite = load_suite("compact")
    harmful, benign = refusal_prompts(suite)
    keep = {p.id for p in harmful[:12] + benign[:12]}
    keep |= {p.id for p in [p for p in suite if p.dimension in ("bias", "ethics")][:6]}
    keep |= {p.id for p in [p for p in suite if p.dimension == "toxicity"][:3]}
    return ProbeSuite("mechanism-test", "1", tuple(p for p in suite if p.id in keep))


def _monitor(suite, **kw) -> DriftMonitor:
    return DriftMonitor(DriftGuardConfig(max_new_tokens=4, batch_size=8, **kw), suite=suite)


def _perturb(model, scale: float = 0.05) -> None:
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))


def test_last_token_states_are_the_unpadded_last_token_at_every_layer(tiny_model, tiny_tokenizer, small_suite):
    harmful, benign = refusal_prompts(small_suite)
    probes = harmful[:3] + benign[:2]
    batched = last_token_states(tiny_model, tiny_tokenizer, probes, batch_size=8)
    for probe in probes:  # one prompt alone, no padding, plain forward
        ids = torch.tensor([render_prompt_ids(tiny_tokenizer, probe.chat())])
        with torch.no_grad():
            out = tiny_model(input_ids=ids, output_hidden_states=True)
        alone = torch.stack([h[0, -1] for h in out.hidden_states]).numpy()
        assert batched[probe.id].shape == alone.shape == (tiny_model.config.num_hidden_layers + 1,
                                                         tiny_model.config.hidden_size)
        assert abs(batched[probe.id] - alone).max() < 1e-4, probe.id


def test_baseline_fits_the_direction_and_every_evaluation_reads_it(tiny_model_factory, tiny_tokenizer, small_suite):
    model = tiny_model_factory(0)
    monitor = _monitor(small_suite)
    baseline = monitor.start(model, tiny_tokenizer)
    assert baseline.errors == [] and set(MECHANISM_METRICS) <= set(baseline.metrics)
    assert baseline.metrics[DIRECTION_COSINE] == pytest.approx(1.0)
    assert monitor.mechanism.direction.layer >= 1
    same, assessment = monitor.evaluate(model, tiny_tokenizer, step=1, tier="forward")
    for name in MECHANISM_METRICS:  # unchanged weights: the same reading, nothing regresses
        assert same.metrics[name] == pytest.approx(baseline.metrics[name], abs=1e-6)
    assert assessment.regressions == [] and assessment.p_values[REFUSAL_DPRIME] == 1.0
    _perturb(model, 0.2)
    moved, _ = monitor.evaluate(model, tiny_tokenizer, step=2, tier="forward")
    assert moved.metrics[DIRECTION_COSINE] < 0.99
    assert moved.metrics[REFUSAL_DPRIME] != pytest.approx(baseline.metrics[REFUSAL_DPRIME], abs=1e-3)


def test_forward_tier_generates_nothing_and_says_so(tiny_model_factory, tiny_tokenizer, small_suite, monkeypatch):
    model = tiny_model_factory(0)
    monitor = _monitor(small_suite)
    baseline = monitor.start(model, tiny_tokenizer)
    calls = []
    monkeypatch.setattr(model, "generate", lambda *a, **k: calls.append(1))
    evaluation, assessment = monitor.evaluate(model, tiny_tokenizer, step=3, tier="forward")
    monkeypatch.undo()
    assert calls == [], "the forward tier never calls generate"
    assert evaluation.tier == "forward" and evaluation.errors == []
    assert not set(GENERATION_METRICS) & set(evaluation.metrics)
    assert {"driftguard/safety/refusal_margin", "driftguard/kl/mean", *MECHANISM_METRICS} <= set(evaluation.metrics)
    report = build_report(evaluation, assessment, baseline)
    assert report["tier"] == "forward"
    assert report["metric_tiers"][HARMFUL_PROJECTION] == "forward"
    assert report["metric_tiers"]["driftguard/safety/refusal_margin"] == "forward"
    markdown = render_markdown(report)
    assert "Tier: forward passes only" in markdown and "| mechanism/direction_cosine |" in markdown
    full, assessment = monitor.evaluate(model, tiny_tokenizer, step=4)
    assert build_report(full, assessment, baseline)["metric_tiers"]["driftguard/safety/harmful_refusal_rate"] == "generate"


def test_resume_reads_the_stored_direction_and_refuses_another_suite(tiny_model_factory, tiny_tokenizer, small_suite):
    model = tiny_model_factory(0)
    monitor = _monitor(small_suite)
    monitor.start(model, tiny_tokenizer)
    _perturb(model)
    before, _ = monitor.evaluate(model, tiny_tokenizer, step=5, tier="forward")
    state = json.loads(json.dumps(monitor.state_dict()))
    resumed = _monitor(small_suite)
    resumed.load_state_dict(state, model)  # the perturbed weights must not become the new direction
    after, _ = resumed.evaluate(model, tiny_tokenizer, step=5, tier="forward")
    for name in MECHANISM_METRICS:
        assert after.metrics[name] == pytest.approx(before.metrics[name], abs=1e-9), name
    state["mechanism"]["fingerprint"]["model"]["hidden_size"] = 4096
    with pytest.raises(BaselineMismatchError, match="fresh run"):
        _monitor(small_suite).load_state_dict(state, model)


def test_mechanism_false_turns_it_off(tiny_model, tiny_tokenizer, small_suite):
    monitor = _monitor(small_suite, mechanism=False)
    baseline = monitor.probe_baseline(tiny_model, tiny_tokenizer)
    assert monitor.mechanism is None and not set(MECHANISM_METRICS) & set(baseline.metrics)


def test_counted_mechanism_regressions_name_their_prompts(tiny_model_factory, tiny_tokenizer, small_suite):
    """With ``informational_metrics=[]`` the mechanism metrics count; the worst items show the safety prompt."""
    model = tiny_model_factory(0)
    monitor = _monitor(small_suite, informational_metrics=[])
    monitor.start(model, tiny_tokenizer)
    evaluation, _ = monitor.evaluate(model, tiny_tokenizer, step=1, tier="forward")
    for record in evaluation.records:  # harmful prompts slide toward the benign side by 2 baseline SDs
        if HARMFUL_PROJECTION in record.values:
            record.values[HARMFUL_PROJECTION] -= 2.0
    assessment = monitor.detector.assess(evaluation)
    assert [r.metric for r in assessment.regressions] == [HARMFUL_PROJECTION]
    worst = monitor.worst_items(evaluation, assessment, limit=50)
    assert len(worst) == 12 and all(w["probe_id"].endswith("#mechanism") and w["prompt"] for w in worst)
