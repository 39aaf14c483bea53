"""What driftguard costs a training run: the same SFTTrainer run with and without DriftGuardCallback.

Measured side by side in one process: the wall time of ``trainer.train()`` for the same model (same seed,
same data, same number of optimizer steps), bare and with ``DriftGuardCallback(DriftGuardConfig(...))`` at
the default suite (``compact``) and settings; runs alternate (bare, guarded, bare, guarded...) after one
untimed warm-up run, and medians are reported. Also measured inside the guarded run: the baseline
(probe pass + KL set + reference preparation at ``on_train_begin``), each periodic evaluation (probe pass +
KL + detector + sinks) and the median training step, hence one evaluation in units of training steps and
the steady-state overhead ``evaluation / (eval_steps * step)`` at the default cadence of 100 steps.

CPU default (``--shape tiny``): few steps, so ``--eval-steps`` is scaled down from 100 to 20 (stated in the
output); the measured fraction then includes the baseline and is far above the steady state. ``--shape gpu``:
a Qwen2.5-0.5B-shaped model with random weights in bf16, 300 steps at the default cadence (eval_steps 100).
With random weights every generate-probe runs to ``max_new_tokens`` (worst case).

Tiers (``--tiers``, on by default): on one model, side by side (round robin), one forward-only evaluation
(``DriftMonitor.evaluate(tier="forward")``: mechanism + refusal margin + option scores + KL + detector), one
full evaluation (``tier="full"``: + generation) and the mechanism pass against a bare forward over the
same prompts (same batches, no hidden states collected); each in units of the bare run's median training
step, hence the steady-state overhead of each tier at the default cadence and at ``generate_every`` N.

Real model (``--model SPEC``: a saved model dir, a PEFT adapter dir, merged into its base, a local ``.gguf``
file, or ``smollm2``: see ``benchmarks/common.py``): **implies ``--tiers-only``** (no guarded trainer run:
on CPU a real model's evaluations of the default suite take minutes each, so a bare/guarded pair long
enough to mean anything does not fit; the tiers give the same figures in units of a step). The training
step is a LoRA SFT step (peft ``LoraConfig`` r=16, alpha 32, on the q/k/v/o/gate/up/down projections) on a
copy of the loaded model, since full fine-tuning of a 135 M model is not the realistic CPU setup; the tiers
are measured on the same LoRA-wrapped model, so ``reference='auto'`` resolves to ``adapter`` as in such a
run. The output says which (``"train": "lora r=16"`` vs ``"full"``). The mechanism tier needs >= 4 harmful
and 4 benign safety prompts: ``--per-dimension`` 4 or more (0: the whole suite).

Usage: ``python benchmarks/overhead.py [--device cpu|cuda] [--shape tiny|small|gpu | --model PATH|smollm2] [--steps N]
[--eval-steps N] [--train-batch-size N] [--seq-len N] [--per-dimension N] [--tier-repeats N] [--tiers-only]``.
Prints one JSON object, then the headline as JSON on the last line.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from driftguard.callback import DEFAULT_EVAL_STEPS, DriftGuardCallback
from driftguard.config import DriftGuardConfig

if not __package__:  # run as a script (python benchmarks/overhead.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    LORA_TARGETS,
    MODEL_HELP,
    build_model,
    build_tokenizer,
    emit,
    fraction,
    load_benchmark_model,
    load_benchmark_suite,
    lora_targets,
    machine,
    n_parameters,
    resolve_device,
    resolve_dtype,
    synchronize,
    timed_round_robin,
    write_suite,
)

# Per shape: steps, eval_steps (None = the callback's default), train batch size, sequence length.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"steps": 40, "eval_steps": 20, "train_batch_size": 8, "seq_len": 256},
    "small": {"steps": 40, "eval_steps": 20, "train_batch_size": 8, "seq_len": 256},
    "gpu": {"steps": 300, "eval_steps": None, "train_batch_size": 8, "seq_len": 1024},
    "gpu1.5b": {"steps": 300, "eval_steps": None, "train_batch_size": 8, "seq_len": 1024},
}
# --model (a real model, LoRA SFT steps, tiers only): a few steps for the median step time.
MODEL_PRESET: dict[str, Any] = {"steps": 4, "eval_steps": None, "train_batch_size": 4, "seq_len": 256}
LORA_R = 16


def fresh_model(args, tokenizer, device, dtype, base: Any = None) -> Any:
    """The model of one run: a random Llama of ``args.shape`` (same seed every time), or, given the loaded real
    model ``base``, a LoRA (r=16 on the attention and MLP projections, default init: the adapter starts as a
    no-op) on a copy of it."""
    if base is None:
        return build_model(args.shape, tokenizer, device, dtype, seed=args.seed)
    import peft

    lora = peft.LoraConfig(r=LORA_R, lora_alpha=2 * LORA_R, lora_dropout=0.0, target_modules=lora_targets(base, LORA_TARGETS),
                           task_type="CAUSAL_LM")
    torch.manual_seed(args.seed)
    return peft.get_peft_model(copy.deepcopy(base), lora)


class StepClock(TrainerCallback):
    """Wall time of each optimizer step (on_step_begin -> on_step_end, before any probe pass of that step)."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.start = 0.0
        self.steps: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        synchronize(self.device)
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        synchronize(self.device)
        self.steps.append(time.perf_counter() - self.start)


