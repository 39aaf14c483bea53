"""measure_kl on tiny models: equals a plain torch computation, invariant to batching and padding side."""

from __future__ import annotations

import copy

import pytest
import torch
from reference_models import make_probes

from driftguard.errors import ConfigError, ModelSetupError
from driftguard.reference import KLSet, ModelReference, measure_kl, select_reference
from driftguard.runner import generate
from driftguard.types import Generation, Probe


def plain_torch_kl(policy, reference, kl_set: KLSet, *, reverse: bool = False) -> dict[str, float]:
    """Per item, unpadded full forwards of both models, float64 log-softmax, mean KL over completion tokens."""
    out = {}
    for item in kl_set.items:
        ids = torch.tensor([list(item.prompt_ids + item.completion_ids)])
        with torch.no_grad():
            logp = torch.log_softmax(policy(input_ids=ids).logits[0].double(), -1)
            logq = torch.log_softmax(reference(input_ids=ids).logits[0].double(), -1)
        if reverse:
            logp, logq = logq, logp
        positions = slice(len(item.prompt_ids) - 1, ids.shape[1] - 1)  # logits that predict completion tokens
        out[item.probe_id] = float((logp.exp() * (logp - logq))[positions].sum(-1).mean())
    return out


def test_perturbed_copy_matches_plain_torch(reference_model, perturbed_model, kl_set):
    result = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=4)
    expected = plain_torch_kl(perturbed_model, reference_model, kl_set)
    assert result.per_probe.keys() == expected.keys() and result.mean > 0
    for probe_id, kl in expected.items():
        assert result.per_probe[probe_id] == pytest.approx(kl, rel=1e-5, abs=1e-5)
    reverse = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=4, reverse=True)
    for probe_id, kl in plain_torch_kl(perturbed_model, reference_model, kl_set, reverse=True).items():
        assert reverse.per_probe[probe_id] == pytest.approx(kl, rel=1e-5, abs=1e-5)
    assert reverse.direction == "reverse" and reverse.mean != pytest.approx(result.mean, rel=1e-3)


@pytest.mark.parametrize(("batch_size", "padding_side"), [(1, "left"), (8, "right"), (3, "right")])
def test_invariant_to_batch_size_and_padding_side(reference_model, perturbed_model, kl_set, batch_size, padding_side):
    baseline = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=8)
    other = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=batch_size,
                       padding_side=padding_side)
    for probe_id, kl in baseline.per_probe.items():
        assert other.per_probe[probe_id] == pytest.approx(kl, rel=1e-5, abs=1e-6)


def test_model_against_itself_is_zero(reference_model, kl_set):
    result = measure_kl(reference_model, ModelReference(copy.deepcopy(reference_model)), kl_set, batch_size=4)
    assert max(abs(v) for v in result.per_probe.values()) <= 1e-6


def test_result_attribution_and_report_section(reference_model, perturbed_model, kl_set):
    result = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=8)
    dims = {item.probe_id: item.dimension for item in kl_set.items}
    for dim, value in result.by_dimension.items():
        values = [kl for pid, kl in result.per_probe.items() if dims[pid] == dim]
        assert value == pytest.approx(sum(values) / len(values))
    assert result.mean == pytest.approx(sum(result.per_probe.values()) / len(result.per_probe))
    top = result.top_probes(3)
    assert [kl for _, _, kl in top] == sorted(result.per_probe.values(), reverse=True)[:3]
    section = result.to_dict(top_n=3)
    assert section["mean"] == result.mean and section["by_dimension"] == result.by_dimension
    assert [p["id"] for p in section["top_probes"]] == [pid for pid, _, _ in top]
    assert section["n_tokens"] == kl_set.n_tokens and section["exact"] is True and section["reference"] == "model"
    metrics = result.metrics()
    assert metrics["driftguard/kl/mean"] == result.mean
    assert {f"driftguard/kl/{d}" for d in result.by_dimension} <= metrics.keys()


def test_kl_set_from_runner_generations_and_on_policy(reference_model, perturbed_model, tiny_tokenizer):
    probes = make_probes()[:4] + [Probe("e-9", "ethics", "choice", prompt="Wrong?", options=("wrong", "not wrong"))]
    gens = generate(reference_model, tiny_tokenizer, probes[:4], max_new_tokens=6, batch_size=4)
    gens["s-000"] = Generation("s-000", "", "", "", gens["s-000"].prompt_ids, [])  # an empty completion is skipped
    kl_set = KLSet.from_generations(probes, gens)
    assert [i.probe_id for i in kl_set.items] == ["s-001", "t-002", "b-003"] and kl_set.skipped == ("s-000",)
    assert kl_set.items[0].completion_ids == tuple(gens["s-001"].completion_ids)
    assert KLSet.from_dict(kl_set.to_dict()).fingerprint() == kl_set.fingerprint()
    # on-policy KL reuses the policy's own probe-pass generations: no generate call inside measure_kl
    policy_gens = generate(perturbed_model, tiny_tokenizer, probes[:4], max_new_tokens=6, batch_size=4)
    on_policy = KLSet.on_policy(probes, policy_gens)
    calls = []
    perturbed_model.generate = lambda *a, **k: calls.append(1)  # would fail the test if called
    try:
        result = measure_kl(perturbed_model, ModelReference(reference_model), on_policy, batch_size=4)
    finally:
        del perturbed_model.generate
    assert not calls and result.source == "policy" and len(result.per_probe) == 4 and result.mean > 0
    cached = select_reference("cached", reference_model)
    cached.prepare(kl_set, batch_size=4)
    with pytest.raises(ConfigError, match="on-policy"):
        measure_kl(perturbed_model, cached, on_policy, batch_size=4)


def test_kl_set_errors_and_fingerprint(kl_set):
    with pytest.raises(ModelSetupError, match="batch_size"):
        next(kl_set.batches(0))
    probe = Probe("x", "safety", "generate", prompt="hi")
    with pytest.raises(ModelSetupError, match="prompt_ids"):
        KLSet.from_generations([probe], {"x": Generation("x", "a", "", "a", [], [5])})
    changed = KLSet.from_dict({**kl_set.to_dict(), "items": [[*row[:3], row[3][:-1]] for row in kl_set.to_dict()["items"]]})
    assert changed.fingerprint() != kl_set.fingerprint()
    assert measure_kl(torch.nn.Linear(1, 1), ModelReference(torch.nn.Linear(1, 1)), KLSet([]), batch_size=2).metrics() == {}
