"""What does live attribution cost? Per training step (hooks + dot products) and per evaluation (the safety gradient).

Per step: the same LoRA training step (forward, backward, AdamW step) on the same batch, with and without the
attribution (ghost hooks on the adapter's linear layers, ``<G, grad>`` and ``<G, update>``), alternated A/B for
``--repeats`` rounds; the ratio of the medians. Per evaluation: ``safety_gradient`` (the loss's forward + backward
over the harmful and benign safety prompts) against one full probe pass on the same model and suite, in one run,
with the callback's default generation settings. ``--per-side 0`` takes the whole compact suite (what a user runs).

    python benchmarks/attribution_overhead.py --model smollm2 [--batch 8] [--seq 256] [--repeats 10] [--per-side 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import MODEL_HELP, load_benchmark_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2", help=MODEL_HELP)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--per-side", type=int, default=8,
                        help="harmful and benign safety prompts in the suite; 0: the whole compact suite")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    import torch
    from peft import LoraConfig, get_peft_model

    from driftguard.attribution import AttributionTracker
    from driftguard.attribution.safety_loss import safety_gradient, safety_items
    from driftguard.config import DriftGuardConfig
    from driftguard.demo.real import real_suite
    from driftguard.probe_pass import run_probe_pass
    from driftguard.probes import load_suite

    torch.manual_seed(0)
    model, tokenizer = load_benchmark_model(args.model, torch.device("cpu"), torch.float32)[:2]
    model.requires_grad_(False)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, init_lora_weights=False,
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    suite = load_suite("compact") if args.per_side == 0 else real_suite(load_suite("compact"), args.per_side, 2)
    config = DriftGuardConfig(batch_size=16, mechanism=False)
    tracker = AttributionTracker(model, tokenizer=tokenizer)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    ids = torch.randint(0, len(tokenizer), (args.batch, args.seq))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}

    def train_step(step: int, attributed: bool) -> float:
        t0 = time.perf_counter()
        model.train()
        model(**batch).loss.backward()
        if attributed:
            tracker.before_step(step)
        optimizer.step()
        if attributed:
            tracker.after_step(step)
        else:
            tracker.ghost.take()
        optimizer.zero_grad()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    tracker.evaluate(model, tokenizer, list(suite), {}, step=0, batch_size=16)  # sets G; hooks record from here
    gradient_s = time.perf_counter() - t0
    tracker.ghost.detach()
    train_step(0, False)  # warm-up
    off, on = [], []
    for r in range(args.repeats):
        off.append(train_step(r, False))
        tracker.ghost.attach()
        on.append(train_step(r, True))
        tracker.ghost.detach()
    step_off, step_on = statistics.median(off), statistics.median(on)
    print(f"model {args.model} + LoRA r16 (q,k,v,o: {tracker.size:,} attributed parameters), batch {args.batch} x {args.seq}")
    print(f"train step: {step_on / step_off:.3f}x with attribution ({step_on:.3f} s vs {step_off:.3f} s, median of "
          f"{args.repeats} alternated steps)", flush=True)
    t0 = time.perf_counter()
    _, gens = run_probe_pass(model, tokenizer, suite, config, step=0)
    probe_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    items = safety_items(tokenizer, list(suite), gens)
    safety_gradient(model, tokenizer, items, tracker.params, batch_size=16)
    gradient_thought_s = time.perf_counter() - t0
    print(f"per evaluation: safety gradient {gradient_s:.1f} s without thoughts, {gradient_thought_s:.1f} s after the "
          f"model's own thoughts ({len(items)} safety prompts, {gradient_thought_s / len(items):.2f} s each); probe pass "
          f"{probe_s:.1f} s ({len(suite)} probes) -> the gradient is {gradient_thought_s / probe_s:.2f}x of a probe pass")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "model": args.model, "lora": "r16 q,k,v,o", "attributed_params": tracker.size, "batch": args.batch,
            "seq": args.seq, "repeats": args.repeats, "step_on_s": round(step_on, 4), "step_off_s": round(step_off, 4),
            "step_ratio": round(step_on / step_off, 4), "steps_on_s": [round(x, 4) for x in on],
            "steps_off_s": [round(x, 4) for x in off], "suite_probes": len(suite), "safety_prompts": len(items),
            "gradient_s": round(gradient_s, 2), "gradient_after_thoughts_s": round(gradient_thought_s, 2),
            "probe_pass_s": round(probe_s, 2), "gradient_over_probe_pass": round(gradient_thought_s / probe_s, 3),
        }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
