"""`driftguard run -- COMMAND`: an unmodified training script gets a DriftGuardCallback; exit codes pass through."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")

PLAIN_SCRIPT = r"""
import sys
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

torch.set_num_threads(1)
model_dir, out = sys.argv[1], sys.argv[2]
rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "Sure."}]} for i in range(8)]
args = SFTConfig(output_dir=out, max_steps=2, save_steps=2, logging_steps=1, report_to=[], use_cpu=True,
                 per_device_train_batch_size=2, disable_tqdm=True)
SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args, train_dataset=Dataset.from_list(rows),
           processing_class=AutoTokenizer.from_pretrained(model_dir)).train()
"""


def _driftguard(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "driftguard.cli", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def test_run_attaches_the_callback_to_an_unmodified_script(tiny_model_dir, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(PLAIN_SCRIPT)
    config = tmp_path / "driftguard.yaml"
    config.write_text(f"suite: {MINI_SUITE}\neval_steps: 1\nmax_new_tokens: 8\n")
    out = tmp_path / "out"
    proc = _driftguard("run", "--config", str(config), "--", sys.executable, str(script), str(tiny_model_dir), str(out),
                       env={"DRIFTGUARD_BATCH_SIZE": "4"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "checkpoint-2" / "driftguard.json").read_text())
    assert report["suite"]["name"] == "mini_suite" and report["step"] == 2
    steps = [json.loads(line)["step"] for line in (out / "driftguard" / "history.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2]


def test_run_returns_the_commands_exit_code(tmp_path):
    proc = _driftguard("run", "--", sys.executable, "-c", "import sys; sys.exit(3)")
    assert proc.returncode == 3


def test_run_rejects_a_bad_config_field(tmp_path):
    config = tmp_path / "driftguard.yaml"
    config.write_text("eval_stepz: 3\n")
    proc = _driftguard("run", "--config", str(config), "--", sys.executable, "-c", "pass")
    assert proc.returncode == 2
    assert "eval_stepz" in proc.stderr


def test_run_with_trls_own_cli(tiny_model_dir, tmp_path):
    """`driftguard run -- trl sft ...`: TRL's unmodified CLI script gets the callback."""
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "Sure, here it is."}]}
            for i in range(8)]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tmp_path / "driftguard.yaml"
    config.write_text(f"suite: {MINI_SUITE}\neval_steps: 1\nmax_new_tokens: 8\n")
    out = tmp_path / "out"
    trl = str(Path(sys.executable).parent / "trl")
    proc = _driftguard("run", "--config", str(config), "--", trl, "sft", "--model_name_or_path", str(tiny_model_dir),
                       "--dataset_name", str(data), "--output_dir", str(out), "--max_steps", "2", "--save_steps", "2",
                       "--logging_steps", "1", "--per_device_train_batch_size", "2", "--report_to", "none",
                       "--use_cpu", "true", env={"OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "checkpoint-2" / "driftguard.json").is_file()
    steps = [json.loads(line)["step"] for line in (out / "driftguard" / "history.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2]
