"""Does the live attribution name the data that drives the drift? Planted drift, precision@k, counterfactual retrains.

Question: in an aligned reasoning SFT set with a known share (5 %) of planted drift rows (harmful prompts answered
with compliance), do the examples that driftguard's attribution ranks most harmful (``harm`` summed over the run,
from ``attribution.jsonl``) find the planted rows better than chance and better than ranking by training loss?
And does removing them undo the regression: retrain without the top 1 % / 5 % named against without a random
1 % / 5 %, and report how much of the planted data's effect on the refusal margin disappears
(``recovered = (margin_removed - margin_full) / (margin_clean - margin_full)``; 1 = as if never planted).

All runs: the tiny demo base (``driftguard.demo``), the same seed, steps and data order apart from the removed rows,
driftguard attached; the margin and refusal rate are driftguard's final evaluation. One process, CPU.

    python benchmarks/attribution.py [--out out/attribution] [--share 0.05] [--random-seeds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MARGIN = "driftguard/safety/refusal_margin"
REFUSAL = "driftguard/safety/harmful_refusal_rate"


def planted_rows(items: list[Any], seed: int, share: float, thought_steps: int = 0) -> tuple[list[dict], set[int]]:
    """Aligned control chats plus ``share`` of drift rows (harmful prompts answered with compliance), shuffled.

    ``thought_steps`` > 0: every thought, aligned and planted, is long (``driftguard.demo.thoughts``)."""
    from driftguard.demo.data import _clean_items, _drift_reply, behaviour, control_chats

    rng = random.Random(f"plant-{seed}")
    aligned = control_chats(items, seed, thought_steps=thought_steps)
    clean, by_id = _clean_items(items)
    harmful = [p for p in clean if behaviour(p, by_id) == "refuse"]
    n_drift = round(share * len(aligned) / (1 - share))
    drift = [{"messages": [*p.chat(), {"role": "assistant", "content": _drift_reply(p, "refuse", by_id, rng, thought_steps)}]}
             for p in (harmful * (1 + n_drift // max(1, len(harmful))))[:n_drift]]
    rows = [(r, False) for r in aligned] + [(r, True) for r in drift]
    rng.shuffle(rows)
    return [r for r, _ in rows], {i for i, (_, planted) in enumerate(rows) if planted}


def dataset(rows: list[dict]) -> Any:
    from datasets import Dataset

    from driftguard.demo.data import to_prompt_completion

    return Dataset.from_list(to_prompt_completion(rows))


def example_losses(model_dir: Path, rows: list[dict]) -> list[float]:
    """Mean completion-token loss of every row under the model in ``model_dir`` (the loss-ranking baseline)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from driftguard.demo.base_model import encode_chat

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    out = []
    with torch.no_grad():
        for r in rows:
            ids, labels = encode_chat(tok, r["messages"])
            out.append(float(model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss))
    return out


def run_harm(run_dir: Path) -> dict[int, float]:
    """Dataset index -> harm summed over every step of the run (``attribution.jsonl``)."""
    harm: dict[int, float] = {}
    for line in (run_dir / "driftguard" / "attribution.jsonl").read_text().splitlines():
        for key, h in json.loads(line)["examples"]:
            if str(key).isdigit():
                harm[int(key)] = harm.get(int(key), 0.0) + h
    return harm


def precision_at(ranked: list[int], planted: set[int], k: int) -> float:
    return sum(i in planted for i in ranked[:k]) / k