class TimedDriftGuard(DriftGuardCallback):
    """DriftGuardCallback that records how long its hooks took whenever they ran an evaluation."""

    def __init__(self, config: DriftGuardConfig, device: Any) -> None:
        super().__init__(config)
        self.device = device
        self.baseline_seconds = 0.0
        self.evaluations: list[tuple[str, int, float]] = []  # (hook, step, seconds)

    def _timed(self, hook: str, call, state) -> Any:
        before = self.last_eval_step
        synchronize(self.device)
        start = time.perf_counter()
        out = call()
        synchronize(self.device)
        seconds = time.perf_counter() - start
        if hook == "on_train_begin":
            self.baseline_seconds = seconds
        elif self.last_eval_step != before or (hook == "on_step_end" and state.global_step % self.eval_steps == 0):
            self.evaluations.append((hook, state.global_step, seconds))
        return out

    def on_train_begin(self, args, state, control, **kwargs):
        return self._timed("on_train_begin", lambda: super(TimedDriftGuard, self).on_train_begin(
            args, state, control, **kwargs), state)

    def on_step_end(self, args, state, control, **kwargs):
        return self._timed("on_step_end", lambda: super(TimedDriftGuard, self).on_step_end(
            args, state, control, **kwargs), state)

    def on_train_end(self, args, state, control, **kwargs):
        return self._timed("on_train_end", lambda: super(TimedDriftGuard, self).on_train_end(
            args, state, control, **kwargs), state)


