"""DriftMonitor: probe pass + KL engine + drift detector, shared by the callback and ``driftguard audit``.

Flow per evaluation: ``run_probe_pass`` (runner -> scorers) -> ``measure_kl`` (policy vs reference on
the KL set fixed at the baseline) -> ``DriftDetector.assess`` (paired tests, Holm, thresholds, patience).
Failures never escape with ``on_error="warn"``: they are recorded in ``Evaluation.errors`` and counted.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import Assessment, DriftDetector
from driftguard.distributed import Ranks
from driftguard.errors import ConfigError, DriftGuardError
from driftguard.mechanism.probe import MechanismProbe
from driftguard.probe_pass import error_entry, is_oom, reasoning_format, run_probe_pass
from driftguard.probes.loaders import load_suite
from driftguard.probes.suite import ProbeSuite
from driftguard.reference import KLResult, KLSet, measure_kl, select_reference
from driftguard.runner import generate, probing_mode
from driftguard.schedule import FULL, ProbeSchedule, Tier
from driftguard.scorers.judges import make_toxicity_judge
from driftguard.types import Evaluation, Generation

logger = logging.getLogger("driftguard")
STATE_VERSION = 1
KL_ON_POLICY = "driftguard/kl/on_policy"
BASELINE_KL_TOLERANCE = 1e-3  # nats/token: the policy at its baseline vs its own reference is ~0 when the reference is right


CUT_RATE_WARNING = 0.2  # share of generate-probes whose thought the budget cut: above it, warn


class DriftMonitor:
    """Owns the suite, the reference provider, the KL set and the detector of one monitored run."""

    def __init__(self, config: DriftGuardConfig, *, suite: ProbeSuite | None = None,
                 toxicity_judge: str | Callable[[list[str]], list[float]] | None = None,
                 ranks: Ranks | None = None) -> None:
        self.config = config
        self.ranks = ranks or Ranks()
        self.suite = suite or load_suite(config.suite)
        # A spec string ("profanity-check", "hf:PATH") is built once here, not on every pass.
        self.toxicity_judge = make_toxicity_judge(toxicity_judge) if isinstance(toxicity_judge, str) else toxicity_judge
        self.detector = DriftDetector(config)
        self.reference = None
        self.kl_set: KLSet | None = None
        self.baseline_evaluation: Evaluation | None = None
        self.baseline_generations: dict[str, Generation] = {}
        self.last_generations: dict[str, Generation] = {}
        self.error_count = 0
        self.ref_adapter: str | None = None  # the trainer's reference adapter name (TRL: "ref")
        self.cache_path: str | Path | None = None
        self.mechanism = MechanismProbe.for_suite(self.suite, seed=config.seed, ranks=self.ranks) if config.mechanism else None
        self.schedule = ProbeSchedule(config.generate_every)
        # Whether the last full evaluation saw thoughts: then the forward tier cannot score options or
        # refusal openings at the first assistant token (the answer position needs the thought).
        self.thinks = False
        self.attribution: Any = None  # an AttributionTracker once attach_attribution() ran (config.attribution)

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

    def _probe(self, model, tokenizer, step: int, tier: Tier = FULL) -> Evaluation:
        errors: list[dict[str, Any]] = []
        result = self._run("probe_pass", step, errors, lambda bs: run_probe_pass(
            model, tokenizer, self.suite, self.config, step=step, toxicity_judge=self.toxicity_judge, batch_size=bs,
            ranks=self.ranks, tier=tier, first_token_choices=not self.thinks))
        if result is None:
            return Evaluation(step=step, suite=self.suite.info, records=[], metrics={}, errors=errors, tier=tier)
        evaluation, generations = result
        evaluation.tier = tier
        switch = (evaluation.info.get("reasoning") or {}).get("forward") or {}
        if tier != FULL and switch.get("switched"):
            self.thinks = True
            if self.ranks.is_main:
                warnings.warn(f"driftguard: at step {step} the model opens a thought first on "
                              f"{switch['thought_open_rate']:.0%} of the forward tier's items: it has started to "
                              "reason. Options and refusal margins are no longer read at the first assistant token "
                              "(the forward tier skips them; full evaluations read them after the thought).",
                              stacklevel=2)
        if tier == FULL:
            self.last_generations = generations
            seen = evaluation.info.get("reasoning") or {}
            self.thinks = bool(seen.get("with_thought") or seen.get("choices_with_thought"))
            if seen.get("cut_rate", 0.0) > CUT_RATE_WARNING and self.ranks.is_main:
                warnings.warn(f"driftguard: {seen['cut']} of {seen['generations']} thoughts at step {step} ran past "
                              f"think_budget={self.config.think_budget} and were closed by the probe pass; their answers "
                              "may reflect unfinished reasoning (a short budget reads the thought's opening, not its "
                              "conclusion). Raise think_budget.", stacklevel=2)
        self.error_count += len(evaluation.errors)
        evaluation.errors = errors + evaluation.errors
        return evaluation

    def _measure_mechanism(self, model, tokenizer, evaluation: Evaluation, *, fit: bool = False) -> None:
        """Refusal-direction records and metrics (fit on ``model`` first at the baseline)."""
        if self.mechanism is None or (not fit and self.mechanism.direction is None):
            return
        read = self.mechanism.fit if fit else self.mechanism.read
        result = self._run("mechanism", evaluation.step, evaluation.errors,
                           lambda bs: read(model, tokenizer, bs, self.last_generations))
        if result is not None:
            records, metrics = result
            evaluation.records.extend(records)
            evaluation.metrics.update(metrics)

    def attach_attribution(self, model, tokenizer, *, dataset: Any = None, record_path: str | Path | None = None) -> None:
        """Start the live attribution (``config.attribution``): hooks on ``model``'s trainable linear layers."""
        from driftguard.attribution import AttributionTracker

        self.attribution = AttributionTracker(model, tokenizer=tokenizer, dataset=dataset,
                                              params=self.config.attribution_params, top_k=self.config.attribution_top_k,
                                              record_path=record_path, ranks=self.ranks)

    def _attribute(self, model, tokenizer, evaluation: Evaluation) -> None:
        """The interval's attribution summary (``evaluation.info["attribution"]``), then the safety-loss gradient of
        ``model`` that the next interval's steps are measured against."""
        if self.attribution is None:
            return
        evaluation.errors.extend(self.attribution.take_errors())
        summary = self._run("attribution", evaluation.step, evaluation.errors, lambda bs: self.attribution.evaluate(
            model, tokenizer, list(self.suite), self.last_generations, step=evaluation.step, batch_size=bs))
        if summary is not None:
            evaluation.info["attribution"] = summary

    def _measure_kl(self, model, evaluation: Evaluation) -> None:
        if self.reference is None or self.kl_set is None:
            return
        result = self._run("kl", evaluation.step, evaluation.errors, lambda bs: self._kl(model, self.kl_set, bs))
        if result is not None:
            evaluation.kl = result.to_dict()
            evaluation.metrics.update(result.metrics())
        if (self.config.kl_on_policy and getattr(self.reference, "exact", False) and self.last_generations
                and evaluation.tier == FULL):
            on_policy = KLSet.on_policy(list(self.suite), self.last_generations)  # reuses the probe pass's outputs
            result = self._run("kl_on_policy", evaluation.step, evaluation.errors, lambda bs: self._kl(model, on_policy, bs))
            if result is not None:
                evaluation.metrics[KL_ON_POLICY] = result.mean
                evaluation.kl = {**(evaluation.kl or {}), "on_policy": result.to_dict()}

    def _kl(self, model, kl_set: KLSet, batch_size: int) -> KLResult:
        """``measure_kl`` over this rank's shard of ``kl_set``; per-probe values gathered from all ranks."""
        if not self.ranks.active:
            return measure_kl(model, self.reference, kl_set, batch_size=batch_size)
        shard = KLSet(self.ranks.shard(kl_set.items), source=kl_set.source)
        per_probe = self.ranks.gather_dicts(
            lambda: measure_kl(model, self.reference, shard, batch_size=batch_size).per_probe)
        return KLResult(per_probe, {item.probe_id: item.dimension for item in kl_set.items},
                        reference=self.reference.name, exact=self.reference.exact, source=kl_set.source,
                        n_tokens=kl_set.n_tokens)

    def _reference_generations(self, model, tokenizer) -> dict[str, Generation]:
        """The reference's greedy completions of the generate-prompts: the KL set's token ids.

        In cached mode, or when the reference is the baseline model itself, those are the baseline
        pass's generations; an adapter or a distinct reference model generates them once here.
        """
        ref = self.reference
        if ref.name == "cached" or (ref.name == "model" and ref.model is model):
            return self.baseline_generations
        probes = [p for p in self.suite if p.kind == "generate"]
        fmt = reasoning_format(tokenizer, self.config)
        with ref.generating(model) as gen_model, probing_mode(gen_model, tokenizer):
            return self.ranks.gather_dicts(lambda: generate(
                gen_model, tokenizer, self.ranks.shard(probes), max_new_tokens=self.config.max_new_tokens,
                batch_size=self.config.batch_size, think_budget=self.config.think_budget, fmt=fmt,
                **self.ranks.generate_kwargs(gen_model)))

    # -- public ---------------------------------------------------------------------------------
    def probe_baseline(self, model, tokenizer, *, step: int = 0) -> Evaluation:
        """Probe the baseline model (the unmodified policy, or the reference in an audit)."""
        evaluation = self._probe(model, tokenizer, step)
        self.baseline_generations = dict(self.last_generations)
        self._measure_mechanism(model, tokenizer, evaluation, fit=True)
        return evaluation

    def _select_reference(self, policy, step: int, errors: list[dict[str, Any]], reference_model: Any,
                          cache_path: str | Path | None, mode: str | None = None) -> None:
        ref_model = reference_model if reference_model is not None else self.config.reference_model
        self.reference = self._run("reference", step, errors, lambda bs: select_reference(
            mode or self.config.reference, policy, reference_model=ref_model, top_k=self.config.cached_top_k,
            dtype=self.config.reference_dtype, device=self.config.reference_device, cache_path=cache_path,
            ref_adapter=self.ref_adapter))

    def _prepare_collectively(self, kl_set: KLSet, step: int, errors: list[dict[str, Any]]) -> None:
        """``reference.prepare`` on every rank; the KL set is kept only when it succeeded on *every* rank.

        A rank-0-only failure (e.g. writing the cache file, which only rank 0 does) would otherwise leave rank 0
        without a KL set while the others enter the KL gather at every evaluation: a hang.
        """
        local = self._run("reference_prepare", step, errors,
                          lambda bs: self.reference.prepare(kl_set, batch_size=bs) or True) is not None
        if self.ranks.all_agree(local):
            self.kl_set = kl_set
            return
        self.kl_set = None
        if local:  # this rank succeeded, another one did not: record why KL is off here too
            errors.append({"stage": "reference_prepare", "step": step, "type": "RankFailure",
                           "message": "preparing the reference failed on another rank; KL is not measured"})
            self.error_count += 1

    def prepare_reference(self, policy, tokenizer, evaluation: Evaluation, *, reference_model: Any = None,
                          cache_path: str | Path | None = None) -> None:
        """Pick the reference provider, fix the KL set from the reference's completions, prepare it.

        ``cache_path``: where a ``cached`` reference writes its top-k file (so a resumed run reloads it).
        """
        step, errors = evaluation.step, evaluation.errors
        self.cache_path = cache_path
        if cache_path is not None and Path(cache_path).exists():
            Path(cache_path).unlink()  # a fresh baseline: never reuse another run's cache
        self._select_reference(policy, step, errors, reference_model, cache_path)
        if self.reference is None:
            return
        gens = self._run("kl_set", step, errors, lambda bs: self._reference_generations(policy, tokenizer))
        if not gens:
            return
        kl_set = KLSet.from_generations([p for p in self.suite if p.kind == "generate"], gens)
        self._prepare_collectively(kl_set, step, errors)

    def _check_adapter_baseline(self, policy: Any, evaluation: Evaluation) -> None:
        """The adapter reference must be the step-0 model: its KL to the policy at the baseline must be ~0.

        It is not when a LoRA from an earlier stage is trained further (DPO on an SFT adapter), when PiSSA /
        OLoRA / LoftQ initialisation rewrote the base, or when the trainer's reference adapter has another
        name. ``reference='auto'`` then falls back to ``cached`` (the policy itself at this baseline);
        an explicit ``reference='adapter'`` raises.
        """
        if getattr(self.reference, "name", None) != "adapter" or self.kl_set is None:
            return
        kl0 = (evaluation.kl or {}).get("mean")
        if kl0 is None or (math.isfinite(kl0) and kl0 <= BASELINE_KL_TOLERANCE):
            return
        adapter = getattr(self.reference, "ref_adapter", None)
        what = f"the {adapter!r} adapter" if adapter else "the base with the adapter disabled"
        message = (f"the adapter reference ({what}) is not the model at the baseline: its KL to the policy at step "
                   f"{evaluation.step} is {kl0:.4g} nats/token (> {BASELINE_KL_TOLERANCE}); an adapter trained in an "
                   "earlier stage, a PiSSA/OLoRA/LoftQ initialisation or a reference adapter under another name")
        if self.config.reference == "adapter":
            raise ConfigError(f"reference='adapter': {message}. Fix: use reference='cached' (the policy at step 0) "
                              "or reference='model' with reference_model=PATH")
        warnings.warn(f"driftguard: {message}; reference 'auto' falls back to 'cached' (the policy at this baseline)",
                      stacklevel=2)
        evaluation.kl = None
        for name in [m for m in evaluation.metrics if m.startswith("driftguard/kl/")]:
            del evaluation.metrics[name]
        self.kl_set = None
        self._select_reference(policy, evaluation.step, evaluation.errors, None, self.cache_path, mode="cached")
        if self.reference is not None:
            kl_set = KLSet.from_generations([p for p in self.suite if p.kind == "generate"], self.baseline_generations)
            self._prepare_collectively(kl_set, evaluation.step, evaluation.errors)
            self._measure_kl(policy, evaluation)

    def set_baseline(self, evaluation: Evaluation, policy: Any = None) -> Evaluation:
        """Pin the detector to ``evaluation``; with ``policy``, also measure its KL to the reference (and check that
        an adapter reference is the baseline model)."""
        if policy is not None:
            self._measure_kl(policy, evaluation)
            self._check_adapter_baseline(policy, evaluation)
        self.baseline_evaluation = evaluation
        self.detector.set_baseline(evaluation)
        return evaluation

    def start(self, model, tokenizer, *, step: int = 0, reference_model: Any = None,
              cache_path: str | Path | None = None, ref_adapter: str | None = None) -> Evaluation:
        """Baseline of a training run: the policy before its first optimizer step (``ref_adapter``: the
        trainer's reference adapter name, TRL's ``"ref"`` by default)."""
        self.ref_adapter = ref_adapter
        evaluation = self.probe_baseline(model, tokenizer, step=step)
        self.prepare_reference(model, tokenizer, evaluation, reference_model=reference_model, cache_path=cache_path)
        self._attribute(model, tokenizer, evaluation)
        return self.set_baseline(evaluation, model)

    # -- resume ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-safe state for resume: baseline evaluation, detector (patience), KL set, reference mode."""
        return {
            "version": STATE_VERSION,
            "suite": self.suite.info.to_dict(),
            "baseline": self.baseline_evaluation.to_dict() if self.baseline_evaluation else None,
            "detector": self.detector.state_dict(),
            "kl_set": self.kl_set.to_dict() if self.kl_set is not None else None,
            "reference": getattr(self.reference, "name", None),
            "error_count": self.error_count,
            "mechanism": self.mechanism.state_dict() if self.mechanism is not None else None,
            "schedule": self.schedule.state_dict(),
            "thinks": self.thinks,
        }

    def load_state_dict(self, state: dict[str, Any], policy: Any, *, reference_model: Any = None,
                        cache_path: str | Path | None = None) -> None:
        """Restore :meth:`state_dict` on resume: the original baseline, never the resumed weights.

        A baseline measured on another suite (sha256) raises BaselineMismatchError. A ``cached``
        reference is reloaded from ``cache_path``; without that file KL is not measured (recorded).
        """
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise DriftGuardError(f"driftguard state: version {state.get('version') if isinstance(state, dict) else state!r},"
                                  f" expected {STATE_VERSION}; resume with the driftguard version that wrote it")
        self.detector.load_state_dict(state["detector"], suite=self.suite.info)
        self.baseline_evaluation = Evaluation.from_dict(state["baseline"]) if state.get("baseline") else None
        self.error_count = int(state.get("error_count", 0))
        self.schedule.load_state_dict(state.get("schedule"))
        self.thinks = bool(state.get("thinks", False))
        if self.mechanism is not None:
            self.mechanism.load_state_dict(state.get("mechanism"), policy)
        if state.get("kl_set") is None or state.get("reference") is None:
            return
        errors: list[dict[str, Any]] = []
        self.cache_path = cache_path
        have_cache = cache_path is not None and Path(cache_path).is_file()
        if state["reference"] == "cached" and not self.ranks.all_agree(have_cache):
            errors.append({"stage": "reference", "step": self.detector.baseline.step if self.detector.baseline else 0,
                           "type": "MissingCache", "message": f"cached reference file {cache_path} is missing; "
                           "KL is not measured in this resumed run"})
            warnings.warn(f"driftguard: {errors[-1]['message']}", stacklevel=2)
            self.error_count += 1
            return
        self._select_reference(policy, 0, errors, reference_model, cache_path, mode=state["reference"])
        if self.ranks.all_agree(self.reference is not None):
            self._prepare_collectively(KLSet.from_dict(state["kl_set"]), 0, errors)

    def evaluate(self, model, tokenizer, *, step: int, scheduled: bool = True,
                 tier: Tier = FULL) -> tuple[Evaluation, Assessment]:
        """Probe the current model (``tier``: ``full`` or ``forward``-only), measure KL and assess drift.

        ``scheduled=False`` for an evaluation off the ``eval_steps`` cadence (a save, ``on_evaluate``): it is
        reported but does not move patience. A failed stage is recorded and makes the verdict at least WARN.
        """
        evaluation = self._probe(model, tokenizer, step, tier)
        self._measure_mechanism(model, tokenizer, evaluation)
        self._measure_kl(model, evaluation)
        self._attribute(model, tokenizer, evaluation)
        return evaluation, self.detector.assess(evaluation, scheduled=scheduled)

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
                    probe = self.suite.get(rec.probe_id.split("#")[0])  # mechanism records: "<id>#mechanism", "<id>#ablation"
                    rows.append((worse, {
                        "dimension": rec.dimension, "probe_id": rec.probe_id, "metric": name,
                        "prompt": probe.display_prompt() if probe else "",
                        "baseline_answer": before.answer, "current_answer": rec.answer,
                        "baseline_reasoning": before.reasoning, "current_reasoning": rec.reasoning,
                        "baseline_score": before.values[name], "current_score": value,
                    }))
        rows.sort(key=lambda r: -r[0])
        return [row for _, row in rows[:limit]]


def _empty_device_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
