"""The mechanism metrics (baseline fit + one forward-only evaluation) in 1 process or 2 gloo processes.

Usage: ``mechanism_script.py MODEL_DIR OUT SUITE [fsdp]``; with ``fsdp`` (2 processes) every decoder
layer and the root are sharded with FSDP2, so every forward is a collective (lockstep path).
"""

import json
import sys
from pathlib import Path

import torch
from accelerate import Accelerator
from transformers import AutoModelForCausalLM, AutoTokenizer

from driftguard import DriftGuardConfig
from driftguard.distributed import Ranks, is_sharded
from driftguard.monitor import DriftMonitor

torch.set_num_threads(1)
model_dir, out, suite = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
fsdp = len(sys.argv) > 4 and sys.argv[4] == "fsdp"
accelerator = Accelerator(cpu=True)
model = AutoModelForCausalLM.from_pretrained(model_dir)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
if fsdp and accelerator.num_processes > 1:
    from torch.distributed.fsdp import fully_shard

    for layer in model.model.layers:
        fully_shard(layer)
    fully_shard(model)
monitor = DriftMonitor(DriftGuardConfig(suite=suite, max_new_tokens=4, batch_size=3, reference="cached"),
                       ranks=Ranks(accelerator))
baseline = monitor.start(model, tokenizer, step=0)
with torch.no_grad():
    model.model.norm.weight.mul_(1.5)  # the same deterministic drift on every rank
    for layer in model.model.layers:
        layer.mlp.down_proj.weight.mul_(0.7)
evaluation, _ = monitor.evaluate(model, tokenizer, step=1, tier="forward")
summary = {"world_size": accelerator.num_processes, "sharded": is_sharded(model),
           "direction": monitor.mechanism.state_dict(),
           "baseline": baseline.to_dict(), "evaluation": evaluation.to_dict()}
(out / f"mechanism-rank{accelerator.process_index}.json").write_text(json.dumps(summary))
accelerator.wait_for_everyone()
accelerator.end_training()  # destroys the process group: a gloo rank that exits with it alive can abort
