"""``driftguard audit``: probe a model M against a reference R (R is the baseline) and write a report.

M may be a PEFT adapter directory: its base with the adapter disabled is then the reference unless
``--reference`` is given. Outputs ``report.json`` (schema v1), ``report.md`` and ``report.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.errors import ModelSetupError
from driftguard.models import is_adapter_dir, load_model_and_tokenizer
from driftguard.types import Verdict


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(path: str | Path, device: str):
    """Load a causal LM (saved dir, PEFT adapter dir with its base, or local GGUF file) and its tokenizer."""
    model, tokenizer = load_model_and_tokenizer(path)
    return model.to(device).eval(), tokenizer


def audit(model: str | Path, reference: str | Path | None = None, *, suite: str | list[str] = "compact",
          out: str | Path | None = None, reference_mode: str = "model", device: str | None = None,
          batch_size: int = 16, max_new_tokens: int = 64, think_budget: int = 256,
          toxicity_judge: Any = None) -> dict[str, Any]:
    """Audit ``model`` against ``reference`` and return the report (written to ``out`` when given)."""
    from driftguard.monitor import DriftMonitor
    from driftguard.report import build_report, plot_comparison, render_markdown, write_report

    device = device or default_device()
    policy, tokenizer = load_model(model, device)
    adapter_baseline = reference is None and is_adapter_dir(model)
    if reference is None and not adapter_baseline:
        raise ModelSetupError("audit needs --reference R, unless --model is a PEFT adapter dir (its base is then R)")
    # on_error="raise": an audit is not a training run to protect; a failed pass is reported, not a report.
    config = DriftGuardConfig(suite=suite, batch_size=batch_size, max_new_tokens=max_new_tokens, patience=1,
                              think_budget=think_budget,
                              reference="adapter" if adapter_baseline else reference_mode, on_error="raise")
    monitor = DriftMonitor(config, toxicity_judge=toxicity_judge)
    if adapter_baseline:
        with policy.disable_adapter():
            baseline = monitor.probe_baseline(policy, tokenizer, step=0)
        monitor.prepare_reference(policy, tokenizer, baseline)
    else:
        ref_model, _ = load_model(reference, device)
        baseline = monitor.probe_baseline(ref_model, tokenizer, step=0)
        monitor.prepare_reference(ref_model, tokenizer, baseline, reference_model=ref_model)
        if reference_mode == "cached":
            del ref_model  # the cached reference keeps top-k log-probs on CPU; no second model is held
    monitor.set_baseline(baseline)  # the baseline model is the reference: its KL is 0 by definition
    evaluation, assessment = monitor.evaluate(policy, tokenizer, step=1)
    report = build_report(evaluation, assessment, baseline, config=config)
    report["model"], report["reference"] = str(model), str(reference or f"{model} (adapter disabled)")
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_report(out / "report.json", report)
        (out / "report.md").write_text(render_markdown(report))
        plot_comparison(report, out / "report.png")
    return report


def run_audit(args: argparse.Namespace) -> int:
    """CLI front: exit 0 pass/warn, 1 fail (bad input -> DriftGuardError -> 2 in cli.main)."""
    from driftguard.sinks.console import print_report

    report = audit(args.model, args.reference, suite=args.suite, out=args.out, reference_mode=args.reference_mode,
                   device=args.device, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                   think_budget=args.think_budget)
    print_report(report, title=f"driftguard audit · {args.model} vs {report['reference']} · {report['verdict'].upper()}")
    print(f"wrote {args.out}/report.json, report.md, report.png")
    return 1 if report["verdict"] == Verdict.FAIL.value else 0
