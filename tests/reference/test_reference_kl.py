"""Pure KL functions: exact against scipy/torch, chunk-invariant, bounded per chunk, safe on bf16 and -inf."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import rel_entr

from driftguard.errors import ModelSetupError
from driftguard.reference import reference_topk, sequence_kl, token_kl, topk_kl


def random_logits(*shape: int, seed: int, scale: float = 3.0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def scipy_kl(policy: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
    """sum_v p log(p / q) per position in float64 with scipy."""
    p = torch.softmax(policy.double(), -1).numpy()
    q = torch.softmax(reference.double(), -1).numpy()
    return rel_entr(p, q).sum(-1)


def test_token_kl_matches_scipy_both_directions():
    policy, reference = random_logits(3, 5, 97, seed=0), random_logits(3, 5, 97, seed=1)
    np.testing.assert_allclose(token_kl(policy, reference).numpy(), scipy_kl(policy, reference), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(token_kl(policy, reference, reverse=True).numpy(), scipy_kl(reference, policy),
                               rtol=1e-5, atol=1e-6)


def test_masked_positions_are_zero_and_sequence_mean_uses_mask_only():
    policy, reference = random_logits(2, 4, 50, seed=2), random_logits(2, 4, 50, seed=3)
    mask = torch.tensor([[False, True, True, False], [True, True, True, True]])
    per_token = token_kl(policy, reference, mask)
    full = torch.tensor(scipy_kl(policy, reference), dtype=torch.float32)
    assert bool((per_token[~mask] == 0).all())
    torch.testing.assert_close(per_token[mask], full[mask], rtol=1e-5, atol=1e-6)
    expected = torch.stack([full[0, 1:3].mean(), full[1].mean()])
    torch.testing.assert_close(sequence_kl(per_token, mask), expected, rtol=1e-5, atol=1e-6)
    assert sequence_kl(per_token, torch.zeros_like(mask)).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 10_000])
def test_chunked_equals_unchunked(chunk_size):
    policy, reference = random_logits(4, 6, 128, seed=4), random_logits(4, 6, 128, seed=5)
    mask = torch.rand(4, 6, generator=torch.Generator().manual_seed(6)) > 0.3
    whole = token_kl(policy, reference, mask, chunk_size=10**6)
    torch.testing.assert_close(token_kl(policy, reference, mask, chunk_size=chunk_size), whole, rtol=0, atol=1e-6)


def test_fp32_temporaries_are_bounded_by_the_chunk(monkeypatch):
    """Every fp32 log-softmax is taken over at most ``chunk_size`` positions, never the whole [B, T, V]."""
    seen = []
    original = F.log_softmax

    def recording(x, *args, **kwargs):
        seen.append(tuple(x.shape))
        return original(x, *args, **kwargs)

    monkeypatch.setattr(F, "log_softmax", recording)
    policy = random_logits(4, 16, 64, seed=7).bfloat16()
    token_kl(policy, random_logits(4, 16, 64, seed=8).bfloat16(), chunk_size=5)
    assert seen and all(shape[0] <= 5 and len(shape) == 2 for shape in seen)
    assert len(seen) == 2 * 13  # 64 positions in chunks of 5, one log-softmax per model per chunk


def test_bf16_inf_and_huge_logits_give_no_nan():
    policy = random_logits(2, 3, 40, seed=9, scale=30.0)
    reference = random_logits(2, 3, 40, seed=10, scale=30.0)
    policy[..., :5] = float("-inf")  # tokens both models rule out
    reference[..., :5] = float("-inf")
    policy[0, 0, 10] = 3.0e38  # near the bf16/fp32 maximum
    reference[1, 2, 11] = -3.0e38
    out = token_kl(policy.bfloat16(), reference.bfloat16())
    assert out.dtype == torch.float32 and not bool(out.isnan().any()) and bool(out.isfinite().all())
    # float64 reference in log space (q underflows to 0 in probability space, so scipy would say inf)
    logp = torch.log_softmax(policy.bfloat16().double(), -1)
    logq = torch.log_softmax(reference.bfloat16().double(), -1)
    expected = torch.where(logp.isneginf(), 0.0, logp.exp() * (logp - logq)).sum(-1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
    assert float(out[1, 2]) > 1e20  # the reference all but rules out a likely policy token: huge, finite


def test_self_kl_is_zero_and_shapes_are_checked():
    logits = random_logits(2, 5, 33, seed=11).bfloat16()
    assert float(token_kl(logits, logits.clone()).abs().max()) <= 1e-6
    with pytest.raises(ModelSetupError, match="vocabulary"):
        token_kl(logits, logits[..., :-1])
    with pytest.raises(ModelSetupError, match="mask shape"):
        token_kl(logits, logits, torch.ones(2, 4, dtype=torch.bool))


def test_topk_kl_is_exact_when_k_covers_the_vocabulary():
    policy, reference = random_logits(2, 4, 30, seed=12), random_logits(2, 4, 30, seed=13)
    values, ids, tails = reference_topk(reference, 64)
    assert values.shape == (8, 30) and bool(torch.isneginf(tails).all())
    cached = topk_kl(policy, values.view(2, 4, 30), ids.view(2, 4, 30), tails.view(2, 4))
    torch.testing.assert_close(cached, token_kl(policy, reference), rtol=1e-5, atol=1e-6)
    reverse = topk_kl(policy, values.view(2, 4, 30), ids.view(2, 4, 30), tails.view(2, 4), reverse=True)
    torch.testing.assert_close(reverse, token_kl(policy, reference, reverse=True), rtol=1e-5, atol=1e-6)


def test_topk_kl_is_a_lower_bound_that_tightens_with_k():
    policy, reference = random_logits(3, 4, 200, seed=14), random_logits(3, 4, 200, seed=15)
    policy = 0.7 * reference + 0.3 * policy  # a moderately drifted policy
    exact = token_kl(policy, reference)
    errors = []
    for k in (4, 32, 128, 199):
        values, ids, tails = reference_topk(reference, k)
        estimate = topk_kl(policy, values.view(3, 4, k), ids.view(3, 4, k), tails.view(3, 4))
        assert bool((estimate <= exact + 1e-6).all())  # coarsening never adds divergence
        errors.append(float((exact - estimate).sum() / exact.sum()))
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0]
    # the tail bucket holds exactly the probability mass outside the top-k
    values, ids, tails = reference_topk(reference, 4)
    total = torch.logsumexp(torch.cat([values, tails.unsqueeze(-1)], -1), -1)
    torch.testing.assert_close(total, torch.zeros_like(total), rtol=0, atol=1e-5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_policy_logits_are_an_error_not_zero_kl(bad):
    """Issue 14 defect 2: NaN/inf policy logits gave a per-token KL of exactly 0 (nan_to_num)."""
    torch.manual_seed(0)
    ref = torch.randn(1, 3, 16)
    policy = ref.clone()
    policy[0, 1, 4] = bad
    with pytest.raises(ModelSetupError, match="NaN or \\+inf"):
        token_kl(policy, ref)
    values, ids, tails = reference_topk(ref, 4)
    with pytest.raises(ModelSetupError, match="NaN or \\+inf"):
        topk_kl(policy, values.view(1, 3, 4), ids.view(1, 3, 4), tails.view(1, 3))
    ok = ref.clone()
    ok[0, 1, 4] = float("-inf")  # probability 0 is fine
    assert torch.isfinite(token_kl(ok, ref)).all()
