"""Resume: a run killed after a checkpoint keeps its original baseline, patience and history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import Dataset

from driftguard import DriftGuardCallback, DriftGuardConfig
from driftguard.errors import BaselineMismatchError
from driftguard.metrics import VERDICT_METRIC

FIXTURES = Path(__file__).parent / "fixtures"
MINI_SUITE = str(FIXTURES / "mini_suite.jsonl")

TRAIN_SCRIPT = r"""
import os, sys
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import SFTConfig, SFTTrainer
from driftguard import DriftGuardCallback, DriftGuardConfig

torch.set_num_threads(1)
model_dir, out, suite, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

class Kill(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):
        if state.global_step == kill_at:
            os._exit(17)  # a hard kill: no on_train_end, no cleanup

rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "Sure, here it is."}]}
        for i in range(16)]
args = SFTConfig(output_dir=out, max_steps=6, save_steps=2, logging_steps=1, report_to=[], use_cpu=True,
                 per_device_train_batch_size=2, learning_rate=5e-3, seed=0, disable_tqdm=True)
config = DriftGuardConfig(suite=suite, eval_steps=1, max_new_tokens=8, batch_size=8)
trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args,
                     train_dataset=Dataset.from_list(rows), processing_class=AutoTokenizer.from_pretrained(model_dir),
                     callbacks=[DriftGuardCallback(config), Kill()])
trainer.train()
"""


def _sft(model_dir: Path, out: Path, config: DriftGuardConfig):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "Sure, here it is."}]}
            for i in range(16)]
    args = SFTConfig(output_dir=str(out), max_steps=6, save_steps=2, logging_steps=1, report_to=[], use_cpu=True,
                     per_device_train_batch_size=2, learning_rate=5e-3, seed=0, disable_tqdm=True)
    callback = DriftGuardCallback(config)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args,
                         train_dataset=Dataset.from_list(rows), processing_class=AutoTokenizer.from_pretrained(model_dir),
                         callbacks=[callback])
    return trainer, callback


@pytest.fixture(scope="module")
def killed_run(tiny_model_dir, tmp_path_factory):
    """A run hard-killed at step 3, after checkpoint-2 was written."""
    out = tmp_path_factory.mktemp("resume") / "out"
    proc = subprocess.run([sys.executable, "-c", TRAIN_SCRIPT, str(tiny_model_dir), str(out), MINI_SUITE, "3"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 17, proc.stderr[-3000:]
    assert (out / "checkpoint-2" / "driftguard.json").is_file()
    assert not (out / "checkpoint-4").exists()
    return out


def _history(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "driftguard" / "history.jsonl").read_text().splitlines()]


def test_resume_keeps_the_original_baseline(killed_run, tiny_model_dir):
    before = _history(killed_run)
    assert [row["step"] for row in before] == [0, 1, 2, 3]
    state_file = killed_run / "checkpoint-2" / "driftguard_state.json"
    stored = json.loads(state_file.read_text())
    assert set(stored["alerts"]) == {"WandbSink", "TrackioSink"}
    alerted = {"regressed": {"driftguard/safety/harmful_refusal_rate": "WARN"},
               "last_sent": [["driftguard/safety/harmful_refusal_rate", "WARN", 2]]}
    state_file.write_text(json.dumps({**stored, "alerts": {"WandbSink": alerted}}))  # as if W&B had alerted

    trainer, callback = _sft(tiny_model_dir, killed_run,
                             DriftGuardConfig(suite=MINI_SUITE, eval_steps=1, max_new_tokens=8, batch_size=8))
    trainer.train(resume_from_checkpoint=str(killed_run / "checkpoint-2"))

    after = _history(killed_run)
    assert [row["step"] for row in after] == [0, 1, 2, 3, 3, 4, 5, 6], "no second baseline; history appended"
    baseline = callback.monitor.baseline_evaluation
    assert baseline.step == 0
    assert callback._sinks()[0].alerts.state_dict() == alerted  # no W&B run here: restored, kept for the next
    assert baseline.metrics == pytest.approx({k: v for k, v in stored["baseline"]["metrics"].items() if v is not None})
    assert callback.monitor.detector.state_dict()["baseline"]["values"] == stored["detector"]["baseline"]["values"]
    assert callback.monitor.kl_set is not None, "the cached reference was reloaded from disk"
    report = json.loads((killed_run / "checkpoint-6" / "driftguard.json").read_text())
    assert report["baseline"]["step"] == 0
    assert report["baseline"]["metrics"] == before[0]["metrics"]
    assert report["errors"] == []
    resumed_rows = [r for r in trainer.state.log_history if VERDICT_METRIC in r]
    assert {r["step"] for r in resumed_rows} >= {3, 4, 5, 6}


def test_resume_with_another_suite_is_an_error(killed_run, tiny_model_dir, tmp_path):
    other = tmp_path / "other.jsonl"
    lines = Path(MINI_SUITE).read_text().splitlines()
    other.write_text("\n".join(lines[:-1]) + "\n")  # one probe fewer: another fingerprint
    out = tmp_path / "copy"
    import shutil

    shutil.copytree(killed_run, out)
    trainer, _ = _sft(tiny_model_dir, out, DriftGuardConfig(suite=str(other), eval_steps=1, max_new_tokens=8))
    with pytest.raises(BaselineMismatchError, match="sha256"):
        trainer.train(resume_from_checkpoint=str(out / "checkpoint-2"))
