"""``driftguard demo``: the offline end-to-end demonstration (CPU, no network, a few minutes).

1. Train a tiny aligned chat model from scratch (``base_model.build_demo_base``).
2. Fine-tune it twice with TRL's ``SFTTrainer`` and ``DriftGuardCallback(early_stop=True)``: a
   "reasoning" SFT that erodes refusals and leaks secrets (drift) and one that keeps them (control).
3. Run the drift SFT once more with ``early_stop=False`` (evaluating less often): what the stop prevented.
4. Gate an early and the last drift checkpoint and the last control checkpoint with ``driftguard gate``.
5. Print an honest summary and write ``<out>/summary.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from driftguard.demo.finetune import FinetuneResult, FinetuneSettings, run_finetune

HEADLINE = (
    "driftguard/safety/harmful_refusal_rate",
    "driftguard/safety/benign_compliance_rate",
    "driftguard/safety/refusal_margin",
    "driftguard/privacy/answer_leak_rate",
    "driftguard/privacy/reasoning_leak_rate",
    "driftguard/kl/mean",
)


@dataclass(frozen=True)
class DemoSettings:
    """What the demo trains on and probes, and how long each stage runs.

    ``base_training`` picks the aligned base's training items: ``"eval"`` the probed suite itself
    (the base memorises the aligned answers to the probes: a stand-in for an aligned instruct model),
    ``"full"`` all of ``train_suite`` (probed items included), ``"held_out"`` only the items of
    ``train_suite`` not in ``eval_suite`` (no probed item seen; a tiny model trained for about a minute
    generalises poorly, see the report). The fine-tunes always use the held-out items only.
    """

    eval_suite: str = "compact"
    train_suite: str = "full"
    base_training: Literal["eval", "full", "held_out"] = "eval"
    base_steps: int | None = None
    thought_steps: int = 0  # >0: long thoughts (driftguard.demo.thoughts); the long-thought story is demo/scenarios.py
    drift: FinetuneSettings = field(default_factory=FinetuneSettings)
    control: FinetuneSettings = field(default_factory=FinetuneSettings)
    unguarded: FinetuneSettings | None = field(  # None: skip the unguarded rerun
        default_factory=lambda: FinetuneSettings(max_steps=40, eval_steps=10, early_stop=False, use_wandb=False))
    device: str | None = None


@dataclass
class DemoResult:
    """Everything the demo produced: the two fine-tunes and the gate exit codes per checkpoint."""

    out: Path
    base_dir: Path
    base_info: dict[str, Any]
    drift: FinetuneResult
    control: FinetuneResult
    unguarded: FinetuneResult | None
    gates: dict[str, tuple[str, int]]  # label -> (checkpoint path, exit code)
    seconds: float


def _gate(path: Path) -> int:
    from driftguard.gate import run_gate

    return run_gate(str(path))


def _early_checkpoint(result: FinetuneResult) -> Path | None:
    """The first checkpoint whose report passed (the promotion candidate before the drift set in)."""
    for ckpt in result.checkpoints:
        report = ckpt / "driftguard.json"
        if report.is_file() and json.loads(report.read_text()).get("verdict") == "pass":
            return ckpt
    return result.checkpoints[0] if result.checkpoints else None


def run_gates(drift: FinetuneResult, control: FinetuneResult) -> dict[str, tuple[str, int]]:
    """``driftguard gate`` on the drift run's early and last checkpoints and the control's last one."""
    targets = {"drift early": _early_checkpoint(drift),
               "drift last": drift.checkpoints[-1] if drift.checkpoints else None,
               "control last": control.checkpoints[-1] if control.checkpoints else None}
    gates: dict[str, tuple[str, int]] = {}
    for label, path in targets.items():
        if path is None:
            continue
        print(f"$ driftguard gate {path}")
        gates[label] = (str(path), _gate(path))
    return gates


def run_pipeline(out: str | Path, seed: int = 0, settings: DemoSettings | None = None) -> DemoResult:
    """Run the whole demo into ``out`` and return what it produced (no summary printing)."""
    from driftguard.demo.base_model import STAMP, build_demo_base
    from driftguard.demo.data import control_sft_dataset, drift_sft_dataset, suite_probes, training_split
    from driftguard.probes import load_suite

    settings = settings or DemoSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    eval_suite = load_suite(settings.eval_suite)
    full = load_suite(settings.train_suite)
    finetune_items = training_split(full, eval_suite)  # the fine-tunes never see a probed prompt
    train, where = {
        "eval": (suite_probes(eval_suite), f"of '{settings.eval_suite}' (the probed items themselves)"),
        "full": (suite_probes(full), f"of '{settings.train_suite}' (the probed '{settings.eval_suite}' items included)"),
        "held_out": (finetune_items, f"of '{settings.train_suite}' not in '{settings.eval_suite}' (held out)"),
    }[settings.base_training]
    print(f"[1/5] aligned base: training a tiny Llama from scratch on {len(train)} items {where}")
    base_dir = build_demo_base(train, out / "base", seed=seed, device=settings.device, steps=settings.base_steps)
    base_info = json.loads((base_dir / STAMP).read_text())
    print(f"      -> {base_dir} ({base_info.get('trained_steps')} steps, final loss {base_info.get('final_loss', 0):.3f})")
    print(f"[2/5] drift fine-tune: SFTTrainer on 'reasoning' data built from {len(finetune_items)} items not in "
          f"'{settings.eval_suite}': it complies with harmful requests and repeats secrets")
    steps = settings.thought_steps
    drift = run_finetune("drift", base_dir, drift_sft_dataset(finetune_items, seed, thought_steps=steps), out / "drift",
                         suite=settings.eval_suite, seed=seed, settings=settings.drift, device=settings.device)
    print("[3/5] control fine-tune: the same reasoning style, refusals and secrets kept")
    control = run_finetune("control", base_dir, control_sft_dataset(finetune_items, seed, thought_steps=steps),
                           out / "control",
                           suite=settings.eval_suite, seed=seed, settings=settings.control, device=settings.device)
    unguarded = None
    if settings.unguarded is not None:
        print(f"[4/5] the drift fine-tune again with early_stop=False, {settings.unguarded.max_steps} steps: "
              "what the early stop prevented")
        unguarded = run_finetune("unguarded", base_dir, drift_sft_dataset(finetune_items, seed, thought_steps=steps),
                                 out / "unguarded",
                                 suite=settings.eval_suite, seed=seed, settings=settings.unguarded,
                                 device=settings.device)
    print("[5/5] gating checkpoints")
    gates = run_gates(drift, control)
    return DemoResult(out=out, base_dir=base_dir, base_info=base_info, drift=drift, control=control,
                      unguarded=unguarded, gates=gates, seconds=time.perf_counter() - t0)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "  –  "


def run_summary(result: FinetuneResult) -> dict[str, Any]:
    """Baseline vs last evaluation of one fine-tune, its verdicts and the metrics that regressed."""
    first = result.history[0] if result.history else {}
    last = result.history[-1] if result.history else {}
    fail_step = result.first_step_with("fail")
    regressed = sorted({r["metric"] for h in result.history for r in h.get("regressions", [])
                        if not r.get("informational")})
    return {
        "steps": f"{result.global_step}/{result.max_steps}", "stopped_early": result.stopped_early,
        "verdicts": result.verdicts, "first_warn_step": result.first_step_with("warn"), "fail_step": fail_step,
        "regressed_metrics": regressed,
        "baseline": {m: first.get("metrics", {}).get(m) for m in HEADLINE},
        "final": {m: last.get("metrics", {}).get(m) for m in HEADLINE},
        "output_dir": str(result.output_dir), "seconds": round(result.seconds, 1),
    }


TRAJECTORY = ("driftguard/safety/harmful_refusal_rate", "driftguard/safety/refusal_margin", "driftguard/kl/mean")


def unguarded_summary(result: FinetuneResult, stopped_at: int | None) -> dict[str, Any]:
    """The unguarded rerun's trajectory and the first step each metric was flagged, vs the guarded stop."""
    flagged: dict[str, int] = {}
    for h in result.history:
        for r in h.get("regressions", []):
            flagged.setdefault(r["metric"], int(h["step"]))
    return {"steps": f"{result.global_step}/{result.max_steps}", "guarded_stop_step": stopped_at,
            "first_flagged": flagged,
            "trajectory": [{"step": int(h["step"]), "verdict": h["verdict"],
                            **{m: h.get("metrics", {}).get(m) for m in TRAJECTORY}} for h in result.history]}


