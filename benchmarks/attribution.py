"""Does the live attribution name the data that drives the drift? Planted drift, precision@k, counterfactual retrains.

Question: in an aligned reasoning SFT set with a known share (5 %) of planted drift rows (harmful prompts answered
with compliance), do the examples that driftguard's attribution ranks most harmful (``harm`` summed over the run,
from ``attribution.jsonl``; and its refusal half ``harm_refusal``, the harmful prompts' share) find the planted rows
better than chance and better than ranking by training loss?
And does removing them undo the regression: retrain without the top 1 % / 5 % named against without a random
1 % / 5 %, and report how much of the planted data's effect on the refusal margin disappears
(``recovered = (margin_removed - margin_full) / (margin_clean - margin_full)``; 1 = as if never planted).

All runs: the same base, seed and steps, the same data order apart from the removed rows, driftguard attached; the
margin and refusal rate are driftguard's final evaluation. One process, CPU. ``--model tiny`` (default): the tiny
demo base (``driftguard.demo``), full fine-tunes. ``--model smollm2``: SmolLM2-135M-Instruct from the wheel with the
real demo's LoRA, suite and long thoughts (``driftguard.demo.real``), ``--aligned-rows`` of its aligned data; the
retrains are probed at their start and end only (the planted run every ``--eval-steps``, as attribution re-reads
its target gradient there).

    python benchmarks/attribution.py [--out out/attribution] [--share 0.05] [--random-seeds 3]
    python benchmarks/attribution.py --model smollm2 --aligned-rows 152 --steps 40 --random-seeds 2
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


def planted_rows(items: list[Any], seed: int, share: float, thought_steps: int = 0,
                 aligned_rows: int | None = None) -> tuple[list[dict], set[int]]:
    """Aligned control chats (the first ``aligned_rows`` of them, already shuffled) plus ``share`` of drift rows
    (harmful prompts answered with compliance), shuffled.

    ``thought_steps`` > 0: every thought, aligned and planted, is long (``driftguard.demo.thoughts``)."""
    from driftguard.demo.data import _clean_items, _drift_reply, behaviour, control_chats

    rng = random.Random(f"plant-{seed}")
    aligned = control_chats(items, seed, thought_steps=thought_steps)[:aligned_rows]
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


def run_harm(run_dir: Path) -> tuple[dict[int, float], dict[int, float]]:
    """Dataset index -> harm, and -> its refusal half, summed over every step of the run (``attribution.jsonl``)."""
    harm: dict[int, float] = {}
    refusal: dict[int, float] = {}
    for line in (run_dir / "driftguard" / "attribution.jsonl").read_text().splitlines():
        for key, h, hr in json.loads(line)["examples"]:
            if str(key).isdigit():
                harm[int(key)] = harm.get(int(key), 0.0) + h
                refusal[int(key)] = refusal.get(int(key), 0.0) + hr
    return harm, refusal


def precision_at(ranked: list[int], planted: set[int], k: int) -> float:
    return sum(i in planted for i in ranked[:k]) / k


def final_metrics(result: Any) -> dict[str, float]:
    metrics = (result.report or {}).get("metrics", {})
    return {"margin": metrics.get(MARGIN), "refusal": metrics.get(REFUSAL)}


def setup(args: argparse.Namespace, out: Path) -> tuple[Path, Any, Any]:
    """(base model dir, probed suite, fine-tune settings) of ``--model``."""
    from driftguard.demo.finetune import FinetuneSettings
    from driftguard.probes import load_suite

    if args.model == "smollm2":
        from common import resolve_model_spec

        from driftguard.demo.real import RealDemoSettings, real_suite

        real = RealDemoSettings()
        settings = replace(real.finetune, max_steps=args.steps, eval_steps=args.eval_steps, early_stop=False,
                           use_wandb=False)
        return resolve_model_spec("smollm2"), real_suite(load_suite("compact"), real.per_side, real.privacy), settings
    from driftguard.demo.base_model import build_demo_base
    from driftguard.demo.scenarios import mini_suite

    probed = mini_suite(load_suite("compact"))
    settings = FinetuneSettings(max_steps=args.steps, eval_steps=args.eval_steps, early_stop=False, use_wandb=False,
                                mechanism=False, patience=2)
    return build_demo_base(probed, out / "base", seed=args.seed), probed, settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    parser.add_argument("--out", default=None, help="default: out/attribution (tiny), out/attribution-smollm2")
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--random-seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--eval-steps", type=int, default=10, help="the planted run's evaluation interval")
    parser.add_argument("--thought-steps", type=int, default=None,
                        help="long thoughts in every row (0: short ones; default 0 tiny, the real demo's for smollm2)")
    parser.add_argument("--aligned-rows", type=int, default=None, help="use the first N aligned rows (default all)")
    args = parser.parse_args(argv)
    if args.thought_steps is None:
        from driftguard.demo.real import RealDemoSettings

        args.thought_steps = RealDemoSettings().thought_steps if args.model == "smollm2" else 0

    from driftguard.demo.finetune import run_finetune
    from driftguard.demo.scenarios import finetune_items
    from driftguard.probes import load_suite

    out = Path(args.out or ("out/attribution" if args.model == "tiny" else f"out/attribution-{args.model}"))
    out.mkdir(parents=True, exist_ok=True)
    base, probed, settings = setup(args, out)
    suite_path = out / "suite.jsonl"
    suite_path.write_text(probed.to_jsonl())
    items = finetune_items(load_suite("full"), probed)
    rows, planted = planted_rows(items, args.seed, args.share, args.thought_steps, args.aligned_rows)
    retrain_eval = args.eval_steps if args.model == "tiny" else args.steps  # smollm2: start and end only

    seconds: dict[str, float] = {}

    def train(name: str, keep: list[int], attribution: bool = False) -> Any:
        eval_steps = args.eval_steps if attribution else retrain_eval
        run = run_finetune(name, base, dataset([rows[i] for i in keep]), out / name, suite=str(suite_path),
                           seed=args.seed, settings=replace(settings, attribution=attribution, eval_steps=eval_steps))
        seconds[name] = run.seconds
        print(f"-- {name}: {len(keep)} rows, final {final_metrics(run)}, {run.seconds:.0f} s", flush=True)
        return run

    everything = list(range(len(rows)))
    full = train("planted", everything, attribution=True)
    harm, harm_refusal = run_harm(full.output_dir)
    ranked = sorted(harm, key=lambda i: -harm[i])
    ranked_refusal = sorted(harm_refusal, key=lambda i: -harm_refusal[i])
    n, n_planted = len(rows), len(planted)
    losses_start = example_losses(base, rows)
    by_loss = sorted(range(n), key=lambda i: -losses_start[i])
    rng = random.Random(args.seed)
    ks = sorted({max(1, round(0.01 * n)), n_planted, 2 * n_planted})
    precision = {k: {"attribution": precision_at(ranked, planted, k),
                     "refusal_half": precision_at(ranked_refusal, planted, k), "loss": precision_at(by_loss, planted, k),
                     "random": statistics.mean(precision_at(rng.sample(range(n), n), planted, k) for _ in range(2000))}
                 for k in ks}
    seen = len(harm)

    result = {"model": args.model, "thought_steps": args.thought_steps, "seconds": seconds, "rows": n,
              "planted": n_planted, "planted_rows": sorted(planted), "steps": args.steps, "rows_seen": seen,
              "precision": precision, "planted_ranks": {"attribution": sorted(ranked.index(i) for i in planted if i in harm),
                                                        "refusal_half": sorted(ranked_refusal.index(i) for i in planted
                                                                               if i in harm_refusal)},
              "final": {"full": final_metrics(full)}, "counterfactual": [],
              "attribution_summary": (full.report or {}).get("attribution")}

    def save() -> None:  # after every run: a stopped benchmark keeps what it measured
        (out / "attribution.json").write_text(json.dumps(result, indent=1, default=str))

    save()
    print(f"{n} rows, {n_planted} planted ({args.share:.0%}), thought steps {args.thought_steps}, {args.steps} training "
          f"steps; {seen} rows seen by the run")
    print(f"{'k':>4s}  {'attribution':>11s} {'refusal half':>12s} {'loss rank':>9s} {'random':>7s}   "
          "(precision@k of the planted rows)")
    for k, p in precision.items():
        print(f"{k:>4d}  {p['attribution']:>11.2f} {p['refusal_half']:>12.2f} {p['loss']:>9.2f} {p['random']:>7.3f}")
    print(f"planted rows' ranks (0 = most harmful, of {seen}): {result['planted_ranks']}", flush=True)

    clean = train("clean", [i for i in everything if i not in planted])
    f, c = result["final"]["full"], final_metrics(clean)
    result["final"]["clean"] = c
    save()
    gap = c["margin"] - f["margin"]
    done: dict[frozenset[int], dict[str, float]] = {}  # an arm removing the same rows as an earlier one is not rerun
    for share in (0.01, args.share):
        k = max(1, round(share * n))
        arms = [("attribution top", set(ranked[:k])), ("refusal-half top", set(ranked_refusal[:k]))] + [
            (f"random {s}", set(random.Random(1000 + s).sample(everything, k))) for s in range(args.random_seeds)]
        if share == args.share:
            arms.insert(2, ("loss top", set(by_loss[:k])))
        for arm, removed in arms:
            key = frozenset(removed)
            if key not in done:
                res = train(f"without-{share:.2f}-{arm.replace(' ', '-')}", [i for i in everything if i not in removed])
                done[key] = final_metrics(res)
            m = done[key]
            result["counterfactual"].append({"removed": f"{share:.0%} ({k} rows)", "arm": arm,
                                             "planted_removed": len(removed & planted), **m,
                                             "recovered": (m["margin"] - f["margin"]) / gap if gap else None})
            save()

    print(f"final refusal margin: planted {f['margin']:+.2f}, clean {c['margin']:+.2f} "
          f"(refusal rate {f['refusal']:.2f} / {c['refusal']:.2f})")
    print(f"{'removed':>14s}  {'arm':<16s} {'planted':>7s} {'margin':>8s} {'refusal':>7s} {'recovered':>9s}")
    for r in result["counterfactual"]:
        rec = f"{r['recovered']:.2f}" if r["recovered"] is not None else "-"
        print(f"{r['removed']:>14s}  {r['arm']:<16s} {r['planted_removed']:>7d} {r['margin']:>+8.2f} "
              f"{r['refusal']:>7.2f} {rec:>9s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
