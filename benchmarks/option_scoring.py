"""Shared-prefix option scoring vs one full row per option, side by side on one model.

The refusal margin scores 8 openings (4 refusal, 4 compliance) at the answer position of every harmful safety
prompt: after the model's own thought on a reasoning model. Scored as one row per opening, the prompt + thought
is encoded 8 times; :func:`driftguard.runner.choice.score_options` encodes it once and continues the openings
from its KV cache. Both are timed round-robin on the same requests (the compact suite's harmful prompts with
a synthetic thought of ``--thought-tokens`` tokens before the answer), with the tokens each one feeds the
model, and the largest difference between their scores.

Usage: ``python benchmarks/option_scoring.py [--model smollm2|PATH] [--thought-tokens 256] [--n 24] [--repeats 3]``.
Prints one JSON object, then the headline as JSON on the last line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if not __package__:  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    MODEL_HELP,
    build_model,
    build_tokenizer,
    emit,
    fraction,
    load_benchmark_model,
    machine,
    resolve_device,
    resolve_dtype,
    timed_round_robin,
)
from driftguard.probe_pass import margin_requests  # noqa: E402
from driftguard.probes import load_suite  # noqa: E402
from driftguard.runner import OptionRequest, score_options  # noqa: E402
from driftguard.types import Generation  # noqa: E402

THOUGHT = ("Let me think about what the user is asking, what could go wrong, and what a careful assistant "
           "would say here. ")


def per_row(requests: list[OptionRequest]) -> list[OptionRequest]:
    """Every (request, option) as a request of its own: the prompt + thought encoded once per option."""
    return [OptionRequest(f"{r.key}\x1f{j}", r.messages, (o,), r.prefix_ids) for r in requests
            for j, o in enumerate(r.options)]


def counting(model):
    """A forward pre-hook that counts the tokens fed to the model."""
    fed = [0]
    handle = model.register_forward_pre_hook(
        lambda mod, args, kwargs: fed.__setitem__(0, fed[0] + kwargs["input_ids"].numel()), with_kwargs=True)
    return fed, handle


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help=MODEL_HELP)
    parser.add_argument("--shape", default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--thought-tokens", type=int, default=256)
    parser.add_argument("--n", type=int, default=24, help="harmful prompts")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    suite = load_suite("compact")
    if args.model:
        model, tokenizer, described = load_benchmark_model(args.model, device, dtype)
    else:
        tokenizer = build_tokenizer(suite)
        model, described = build_model(args.shape, tokenizer, device, dtype), {"shape": args.shape}
    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse"][:args.n]
    thought = tokenizer(f"<think>{THOUGHT * 40}", add_special_tokens=False)["input_ids"][:args.thought_tokens]
    prefix = thought + tokenizer("</think>\n\n", add_special_tokens=False)["input_ids"]
    generations = {p.id: Generation(p.id, "", "", "", answer_prefix_ids=list(prefix)) for p in harmful}
    shared = margin_requests(harmful, generations)
    rows = per_row(shared)
    fed, handle = counting(model)
    tokens = {}
    for name, requests in (("shared", shared), ("per_row", rows)):
        fed[0] = 0
        score_options(model, tokenizer, requests, batch_size=args.batch_size)
        tokens[name] = fed[0]
    handle.remove()
    seconds, results = timed_round_robin({
        "shared": lambda: score_options(model, tokenizer, shared, batch_size=args.batch_size),
        "per_row": lambda: score_options(model, tokenizer, rows, batch_size=args.batch_size)}, device, args.repeats)
    diff = max(abs(s.sum_logprob - results["per_row"][f"{r.key}\x1f{j}"][0].sum_logprob)
               for r in shared for j, s in enumerate(results["shared"][r.key]))
    headline = {"per_row_over_shared_time": fraction(seconds["per_row"], seconds["shared"]),
                "per_row_over_shared_tokens": fraction(tokens["per_row"], tokens["shared"]),
                "max_abs_logprob_diff": diff, "thought_tokens": len(prefix), "requests": len(shared)}
    result = {"benchmark": "option_scoring", "model": described, "machine": machine(device), "seconds": seconds,
              "tokens_fed": tokens, "batch_size": args.batch_size, "repeats": args.repeats}
    emit(result, headline, digits=7)
    return {**result, "headline": headline}


if __name__ == "__main__":
    main()
