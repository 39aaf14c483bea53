"""DriftMonitor: probe pass + KL engine + drift detector, shared by the callback and ``driftguard audit``.

Flow per evaluation: ``run_probe_pass`` (runner -> scorers) -> ``measure_kl`` (policy vs reference on
the KL set fixed at the baseline) -> ``DriftDetector.assess`` (paired tests, Holm, thresholds, patience).
Failures never escape with ``on_error="warn"``: they are recorded in ``Evaluation.errors`` and counted.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import Assessment, DriftDetector
from driftguard.probe_pass import error_entry, is_oom, run_probe_pass
from driftguard.probes import ProbeSuite, load_suite
from driftguard.reference import KLSet, measure_kl, select_reference
from driftguard.runner import generate, probing_mode
from driftguard.types import Evaluation, Generation

logger = logging.getLogger("driftguard")


class DriftMonitor:
    """Owns the suite, the reference provider, the KL set and the detector of one monitored run."""

    def __init__(self, config: DriftGuardConfig, *, suite: ProbeSuite | None = None,
                 toxicity_judge: Callable[[list[str]], list[float]] | None = None) -> None:
        self.config = config
        self.suite = suite or load_suite(config.suite)
        self.toxicity_judge = toxicity_judge
        self.detector = DriftDetector(config)
        self.reference = None
        self.kl_set: KLSet | None = None
        self.baseline_evaluation: Evaluation | None = None
        self.baseline_generations: dict[str, Generation] = {}
        self.last_generations: dict[str, Generation] = {}
        self.error_count = 0

    # -- stages ---------------------------------------------------------------------------------
    def _run(self, stage: str, step: int, errors: list[dict[str, Any]], fn: Callable[[int], Any]) -> Any:
        """Run ``fn(batch_size)``; an OOM retries once with half the batch; other errors are recorded."""
        batch_size = self.config.batch_size
        for attempt in (0, 1):
            try:
                return fn(batch_size)
            except Exception as e:  # noqa: BLE001 - a probe pass must never take training down
                if attempt == 0 and is_oom(e) and batch_size > 1:
                    batch_size = max(1, batch_size // 2)
                    _empty_device_cache()
                    warnings.warn(f"driftguard: {stage} ran out of memory; retrying with batch_size={batch_size}",
                                  stacklevel=2)
                    continue
                if self.config.on_error == "raise":
                    raise
                self.error_count += 1
                errors.append(error_entry(stage, e, step))
                warnings.warn(f"driftguard: {stage} failed at step {step} ({type(e).__name__}: {e}); recorded in the "
                              "report's errors, training goes on (on_error='warn'); `driftguard gate` will refuse "
                              "this checkpoint.", stacklevel=2)
                logger.exception("driftguard %s failed at step %s", stage, step)
                return None
        return None

    def _probe(self, model, tokenizer, step: int) -> Evaluation:
        errors: list[dict[str, Any]] = []
        result = self._run("probe_pass", step, errors, lambda bs: run_probe_pass(
            model, tokenizer, self.suite, self.config, step=step, toxicity_judge=self.toxicity_judge, batch_size=bs))
        if result is None:
            return Evaluation(step=step, suite=self.suite.info, records=[], metrics={}, errors=errors)
        evaluation, generations = result
        self.last_generations = generations
        self.error_count += len(evaluation.errors)
        evaluation.errors = errors + evaluation.errors
        return evaluation

    def _measure_kl(self, model, evaluation: Evaluation) -> None:
        if self.reference is None or self.kl_set is None:
            return
        result = self._run("kl", evaluation.step, evaluation.errors, lambda bs: measure_kl(
            model, self.reference, self.kl_set, batch_size=bs))
        if result is not None:
            evaluation.kl = result.to_dict()
            evaluation.metrics.update(result.metrics())

    def _reference_generations(self, model, tokenizer) -> dict[str, Generation]:
        """The reference's greedy completions of the generate-prompts: the KL set's token ids.

        In cached mode, or when the reference is the baseline model itself, those are the baseline
        pass's generations; an adapter or a distinct reference model generates them once here.
        """
        ref = self.reference
        if ref.name == "cached" or getattr(ref, "model", None) is model:
            return self.baseline_generations
        probes = [p for p in self.suite if p.kind == "generate"]
        markers = (self.config.reasoning_markers[0], self.config.reasoning_markers[1])
        with ref.generating(model) as gen_model, probing_mode(gen_model, tokenizer):
            return generate(gen_model, tokenizer, probes, max_new_tokens=self.config.max_new_tokens,
                            batch_size=self.config.batch_size, markers=markers)

    # -- public ---------------------------------------------------------------------------------
    def probe_baseline(self, model, tokenizer, *, step: int = 0) -> Evaluation:
        """Probe the baseline model (the unmodified policy, or the reference in an audit)."""
        evaluation = self._probe(model, tokenizer, step)
        self.baseline_generations = dict(self.last_generations)
        return evaluation

    def prepare_reference(self, policy, tokenizer, evaluation: Evaluation, *, reference_model: Any = None) -> None:
        """Pick the reference provider, fix the KL set from the reference's completions, prepare it."""
        step, errors = evaluation.step, evaluation.errors
        ref_model = reference_model if reference_model is not None else self.config.reference_model
        self.reference = self._run("reference", step, errors, lambda bs: select_reference(
            self.config.reference, policy, reference_model=ref_model, top_k=self.config.cached_top_k,
            dtype=self.config.reference_dtype, device=self.config.reference_device))
        if self.reference is None:
            return
        gens = self._run("kl_set", step, errors, lambda bs: self._reference_generations(policy, tokenizer))
        if not gens:
            return
        kl_set = KLSet.from_generations([p for p in self.suite if p.kind == "generate"], gens)
        if self._run("reference_prepare", step, errors,
                     lambda bs: self.reference.prepare(kl_set, batch_size=bs) or True) is not None:
            self.kl_set = kl_set

    def set_baseline(self, evaluation: Evaluation, policy: Any = None) -> Evaluation:
        """Pin the detector to ``evaluation``; with ``policy``, also measure its KL to the reference."""
        if policy is not None:
            self._measure_kl(policy, evaluation)
        self.baseline_evaluation = evaluation
        self.detector.set_baseline(evaluation)
        return evaluation

    def start(self, model, tokenizer, *, step: int = 0, reference_model: Any = None) -> Evaluation:
        """Baseline of a training run: the policy before its first optimizer step."""
        evaluation = self.probe_baseline(model, tokenizer, step=step)
        self.prepare_reference(model, tokenizer, evaluation, reference_model=reference_model)
        return self.set_baseline(evaluation, model)

    def evaluate(self, model, tokenizer, *, step: int) -> tuple[Evaluation, Assessment]:
        """Probe the current model, measure KL against the reference and assess drift."""
        evaluation = self._probe(model, tokenizer, step)
        self._measure_kl(model, evaluation)
        return evaluation, self.detector.assess(evaluation)

    def worst_items(self, evaluation: Evaluation, assessment: Assessment, limit: int = 10) -> list[dict[str, Any]]:
        """Probes of regressed metrics whose item value moved the wrong way most (for tables/alerts)."""
        from driftguard.metrics import get_metric

        base = {r.probe_id: r for r in (self.baseline_evaluation.records if self.baseline_evaluation else [])}
        regressed = {r.metric for r in assessment.regressions}
        rows: list[tuple[float, dict[str, Any]]] = []
        for rec in evaluation.records:
            before = base.get(rec.probe_id)
            if before is None:
                continue
            for name, value in rec.values.items():
                if name not in regressed or name not in before.values:
                    continue
                spec = get_metric(name)
                worse = spec.badness(value) - spec.badness(before.values[name])
                if worse > 0:
                    probe = self.suite.get(rec.probe_id)
                    rows.append((worse, {
                        "dimension": rec.dimension, "probe_id": rec.probe_id, "metric": name,
                        "prompt": probe.display_prompt() if probe else "",
                        "baseline_answer": before.answer, "current_answer": rec.answer,
                        "baseline_score": before.values[name], "current_score": value,
                    }))
        rows.sort(key=lambda r: -r[0])
        return [row for _, row in rows[:limit]]


def _empty_device_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
