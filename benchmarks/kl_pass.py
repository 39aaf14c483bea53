"""KL pass cost vs a bare forward, and peak memory of the chunked KL vs a naive full-tensor KL.

Measured side by side in one run on one model shape:

* throughput (completion tokens/s) of ``measure_kl`` with a ``model`` reference (a frozen perturbed
  copy), an ``adapter`` reference (LoRA policy, adapter disabled) and a ``cached`` reference (top-k),
  each divided by the throughput of a bare forward of the same policy over the same batches;
* peak extra memory of the chunked exact KL (``token_kl``) vs a naive implementation that
  materialises full fp32 log-softmax tensors for both models, on the same logits.
  CUDA: ``torch.cuda.max_memory_allocated``; CPU: a dispatch-mode tracker of live tensor storage.

``--accuracy`` adds the cached-mode relative error vs exact KL on a tiny Llama trained in-process
(peaked, LM-like distributions) and a fine-tuned copy, for several k.

Usage: ``python benchmarks/kl_pass.py [--device cpu] [--shape tiny|small|gpu] [--accuracy]``.
Prints one JSON object with every figure, then the headline ratios as JSON on the last line.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import weakref
from collections.abc import Callable
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
from driftguard.reference.providers import inference_scope

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "intermediate_size": 128, "vocab_size": 4096},
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
              "intermediate_size": 704, "vocab_size": 32000},
    # Qwen2.5-0.5B-shaped Llama (random weights): for a GPU
    "gpu": {"hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
            "intermediate_size": 4864, "vocab_size": 151936},
}


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

    config = LlamaConfig(**SHAPES[shape], tie_word_embeddings=False, max_position_embeddings=4096)
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


def throughput(args, device, dtype) -> dict[str, Any]:
    import peft

    policy = build(args.shape, device, dtype)
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

    lora = peft.LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
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


def memory(args, device, dtype) -> dict[str, Any]:
    """Peak extra memory of chunked vs naive KL on one ``[batch, memory_tokens, vocab]`` pair of logits (not counted)."""
    vocab = SHAPES[args.shape]["vocab_size"]
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None, help="default: small on CPU, gpu on CUDA")
    parser.add_argument("--dtype", default=None, help="default: float32 on CPU, bfloat16 on CUDA")
    parser.add_argument("--n-seqs", type=int, default=24)
    parser.add_argument("--prompt-len", type=int, default=48)
    parser.add_argument("--completion-len", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--top-k", type=int, default=64)
    parser.add_argument("--memory-tokens", type=int, default=256, help="positions per row in the memory comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true", help="also measure cached-mode error on a trained tiny model")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    args.shape = args.shape or ("gpu" if device.type == "cuda" else "small")
    dtype = getattr(torch, args.dtype) if args.dtype else (torch.bfloat16 if device.type == "cuda" else torch.float32)
    torch.set_grad_enabled(False)
    result: dict[str, Any] = {"device": str(device), "device_name": torch.cuda.get_device_name(device)
                              if device.type == "cuda" else "cpu", "threads": torch.get_num_threads(),
                              "shape": args.shape, "model": SHAPES[args.shape], "dtype": str(dtype)}
    result["throughput"] = throughput(args, device, dtype)
    result["memory"] = memory(args, device, dtype)
    print(json.dumps(result, indent=1))
    headline = {"kl_vs_bare_model": result["throughput"]["ratio_model"],
                "kl_vs_bare_adapter": result["throughput"]["ratio_adapter"],
                "kl_vs_bare_cached": result["throughput"]["ratio_cached"],
                "peak_mem_chunked_vs_naive": result["memory"]["ratio_peak_memory_chunked_vs_naive"]}
    print(json.dumps({k: round(v, 4) for k, v in headline.items()}))
    return result


if __name__ == "__main__":
    main()
