"""SFT an instruction-tuned model on chain-of-thought data with driftguard watching alignment.

    python examples/sft_reasoning.py --model Qwen/Qwen2.5-0.5B-Instruct --dataset my_cot.jsonl
    python examples/sft_reasoning.py --tiny            # offline smoke run on a tiny in-process model

The only driftguard line is the callback; everything else is a plain TRL script.
"""

from __future__ import annotations

import argparse

from datasets import Dataset, load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from driftguard import DriftGuardCallback, DriftGuardConfig

TINY_ROWS = [{"messages": [{"role": "user", "content": f"What is {a} plus {b}?"},
                           {"role": "assistant", "content": f"<think>{a} plus {b} is {a + b}.</think> {a + b}"}]}
             for a in range(6) for b in range(6)]


def tiny_model_and_tokenizer():
    """A 2-layer Llama and an in-process tokenizer (no download), for smoke runs."""
    from driftguard.demo.tiny_model import build_model, build_tokenizer

    tokenizer = build_tokenizer([m["content"] for row in TINY_ROWS for m in row["messages"]] * 4, vocab_size=512)
    return build_model(tokenizer), tokenizer


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="Qwen/Qwen2.5-0.5B-Instruct")
    p.add_argument("--dataset", default=None, help="JSONL with a 'messages' column (chat format)")
    p.add_argument("--output-dir", default="out/sft-reasoning")
    p.add_argument("--max-steps", type=int, default=1000)
    p.add_argument("--suite", default="compact")
    p.add_argument("--tiny", action="store_true", help="offline smoke run on a tiny in-process model")
    args = p.parse_args(argv)

    if args.tiny:
        model, tokenizer = tiny_model_and_tokenizer()
        train = Dataset.from_list(TINY_ROWS)
    else:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype="auto")
        tokenizer = AutoTokenizer.from_pretrained(args.model)
        train = load_dataset("json", data_files=args.dataset, split="train")

    guard = DriftGuardCallback(DriftGuardConfig(
        suite=args.suite,
        eval_steps=max(1, args.max_steps // 10),  # ten checks over the run, plus the baseline and the end
        max_new_tokens=16 if args.tiny else 256,
        early_stop=True,                          # stop when a regression persists (patience=2)
    ))
    trainer = SFTTrainer(
        model=model, processing_class=tokenizer, train_dataset=train, callbacks=[guard],
        args=SFTConfig(output_dir=args.output_dir, max_steps=args.max_steps, logging_steps=max(1, args.max_steps // 50),
                       save_steps=max(1, args.max_steps // 5), report_to=[] if args.tiny else ["wandb"],
                       use_cpu=args.tiny, per_device_train_batch_size=4),
    )
    trainer.train()
    print(f"verdict: {guard.last_report['verdict']}; reports in {args.output_dir}/driftguard/ and each checkpoint")


if __name__ == "__main__":
    main()
