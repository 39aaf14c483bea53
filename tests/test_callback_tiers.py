"""The callback's probe schedule: forward-only evaluations between generation ones; saves and the end complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

from driftguard import DriftGuardCallback, DriftGuardConfig
from driftguard.probes import load_suite
from driftguard.probes.suite import probe_to_dict

REFUSAL = "driftguard/safety/harmful_refusal_rate"
DPRIME = "driftguard/mechanism/refusal_dprime"


@pytest.fixture(scope="module")
def small_suite_file(tmp_path_factory) -> str:
    suite = load_suite("compact")
    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse"][:8]
    benign = [p for p in suite if p.dimension == "safety" and p.expect == "comply"][:8]
    ethics = [p for p in suite if p.dimension == "ethics"][:4]
    path = tmp_path_factory.mktemp("suite") / "tiers.jsonl"
    path.write_text("".join(json.dumps(probe_to_dict(p)) + "\n" for p in harmful + benign + ethics))
    return str(path)


@pytest.fixture(scope="module")
def tiered_run(tiny_model_dir, small_suite_file, tmp_path_factory) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    out = tmp_path_factory.mktemp("tiers") / "out"
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "Sure, here it is."}]}
            for i in range(16)]
    args = SFTConfig(output_dir=str(out), max_steps=6, save_steps=3, logging_steps=1, report_to=[], use_cpu=True,
                     per_device_train_batch_size=2, learning_rate=5e-3, seed=0, disable_tqdm=True)
    config = DriftGuardConfig(suite=small_suite_file, eval_steps=1, generate_every=2, max_new_tokens=4, batch_size=8)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), args=args,
                         train_dataset=Dataset.from_list(rows),
                         processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
                         callbacks=[DriftGuardCallback(config)])
    trainer.train()
    return out


def test_generation_every_second_evaluation_and_at_every_save(tiered_run):
    rows = [json.loads(line) for line in (tiered_run / "driftguard" / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2, 3, 4, 5, 6], "one evaluation per step: a save reuses a full one"
    # periodic 1, 2, 3 (save: upgraded), 4, 5, 6 (save and end)
    assert [r["tier"] for r in rows] == ["full", "forward", "full", "full", "full", "forward", "full"]
    for row in rows:
        assert DPRIME in row["metrics"], "the mechanism metrics are read at every evaluation"
        assert (REFUSAL in row["metrics"]) == (row["tier"] == "full")


def test_every_checkpoint_report_is_complete(tiered_run):
    for step in (3, 6):
        report = json.loads((tiered_run / f"checkpoint-{step}" / "driftguard.json").read_text())
        assert report["step"] == step and report["tier"] == "full"
        assert report["metric_tiers"][REFUSAL] == "generate" and report["metric_tiers"][DPRIME] == "forward"
    final = json.loads((tiered_run / "driftguard" / "report.json").read_text())
    assert final["step"] == 6 and final["tier"] == "full"
