"""SFT run with DriftGuardCallback, launched by tests/distributed with 1 process or `accelerate launch` (2).

With a 4th argument ``injected`` the script attaches nothing: ``driftguard run`` adds the callback
(config from its YAML), and the script finds it in the trainer's callback handler.
"""

import json
import sys
from pathlib import Path

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from driftguard import DriftGuardCallback, DriftGuardConfig

torch.set_num_threads(1)
model_dir, out, suite = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
injected = sys.argv[4:] == ["injected"]
rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "Sure, here it is."}]}
        for i in range(32)]
args = SFTConfig(output_dir=str(out), max_steps=4, save_steps=2, logging_steps=1, report_to=[], use_cpu=True,
                 per_device_train_batch_size=2, learning_rate=5e-3, seed=0, disable_tqdm=True)
# A KL budget no trained model stays under, patience 1: the first evaluation after step 1 fails -> early stop.
config = DriftGuardConfig(suite=suite, eval_steps=1, max_new_tokens=8, batch_size=4, kl_budget=1e-9, patience=1,
                          early_stop=True)
trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args, train_dataset=Dataset.from_list(rows),
                     processing_class=AutoTokenizer.from_pretrained(model_dir),
                     callbacks=[] if injected else [DriftGuardCallback(config)])
[callback] = [c for c in trainer.callback_handler.callbacks if isinstance(c, DriftGuardCallback)]
trainer.train()
rank = trainer.accelerator.process_index
summary = {"world_size": trainer.accelerator.num_processes, "fsdp": bool(trainer.is_fsdp_enabled),
           "wrapped": type(trainer.model_wrapped).__name__, "global_step": trainer.state.global_step,
           "stopped_early": callback.stopped_early,
           "config": callback.config.to_dict() if injected else None, "baseline": callback.monitor.baseline_evaluation.to_dict()}
(out / f"summary-rank{rank}.json").write_text(json.dumps(summary))
trainer.accelerator.wait_for_everyone()
trainer.end()  # destroys the process group: a gloo rank that exits with it alive can abort
