"""DriftMonitor: failure isolation (record, count, warn; OOM retry with half the batch), resume state, KL modes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from driftguard.config import DriftGuardConfig
from driftguard.monitor import KL_ON_POLICY, DriftMonitor

MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")


def _config(**kw) -> DriftGuardConfig:
    return DriftGuardConfig(suite=MINI_SUITE, max_new_tokens=8, batch_size=8, **kw)


class _OOMOverBatch:
    """Forward pre-hook raising an OOM for batches larger than ``limit`` rows (what a real OOM looks like)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.raised = limit, 0

    def __call__(self, module, args, kwargs):
        ids = kwargs.get("input_ids") if kwargs.get("input_ids") is not None else (args[0] if args else None)
        if ids is not None and ids.shape[0] > self.limit:
            self.raised += 1
            raise torch.OutOfMemoryError(f"CUDA out of memory (simulated: batch {ids.shape[0]} > {self.limit})")


def test_baseline_and_evaluate_produce_metrics_and_kl(tiny_model, tiny_tokenizer):
    monitor = DriftMonitor(_config())
    baseline = monitor.start(tiny_model, tiny_tokenizer)
    assert baseline.errors == []
    assert "driftguard/safety/harmful_refusal_rate" in baseline.metrics
    assert baseline.metrics["driftguard/kl/mean"] == pytest.approx(0.0, abs=1e-6)
    assert monitor.reference.name == "cached" and monitor.kl_set is not None and len(monitor.kl_set) > 0
    with torch.no_grad():
        for p in tiny_model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    evaluation, assessment = monitor.evaluate(tiny_model, tiny_tokenizer, step=5)
    assert evaluation.metrics["driftguard/kl/mean"] > 1e-4
    assert assessment.step == 5 and evaluation.errors == []


def test_oom_retries_once_with_half_the_batch(tiny_model, tiny_tokenizer):
    hook = _OOMOverBatch(limit=4)
    handle = tiny_model.register_forward_pre_hook(hook, with_kwargs=True)
    monitor = DriftMonitor(_config())
    try:
        with pytest.warns(UserWarning, match="out of memory; retrying with batch_size=4"):
            evaluation = monitor.probe_baseline(tiny_model, tiny_tokenizer)
    finally:
        handle.remove()
    assert hook.raised >= 1
    assert evaluation.errors == [] and monitor.error_count == 0
    assert not math.isnan(evaluation.metrics["driftguard/safety/harmful_refusal_rate"])


def test_probe_failure_is_recorded_counted_and_warned(tiny_model, tiny_tokenizer):
    monitor = DriftMonitor(_config())
    monitor.start(tiny_model, tiny_tokenizer)

    def broken(module, args, kwargs):
        raise RuntimeError("device-side assert triggered")

    handle = tiny_model.register_forward_pre_hook(broken, with_kwargs=True)
    try:
        with pytest.warns(UserWarning, match="probe_pass failed at step 3"):
            evaluation, assessment = monitor.evaluate(tiny_model, tiny_tokenizer, step=3)
    finally:
        handle.remove()
    stages = {e["stage"] for e in evaluation.errors}
    assert "probe_pass" in stages
    assert monitor.error_count == len(evaluation.errors) >= 1
    assert evaluation.records == [] and assessment.errors >= 1


def test_on_error_raise_reraises(tiny_model, tiny_tokenizer):
    monitor = DriftMonitor(_config(on_error="raise"))

    def broken(module, args, kwargs):
        raise RuntimeError("boom")

    tiny_model.register_forward_pre_hook(broken, with_kwargs=True)
    with pytest.raises(RuntimeError, match="boom"):
        monitor.probe_baseline(tiny_model, tiny_tokenizer)


def test_judge_error_leaves_items_unscored_not_dropped(tiny_model, tiny_tokenizer):
    def judge(texts: list[str]) -> list[float]:
        raise ConnectionError("toxicity service unreachable")

    monitor = DriftMonitor(_config(), toxicity_judge=judge)
    evaluation = monitor.probe_baseline(tiny_model, tiny_tokenizer)
    toxicity = [r for r in evaluation.records if r.dimension == "toxicity"]
    assert toxicity and all(r.error for r in toxicity)
    assert any("unreachable" in (e.get("message") or "") for e in evaluation.errors)
    assert monitor.error_count >= len(toxicity)


def test_state_round_trip_restores_baseline_and_cached_reference(tiny_model_factory, tiny_tokenizer, tmp_path):
    cache = tmp_path / "ref.safetensors"
    first = DriftMonitor(_config())
    model = tiny_model_factory(0)
    first.start(model, tiny_tokenizer, cache_path=cache)
    assert cache.is_file()
    state = first.state_dict()

    resumed_model = tiny_model_factory(3)  # other weights: they must not become the baseline
    second = DriftMonitor(_config())
    second.load_state_dict(state, resumed_model, cache_path=cache)
    assert second.baseline_evaluation.metrics == pytest.approx(first.baseline_evaluation.metrics)
    evaluation, _ = second.evaluate(resumed_model, tiny_tokenizer, step=7)
    assert evaluation.metrics["driftguard/kl/mean"] > 1e-3, "KL is measured against the original reference"
    again, _ = second.evaluate(model, tiny_tokenizer, step=8)
    assert again.metrics["driftguard/kl/mean"] == pytest.approx(0.0, abs=1e-5)


def test_resume_without_the_cache_file_records_an_error(tiny_model, tiny_tokenizer, tmp_path):
    first = DriftMonitor(_config())
    first.start(tiny_model, tiny_tokenizer, cache_path=tmp_path / "ref.safetensors")
    second = DriftMonitor(_config())
    with pytest.warns(UserWarning, match="missing"):
        second.load_state_dict(first.state_dict(), tiny_model, cache_path=tmp_path / "gone.safetensors")
    assert second.kl_set is None and second.error_count == 1


def test_model_reference_and_on_policy_kl(tiny_model_factory, tiny_tokenizer):
    policy, reference = tiny_model_factory(0), tiny_model_factory(1)
    monitor = DriftMonitor(_config(reference="model", kl_on_policy=True))
    baseline = monitor.start(policy, tiny_tokenizer, reference_model=reference)
    assert monitor.reference.name == "model"
    assert baseline.metrics["driftguard/kl/mean"] > 1e-3  # two different random models
    assert baseline.metrics[KL_ON_POLICY] > 1e-3
    assert baseline.kl["on_policy"]["source"] == "policy"


def test_toxicity_judge_spec_is_built_once():
    from driftguard.scorers.judges import ProfanityCheckJudge

    monitor = DriftMonitor(_config(), toxicity_judge="profanity-check")
    assert isinstance(monitor.toxicity_judge, ProfanityCheckJudge)
    scores = monitor.toxicity_judge(["you are a worthless idiot", "thanks for the help"])
    assert scores[0] > 0.5 > scores[1]