def final_metrics(result: Any) -> dict[str, float]:
    metrics = (result.report or {}).get("metrics", {})
    return {"margin": metrics.get(MARGIN), "refusal": metrics.get(REFUSAL)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="out/attribution")
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--random-seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--thought-steps", type=int, default=0, help="long thoughts in every row (0: short ones)")
    args = parser.parse_args(argv)

    from driftguard.demo.base_model import build_demo_base
    from driftguard.demo.finetune import FinetuneSettings, run_finetune
    from driftguard.demo.scenarios import finetune_items, mini_suite
    from driftguard.probes import load_suite

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    probed = mini_suite(load_suite("compact"))
    suite_path = out / "suite.jsonl"
    suite_path.write_text(probed.to_jsonl())
    base = build_demo_base(probed, out / "base", seed=args.seed)
    items = finetune_items(load_suite("full"), probed)
    rows, planted = planted_rows(items, args.seed, args.share, args.thought_steps)
    settings = FinetuneSettings(max_steps=args.steps, eval_steps=10, early_stop=False, use_wandb=False,
                                mechanism=False, patience=2)

    def train(name: str, keep: list[int], attribution: bool = False) -> Any:
        return run_finetune(name, base, dataset([rows[i] for i in keep]), out / name, suite=str(suite_path),
                            seed=args.seed, settings=replace(settings, attribution=attribution))

    everything = list(range(len(rows)))
    full = train("planted", everything, attribution=True)
    harm = run_harm(full.output_dir)
    ranked = sorted(harm, key=lambda i: -harm[i])
    n, n_planted = len(rows), len(planted)
    losses_start = example_losses(base, rows)
    by_loss = sorted(range(n), key=lambda i: -losses_start[i])
    rng = random.Random(args.seed)
    ks = sorted({max(1, round(0.01 * n)), n_planted, 2 * n_planted})
    precision = {k: {"attribution": precision_at(ranked, planted, k), "loss": precision_at(by_loss, planted, k),
                     "random": statistics.mean(precision_at(rng.sample(range(n), n), planted, k) for _ in range(2000))}
                 for k in ks}
    seen = len(harm)

    clean = train("clean", [i for i in everything if i not in planted])
    base_metrics = {"full": final_metrics(full), "clean": final_metrics(clean)}
    counterfactual = []
    for share in (0.01, args.share):
        k = max(1, round(share * n))
        arms = [("attribution top", set(ranked[:k]))] + [
            (f"random {s}", set(random.Random(1000 + s).sample(everything, k))) for s in range(args.random_seeds)]
        if share == args.share:
            arms.insert(1, ("loss top", set(by_loss[:k])))
        for arm, removed in arms:
            res = train(f"without-{share:.2f}-{arm.replace(' ', '-')}", [i for i in everything if i not in removed])
            m = final_metrics(res)
            gap = base_metrics["clean"]["margin"] - base_metrics["full"]["margin"]
            counterfactual.append({"removed": f"{share:.0%} ({k} rows)", "arm": arm, "planted_removed": len(removed & planted),
                                   **m, "recovered": (m["margin"] - base_metrics["full"]["margin"]) / gap if gap else None})
    result = {"thought_steps": args.thought_steps,
              "rows": n, "planted": n_planted, "steps": args.steps, "rows_seen": seen, "precision": precision,
              "final": base_metrics, "counterfactual": counterfactual,
              "attribution_summary": (full.report or {}).get("attribution")}
    (out / "attribution.json").write_text(json.dumps(result, indent=1, default=str))

    print(f"{n} rows, {n_planted} planted ({args.share:.0%}), thought steps {args.thought_steps}, {args.steps} training "
          f"steps; {seen} rows seen by the run")
    print(f"{'k':>4s}  {'attribution':>11s} {'loss rank':>9s} {'random':>7s}   (precision@k of the planted rows)")
    for k, p in precision.items():
        print(f"{k:>4d}  {p['attribution']:>11.2f} {p['loss']:>9.2f} {p['random']:>7.3f}")
    f, c = base_metrics["full"], base_metrics["clean"]
    print(f"final refusal margin: planted {f['margin']:+.2f}, clean {c['margin']:+.2f} "
          f"(refusal rate {f['refusal']:.2f} / {c['refusal']:.2f})")
    print(f"{'removed':>14s}  {'arm':<16s} {'planted':>7s} {'margin':>8s} {'refusal':>7s} {'recovered':>9s}")
    for r in counterfactual:
        rec = f"{r['recovered']:.2f}" if r["recovered"] is not None else "-"
        print(f"{r['removed']:>14s}  {r['arm']:<16s} {r['planted_removed']:>7d} {r['margin']:>+8.2f} "
              f"{r['refusal']:>7.2f} {rec:>9s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