def training_texts(tokenizer: Any, texts: list[str], n_rows: int, seq_len: int, seed: int = 0) -> list[str]:
    """``n_rows`` documents of about ``seq_len`` tokens, made of shuffled suite sentences."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n_rows):
        parts: list[str] = []
        n_tokens = 0
        while n_tokens < seq_len:
            text = rng.choice(texts)
            parts.append(text)
            n_tokens += len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1
        rows.append(" ".join(parts))
    return rows


def train_once(args, tokenizer, dataset, device, dtype, out_dir: Path, steps: int,
               guard_config: DriftGuardConfig | None, base: Any = None) -> dict[str, Any]:
    """Build a fresh model (same seed; with ``base``: a fresh LoRA on a copy of it) and SFTTrainer; time
    ``trainer.train()``; return the timings."""
    from trl import SFTConfig, SFTTrainer

    model = fresh_model(args, tokenizer, device, dtype, base).train()
    clock = StepClock(device)
    callbacks: list[Any] = [clock]
    guard = TimedDriftGuard(guard_config, device) if guard_config is not None else None
    if guard is not None:
        callbacks.append(guard)
    config = SFTConfig(
        output_dir=str(out_dir), max_steps=steps, per_device_train_batch_size=args.train_batch_size,
        max_length=args.seq_len, learning_rate=1e-4, logging_steps=max(steps, 1), save_strategy="no",
        report_to=[], seed=args.seed, disable_tqdm=True, use_cpu=device.type == "cpu",
        bf16=str(dtype) == "torch.bfloat16", dataloader_num_workers=0,
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, callbacks=callbacks)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):  # the console table of each evaluation
        synchronize(device)
        start = time.perf_counter()
        trainer.train()
        synchronize(device)
        seconds = time.perf_counter() - start
    result: dict[str, Any] = {"train_seconds": seconds, "steps": trainer.state.global_step, "parameters": n_parameters(model),
                              "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
                              "median_step_seconds": statistics.median(clock.steps) if clock.steps else float("nan")}
    if guard is not None:
        periodic = [s for hook, _, s in guard.evaluations if hook == "on_step_end"]
        result.update({"eval_steps": guard.eval_steps, "baseline_seconds": guard.baseline_seconds,
                       "evaluations": [{"hook": h, "step": st, "seconds": s} for h, st, s in guard.evaluations],
                       "median_evaluation_seconds": statistics.median(periodic) if periodic else float("nan"),
                       "max_evaluation_seconds": max(periodic) if periodic else float("nan"),
                       "verdict": (guard.last_report or {}).get("verdict"),
                       "report_errors": len((guard.last_report or {}).get("errors") or [])})
    del trainer, model
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shape", choices=sorted(PRESETS), default=None, help="default: tiny on CPU, gpu on CUDA")
    parser.add_argument("--model", default=None, help=MODEL_HELP + "; implies --tiers-only, LoRA r=16 training steps")
    parser.add_argument("--dtype", default=None, help="default: float32 on CPU, bfloat16 on CUDA")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps per run (default: per shape)")
    parser.add_argument("--eval-steps", type=int, default=None,
                        help="probe cadence; default: per shape (CPU presets scale 100 down to 20; gpu: the default 100)")
    parser.add_argument("--train-batch-size", type=int, default=None)
    parser.add_argument("--seq-len", type=int, default=None)
    parser.add_argument("--suite", default="compact")
    parser.add_argument("--per-dimension", type=int, default=0, help="cut the suite to N probes per dimension (0: all)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: DriftGuardConfig's default")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=1, help="bare/guarded pairs (medians reported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiers", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the forward-only tier, the full tier and the mechanism pass (default: on)")
    parser.add_argument("--tier-repeats", type=int, default=3, help="round-robin rounds of the tier timings")
    parser.add_argument("--generate-every", type=int, default=4, help="the cadence reported as an example")
    parser.add_argument("--tiers-only", action="store_true",
                        help="only the bare run (for the step time) and the tier timings, no guarded run (implied by --model)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.shape = args.shape or ("gpu" if device.type == "cuda" else "tiny")
    if args.model:
        args.tiers_only = True
    preset = MODEL_PRESET if args.model else PRESETS[args.shape]
    for name in ("steps", "train_batch_size", "seq_len"):
        if getattr(args, name) is None:
            setattr(args, name, preset[name])
    eval_steps = args.eval_steps if args.eval_steps is not None else preset["eval_steps"]
    dtype = resolve_dtype(args.dtype, device)

    from datasets import Dataset

    suite = load_benchmark_suite(args.suite, args.per_dimension)
    if args.model:  # loaded once; every run trains a fresh LoRA on a copy of it
        base, tokenizer, described = load_benchmark_model(args.model, device, dtype, merge_adapter=True)
    else:
        base, tokenizer, described = None, build_tokenizer(suite), None
    texts = [turn["content"] for probe in suite for turn in probe.chat()]
    n_rows = min(args.steps * args.train_batch_size, 512)
    dataset = Dataset.from_dict({"text": training_texts(tokenizer, texts, n_rows, args.seq_len, args.seed)})
    overrides = {"max_new_tokens": args.max_new_tokens} if args.max_new_tokens else {}
    with tempfile.TemporaryDirectory() as tmp:
        suite_spec = str(write_suite(suite, Path(tmp) / "suite.jsonl")) if args.per_dimension else args.suite
        guard_config = DriftGuardConfig(suite=suite_spec, eval_steps=eval_steps, seed=args.seed, **overrides)
        train_once(args, tokenizer, dataset, device, dtype, Path(tmp) / "warmup", 2, None, base)  # untimed warm-up
        bare, guarded = [], []
        for r in range(args.repeats):
            bare.append(train_once(args, tokenizer, dataset, device, dtype, Path(tmp) / f"bare{r}", args.steps, None,
                                   base))
            if not args.tiers_only:
                guarded.append(train_once(args, tokenizer, dataset, device, dtype, Path(tmp) / f"guard{r}",
                                          args.steps, guard_config, base))
        tiers = measure_tiers(args, tokenizer, device, dtype, guard_config, base) if args.tiers else None
    t_bare = statistics.median(b["train_seconds"] for b in bare)
    nan = float("nan")
    guarded = guarded or [{"train_seconds": nan, "median_evaluation_seconds": nan, "baseline_seconds": nan,
                           "eval_steps": eval_steps or DEFAULT_EVAL_STEPS}]
    t_guarded = statistics.median(g["train_seconds"] for g in guarded)
    step = statistics.median(b["median_step_seconds"] for b in bare)
    evaluation = statistics.median(g["median_evaluation_seconds"] for g in guarded)
    baseline = statistics.median(g["baseline_seconds"] for g in guarded)
    resolved_eval_steps = guarded[0]["eval_steps"]
    pass_in_steps = fraction(evaluation, step)
    train = f"lora r={LORA_R}" if described else "full"
    which = {"model": described} if described else {"shape": args.shape}
    result: dict[str, Any] = {
        "benchmark": "overhead", "machine": machine(device), **which, "dtype": str(dtype), "train": train,
        "tiers_only": args.tiers_only,
        "parameters": bare[0]["parameters"], "trainable_parameters": bare[0]["trainable_parameters"],
        "suite": {"name": suite.name, "probes": len(suite), "sha256": suite.sha256[:12]},
        "settings": {"steps": args.steps, "eval_steps": resolved_eval_steps, "default_eval_steps": DEFAULT_EVAL_STEPS,
                     "eval_steps_scaled": resolved_eval_steps != DEFAULT_EVAL_STEPS,
                     "train_batch_size": args.train_batch_size, "seq_len": args.seq_len,
                     "max_new_tokens": guard_config.max_new_tokens, "probe_batch_size": guard_config.batch_size,
                     "reference": guard_config.reference, "repeats": args.repeats},
        "note": ("real model, LoRA SFT steps: --model implies --tiers-only (no guarded run; overhead_fraction and "
                 "evaluation_in_steps are NaN), the figures are the tiers' in units of the median LoRA step."
                 if described else
                 "random weights: every generate-probe runs to max_new_tokens (worst case). The measured overhead "
                 "includes the baseline pass at step 0, a fixed cost that a longer run amortises; "
                 "steady_state_overhead_default_cadence = evaluation_in_steps / 100."),
        "bare_train_seconds": t_bare,
        "guarded_train_seconds": t_guarded,
        "median_step_seconds": step,
        "baseline_seconds": baseline,
        "evaluation_seconds": evaluation,
        "evaluation_in_steps": pass_in_steps,
        "steady_state_overhead_at_eval_steps": fraction(pass_in_steps, resolved_eval_steps),
        "steady_state_overhead_default_cadence": fraction(pass_in_steps, DEFAULT_EVAL_STEPS),
        "runs": {"bare": bare, "guarded": guarded},
    }
    overhead = fraction(t_guarded - t_bare, t_bare)
    result["overhead_fraction"] = overhead
    headline = {"overhead_fraction": overhead, "evaluation_in_steps": pass_in_steps,
                "steady_state_overhead_default_cadence": result["steady_state_overhead_default_cadence"],
                "eval_steps": resolved_eval_steps, "steps": args.steps,
                **({"model": described["name"]} if described else {"shape": args.shape}), "train": train,
                "device": str(device)}
    if tiers is not None:
        tiers.update(tier_overheads(tiers, step, args.generate_every))
        result["tiers"] = tiers
        headline.update({k: tiers[k] for k in ("forward_tier_overhead_default_cadence",
                                               "full_tier_overhead_default_cadence",
                                               f"overhead_generate_every_{args.generate_every}",
                                               "mechanism_vs_bare_forward")})
    emit(result, headline)
    return result


def measure_tiers(args, tokenizer, device, dtype, config: DriftGuardConfig, base: Any = None) -> dict[str, Any]:
    """Seconds of a forward-only and a full evaluation, the mechanism pass and a bare forward (round robin).

    With ``base`` (a real model) the monitored model is the training run's: a fresh LoRA on a copy of it, so
    ``reference='auto'`` is ``adapter``; ``monitor.start`` (the baseline) then already ran every piece once,
    so the round robin has no extra warm-up round (a real model's full evaluation takes minutes on CPU).
    """
    from driftguard.mechanism.activations import forward_last_token
    from driftguard.monitor import DriftMonitor
    from driftguard.runner import probing_mode, render_prompt_ids

    model = fresh_model(args, tokenizer, device, dtype, base).eval()
    monitor = DriftMonitor(config)
    with contextlib.redirect_stdout(io.StringIO()):
        monitor.start(model, tokenizer)
    mechanism = monitor.mechanism
    probes = [*mechanism.harmful, *mechanism.benign] if mechanism else []
    rows = [render_prompt_ids(tokenizer, p.chat()) for p in probes]

    def bare_forward() -> None:
        with probing_mode(model, tokenizer) as pad_id:
            forward_last_token(model, rows, batch_size=config.batch_size, pad_id=pad_id, hidden_states=False)

    fns = {"forward_evaluation": lambda: monitor.evaluate(model, tokenizer, step=1, tier="forward"),
           "full_evaluation": lambda: monitor.evaluate(model, tokenizer, step=1, tier="full")}
    if mechanism is not None:
        fns["mechanism_pass"] = lambda: mechanism.read(model, tokenizer, config.batch_size)
        fns["bare_forward"] = bare_forward
    with contextlib.redirect_stdout(io.StringIO()):
        seconds, _ = timed_round_robin(fns, device, args.tier_repeats, warmup=base is None)
    return {"seconds": seconds, "mechanism_prompts": len(rows), "repeats": args.tier_repeats,
            "reference": getattr(monitor.reference, "name", None),
            "note": "monitor.evaluate (probe pass + mechanism + KL + detector), no sinks; same model and suite"}


def tier_overheads(tiers: dict[str, Any], step_seconds: float, generate_every: int) -> dict[str, float]:
    """Each tier in training steps and as a steady-state fraction at the default cadence (100 steps)."""
    sec = tiers["seconds"]
    forward = fraction(sec["forward_evaluation"], step_seconds)
    full = fraction(sec["full_evaluation"], step_seconds)
    mixed = ((generate_every - 1) * forward + full) / generate_every
    return {"forward_tier_in_steps": forward, "full_tier_in_steps": full,
            "forward_tier_overhead_default_cadence": fraction(forward, DEFAULT_EVAL_STEPS),
            "full_tier_overhead_default_cadence": fraction(full, DEFAULT_EVAL_STEPS),
            f"overhead_generate_every_{generate_every}": fraction(mixed, DEFAULT_EVAL_STEPS),
            "mechanism_vs_bare_forward": fraction(sec.get("mechanism_pass", float("nan")),
                                                  sec.get("bare_forward", float("nan")))}


if __name__ == "__main__":
    main()