def _print_unguarded(u: dict[str, Any]) -> None:
    print(f"unguarded rerun of the drift data (early_stop=False), steps {u['steps']}:")
    print(f"  {'step':>4s}  {'harmful_refusal_rate':>20s}  {'refusal_margin':>14s}  {'kl/mean':>7s}  verdict")
    for row in u["trajectory"]:
        print(f"  {row['step']:>4d}  {_fmt(row[TRAJECTORY[0]]):>20s}  {_fmt(row[TRAJECTORY[1]]):>14s}  "
              f"{_fmt(row[TRAJECTORY[2]]):>7s}  {row['verdict']}")
    rate = u["first_flagged"].get(TRAJECTORY[0])
    print(f"  harmful_refusal_rate flagged from step {rate if rate is not None else '(never)'}; "
          f"the guarded run had stopped at step {u['guarded_stop_step']}")


def print_summary(result: DemoResult) -> dict[str, Any]:
    """Print the demo's closing summary and return it (also written to ``<out>/summary.json``)."""
    summary = {"out": str(result.out), "seconds": round(result.seconds, 1), "base": result.base_info,
               "drift": run_summary(result.drift), "control": run_summary(result.control),
               "gates": {k: {"path": p, "exit": code} for k, (p, code) in result.gates.items()}}
    if result.unguarded is not None:
        summary["unguarded"] = unguarded_summary(result.unguarded, result.drift.global_step)
    print("\n== driftguard demo: summary " + "=" * 50)
    print(f"{'metric':44s} {'drift: base':>11s} {'final':>7s}   {'control: base':>13s} {'final':>7s}")
    for m in HEADLINE:
        d, c = summary["drift"], summary["control"]
        print(f"{m.removeprefix('driftguard/'):44s} {_fmt(d['baseline'][m]):>11s} {_fmt(d['final'][m]):>7s}   "
              f"{_fmt(c['baseline'][m]):>13s} {_fmt(c['final'][m]):>7s}")
    for name in ("drift", "control"):
        s = summary[name]
        verdicts = " ".join(f"{step}:{v}" for step, v in s["verdicts"])
        flagged = (f"FAIL at step {s['fail_step']} ({', '.join(m.removeprefix('driftguard/') for m in s['regressed_metrics'])})"
                   if s["fail_step"] is not None else "no fail verdict")
        stop = "stopped early" if s["stopped_early"] else "ran to the end"
        print(f"{name:8s} steps {s['steps']:>7s}, {stop}; {flagged}\n         verdicts {verdicts}")
    if "unguarded" in summary:
        _print_unguarded(summary["unguarded"])
    for label, (path, code) in result.gates.items():
        meaning = {0: "promote", 1: "regression, not promoted", 2: "invalid/unverified report"}.get(code, "?")
        print(f"gate {label:13s} exit {code} ({meaning})  {path}")
    _print_files(result)
    (result.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"demo took {result.seconds:.0f} s; summary: {result.out / 'summary.json'}")
    return summary


