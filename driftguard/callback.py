"""DriftGuardCallback: thin glue between a transformers/TRL Trainer and the DriftMonitor.

Schedule: a baseline on the unmodified model in ``on_train_begin`` (before the first optimizer step),
then every ``eval_steps`` optimizer steps (``on_step_end``), at every checkpoint save (so the report in
a checkpoint describes exactly its weights) and at the end of training. Each evaluation's metrics go
to ``state.log_history`` and every ``report_to`` integration, W&B (with alerts), the console and
``<output_dir>/driftguard/history.jsonl``; each checkpoint gets ``driftguard.json``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from driftguard.config import DriftGuardConfig
from driftguard.distributed import Ranks
from driftguard.errors import ConfigError
from driftguard.metrics import ERRORS_METRIC, REGRESSIONS_METRIC, VERDICT_METRIC
from driftguard.trainer_access import TrainerHandles, trainer_handles
from driftguard.types import Evaluation, Verdict

logger = logging.getLogger("driftguard")

DEFAULT_EVAL_STEPS = 100
STATE_FILE = "driftguard_state.json"
REPORT_FILE = "driftguard.json"
CACHE_FILE = "reference_cache.safetensors"
ATTRIBUTION_FILE = "attribution.jsonl"  # one line per optimizer step (driftguard/attribution/tracker.py)


def resolve_eval_steps(config: DriftGuardConfig, args: Any, state: Any = None) -> int:
    """``config.eval_steps``, else the trainer's eval cadence when it evaluates by steps, else 100.

    A fractional ``eval_steps`` is a ratio of the run's total optimizer steps: ``args.max_steps`` when set,
    else the trainer state's ``max_steps`` (epoch-based training: ``args.max_steps`` is -1). Unknown total
    steps: the default cadence, never every step.
    """
    if config.eval_steps:
        return config.eval_steps
    strategy = str(getattr(args, "eval_strategy", "no")).lower()
    steps = getattr(args, "eval_steps", None)
    if "steps" in strategy and steps:
        if steps < 1:  # a ratio of the total steps
            total = getattr(args, "max_steps", -1) or -1
            if total <= 0:
                total = getattr(state, "max_steps", 0) or 0
            return max(1, math.ceil(steps * total)) if total > 0 else DEFAULT_EVAL_STEPS
        return int(steps)
    return DEFAULT_EVAL_STEPS


class DriftGuardCallback(TrainerCallback):
    """Watch a training run for alignment regressions. Add it with ``callbacks=[DriftGuardCallback()]``."""

    def __init__(self, config: DriftGuardConfig | None = None, *, toxicity_judge: Any = None,
                 reference_model: Any = None) -> None:
        self.config = config or DriftGuardConfig()
        if not isinstance(self.config, DriftGuardConfig):
            raise ConfigError(f"DriftGuardCallback(config=...): expected a DriftGuardConfig, got {type(config).__name__}")
        self.toxicity_judge = toxicity_judge
        self.reference_model = reference_model if reference_model is not None else (
            self.config.reference_model if not isinstance(self.config.reference_model, str) else None)
        self.monitor = None
        self.handles: TrainerHandles | None = None
        self.eval_steps = DEFAULT_EVAL_STEPS
        self.last_report: dict[str, Any] | None = None
        self.last_eval_step: int | None = None
        self.last_tier: str | None = None
        self.stopped_early = False
        self._sink: list[Any] | None = None

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def _dir(self) -> Path:
        return Path(self.handles.output_dir) / "driftguard"

    @property
    def _cache_path(self) -> Path:
        """Where a ``cached`` reference keeps its top-k file (reloaded on resume)."""
        return self._dir / CACHE_FILE

    def _reference_model(self) -> Any:
        """An explicit reference model wins; else the trainer's own ``ref_model`` (DPO/KTO/GRPO...)."""
        return self.reference_model if self.reference_model is not None else self.handles.ref_model

    def _is_main(self, state: Any) -> bool:
        return bool(getattr(state, "is_world_process_zero", True))

    def _sinks(self) -> list[Any]:
        """W&B (metrics, tables, artifacts, alerts) and trackio (alerts); each a no-op without an active run."""
        if self._sink is None:
            from driftguard.sinks.trackio import TrackioSink
            from driftguard.sinks.wandb import WandbSink

            self._sink = [WandbSink(self.config), TrackioSink(self.config)]
        return self._sink

    def _publish(self, args: Any, state: Any, control: Any, evaluation: Any, assessment: Any) -> dict[str, Any]:
        """Build the report and send it to every sink (rank 0 writes and logs)."""
        from driftguard.report import append_history, build_report, history_row

        report = build_report(evaluation, assessment, self.monitor.baseline_evaluation, config=self.config,
                              last_passing_checkpoint=self.monitor.detector.last_passing_checkpoint)
        self.last_report, self.last_eval_step = report, evaluation.step
        logs = {k: float(v) for k, v in report["metrics"].items() if v is not None}
        logs[VERDICT_METRIC] = float(Verdict(report["verdict"]).level)
        logs[REGRESSIONS_METRIC] = float(len(report["regressions"]))
        logs[ERRORS_METRIC] = float(len(report["errors"]))  # this evaluation's, as in W&B
        if self.handles.trainer is not None:  # every rank, like Trainer.log; integrations log on rank 0 only
            from driftguard.sinks.trainer_log import dispatch_logs

            dispatch_logs(self.handles.trainer, self, args, state, control, logs)
        if not self._is_main(state):
            return report
        append_history(self._dir / "history.jsonl", history_row(report))
        worst = self.monitor.worst_items(evaluation, assessment)
        for sink in self._sinks():
            try:
                sink.log_evaluation(report, worst, step=evaluation.step)
            except Exception as e:  # noqa: BLE001 - a sink failure must not stop training
                logger.warning("driftguard: %s failed: %s", type(sink).__name__, e)
        from driftguard.sinks.console import print_report

        print_report(report)
        return report

    def _evaluate(self, args: Any, state: Any, control: Any, *, scheduled: bool, tier: str = "full") -> dict[str, Any]:
        """Probe now. ``scheduled``: an evaluation of the ``eval_steps`` cadence (moves patience); the ones at a
        save, ``on_evaluate`` or the end of training are reported but leave patience alone. ``tier``: ``full``
        or ``forward``-only (driftguard/schedule.py)."""
        evaluation, assessment = self.monitor.evaluate(self.handles.model, self.handles.tokenizer,
                                                       step=state.global_step, scheduled=scheduled, tier=tier)
        self.last_tier = tier
        report = self._publish(args, state, control, evaluation, assessment)
        stop = assessment.verdict == Verdict.FAIL and self.config.early_stop
        if self.monitor.ranks.same_decision(stop) and not self.stopped_early:
            self.stopped_early = True
            control.should_training_stop = True
            if self.config.save_on_stop:
                control.should_save = True
            logger.warning("driftguard: verdict FAIL at step %s — stopping training (early_stop=True)",
                           state.global_step)
        return report

    def _save_state(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (STATE_FILE + ".tmp")
        state = self.monitor.state_dict()
        state["alerts"] = {type(sink).__name__: sink.alerts.state_dict() for sink in self._sinks()}
        tmp.write_text(json.dumps(state))
        os.replace(tmp, folder / STATE_FILE)

    def _load_state(self, state: Any) -> bool:
        """On resume, restore baseline, KL set, patience, error counts and alert state from the checkpoint."""
        candidates = [Path(self.handles.output_dir) / f"checkpoint-{state.global_step}" / STATE_FILE,
                      self._dir / STATE_FILE]
        for path in candidates:
            if path.is_file():
                saved = json.loads(path.read_text())
                self.monitor.ref_adapter = self.handles.ref_adapter
                self.monitor.load_state_dict(saved, self.handles.model,
                                             reference_model=self._reference_model(), cache_path=self._cache_path)
                for sink in self._sinks():  # a regression that persists across the resume is not re-alerted
                    sink.alerts.load_state_dict((saved.get("alerts") or {}).get(type(sink).__name__))
                logger.info("driftguard: resumed baseline from %s", path)
                return True
        logger.warning("driftguard: resuming at step %s without a stored baseline; the resumed weights become "
                       "the baseline", state.global_step)
        return False

    # -- Trainer events ---------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        from driftguard.monitor import DriftMonitor

        self.handles = trainer_handles(self, args, model, processing_class)
        if self.handles.tokenizer is None:
            raise ConfigError("DriftGuardCallback: the trainer has no tokenizer (processing_class); pass "
                              "processing_class=tokenizer to the trainer")
        self.eval_steps = resolve_eval_steps(self.config, args, state)
        self.monitor = DriftMonitor(self.config, toxicity_judge=self.toxicity_judge,
                                    ranks=Ranks(self.handles.accelerator))
        if self.config.attribution:  # hooks before the baseline, so its gradient is the first target
            self.monitor.attach_attribution(self.handles.model, self.handles.tokenizer,
                                            dataset=getattr(self.handles.trainer, "train_dataset", None),
                                            record_path=self._dir / ATTRIBUTION_FILE)
        if state.global_step > 0 and self._load_state(state):
            if self.monitor.attribution is not None:  # the resumed weights' gradient measures the next steps
                self.monitor._attribute(self.handles.model, self.handles.tokenizer,
                                        Evaluation(step=state.global_step, suite=self.monitor.suite.info, records=[],
                                                   metrics={}))
            return control
        baseline = self.monitor.start(self.handles.model, self.handles.tokenizer, step=state.global_step,
                                      reference_model=self._reference_model(), ref_adapter=self.handles.ref_adapter,
                                      cache_path=self._cache_path if self._is_main(state) else None)
        report = self._publish(args, state, control, baseline, self.monitor.detector.assess(baseline, scheduled=False))
        self.last_tier = "full"
        if self._is_main(state):
            self._save_state(self._dir)
        self.last_report = report
        return control

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        tracker = getattr(self.monitor, "attribution", None)
        if tracker is not None:
            tracker.guarded("attribution_step", state.global_step + 1, tracker.before_step)
        return control

    def on_optimizer_step(self, args, state, control, **kwargs):
        tracker = getattr(self.monitor, "attribution", None)
        if tracker is not None:
            tracker.guarded("attribution_step", state.global_step + 1, tracker.after_step)
        return control

    def on_step_end(self, args, state, control, **kwargs):
        if self.monitor is not None and state.global_step % self.eval_steps == 0:
            tier = self.monitor.schedule.tier("periodic")
            if control.should_save or control.should_training_stop:  # a checkpoint/end follows: generate now
                tier = "full"
            self._evaluate(args, state, control, scheduled=True, tier=tier)
        return control

    def _complete(self, state: Any) -> bool:
        """Whether this step already has an evaluation that ran the generation probes."""
        return self.last_eval_step == state.global_step and self.monitor.schedule.complete(self.last_tier)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        """Expose ``eval_driftguard/*`` to ``metric_for_best_model`` (evaluated at this step if stale)."""
        if self.monitor is None or metrics is None:
            return control
        if self.last_eval_step != state.global_step:
            tier = "full" if control.should_save else self.monitor.schedule.tier("evaluate")  # a save follows
            self._evaluate(args, state, control, scheduled=False, tier=tier)
        extra = {f"eval_{name}": value for name, value in (self.last_report or {}).get("metrics", {}).items()
                 if value is not None}
        metrics.update(extra)
        # The trainer logged its eval row just before this hook: complete that row in the log history.
        last = state.log_history[-1] if state.log_history else {}
        if last.get("step") == state.global_step and any(k.startswith("eval_") for k in last):
            last.update(extra)
        return control

    def on_save(self, args, state, control, **kwargs):
        if self.monitor is None:
            return control
        if not self._complete(state):
            self._evaluate(args, state, control, scheduled=False)
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if self.last_report is not None and self.last_report["verdict"] == Verdict.PASS.value:
            self.monitor.detector.mark_checkpoint(str(checkpoint), self.last_report)
        if self._is_main(state) and checkpoint.is_dir():
            from driftguard.report import write_report

            report = {**self.last_report,
                      "checkpoint": str(checkpoint),
                      "last_passing_checkpoint": self.monitor.detector.last_passing_checkpoint}
            write_report(checkpoint / REPORT_FILE, report)
            self._save_state(checkpoint)
            self._save_state(self._dir)
            try:
                self._sinks()[0].log_report_artifact(checkpoint / REPORT_FILE, step=state.global_step)
            except Exception as e:  # noqa: BLE001
                logger.warning("driftguard: W&B artifact upload failed: %s", e)
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self.monitor is None:
            return control
        if not self._complete(state):
            self._evaluate(args, state, control, scheduled=False)
        if self.monitor.attribution is not None:
            self.monitor.attribution.close()
        if self._is_main(state) and self.last_report is not None:
            from driftguard.report import plot_history, read_history, render_markdown, write_report

            report = {**self.last_report, "last_passing_checkpoint": self.monitor.detector.last_passing_checkpoint,
                      "stopped_early": self.stopped_early}
            write_report(self._dir / "report.json", report)
            (self._dir / "report.md").write_text(render_markdown(report))
            try:
                plot_history(read_history(self._dir / "history.jsonl"), self._dir / "history.png")
            except Exception as e:  # noqa: BLE001 - a plot must not fail the run
                logger.warning("driftguard: history plot failed: %s", e)
            self._save_state(self._dir)
        return control

