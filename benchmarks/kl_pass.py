"""KL pass cost vs a bare forward, and peak memory of the chunked KL vs a naive full-tensor KL.

Measured side by side in one run on one model (a random Llama of ``--shape``, or a real model with ``--model``):

* throughput (completion tokens/s) of ``measure_kl`` with a ``model`` reference (a frozen perturbed
  copy), an ``adapter`` reference (LoRA policy, adapter disabled) and a ``cached`` reference (top-k),
  each divided by the throughput of a bare forward of the same policy over the same batches;
* peak extra memory of the chunked exact KL (``token_kl``) vs a naive implementation that
  materialises full fp32 log-softmax tensors for both models, on the same logits.
  CUDA: ``torch.cuda.max_memory_allocated``; CPU: a dispatch-mode tracker of live tensor storage.

``--accuracy`` adds the cached-mode relative error vs exact KL (:func:`cached_accuracy`) for k in
16..512, on tiny Llamas trained in-process (:func:`accuracy_models`: peaked, LM-like next-token
distributions) and a copy fine-tuned a few steps on different chats; vocabularies 512 and 2048.
``--accuracy-only`` runs just that part (its own headline: the relative error at the default k).

``--model SPEC`` (a saved model dir, a PEFT adapter dir, merged into its base, a local ``.gguf`` file, or
``smollm2``: see ``benchmarks/common.py``) measures a real model: the policy is the loaded model, the
``model`` reference a frozen copy of it with the same small Gaussian perturbation of every weight as for a
random model, the ``adapter`` reference a LoRA on the loaded model (adapter disabled), and the memory
comparison uses its vocabulary. The KL set's token ids are random either way (the cost does not depend on
the text; the KL values themselves mean nothing here).

Usage: ``python benchmarks/kl_pass.py [--device cpu] [--shape tiny|small|gpu | --model PATH|smollm2] [--n-seqs N]
[--repeats N] [--accuracy | --accuracy-only]``.
Prints one JSON object with every figure, then the headline ratios as JSON on the last line.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from driftguard.reference import (
    AdapterReference,
    CachedReference,
    KLItem,
    KLSet,
    ModelReference,
    forward_logits,
    measure_kl,
    token_kl,
)
from driftguard.reference.cached import DEFAULT_TOP_K
from driftguard.reference.providers import inference_scope

if not __package__:  # run as a script (python benchmarks/kl_pass.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    LORA_TARGETS,
    MODEL_HELP,
    SHAPES,
    load_benchmark_model,
    lora_targets,
    n_parameters,
    resolve_device,
    resolve_dtype,
)

TINY_VOCAB = 4096  # common's tiny shape takes a tokenizer's vocabulary; the KL benchmark has no tokenizer


def model_dims(shape: str) -> dict[str, Any]:
    """The Llama config fields of ``shape`` (the shared benchmark shapes, with a fixed vocab for ``tiny``)."""
    dims = dict(SHAPES[shape])
    dims["vocab_size"] = dims["vocab_size"] or TINY_VOCAB
    return dims


class PeakTensorMemory(TorchDispatchMode):
    """Peak bytes of tensor storage allocated inside the ``with`` block and still alive (any device)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: dict[int, int] = {}
        self.sizes: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def _release(self, key: int) -> None:
        self.refs[key] -= 1
        if self.refs[key] == 0:
            self.current -= self.sizes.pop(key)
            del self.refs[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {t.untyped_storage().data_ptr() for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for tensor in tree_leaves(out):
            if isinstance(tensor, torch.Tensor):
                storage = tensor.untyped_storage()
                key = storage.data_ptr()
                if key in inputs and key not in self.refs:
                    continue  # a view or in-place result of a tensor allocated before the block: no new memory
                if key not in self.refs:
                    self.refs[key], self.sizes[key] = 0, storage.nbytes()
                    self.current += storage.nbytes()
                    self.peak = max(self.peak, self.current)
                self.refs[key] += 1
                weakref.finalize(tensor, self._release, key)
        return out


def peak_extra_bytes(fn: Callable[[], Any], device: torch.device) -> int:
    """Peak bytes allocated by ``fn`` above what was allocated before it (its result is dropped)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        result = fn()
        torch.cuda.synchronize(device)
        del result
        return torch.cuda.max_memory_allocated(device) - before
    with PeakTensorMemory() as tracker:
        result = fn()
        del result
    return tracker.peak


def naive_kl(policy_logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The full-tensor implementation: fp32 log-softmax of both models over every position at once."""
    logp = F.log_softmax(policy_logits.float(), dim=-1)
    logq = F.log_softmax(ref_logits.float(), dim=-1)
    return (logp.exp() * (logp - logq)).sum(-1) * mask


def build(shape: str, device: torch.device, dtype: torch.dtype, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**model_dims(shape), tie_word_embeddings=False, max_position_embeddings=4096)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).to(device=device, dtype=dtype).eval()


def perturbed(model, scale: float = 0.02, seed: int = 1):
    other = copy.deepcopy(model)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    with torch.no_grad():
        for p in other.parameters():
            p.add_((torch.randn(p.shape, generator=generator) * scale).to(p.device, p.dtype))
    return other


def random_kl_set(n: int, vocab: int, prompt_len: int, completion_len: int, seed: int = 0) -> KLSet:
    g = torch.Generator().manual_seed(seed)
    items = []
    for i in range(n):
        p = prompt_len // 2 + int(torch.randint(prompt_len // 2 + 1, (1,), generator=g))
        c = completion_len // 2 + int(torch.randint(completion_len // 2 + 1, (1,), generator=g))
        ids = torch.randint(vocab, (p + c,), generator=g).tolist()
        items.append(KLItem(f"p{i}", ("safety", "bias", "ethics")[i % 3], tuple(ids[:p]), tuple(ids[p:])))
    return KLSet(items)


def timed(fns: dict[str, Callable[[], Any]], device: torch.device, repeats: int) -> dict[str, float]:
    """Median wall time of each fn; one warm-up each, then round-robin so machine load hits all alike."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def bare_forward(model, kl_set: KLSet, batch_size: int, device: torch.device) -> None:
    with inference_scope(model):
        for batch in kl_set.batches(batch_size):
            forward_logits(model, batch.to(device))


def throughput(args, policy, device, dtype) -> dict[str, Any]:
    """Completion tokens/s of the KL pass per reference vs a bare forward of ``policy`` (LoRA added in place)."""
    import peft

    kl_set = random_kl_set(args.n_seqs, policy.config.vocab_size, args.prompt_len, args.completion_len)
    tokens = kl_set.n_tokens
    out: dict[str, Any] = {"n_seqs": len(kl_set), "completion_tokens": tokens}

    def kl_pass(model, provider):
        return lambda: measure_kl(model, provider, kl_set, batch_size=args.batch_size, chunk_size=args.chunk_size)

    model_ref = ModelReference(perturbed(policy))
    cached = CachedReference(args.top_k, model=model_ref.model)
    cached.prepare(kl_set, batch_size=args.batch_size)
    t = timed({"bare": lambda: bare_forward(policy, kl_set, args.batch_size, device),
               "model": kl_pass(policy, model_ref), "cached": kl_pass(policy, cached)}, device, args.repeats)
    bare, t_model, t_cached = t["bare"], t["model"], t["cached"]
    del model_ref, cached

    lora = peft.LoraConfig(r=16, lora_alpha=32, target_modules=lora_targets(policy, LORA_TARGETS[:4]),
                           init_lora_weights=False)
    peft_policy = peft.get_peft_model(policy, lora).to(device=device, dtype=dtype).eval()
    t = timed({"bare": lambda: bare_forward(peft_policy, kl_set, args.batch_size, device),
               "adapter": kl_pass(peft_policy, AdapterReference(peft_policy))}, device, args.repeats)
    bare_peft, t_adapter = t["bare"], t["adapter"]
    out.update({
        "bare_forward_tokens_per_s": tokens / bare,
        "kl_model_tokens_per_s": tokens / t_model,
        "kl_cached_tokens_per_s": tokens / t_cached,
        "bare_forward_peft_tokens_per_s": tokens / bare_peft,
        "kl_adapter_tokens_per_s": tokens / t_adapter,
        "ratio_model": bare / t_model,
        "ratio_adapter": bare_peft / t_adapter,
        "ratio_cached": bare / t_cached,
    })
    return out


def memory(args, vocab: int, device, dtype) -> dict[str, Any]:
    """Peak extra memory of chunked vs naive KL on one ``[batch, memory_tokens, vocab]`` pair of logits (not counted)."""
    g = torch.Generator().manual_seed(0)
    shape = (args.batch_size, args.memory_tokens, vocab)
    policy_logits = (torch.randn(shape, generator=g) * 3).to(device=device, dtype=dtype)
    ref_logits = (torch.randn(shape, generator=g) * 3).to(device=device, dtype=dtype)
    mask = torch.ones(shape[:2], dtype=torch.bool, device=device)
    chunked = peak_extra_bytes(lambda: token_kl(policy_logits, ref_logits, mask, chunk_size=args.chunk_size), device)
    naive = peak_extra_bytes(lambda: naive_kl(policy_logits, ref_logits, mask), device)
    error = float((token_kl(policy_logits, ref_logits, mask, chunk_size=args.chunk_size)
                   - naive_kl(policy_logits, ref_logits, mask)).abs().max())
    return {"logits_shape": list(shape), "logits_dtype": str(dtype), "chunk_size": args.chunk_size,
            "peak_extra_bytes_chunked": chunked, "peak_extra_bytes_naive": naive,
            "ratio_peak_memory_chunked_vs_naive": chunked / naive, "max_abs_diff_chunked_vs_naive": error}


ACCURACY_KS = (16, 32, 64, 128, 256, 512)
ACCURACY_DIMENSIONS = ("safety", "toxicity", "bias", "ethics", "privacy", "robustness")


def accuracy_models(vocab_size: int = 512, *, steps: int = 150, finetune_steps: int = 5, n_probes: int = 96,
                    max_len: int = 48, max_new_tokens: int = 24, seed: int = 0) -> tuple[Any, Any, KLSet]:
    """``(reference, policy, kl_set)`` for the cached-mode accuracy measurement (CPU, seconds).

    reference: a 2-layer, 64-wide Llama with a ``vocab_size`` BPE tokenizer, trained ``steps`` AdamW steps on
    the demo's aligned chats of the ``compact`` suite (rows of at most ``max_len`` tokens), so its next-token
    distributions on its own completions are peaked like a real LM's (mean entropy ~1-2 nats, median ~0.6-1.3).
    policy: a copy fine-tuned ``finetune_steps`` steps (lr 1e-3) on the demo's drift chats (different text).
    kl_set: the reference's greedy completions (``driftguard.runner.generate``) of the first ``n_probes`` chats' prompts.
    """
    from driftguard.demo.base_model import encode_chat, train_aligned
    from driftguard.demo.data import aligned_chats, drift_chats
    from driftguard.demo.tiny_model import build_model, build_tokenizer
    from driftguard.probes import load_suite
    from driftguard.runner.generate import generate
    from driftguard.types import Probe

    suite = load_suite("compact")
    aligned, drift = aligned_chats(suite, seed), drift_chats(suite, seed)
    tokenizer = build_tokenizer([m["content"] for c in aligned + drift for m in c["messages"]], vocab_size=vocab_size)
    aligned = [c for c in aligned if len(encode_chat(tokenizer, c["messages"])[0]) <= max_len]
    drift = [c for c in drift if len(encode_chat(tokenizer, c["messages"])[0]) <= 2 * max_len]
    with torch.enable_grad():
        reference = build_model(tokenizer, hidden_size=64, num_layers=2, num_heads=4, seed=seed)
        train_aligned(reference, tokenizer, aligned, steps=steps, seed=seed)
        policy = copy.deepcopy(reference)
        train_aligned(policy, tokenizer, drift, steps=finetune_steps, seed=seed, lr=1e-3)
    probes = [Probe(id=f"acc-{i:03d}", dimension=ACCURACY_DIMENSIONS[i % len(ACCURACY_DIMENSIONS)], kind="generate",
                    messages=tuple(c["messages"][:-1])) for i, c in enumerate(aligned[:n_probes])]
    with torch.no_grad():
        generations = generate(reference, tokenizer, probes, max_new_tokens=max_new_tokens, batch_size=64)
    return reference.eval(), policy.eval(), KLSet.from_generations(probes, generations)


def reference_entropy(reference: Any, kl_set: KLSet, batch_size: int = 16) -> float:
    """Mean entropy (nats) of the reference's next-token distributions over the KL set's completion tokens."""
    total, count = 0.0, 0
    with inference_scope(reference):
        for batch in kl_set.batches(batch_size):
            logq = F.log_softmax(forward_logits(reference, batch).float(), dim=-1)[batch.completion_mask]
            total += float(-(logq.exp() * logq).sum(-1).sum())
            count += logq.shape[0]
    return total / max(count, 1)


def cached_accuracy(reference: Any, policy: Any, kl_set: KLSet, ks: tuple[int, ...] = ACCURACY_KS,
                    batch_size: int = 16) -> dict[str, Any]:
    """Relative error of ``measure_kl``'s mean with ``CachedReference(k)`` vs ``ModelReference`` (exact), per k.

    Also per k: the reference's mean tail mass beyond its top k, the worst per-probe relative error, and
    whether any probe's estimate exceeded the exact KL (it must not: the estimate is a lower bound).
    """
    exact = measure_kl(policy, ModelReference(reference), kl_set, batch_size=batch_size)
    out: dict[str, Any] = {"vocab_size": reference.config.vocab_size, "n_probes": len(kl_set),
                           "completion_tokens": kl_set.n_tokens, "exact_mean_kl": exact.mean,
                           "reference_entropy": reference_entropy(reference, kl_set, batch_size), "by_k": {}}
    for k in ks:
        cache = CachedReference(k, model=reference)
        cache.prepare(kl_set, batch_size=batch_size)
        estimate = measure_kl(policy, cache, kl_set, batch_size=batch_size)
        per_probe = [(estimate.per_probe[p] - kl) / kl for p, kl in exact.per_probe.items() if kl > 0]
        out["by_k"][str(k)] = {
            "rel_error": (estimate.mean - exact.mean) / exact.mean, "cached_mean_kl": estimate.mean,
            "worst_probe_rel_error": min(per_probe), "reference_tail_mass": cache.mean_tail_mass(),
            "over_exact": any(estimate.per_probe[p] > kl + 1e-6 for p, kl in exact.per_probe.items()),
            "cache_bytes_per_token": cache.memory_bytes / max(kl_set.n_tokens, 1)}
    return out


def accuracy(vocab_sizes: tuple[int, ...] = (512, 2048), ks: tuple[int, ...] = ACCURACY_KS) -> dict[str, Any]:
    """:func:`cached_accuracy` on :func:`accuracy_models` for each vocabulary size (seed 0, one CPU thread)."""
    results, threads = {}, torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is fastest and deterministic
    try:
        for vocab_size in vocab_sizes:
            start = time.perf_counter()
            reference, policy, kl_set = accuracy_models(vocab_size)
            results[str(vocab_size)] = {**cached_accuracy(reference, policy, kl_set, ks),
                                        "seconds": round(time.perf_counter() - start, 1)}
    finally:
        torch.set_num_threads(threads)
    return {"default_top_k": DEFAULT_TOP_K, "model": "tiny Llama (2 layers, hidden 64) trained 150 steps on the "
            "demo's aligned chats; policy = copy fine-tuned 5 steps on the demo's drift chats", "by_vocab": results}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None, help="default: small on CPU, gpu on CUDA")
    parser.add_argument("--model", default=None, help=MODEL_HELP)
    parser.add_argument("--dtype", default=None, help="default: float32 on CPU, bfloat16 on CUDA")
    parser.add_argument("--n-seqs", type=int, default=24)
    parser.add_argument("--prompt-len", type=int, default=48)
    parser.add_argument("--completion-len", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    parser.add_argument("--memory-tokens", type=int, default=256, help="positions per row in the memory comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true", help="also measure cached-mode error on a trained tiny model")
    parser.add_argument("--accuracy-only", action="store_true", help="only the cached-mode accuracy measurement")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    args.shape = args.shape or ("gpu" if device.type == "cuda" else "small")
    dtype = resolve_dtype(args.dtype, device)
    torch.set_grad_enabled(False)
    if args.accuracy_only:
        result = {"accuracy": accuracy()}
        print(json.dumps(result, indent=1))
        default = result["accuracy"]["by_vocab"]["512"]["by_k"].get(str(DEFAULT_TOP_K), {})
        print(json.dumps({"cached_rel_error_default_k_vocab512": round(default.get("rel_error", float("nan")), 5)}))
        return result
    result: dict[str, Any] = {"device": str(device), "device_name": torch.cuda.get_device_name(device)
                              if device.type == "cuda" else "cpu", "threads": torch.get_num_threads()}
    if args.model:
        policy, _, described = load_benchmark_model(args.model, device, dtype, merge_adapter=True)
        result.update({"model": described, "dtype": str(dtype),
                       "note": "real model: the 'model' reference is a frozen copy with every weight perturbed by "
                               "N(0, 0.02); the 'adapter' reference a LoRA (r=16, q/k/v/o, random init) on it; "
                               "random token ids (cost only)"})
    else:
        policy = build(args.shape, device, dtype)
        result.update({"shape": args.shape, "model": {**model_dims(args.shape), "n_parameters": n_parameters(policy)},
                       "dtype": str(dtype)})
    vocab = policy.config.vocab_size
    result["throughput"] = throughput(args, policy, device, dtype)
    del policy
    result["memory"] = memory(args, vocab, device, dtype)
    if args.accuracy:
        result["accuracy"] = accuracy()
    print(json.dumps(result, indent=1))
    headline = {"kl_vs_bare_model": result["throughput"]["ratio_model"],
                "kl_vs_bare_adapter": result["throughput"]["ratio_adapter"],
                "kl_vs_bare_cached": result["throughput"]["ratio_cached"],
                "peak_mem_chunked_vs_naive": result["memory"]["ratio_peak_memory_chunked_vs_naive"]}
    print(json.dumps({k: round(v, 4) for k, v in headline.items()}))
    return result


if __name__ == "__main__":
    main()
