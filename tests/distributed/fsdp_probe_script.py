"""The monitor's baseline and one evaluation on a model sharded with torch FSDP2 (``fully_shard``) on CPU.

Launched by tests/distributed with 1 process (no sharding) or ``accelerate launch`` (2 gloo processes,
every decoder layer and the root sharded). Accelerate does not enable FSDP with ``use_cpu``, so the
model is sharded by hand, as a user of FSDP2 without the Trainer would; driftguard must detect the
sharding (synced generation, equal forward counts on every rank) or the ranks deadlock.
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
accelerator = Accelerator(cpu=True)
model = AutoModelForCausalLM.from_pretrained(model_dir)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
if accelerator.num_processes > 1:
    from torch.distributed.fsdp import fully_shard

    for layer in model.model.layers:
        fully_shard(layer)
    fully_shard(model)
monitor = DriftMonitor(DriftGuardConfig(suite=suite, max_new_tokens=8, batch_size=4, reference="cached"),
                       ranks=Ranks(accelerator))
baseline = monitor.start(model, tokenizer, step=0)
with torch.no_grad():
    model.model.norm.weight.mul_(1.5)  # the same deterministic drift on every rank's shard
evaluation, _ = monitor.evaluate(model, tokenizer, step=1)
summary = {"world_size": accelerator.num_processes, "sharded": is_sharded(model),
           "baseline": baseline.to_dict(), "evaluation": evaluation.to_dict()}
(out / f"fsdp-rank{accelerator.process_index}.json").write_text(json.dumps(summary))
accelerator.wait_for_everyone()
accelerator.end_training()  # destroys the process group: a gloo rank that exits with it alive can abort
