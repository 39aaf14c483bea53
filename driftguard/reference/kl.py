"""Pure KL functions over logits (torchmetrics style): exact, chunked over token positions.

Every function upcasts one chunk of token positions at a time to fp32, so the extra memory is about
2 x chunk_size x vocab fp32 (+ one chunk in the input dtype) whatever the input dtype (bf16/fp16/fp32)
and the sequence length; no full ``[batch, tokens, vocab]`` fp32 tensor is ever built. Positions outside
``mask`` are never computed and come back as exactly 0. Tokens with probability 0 (``-inf`` logits)
contribute 0 (``0 log 0 = 0``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from driftguard.errors import ModelSetupError


def _selected_rows(leading_shape: torch.Size, mask: Tensor | None, device: torch.device) -> Tensor:
    """Flat indices of the token positions to compute (all of them when ``mask`` is None)."""
    if mask is None:
        return torch.arange(leading_shape.numel(), device=device)
    if mask.shape != leading_shape:
        raise ModelSetupError(f"KL mask shape {tuple(mask.shape)} does not match the logits' leading shape "
                              f"{tuple(leading_shape)}; pass a [batch, tokens] mask aligned with the logits")
    return mask.reshape(-1).to(device=device, dtype=torch.bool).nonzero().squeeze(1)


def _check_finite(logp: Tensor, side: str) -> None:
    """Log-probs are NaN only where the logits were NaN or +inf (``-inf`` logits are fine: probability 0)."""
    if torch.isnan(logp).any():
        raise ModelSetupError(f"the {side} logits contain NaN or +inf (a diverged or overflowing model, e.g. fp16 "
                              "overflow); KL cannot be measured on them. Fix the numerics (bf16/fp32, lower learning "
                              "rate) — driftguard records this as an error instead of reporting KL 0")


def _kl_rows(logp: Tensor, logq: Tensor) -> Tensor:
    """``sum_v p (log p - log q)`` per row of fp32 log-probs, computed in the storage of both inputs (consumed).

    ``p = 0`` terms are 0 (``0 log 0 = 0``, also where both are ``-inf``); ``p > 0, q = 0`` gives ``+inf``.
    """
    diff = logq.neg_().add_(logp)  # log p - log q, in logq's storage
    terms = logp.exp_().mul_(diff)  # p * (log p - log q), in logp's storage; NaN only where p == 0
    return terms.nan_to_num_(nan=0.0, posinf=float("inf"), neginf=float("-inf")).sum(-1)


def token_kl(policy_logits: Tensor, ref_logits: Tensor, mask: Tensor | None = None, *,
             chunk_size: int = 1024, reverse: bool = False) -> Tensor:
    """Exact per-token KL(policy || reference) over the full vocabulary, shape ``policy_logits.shape[:-1]``.

    ``reverse=True`` gives KL(reference || policy). ``ref_logits`` may live on another device: each
    chunk is moved (in its own dtype) to the policy's device before the fp32 upcast. The result is
    fp32 on the policy's device; positions outside ``mask`` are 0.
    """
    if policy_logits.shape != ref_logits.shape:
        raise ModelSetupError(f"policy logits {tuple(policy_logits.shape)} and reference logits "
                              f"{tuple(ref_logits.shape)} differ; policy and reference need the same vocabulary "
                              "(check for a resized embedding) and the same token positions")
    if chunk_size < 1:
        raise ModelSetupError(f"chunk_size = {chunk_size}: must be >= 1")
    vocab = policy_logits.shape[-1]
    device = policy_logits.device
    policy_flat = policy_logits.reshape(-1, vocab)
    ref_flat = ref_logits.reshape(-1, vocab)
    rows = _selected_rows(policy_logits.shape[:-1], mask, device)
    out = torch.zeros(policy_flat.shape[0], dtype=torch.float32, device=device)
    for start in range(0, rows.numel(), chunk_size):
        chunk = rows[start:start + chunk_size]
        logp = F.log_softmax(policy_flat.index_select(0, chunk), dim=-1, dtype=torch.float32)
        logq = F.log_softmax(ref_flat.index_select(0, chunk.to(ref_flat.device)).to(device), dim=-1, dtype=torch.float32)
        _check_finite(logp, "policy")
        _check_finite(logq, "reference")
        out[chunk] = _kl_rows(logq, logp) if reverse else _kl_rows(logp, logq)
        del logp, logq
    return out.view(policy_logits.shape[:-1])


def sequence_kl(per_token: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``per_token`` KL over the positions in ``mask`` (the completion tokens), shape ``[batch]``.

    A row with no masked position gets 0 (an empty completion has no drift to measure).
    """
    mask = mask.to(device=per_token.device, dtype=torch.bool)
    total = torch.where(mask, per_token, torch.zeros((), dtype=per_token.dtype, device=per_token.device)).sum(-1)
    return total / mask.sum(-1).clamp(min=1).to(per_token.dtype)


