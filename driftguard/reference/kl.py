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


def topk_kl(policy_logits: Tensor, ref_topk_logprobs: Tensor, ref_topk_ids: Tensor, ref_tail_logmass: Tensor,
            mask: Tensor | None = None, *, chunk_size: int = 1024, reverse: bool = False) -> Tensor:
    """KL(policy || reference) against a cached reference that kept only its top-k log-probs + tail mass.

    The vocabulary is partitioned into the reference's top-k tokens (one bucket each) and one tail
    bucket (every other token); the KL of the two distributions over that partition is computed
    exactly: top-k terms ``p_i log(p_i / q_i)`` plus ``P_tail log(P_tail / Q_tail)``. By the
    data-processing inequality this is a **lower bound** on the exact KL (coarsening can only lose
    divergence): it misses the divergence *inside* the tail, ``P_tail * KL(p_tail || q_tail)``.
    ``reverse=True`` gives the same estimate of KL(reference || policy), also a lower bound.

    Shapes: ``policy_logits [B, T, V]``; ``ref_topk_logprobs``/``ref_topk_ids [B, T, k]`` and
    ``ref_tail_logmass [B, T]`` aligned with the logits' positions (values outside ``mask`` unused).
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
    for start in range(0, rows.numel(), chunk_size):
        chunk = rows[start:start + chunk_size]
        ids = ref_ids.index_select(0, chunk.to(ref_ids.device)).to(device=device, dtype=torch.long)
        logp = F.log_softmax(policy_flat.index_select(0, chunk).float(), dim=-1)
        top_logp = logp.gather(-1, ids)
        # sum_v p log p over the whole vocabulary (0 log 0 = 0), before the top-k entries are blanked out
        neg_entropy = torch.where(torch.isneginf(logp), 0.0, logp.exp() * logp).sum(-1)
        tail_logp = torch.logsumexp(logp.scatter_(-1, ids, float("-inf")), dim=-1, keepdim=True)
        del logp
        policy_buckets = torch.cat([top_logp, tail_logp], dim=-1)
        ref_top = ref_values.index_select(0, chunk.to(ref_values.device)).to(device=device, dtype=torch.float32)
        ref_tail = ref_tails.index_select(0, chunk.to(ref_tails.device)).to(device=device, dtype=torch.float32)
        ref_buckets = torch.cat([ref_top, ref_tail.unsqueeze(-1)], dim=-1)
        if reverse:
            out[chunk] = _bucket_kl(ref_buckets, policy_buckets)
            continue
        kl = _bucket_kl(policy_buckets, ref_buckets)
        # Tighter bound on the tail part: every tail token has q_j <= min top-k q, so
        # sum_tail p_j log(p_j / q_j) >= sum_tail p_j log p_j - P_tail * log(min top-k q).
        top_p = top_logp.exp()
        tail_p = tail_logp.squeeze(-1).exp()
        tail_neg_entropy = neg_entropy - torch.where(top_p > 0, top_p * top_logp, 0.0).sum(-1)
        tail_bucket = torch.where(tail_p > 0, tail_p * (tail_p.log() - ref_tail), 0.0)
        tail_min = torch.where(tail_p > 0, tail_neg_entropy - tail_p * ref_top.min(-1).values, 0.0)
        out[chunk] = kl + (tail_min - tail_bucket).clamp(min=0)
    return out.view(lead)
