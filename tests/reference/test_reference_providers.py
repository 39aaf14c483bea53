"""Reference providers: adapter (no copy), model (path or object, dtype/device), select_reference."""

from __future__ import annotations

import copy

import pytest
import torch

from driftguard.errors import ConfigError
from driftguard.reference import AdapterReference, CachedReference, ModelReference, measure_kl, select_reference

peft = pytest.importorskip("peft")


def lora(model, *, init: bool, seed: int = 0, name: str = "default", wrapped=None):
    """Wrap ``model`` (or add an adapter to ``wrapped``) with LoRA; ``init=False`` gives a nonzero B."""
    torch.manual_seed(seed)
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=init)
    if wrapped is not None:
        wrapped.add_adapter(name, config)
        return wrapped
    return peft.get_peft_model(model, config, adapter_name=name)


def logits(model):
    with torch.no_grad():
        return model(input_ids=torch.tensor([[3, 40, 41, 42, 43, 2]])).logits


def test_adapter_reference_is_the_base_without_a_copy(reference_model, kl_set):
    base_logits = logits(reference_model)
    policy = lora(copy.deepcopy(reference_model), init=False)
    policy.train()
    policy_logits = logits(policy)
    n_params = sum(p.numel() for p in policy.parameters())
    reference = select_reference("auto", policy)
    assert isinstance(reference, AdapterReference) and reference.model is policy and reference.ref_adapter is None
    result = measure_kl(policy, reference, kl_set, batch_size=4)
    assert result.mean > 1e-4 and result.reference == "adapter"
    expected = measure_kl(policy, ModelReference(copy.deepcopy(reference_model)), kl_set, batch_size=4)
    assert result.mean == pytest.approx(expected.mean, rel=1e-5)
    # the adapter is active again and the training state is back; no weights were copied
    torch.testing.assert_close(logits(policy), policy_logits)
    assert not torch.allclose(policy_logits, base_logits) and policy.training
    assert sum(p.numel() for p in policy.parameters()) == n_params
    with reference.generating(policy) as model:
        assert model is policy
        torch.testing.assert_close(logits(model), base_logits)
    torch.testing.assert_close(logits(policy), policy_logits)


def test_zero_init_lora_has_zero_kl(reference_model, kl_set):
    policy = lora(copy.deepcopy(reference_model), init=True)
    result = measure_kl(policy, select_reference("adapter", policy), kl_set, batch_size=8)
    assert max(abs(v) for v in result.per_probe.values()) <= 1e-6


def test_trl_ref_adapter_is_used_and_state_restored(reference_model, kl_set):
    policy = lora(copy.deepcopy(reference_model), init=False, seed=1)
    policy = lora(None, init=False, seed=2, name="ref", wrapped=policy)
    policy.set_adapter("default")
    grads = [p.requires_grad for p in policy.parameters()]
    reference = AdapterReference(policy)
    assert reference.ref_adapter == "ref"
    result = measure_kl(policy, reference, kl_set, batch_size=4)
    assert policy.active_adapter == "default" and [p.requires_grad for p in policy.parameters()] == grads
    # the same KL as a frozen model that runs the "ref" adapter
    frozen = copy.deepcopy(policy)
    frozen.set_adapter("ref")
    expected = measure_kl(policy, ModelReference(frozen), kl_set, batch_size=4)
    assert result.mean == pytest.approx(expected.mean, rel=1e-5) and result.mean > 1e-4


def test_model_reference_from_path_with_dtype(tiny_model_dir, reference_model, kl_set):
    reference = select_reference("model", reference_model, reference_model=str(tiny_model_dir), dtype="bfloat16",
                                 device="cpu")
    assert isinstance(reference, ModelReference)
    assert reference.model.dtype == torch.bfloat16 and not reference.model.training
    assert not any(p.requires_grad for p in reference.model.parameters())
    result = measure_kl(reference_model, reference, kl_set, batch_size=4)  # fp32 policy vs its bf16 copy
    assert 0 <= result.mean < 1e-2
    with reference.generating(reference_model) as model:
        assert model is reference.model


def test_select_reference_modes_and_errors(reference_model):
    assert isinstance(select_reference("auto", reference_model, reference_model=copy.deepcopy(reference_model)),
                      ModelReference)
    cached = select_reference("auto", reference_model, top_k=16)
    assert isinstance(cached, CachedReference) and cached.model is reference_model and cached.top_k == 16
    with pytest.raises(ConfigError, match="reference = 'nope'"):
        select_reference("nope", reference_model)
    with pytest.raises(ConfigError, match="not a PEFT model"):
        select_reference("adapter", reference_model)
    with pytest.raises(ConfigError, match="reference_model is not set"):
        select_reference("model", reference_model)
    with pytest.raises(ConfigError, match="reference_dtype"):
        ModelReference(reference_model, dtype="float99")
    with pytest.raises(ConfigError, match="cannot load"):
        ModelReference("/nonexistent/model/dir")