def reference_topk(ref_logits: Tensor, k: int, mask: Tensor | None = None, *,
                   chunk_size: int = 1024) -> tuple[Tensor, Tensor, Tensor]:
    """Top-k log-probs, their ids and the log of the remaining (tail) probability mass, per masked position.

    Returns ``(topk_logprobs [N, k] fp32, topk_ids [N, k] int64, tail_logmass [N] fp32)`` for the
    ``N`` selected positions in row-major order. The tail is ``logsumexp`` over the non-top-k
    log-probs (exact, not ``log1p(-sum)``), ``-inf`` when ``k`` covers the whole vocabulary.
    """
    vocab = ref_logits.shape[-1]
    k = min(k, vocab)
    flat = ref_logits.reshape(-1, vocab)
    rows = _selected_rows(ref_logits.shape[:-1], mask, flat.device)
    values, ids, tails = [], [], []
    for start in range(0, rows.numel(), chunk_size):
        logq = F.log_softmax(flat.index_select(0, rows[start:start + chunk_size]).float(), dim=-1)
        _check_finite(logq, "reference")
        top_values, top_ids = logq.topk(k, dim=-1)
        tails.append(torch.logsumexp(logq.scatter_(-1, top_ids, float("-inf")), dim=-1))
        values.append(top_values)
        ids.append(top_ids)
        del logq
    if not values:
        empty = torch.empty(0, k, device=flat.device)
        return empty, empty.long(), torch.empty(0, device=flat.device)
    return torch.cat(values), torch.cat(ids), torch.cat(tails)


def _bucket_kl(logp: Tensor, logq: Tensor) -> Tensor:
    """``sum p (log p - log q)`` over the last dim for small (top-k + tail) log-prob tensors, 0 log 0 = 0."""
    p = logp.exp()
    terms = p * (logp - logq)
    return torch.where(p > 0, terms, torch.zeros_like(terms)).sum(-1)


def _xlogy_ratio(x: Tensor, y: Tensor) -> Tensor:
    """``x log(x / y)`` elementwise with ``0 log(0 / y) = 0`` and ``x log(x / 0) = +inf`` for ``x > 0``."""
    safe = torch.where(x > 0, x, 1.0)
    return torch.where(x > 0, safe * (safe.log() - y.log()), 0.0)


def _capped_tail_kl(tail_p: Tensor, p_tail: Tensor, q_tail: Tensor, cap: Tensor, *, reverse: bool) -> Tensor:
    """Smallest tail KL over every reference tail ``q`` with ``sum q = q_tail`` and ``0 <= q_j <= cap``.

    ``tail_p [N, M]`` are the policy's largest tail probabilities (descending), ``p_tail``/``q_tail``/``cap``
    ``[N]`` the policy's and the reference's tail mass and the cap (the reference's k-th top probability:
    no tail token can exceed it). For both directions the minimiser is water-filling,
    ``q_j = min(cap, lam * p_j)`` with ``lam`` fixing the sum; only the ``M`` tokens in ``tail_p`` are
    capped (a relaxation, so the value stays a lower bound). Forward: ``sum_tail p log(p / q)``;
    reverse: ``sum_tail q log(q / p)``. All inputs float64.
    """
    n, m_max = tail_p.shape
    zero = torch.zeros(n, 1, dtype=tail_p.dtype, device=tail_p.device)
    cum = torch.cat([zero, tail_p.cumsum(-1)], dim=-1)  # S_m: policy mass of the m largest tail tokens
    counts = torch.arange(m_max + 1, dtype=tail_p.dtype, device=tail_p.device)
    ref_rest = (q_tail.unsqueeze(-1) - counts * cap.unsqueeze(-1)).clamp(min=0)  # reference mass left uncapped
    pol_rest = (p_tail.unsqueeze(-1) - cum).clamp(min=0)
    lam = ref_rest / pol_rest.clamp(min=torch.finfo(tail_p.dtype).tiny)
    nxt = torch.cat([tail_p, zero], dim=-1)  # p_(m+1); 0 past the last capped candidate
    fits = (lam * nxt <= cap.unsqueeze(-1)) | (counts == m_max)
    m = fits.to(torch.int8).argmax(-1, keepdim=True)  # the first m whose next token is under the cap
    capped = torch.arange(m_max, device=tail_p.device) < m
    r_q = ref_rest.gather(-1, m).squeeze(-1)
    r_p = pol_rest.gather(-1, m).squeeze(-1)
    cap_col = cap.unsqueeze(-1).expand_as(tail_p)
    if reverse:
        head = torch.where(capped, _xlogy_ratio(cap_col, tail_p), 0.0).sum(-1)
        return head + _xlogy_ratio(r_q, r_p)
    head = torch.where(capped, _xlogy_ratio(tail_p, cap_col), 0.0).sum(-1)
    return head + _xlogy_ratio(r_p, r_q)


