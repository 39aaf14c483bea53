"""A real Trainer with ``report_to=["wandb"]`` (offline) and DriftGuardCallback, read back from the .wandb file.

The drift is forced: a tiny random Llama trained with a large learning rate on unrelated text loses
refusal log-odds on the harmful probes (refusal_margin), so the verdict goes warn, then fail
(patience 2). Also: nothing breaks with ``WANDB_MODE=disabled`` or with wandb absent from ``report_to``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import wandb_records as wr
from sink_reports import finish_and_flush

from driftguard import DriftGuardCallback, DriftGuardConfig
from driftguard.probes.loaders import shipped_path
from driftguard.sinks.wandb import ARTIFACT_TYPE, STEP_METRIC, TABLE_KEY

STANDIN = shipped_path("full")
TRAIN_TEXT = [f"How do I bake bread at home? Mix flour, water, yeast and salt {i} times, then knead." for i in range(16)]
pytestmark = pytest.mark.slow


def _subset(folder: Path, name: str, n_per_expect: int) -> Path:
    """The first ``n_per_expect`` harmful and benign safety items of the shipped ``full`` suite."""
    rows = [line for line in STANDIN.read_text().splitlines() if '"dimension": "safety"' in line]
    keep = [r for r in rows if '"refuse"' in r][:n_per_expect] + [r for r in rows if '"comply"' in r][:n_per_expect]
    path = folder / f"{name}.jsonl"
    path.write_text("\n".join(keep) + "\n")
    return path


@pytest.fixture(scope="module")
def small_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 harmful and 12 benign safety items of the shipped ``full`` suite."""
    return _subset(tmp_path_factory.mktemp("suite"), "safety", 12)


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 safety items: enough to run the callback end to end."""
    return _subset(tmp_path_factory.mktemp("suite"), "tiny", 3)


def train(tiny_tokenizer, tiny_model_factory, suite: Path, out: Path, report_to: list[str], max_steps: int = 4):
    from transformers import Trainer, TrainingArguments

    enc = tiny_tokenizer(TRAIN_TEXT, padding="max_length", truncation=True, max_length=32)
    pairs = zip(enc["input_ids"], enc["attention_mask"], strict=True)
    data = [{"input_ids": i, "attention_mask": m, "labels": i} for i, m in pairs]
    args = TrainingArguments(output_dir=str(out), max_steps=max_steps, per_device_train_batch_size=4, logging_steps=1,
                             save_steps=2, save_only_model=True, report_to=report_to, learning_rate=1e-2, use_cpu=True,
                             disable_tqdm=True, run_name="driftguard-sink-test")
    config = DriftGuardConfig(suite=str(suite), eval_steps=2, max_new_tokens=6, batch_size=32)
    callback = DriftGuardCallback(config)
    trainer = Trainer(model=tiny_model_factory(0), args=args, train_dataset=data, processing_class=tiny_tokenizer,
                      callbacks=[callback])
    trainer.train()
    return callback


@pytest.fixture(scope="module")
def wandb_run(tmp_path_factory, tiny_tokenizer, tiny_model_factory, small_suite) -> dict[str, Any]:
    from sink_reports import wandb_env

    root = tmp_path_factory.mktemp("trainer_wandb")
    with pytest.MonkeyPatch.context() as mp:
        wandb_env(mp, root)
        try:
            train(tiny_tokenizer, tiny_model_factory, small_suite, root / "out", ["wandb"])
        finally:
            finish_and_flush()
    path = wr.run_file(root / "runs")
    history = [json.loads(line) for line in (root / "out" / "driftguard" / "history.jsonl").read_text().splitlines()]
    return {"path": path, "out": root / "out", "rows": wr.history(path), "alerts": wr.alerts(path),
            "artifacts": wr.artifacts(path), "history_file": history}


def test_driftguard_rows_line_up_with_the_trainer_rows(wandb_run):
    rows = wandb_run["rows"]
    dg = [r for r in rows if "driftguard/verdict" in r]
    assert [r[STEP_METRIC] for r in dg] == [h["step"] for h in wandb_run["history_file"]] == [0, 2, 4]
    for row, hist in zip(dg, wandb_run["history_file"], strict=True):
        assert row["driftguard/safety/refusal_margin"] == pytest.approx(hist["metrics"]["driftguard/safety/refusal_margin"])
        assert row["driftguard/verdict"] == {"pass": 0, "warn": 1, "fail": 2}[hist["verdict"]]
    # the Trainer's own loss rows are all there, and W&B's _step never went backwards
    assert [r["train/global_step"] for r in rows if "train/loss" in r] == [1, 2, 3, 4]
    steps = [r["_step"] for r in rows]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert not any(k.startswith("train/driftguard/") for r in rows for k in r)  # no duplicate series


def test_alerts_follow_the_verdicts(wandb_run):
    verdicts = [h["verdict"] for h in wandb_run["history_file"]]
    assert verdicts == ["pass", "warn", "fail"], "the forced drift should regress refusal_margin (warn, then fail)"
    assert [(a["level"], a["title"]) for a in wandb_run["alerts"]] == [
        ("WARN", "driftguard WARN: safety regressed"), ("ERROR", "driftguard FAIL: safety regressed")]
    assert "safety/refusal_margin" in wandb_run["alerts"][1]["text"] and "step 4" in wandb_run["alerts"][1]["text"]


def test_tables_and_checkpoint_artifacts(wandb_run):
    tables = [r for r in wandb_run["rows"] if TABLE_KEY in r]
    assert [r[STEP_METRIC] for r in tables] == [2, 4]
    data = wr.table(wandb_run["path"], tables[-1][TABLE_KEY])
    assert data["data"] and all(row[1] == "safety" for row in data["data"])
    reports = [a for a in wandb_run["artifacts"] if a["type"] == ARTIFACT_TYPE]
    assert [sorted(a["aliases"]) for a in reports] == [["latest", "step-2"], ["latest", "step-4"]]
    assert reports[1]["metadata"]["checkpoint"] == str(wandb_run["out"] / "checkpoint-4")
    assert reports[1]["metadata"]["verdict"] == "fail"


@pytest.mark.parametrize("report_to, mode", [(["wandb"], "disabled"), ([], "offline")])
def test_training_is_unaffected_without_an_active_wandb_run(report_to, mode, tmp_path, monkeypatch, tiny_tokenizer,
                                                              tiny_model_factory, tiny_suite):
    from sink_reports import wandb_env

    wandb_env(monkeypatch, tmp_path / "wandb")
    monkeypatch.setenv("WANDB_MODE", mode)
    try:
        callback = train(tiny_tokenizer, tiny_model_factory, tiny_suite, tmp_path / "out", report_to, max_steps=2)
    finally:
        finish_and_flush()
    assert callback.last_eval_step == 2
    assert len((tmp_path / "out" / "driftguard" / "history.jsonl").read_text().splitlines()) == 2
    assert (tmp_path / "out" / "checkpoint-2" / "driftguard.json").is_file()
    assert not list((tmp_path / "wandb").rglob("*.wandb"))
