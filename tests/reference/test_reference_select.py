"""Issue 14 defects 4 and 5: the reference that `auto` / `model` pick is the step-0 model, on the policy's device."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from driftguard.config import DriftGuardConfig
from driftguard.errors import ConfigError
from driftguard.monitor import DriftMonitor
from driftguard.reference import select as select_module
from driftguard.reference import select_reference

peft = pytest.importorskip("peft")
MINI_SUITE = str(Path(__file__).parents[1] / "fixtures" / "mini_suite.jsonl")


def _lora(model, *, init: bool, name: str = "default", wrapped=None):
    torch.manual_seed(3)
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=init)
    if wrapped is not None:
        wrapped.add_adapter(name, config)
        return wrapped
    return peft.get_peft_model(model, config, adapter_name=name)


def test_trainer_reference_adapter_name_is_used(reference_model):
    policy = _lora(copy.deepcopy(reference_model), init=False)
    policy = _lora(None, init=False, name="reference_sft", wrapped=policy)
    policy.set_adapter("default")
    provider = select_reference("auto", policy, ref_adapter="reference_sft")
    assert provider.name == "adapter" and provider.ref_adapter == "reference_sft"


def test_model_reference_from_a_path_follows_the_policy_device(monkeypatch, reference_model):
    seen = {}

    class _Recorder:
        def __init__(self, model_or_path, *, dtype=None, device=None):
            seen["device"] = device

    monkeypatch.setattr(select_module, "ModelReference", _Recorder)
    select_reference("model", reference_model, reference_model="/some/checkpoint")
    assert seen["device"] == torch.device("cpu")  # the policy's device, not None (which left it on the CPU)
    select_reference("model", reference_model, reference_model="/some/checkpoint", device="meta")
    assert seen["device"] == "meta"  # an explicit reference_device wins


def _config(**kw) -> DriftGuardConfig:
    return DriftGuardConfig(suite=MINI_SUITE, max_new_tokens=6, batch_size=8, **kw)


def test_trained_adapter_is_not_the_baseline_auto_falls_back_to_cached(tiny_model_factory, tiny_tokenizer):
    """A LoRA from an earlier stage (nonzero B): base-without-adapter is not the step-0 model."""
    policy = _lora(tiny_model_factory(0), init=False)
    monitor = DriftMonitor(_config())
    with pytest.warns(UserWarning, match="falls back to 'cached'"):
        baseline = monitor.start(policy, tiny_tokenizer)
    assert monitor.reference.name == "cached" and monitor.kl_set is not None
    assert baseline.metrics["driftguard/kl/mean"] == pytest.approx(0.0, abs=1e-6)
    assert monitor.state_dict()["reference"] == "cached"
    strict = DriftMonitor(_config(reference="adapter"))
    with pytest.raises(ConfigError, match="not the model at the baseline"):
        strict.start(_lora(tiny_model_factory(0), init=False), tiny_tokenizer)


def test_fresh_adapter_keeps_the_adapter_reference(tiny_model_factory, tiny_tokenizer):
    policy = _lora(tiny_model_factory(0), init=True)  # zero-initialised B: the base is the step-0 model
    monitor = DriftMonitor(_config())
    baseline = monitor.start(policy, tiny_tokenizer)
    assert monitor.reference.name == "adapter" and baseline.metrics["driftguard/kl/mean"] <= 1e-6