def topk_kl(policy_logits: Tensor, ref_topk_logprobs: Tensor, ref_topk_ids: Tensor, ref_tail_logmass: Tensor,
            mask: Tensor | None = None, *, chunk_size: int = 1024, reverse: bool = False) -> Tensor:
    """KL(policy || reference) against a cached reference that kept only its top-k log-probs + tail mass.

    The estimate is the **smallest** KL over every reference distribution consistent with the cache:
    the k cached log-probs exactly, the tail mass ``Q_tail`` spread over the other tokens in any way
    such that no tail token exceeds the k-th cached probability ``q_min``. So it is a **lower bound** on
    the exact KL, the tightest one the cache allows, and exact when ``k >= vocab``. Per position:
    top-k terms ``p_i log(p_i / q_i)`` exactly, plus the tail at its minimiser ``q_j = min(q_min, lam p_j)``
    (the reference's tail follows the policy's own tail, capped at ``q_min``; without the cap this is the
    bucket term ``P_tail log(P_tail / Q_tail)``). What it cannot see: a tail token the policy promoted
    (``p_j`` large) that the reference held far below ``q_min``; the error is at most
    ``sum_j p_j log(q_min / q_j)`` over such tokens. The cap is applied to the policy's ``k`` largest tail
    tokens (``M = k``; relaxing the rest keeps the bound). ``reverse=True``: same for KL(reference || policy).

    Shapes: ``policy_logits [B, T, V]``; ``ref_topk_logprobs``/``ref_topk_ids [B, T, k]`` and
    ``ref_tail_logmass [B, T]`` aligned with the logits' positions (values outside ``mask`` unused).
    Extra memory per chunk: ``chunk_size x V`` fp32 plus ``chunk_size x k`` float64.
    """
    lead = policy_logits.shape[:-1]
    if ref_topk_logprobs.shape[:-1] != lead or ref_topk_ids.shape != ref_topk_logprobs.shape \
            or ref_tail_logmass.shape != lead:
        raise ModelSetupError(f"cached reference shapes (logprobs {tuple(ref_topk_logprobs.shape)}, ids "
                              f"{tuple(ref_topk_ids.shape)}, tail {tuple(ref_tail_logmass.shape)}) do not align with "
                              f"the policy logits {tuple(policy_logits.shape)}; expected [*{tuple(lead)}, k] and {tuple(lead)}")
    vocab, k = policy_logits.shape[-1], ref_topk_ids.shape[-1]
    device = policy_logits.device
    policy_flat = policy_logits.reshape(-1, vocab)
    ref_values = ref_topk_logprobs.reshape(-1, k)
    ref_ids = ref_topk_ids.reshape(-1, k)
    ref_tails = ref_tail_logmass.reshape(-1)
    rows = _selected_rows(lead, mask, device)
    out = torch.zeros(policy_flat.shape[0], dtype=torch.float32, device=device)
    n_capped = min(k, vocab - k)
    for start in range(0, rows.numel(), chunk_size):
        chunk = rows[start:start + chunk_size]
        ids = ref_ids.index_select(0, chunk.to(ref_ids.device)).to(device=device, dtype=torch.long)
        logp = F.log_softmax(policy_flat.index_select(0, chunk).float(), dim=-1)
        _check_finite(logp, "policy")
        top_logp = logp.gather(-1, ids)
        logp.scatter_(-1, ids, float("-inf"))  # the policy's log-probs on the reference's tail tokens
        tail_logp = torch.logsumexp(logp, dim=-1)
        tail_top = logp.topk(n_capped, dim=-1).values.double().exp() if n_capped > 0 else None
        del logp
        ref_top = ref_values.index_select(0, chunk.to(ref_values.device)).to(device=device, dtype=torch.float32)
        ref_tail = ref_tails.index_select(0, chunk.to(ref_tails.device)).to(device=device, dtype=torch.float32)
        policy_buckets = torch.cat([top_logp, tail_logp.unsqueeze(-1)], dim=-1)
        ref_buckets = torch.cat([ref_top, ref_tail.unsqueeze(-1)], dim=-1)
        bucket = _bucket_kl(ref_buckets, policy_buckets) if reverse else _bucket_kl(policy_buckets, ref_buckets)
        if tail_top is None:
            out[chunk] = bucket
            continue
        top = _bucket_kl(ref_top, top_logp) if reverse else _bucket_kl(top_logp, ref_top)
        tail = _capped_tail_kl(tail_top, tail_logp.double().exp(), ref_tail.double().exp(),
                               ref_top.min(-1).values.double().exp(), reverse=reverse)
        # both are lower bounds (the capped minimum is the tighter one); max() guards rounding
        out[chunk] = torch.maximum(bucket, top + tail.float())
    return out.view(lead)
