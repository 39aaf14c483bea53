"""CachedReference: the reference's top-k log-probs per KL-set token, kept on CPU; no reference model held.

Key use: a full fine-tune with no reference model. The policy *at the baseline* (step 0) is the
reference: ``prepare`` runs it once over the KL set, keeps per completion token the top-k
log-probs, their ids and the log of the remaining tail mass, then drops the model. Each later
evaluation estimates KL with :func:`~driftguard.reference.kl.topk_kl`: the smallest KL over every
reference distribution consistent with the cache (top-k exact, tail mass spread like the policy's own
tail, no tail token above the k-th cached probability). It is a **lower bound** on the exact KL (never
over-estimates, checked probe by probe), exact when ``top_k >= vocab``. Memory: ``k * 8 + 4`` bytes
per token (k=256: 2 KB; a 25k-token KL set, e.g. 200 probes x 128 tokens, takes 52 MB).

Measured relative error of ``KLResult.mean`` vs exact KL (``python benchmarks/kl_pass.py --accuracy-only``,
one CPU thread, seed 0, ~25 s; ``--accuracy`` adds it to the full benchmark). Model: tiny Llama
(2 layers, hidden 64) trained 150 AdamW steps on the demo's aligned chats (``compact`` suite, demo data
version 4), peaked on its own greedy completions (mean entropy 1.79 nats at vocab 512, 2.95 at vocab
2048; uniform would be 6.2 / 7.6); policy = copy fine-tuned 5 steps on the demo's drift chats (exact mean
KL 0.051 / 0.099); KL set = greedy completions of 96 training prompts (934 / 1364 tokens). Never above
exact on any probe::

    k          16      32      64     128     256     512
    V=512   -29.6%  -21.2%  -13.1%  -2.1%   -0.17%   0 (k >= V: exact)
    V=2048  -21.1%  -15.1%  -10.8%  -6.2%   -1.88%  -0.14%

The default k=256 meets the issue's 2 % target on both, narrowly at V=2048 (``tests/reference/test_reference_cached_accuracy.py``
asserts it at V=512, 100 training steps). The previous estimator (bucket KL, tightened by ``q_tail <= min
top-k q``) is within 0-40 % of the same error (e.g. V=2048, k=64: -7.5 % vs -7.2 %; an earlier model:
-4.7 % vs -3.7 %; both on demo data version 2): the estimator matters little, k matters. On a *random* (near-uniform) model the
top-k holds little mass and the error is ~80 % at k=64 (``test_reference_cached.py``): cached mode is
for trained models.

Scaling with the vocabulary: what matters is the reference's mass outside its top k and how much the
policy moves onto those tokens, not k / V. Natural-language next-token distributions concentrate on
a few dozen to a few hundred plausible tokens whatever the vocabulary size, so k grows far slower
than V: here, 4x the vocabulary (512 -> 2048, and a less peaked model) at k=256 moved the error from 0.17 % to 1.9 %.
For 32k-150k vocabularies k=256 is the default; raise ``cached_top_k`` to 1024 (8 KB/token) for
high-entropy (sampling-heavy, creative) KL sets or large drift, or use an exact reference
(``adapter``/``model``). The error grows where the policy promotes tokens the reference held far
below its k-th probability (new behaviour): that part is invisible to any top-k cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from driftguard.errors import BaselineMismatchError, ConfigError, ModelSetupError
from driftguard.reference.kl import reference_topk, topk_kl
from driftguard.reference.kl_set import KLBatch, KLItem, KLSet, forward_logits
from driftguard.reference.providers import inference_scope, model_device

DEFAULT_TOP_K = 256


def _item_hash(item: KLItem) -> str:
    return hashlib.sha256(json.dumps([item.prompt_ids, item.completion_ids]).encode()).hexdigest()[:16]


class CachedReference:
    """Reference top-k log-probs + tail mass per completion token of the baseline KL set (CPU, fp32).

    ``model`` is the reference to cache (``select_reference`` passes the policy, cached at step 0);
    it is released after :meth:`prepare`. ``path`` (a ``.safetensors`` file) is loaded by ``prepare``
    when it exists and matches the KL set, else written. Memory: ``k * 8 + 4`` bytes per token.
    """

    name = "cached"
    exact = False

    def __init__(self, top_k: int = DEFAULT_TOP_K, path: str | Path | None = None, *, model: Any = None):
        if top_k < 1:
            raise ConfigError(f"cached_top_k = {top_k}: must be >= 1 (default {DEFAULT_TOP_K})")
        self.top_k = top_k
        self.path = Path(path) if path is not None else None
        self.model = model
        self.fingerprint: str | None = None
        self._entries: dict[str, tuple[str, Tensor, Tensor, Tensor]] = {}

    @property
    def prepared(self) -> bool:
        return self.fingerprint is not None

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the cache."""
        return sum(v.nbytes + i.nbytes + t.nbytes for _, v, i, t in self._entries.values())

    def mean_tail_mass(self) -> float:
        """Mean reference probability mass outside the cached top-k, over every cached token (0 when k >= vocab)."""
        tails = [t for _, _, _, t in self._entries.values()]
        return float(torch.cat(tails).exp().mean()) if tails else 0.0

    def prepare(self, kl_set: KLSet, batch_size: int) -> None:
        """Cache the reference over ``kl_set`` (or load ``path``), then drop the reference model."""
        if self.path is not None and self.path.exists():
            self.load(self.path, expect_fingerprint=kl_set.fingerprint())
            self.model = None
            return
        if self.model is None:
            raise ConfigError("CachedReference.prepare: no reference model to cache and no cache file"
                              f"{f' at {self.path}' if self.path else ''}; pass model= (the policy at step 0) "
                              "or path= an existing cache")
        model, device = self.model, model_device(self.model)
        entries: dict[str, tuple[str, Tensor, Tensor, Tensor]] = {}
        with inference_scope(model):
            for batch in kl_set.batches(batch_size):
                logits = forward_logits(model, batch.to(device))
                values, ids, tails = reference_topk(logits, self.top_k, batch.completion_mask.to(device))
                del logits
                counts = batch.completion_mask.sum(-1).tolist()
                for item, v, i, t in zip(batch.items, values.cpu().split(counts), ids.cpu().split(counts),
                                         tails.cpu().split(counts), strict=True):
                    entries[item.probe_id] = (_item_hash(item), v.float(), i.to(torch.int32), t.float())
        self._entries = entries
        self.fingerprint = kl_set.fingerprint()
        self.model = None  # from here on no reference model is held
        if self.path is not None:
            self.save(self.path)

    @contextmanager
    def generating(self, policy: Any = None) -> Iterator[Any]:
        """Yield the model to be cached (before :meth:`prepare`); afterwards no reference model is held."""
        if self.model is None:
            raise ModelSetupError("CachedReference.generating after prepare(): the cached reference holds no model; "
                                  "generate the KL set before prepare(), or reuse the baseline generations")
        yield self.model

    def _rows(self, batch: KLBatch) -> list[tuple[Tensor, Tensor, Tensor]]:
        if not self.prepared:
            raise ModelSetupError("CachedReference used before prepare(): cache the reference at the baseline "
                                  "(step 0) with prepare(kl_set, batch_size) before measuring KL")
        rows = []
        for item in batch.items:
            entry = self._entries.get(item.probe_id)
            if entry is None or entry[0] != _item_hash(item):
                raise BaselineMismatchError(
                    f"probe {item.probe_id!r}: its tokens are not in the cached reference (cache fingerprint "
                    f"{self.fingerprint}); cached mode measures only the baseline KL set it was prepared on — "
                    "rebuild the cache, or use reference='adapter'/'model' for other token sets")
            rows.append(entry[1:])
        return rows

    def token_kl(self, policy_logits: Tensor, batch: KLBatch, *, reverse: bool = False,
                 chunk_size: int = 1024) -> Tensor:
        """Per-position top-k KL estimate ``[B, batch.keep]`` (the tightest lower bound the cache allows)."""
        rows = self._rows(batch)
        mask = batch.completion_mask.to(policy_logits.device)
        vocab = policy_logits.shape[-1]
        k = rows[0][0].shape[-1] if rows else self.top_k
        all_ids = torch.cat([i for _, i, _ in rows]) if rows else torch.zeros(0, dtype=torch.int32)
        max_id = int(all_ids.max()) if all_ids.numel() else -1
        if max_id >= vocab:
            raise ModelSetupError(f"cached reference has token id {max_id} but the policy vocabulary is {vocab}; "
                                  "the cache was built with another tokenizer/LM head")
        shape = (*mask.shape, k)
        values = torch.zeros(shape, dtype=torch.float32, device=policy_logits.device)
        ids = torch.zeros(shape, dtype=torch.long, device=policy_logits.device)
        tails = torch.zeros(mask.shape, dtype=torch.float32, device=policy_logits.device)
        values[mask] = torch.cat([v for v, _, _ in rows]).to(values.device)
        ids[mask] = all_ids.to(ids.device, torch.long)
        tails[mask] = torch.cat([t for _, _, t in rows]).to(tails.device)
        return topk_kl(policy_logits, values, ids, tails, mask, chunk_size=chunk_size, reverse=reverse)

    def save(self, path: str | Path) -> Path:
        """Write the cache as one safetensors file (flat tensors + offsets; ids/hashes in the metadata)."""
        from safetensors.torch import save_file

        if not self.prepared:
            raise ModelSetupError("CachedReference.save before prepare(): nothing cached yet")
        probe_ids = list(self._entries)
        counts = [self._entries[p][1].shape[0] for p in probe_ids]
        tensors = {
            "logprobs": torch.cat([self._entries[p][1] for p in probe_ids]).contiguous(),
            "ids": torch.cat([self._entries[p][2] for p in probe_ids]).contiguous(),
            "tail": torch.cat([self._entries[p][3] for p in probe_ids]).contiguous(),
            "counts": torch.tensor(counts, dtype=torch.int64),
        }
        metadata = {"format": "driftguard-cached-reference", "version": "1", "top_k": str(self.top_k),
                    "fingerprint": str(self.fingerprint), "probe_ids": json.dumps(probe_ids),
                    "item_hashes": json.dumps([self._entries[p][0] for p in probe_ids])}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata=metadata)
        return path

    def load(self, path: str | Path, *, expect_fingerprint: str | None = None) -> None:
        """Read a cache written by :meth:`save`; a cache of another KL set is a BaselineMismatchError."""
        from safetensors import safe_open

        path = Path(path)
        try:
            with safe_open(str(path), framework="pt") as f:
                metadata = f.metadata() or {}
                tensors = {name: f.get_tensor(name) for name in ("logprobs", "ids", "tail", "counts")}
        except Exception as e:  # safetensors raises its own error types for bad files
            raise ModelSetupError(f"{path}: not a readable driftguard cached-reference file ({e}); delete it to "
                                  "rebuild the cache at the baseline") from None
        if metadata.get("format") != "driftguard-cached-reference":
            raise ModelSetupError(f"{path}: metadata format = {metadata.get('format')!r}, expected "
                                  "'driftguard-cached-reference'; delete it to rebuild the cache")
        if expect_fingerprint is not None and metadata.get("fingerprint") != expect_fingerprint:
            raise BaselineMismatchError(f"{path}: cached for KL set {metadata.get('fingerprint')}, but this KL set is "
                                        f"{expect_fingerprint}; delete the file to cache the reference again")
        if int(metadata["top_k"]) != self.top_k:
            raise BaselineMismatchError(f"{path}: cached with top_k = {metadata['top_k']}, configured {self.top_k}; "
                                        "set cached_top_k to match or delete the file")
        counts = tensors["counts"].tolist()
        splits = [tensors[name].split(counts) for name in ("logprobs", "ids", "tail")]
        self._entries = {pid: (h, v, i, t) for pid, h, v, i, t in zip(
            json.loads(metadata["probe_ids"]), json.loads(metadata["item_hashes"]), *splits, strict=True)}
        self.fingerprint = metadata["fingerprint"]
