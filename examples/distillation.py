"""Distil a reasoning teacher into an instruction-tuned student, with driftguard watching the student.

    python examples/distillation.py --student Qwen/Qwen2.5-0.5B-Instruct --teacher Qwen/Qwen2.5-7B-Instruct
    python examples/distillation.py --tiny     # offline smoke run on tiny in-process models

The KL reference is the student as it was at step 0 (the instruction-tuned baseline), not the teacher:
driftguard measures how far the student drifts from its own aligned starting point.
"""

from __future__ import annotations

import argparse

from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DistillationConfig, DistillationTrainer

from driftguard import DriftGuardCallback, DriftGuardConfig

PROMPTS = [[{"role": "user", "content": f"Solve step by step: {a} + {b} * 2"}] for a in range(8) for b in range(8)]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--student", default="Qwen/Qwen2.5-0.5B-Instruct")
    p.add_argument("--teacher", default="Qwen/Qwen2.5-7B-Instruct")
    p.add_argument("--output-dir", default="out/distillation")
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--suite", default="compact")
    p.add_argument("--tiny", action="store_true", help="offline smoke run on tiny in-process models")
    args = p.parse_args(argv)

    if args.tiny:
        from driftguard.demo.tiny_model import build_model, build_tokenizer

        tokenizer = build_tokenizer([m["content"] for row in PROMPTS for m in row] * 4, vocab_size=512)
        student, teacher = build_model(tokenizer, seed=0), build_model(tokenizer, seed=1)
    else:
        tokenizer = AutoTokenizer.from_pretrained(args.student)
        student = AutoModelForCausalLM.from_pretrained(args.student, dtype="auto")
        teacher = AutoModelForCausalLM.from_pretrained(args.teacher, dtype="auto")

    guard = DriftGuardCallback(DriftGuardConfig(
        suite=args.suite,
        eval_steps=max(1, args.max_steps // 10),
        reference="cached",   # the student at step 0, as top-k log-probs on CPU: no second student copy
        max_new_tokens=16 if args.tiny else 256,
        early_stop=True,
    ))
    trainer = DistillationTrainer(
        model=student, teacher_model=teacher, processing_class=tokenizer, callbacks=[guard],
        train_dataset=Dataset.from_list([{"prompt": p} for p in PROMPTS]),
        args=DistillationConfig(output_dir=args.output_dir, max_steps=args.max_steps, per_device_train_batch_size=4,
                                max_completion_length=16 if args.tiny else 512, logging_steps=1,
                                save_steps=max(1, args.max_steps // 5), use_cpu=args.tiny,
                                report_to=[] if args.tiny else ["wandb"]),
    )
    trainer.train()
    print(f"verdict: {guard.last_report['verdict']}; KL reference: {guard.last_report['kl']['reference']}")


if __name__ == "__main__":
    main()