def _print_files(result: DemoResult) -> None:
    for run in (result.drift, result.control):
        d = run.output_dir / "driftguard"
        print(f"{run.name} files: {d / 'history.jsonl'}, {d / 'report.json'}, {d / 'report.md'}, {d / 'history.png'}")
    runs = [r.wandb_dir for r in (result.drift, result.control) if r.wandb_dir is not None]
    if runs:
        print("W&B offline runs: " + ", ".join(str(r) for r in runs))
        print(f"  upload them with: wandb sync {runs[0].parent}/offline-run-*")
    else:
        print("W&B: not installed, so no offline run was recorded (pip install wandb to get one)")


def run_demo(out: str | Path = "driftguard-demo", seed: int = 0, settings: DemoSettings | None = None) -> int:
    """The ``driftguard demo`` verb: run the pipeline, print the summary; exit code 0 when it ran."""
    import warnings

    import torch
    from datasets.utils.logging import disable_progress_bar
    from transformers.utils import logging as hf_logging

    disable_progress_bar()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)  # library deprecation notices, not demo output
    torch.manual_seed(seed)
    result = run_pipeline(out, seed=seed, settings=settings)
    print_summary(result)
    return 0


__all__ = ["DemoSettings", "DemoResult", "run_demo", "run_pipeline", "print_summary"]
