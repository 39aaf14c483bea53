"""Callback logging and failure isolation inside a real SFTTrainer run.

- driftguard metrics reach other callbacks' ``on_log`` (TensorBoard/MLflow/trackio integrations are callbacks)
  and ``state.log_history`` without swallowing the trainer's own rows;
- ``metric_for_best_model="eval_driftguard/..."`` works;
- a probe pass that crashes mid-training is recorded, counted and warned about, training goes on,
  and ``driftguard gate`` refuses (exit 2) the checkpoint whose report carries the error.
"""

from __future__ import annotations

from pathlib import Path

import torch
from datasets import Dataset
from transformers import TrainerCallback

from driftguard import DriftGuardCallback, DriftGuardConfig
from driftguard.gate import run_gate
from driftguard.metrics import ERRORS_METRIC, VERDICT_METRIC
from driftguard.report import read_report

MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")


class Recorder(TrainerCallback):
    """Stands in for a logging integration: records every ``on_log`` payload and the control flag it saw."""

    def __init__(self) -> None:
        self.logs: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))


class BreakProbesAt(TrainerCallback):
    """Makes every no-grad forward (the probe pass, not training) fail during one step."""

    def __init__(self, step: int) -> None:
        self.step, self.handle = step, None

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
        if state.global_step == self.step:
            def fail(module, args, kwargs):
                if not torch.is_grad_enabled():
                    raise RuntimeError("CUDA error: an illegal memory access was encountered")
            self.handle = model.register_forward_pre_hook(fail, with_kwargs=True)


def _rows(n: int = 16) -> Dataset:
    return Dataset.from_list([{"messages": [{"role": "user", "content": f"question {i}"},
                                            {"role": "assistant", "content": "Sure, here is a short answer."}]}
                              for i in range(n)])


def test_metrics_reach_other_loggers_and_best_model_selection(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    recorder = Recorder()
    args = SFTConfig(output_dir=str(tmp_path), max_steps=4, logging_steps=1, eval_strategy="steps", eval_steps=2,
                     save_steps=2, report_to=[], use_cpu=True, per_device_train_batch_size=2, learning_rate=1e-3,
                     metric_for_best_model="eval_driftguard/safety/refusal_margin", greater_is_better=True,
                     disable_tqdm=True)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), args=args, train_dataset=_rows(),
                         eval_dataset=_rows(4), processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
                         callbacks=[DriftGuardCallback(DriftGuardConfig(suite=MINI_SUITE, max_new_tokens=8)), recorder])
    trainer.train()

    callback = next(cb for cb in trainer.callback_handler.callbacks if isinstance(cb, DriftGuardCallback))
    assert callback.eval_steps == 2, "defaults to the trainer's eval cadence"
    seen = [row for row in recorder.logs if VERDICT_METRIC in row]
    assert len(seen) >= 3 and "driftguard/kl/mean" in seen[-1]
    assert {1, 2, 3, 4} <= {row["step"] for row in trainer.state.log_history if "loss" in row}
    assert any("eval_loss" in row for row in recorder.logs), "the trainer's own eval rows still flow"
    evals = [row for row in trainer.state.log_history if "eval_driftguard/safety/refusal_margin" in row]
    assert [row["step"] for row in evals] == [2, 4]
    best = max(evals, key=lambda row: row["eval_driftguard/safety/refusal_margin"])
    assert trainer.state.best_metric == best["eval_driftguard/safety/refusal_margin"]
    assert trainer.state.best_model_checkpoint.endswith(f"checkpoint-{best['step']}")


def test_probe_crash_is_recorded_and_training_goes_on(tiny_model_dir, tmp_path, recwarn):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=str(tmp_path), max_steps=3, logging_steps=1, save_steps=1, report_to=[], use_cpu=True,
                     per_device_train_batch_size=2, learning_rate=1e-3, disable_tqdm=True)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), args=args, train_dataset=_rows(),
                         processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
                         callbacks=[BreakProbesAt(1),
                                    DriftGuardCallback(DriftGuardConfig(suite=MINI_SUITE, eval_steps=1, max_new_tokens=8))])
    trainer.train()

    assert trainer.state.global_step == 3, "training went on"
    assert any("probe_pass failed at step 1" in str(w.message) for w in recwarn)
    errors_logged = {row["step"]: row[ERRORS_METRIC] for row in trainer.state.log_history if ERRORS_METRIC in row}
    assert errors_logged[0] == 0 and errors_logged[1] >= 1 and errors_logged[3] == 0
    assert run_gate(str(tmp_path / "checkpoint-1")) == 2, "fail closed on a report with errors"
    later = read_report(tmp_path / "checkpoint-3" / "driftguard.json")
    assert later["errors"] == [], "a later, clean evaluation describes its own checkpoint"
    assert run_gate(str(tmp_path / "checkpoint-3")) in (0, 1)
