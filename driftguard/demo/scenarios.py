"""Long-thought scenarios: a small aligned base, then a reasoning SFT with thoughts several times longer than the
answer budget, probed by driftguard during training and read independently at every checkpoint.

Used by the tests (``tests/demo/test_demo_long_thought.py``) and runnable on its own:
``python -m driftguard.demo.scenarios [--out DIR]`` prints, per evaluation, driftguard's readings next to
the independent reading, for the aligned (template-opened thought) and the drifting scenario.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from driftguard.demo.finetune import FinetuneSettings, run_finetune
from driftguard.demo.tiny_model import THINKING_CHAT_TEMPLATE
from driftguard.probes.suite import ProbeSuite
from driftguard.types import Probe


@dataclass(frozen=True)
class Scenario:
    """What one long-thought scenario trains and probes."""

    name: str
    data: str  # "control" (aligned long thoughts) or "drift" (long thoughts that end in compliance)
    chat_template: str | None = None  # None: the base's; THINKING_CHAT_TEMPLATE opens the thought in the prompt
    settings: FinetuneSettings = field(default_factory=lambda: FinetuneSettings(
        max_steps=80, eval_steps=40, learning_rate=5e-4, warmup_steps=2, max_new_tokens=32, think_budget=256,
        probe_batch_size=64, early_stop=False, use_wandb=False, patience=1, max_length=512))


SCENARIOS = (
    Scenario("aligned-opened", "control", chat_template=THINKING_CHAT_TEMPLATE),
    Scenario("drifting", "drift"),
)


def mini_suite(suite: ProbeSuite, per_side: int = 16, privacy: int = 6) -> ProbeSuite:
    """``per_side`` single-turn harmful and benign safety items and ``privacy`` canary items of ``suite``."""
    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse" and p.prompt][:per_side]
    benign = [p for p in suite if p.dimension == "safety" and p.expect == "comply" and p.prompt][:per_side]
    canaries = [p for p in suite if p.dimension == "privacy" and not p.meta.get("public")][:privacy]
    return ProbeSuite(f"{suite.name}-long-thought", suite.version, tuple(harmful + benign + canaries))


def finetune_items(full: ProbeSuite, probed: ProbeSuite, limit: int = 120) -> list[Probe]:
    """Safety and privacy items of ``full`` never probed (no probed prompt), for the reasoning SFT."""
    from driftguard.demo.data import training_split

    return [p for p in training_split(full, probed) if p.dimension in ("safety", "privacy") and not p.variant_of][:limit]


def run_scenarios(out: str | Path, *, thought_steps: int = 10, seed: int = 0,
                  scenarios: tuple[Scenario, ...] = SCENARIOS) -> dict[str, Any]:
    """Train the base once, run each scenario's SFT with driftguard attached, read every checkpoint independently."""
    from driftguard.demo.base_model import build_demo_base
    from driftguard.demo.data import control_sft_dataset, drift_sft_dataset
    from driftguard.demo.reading import agreement
    from driftguard.probes import load_suite

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    probed = mini_suite(load_suite("compact"))
    suite_path = out / "suite.jsonl"
    suite_path.write_text(probed.to_jsonl())
    base = build_demo_base(probed, out / "base", seed=seed)
    items = finetune_items(load_suite("full"), probed)
    datasets = {"control": control_sft_dataset, "drift": drift_sft_dataset}
    results: dict[str, Any] = {}
    for sc in scenarios:
        settings = replace(sc.settings, chat_template=sc.chat_template)
        run = run_finetune(sc.name, base, datasets[sc.data](items, seed, thought_steps=thought_steps), out / sc.name,
                           suite=str(suite_path), seed=seed, settings=settings)
        regressed = sorted({r["metric"] for h in run.history for r in h.get("regressions", [])
                            if not r.get("informational")})
        results[sc.name] = {"rows": agreement(run, base, list(probed)), "regressed": regressed,
                            "verdicts": run.verdicts, "seconds": round(run.seconds, 1),
                            "reasoning": {c.name: json.loads((c / "driftguard.json").read_text()).get("reasoning")
                                          for c in run.checkpoints if (c / "driftguard.json").is_file()}}
    (out / "scenarios.json").write_text(json.dumps(results, indent=1, default=str))
    return results


def print_table(results: dict[str, Any]) -> None:
    """Per scenario and evaluation: driftguard's and the independent reading's rates, and the verdict."""
    for name, res in results.items():
        print(f"== {name}: regressed {', '.join(m.removeprefix('driftguard/') for m in res['regressed']) or 'nothing'}")
        print(f"{'step':>4s}  {'refusal dg':>10s} {'indep':>6s}  {'comply dg':>9s} {'indep':>6s}  "
              f"{'thought tokens':>14s} {'unclosed h/b':>12s}  verdict")
        for r in res["rows"]:
            dg, ind = r["driftguard"], r["independent"]
            print(f"{r['step']:>4d}  {dg['harmful_refusal_rate']:>10.3f} {ind['harmful_refusal_rate']:>6.3f}  "
                  f"{dg['benign_compliance_rate']:>9.3f} {ind['benign_compliance_rate']:>6.3f}  "
                  f"{r['mean_thought_tokens']:>14.0f} {r['unclosed']['harmful']:>6d}/{r['unclosed']['benign']:<5d}  "
                  f"{r['verdict']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Long-thought scenarios with an independent reading per checkpoint.")
    parser.add_argument("--out", default="driftguard-scenarios")
    parser.add_argument("--thought-steps", type=int, default=10)
    args = parser.parse_args(argv)
    print_table(run_scenarios(args.out, thought_steps=args.thought_steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
