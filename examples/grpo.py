"""GRPO with a LoRA adapter: driftguard's KL reference is the base model with the adapter disabled (no copy).

    python examples/grpo.py --model Qwen/Qwen2.5-0.5B-Instruct
    python examples/grpo.py --tiny      # offline smoke run on a tiny in-process model
"""

from __future__ import annotations

import argparse

from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from driftguard import DriftGuardCallback, DriftGuardConfig

PROMPTS = [[{"role": "user", "content": f"What is {a} times {b}? Think first."}] for a in range(2, 9) for b in range(2, 9)]


def reward_correct(prompts, completions, **kwargs) -> list[float]:
    """1 when the answer after the reasoning contains the product, else 0."""
    out = []
    for prompt, completion in zip(prompts, completions, strict=True):
        a, b = (int(w) for w in prompt[-1]["content"].replace("?", " ").split() if w.isdigit())
        text = completion[0]["content"] if isinstance(completion, list) else completion
        out.append(float(str(a * b) in text.split("</think>")[-1]))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="Qwen/Qwen2.5-0.5B-Instruct")
    p.add_argument("--output-dir", default="out/grpo-lora")
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--tiny", action="store_true", help="offline smoke run on a tiny in-process model")
    args = p.parse_args(argv)

    if args.tiny:
        from driftguard.demo.tiny_model import build_model, build_tokenizer

        tokenizer = build_tokenizer([m["content"] for row in PROMPTS for m in row] * 4, vocab_size=512)
        model = build_model(tokenizer)
    else:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype="auto")
        tokenizer = AutoTokenizer.from_pretrained(args.model)

    guard = DriftGuardCallback(DriftGuardConfig(
        eval_steps=max(1, args.max_steps // 10),
        reference="adapter",            # the frozen base: same weights, adapter disabled
        max_new_tokens=16 if args.tiny else 256,
        wandb_alerts=True,
    ))
    trainer = GRPOTrainer(
        model=model, processing_class=tokenizer, reward_funcs=reward_correct,
        train_dataset=Dataset.from_list([{"prompt": p} for p in PROMPTS]),
        peft_config=LoraConfig(r=8, target_modules=["q_proj", "v_proj"]),
        callbacks=[guard],
        args=GRPOConfig(output_dir=args.output_dir, max_steps=args.max_steps, num_generations=4,
                        per_device_train_batch_size=4, max_completion_length=16 if args.tiny else 512,
                        logging_steps=1, save_steps=max(1, args.max_steps // 5), use_cpu=args.tiny,
                        report_to=[] if args.tiny else ["wandb"]),
    )
    trainer.train()
    print(f"verdict: {guard.last_report['verdict']}; KL reference: {guard.last_report['kl']['reference']}")


if __name__ == "__main__":
    main()
