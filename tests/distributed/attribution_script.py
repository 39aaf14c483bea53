"""LoRA SFT with ``attribution=True``, launched by tests/distributed with 1 process or `accelerate launch` (2).

The global batch is 4 rows either way (1 x 4, or 2 ranks x 2), so both runs take the same optimizer steps on the
same rows and the per-row harms can be compared one to one. In fp32: TRL's SFTConfig turns bf16 autocast on by default,
also on CPU, and bf16 weight gradients of two batchings of the same rows differ by ~1e-3 (Adam then magnifies that
into different weights), where fp32 gradients agree to float rounding.
"""

import json
import sys
from pathlib import Path

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from driftguard import DriftGuardCallback, DriftGuardConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared rows
from attribution_rows import safety_rows  # noqa: E402

torch.set_num_threads(1)
model_dir, out, suite_path, world = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows, _ = safety_rows(suite_path)
args = SFTConfig(output_dir=str(out), max_steps=4, per_device_train_batch_size=4 // world, learning_rate=2e-3,
                 max_grad_norm=0.0, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, seed=0,
                 disable_tqdm=True, max_length=128, bf16=False)
config = DriftGuardConfig(suite=suite_path, eval_steps=2, max_new_tokens=4, batch_size=16, mechanism=False,
                          attribution=True, attribution_top_k=16)
trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args,
                     train_dataset=Dataset.from_list(rows), processing_class=AutoTokenizer.from_pretrained(model_dir),
                     callbacks=[DriftGuardCallback(config)],
                     peft_config=LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                            target_modules=["q_proj", "v_proj", "o_proj"]))
[callback] = [c for c in trainer.callback_handler.callbacks if isinstance(c, DriftGuardCallback)]
trainer.train()
rank = trainer.accelerator.process_index
summary = {"world_size": trainer.accelerator.num_processes, "wrapped": type(trainer.model_wrapped).__name__,
           "global_step": trainer.state.global_step, "attribution": callback.last_report.get("attribution"),
           "errors": callback.last_report.get("errors")}
(out / f"summary-rank{rank}.json").write_text(json.dumps(summary))
trainer.accelerator.wait_for_everyone()
trainer.end()  # destroys the process group: a gloo rank that exits with it alive can abort
