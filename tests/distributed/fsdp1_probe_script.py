"""The monitor on a model wrapped with FSDP1 (``FullyShardedDataParallel``, the Trainer's ``fsdp=`` path) on CPU.

Launched by tests/distributed with 1 process (no wrapper) or ``accelerate launch`` (2 gloo processes: every
decoder layer and the root wrapped, FULL_SHARD). ``generate`` reached through the FSDP1 root runs the inner
model on the root's flat shards ("'weight' must be 2-D") unless driftguard gathers the root's own parameters.
Argument 4 ``peft``: the tiny model gets a zero-initialised LoRA first; ``auto`` must still find the adapter
reference through the wrapper.
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
from driftguard.reference import is_peft_model
from driftguard.runner.choice import _accepts_logits_to_keep

torch.set_num_threads(1)
model_dir, out, suite, variant = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
accelerator = Accelerator(cpu=True)
model = AutoModelForCausalLM.from_pretrained(model_dir)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
if variant == "peft":
    import peft

    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=True)
    model = peft.get_peft_model(model, config)
if accelerator.num_processes > 1:
    from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer

    model = FullyShardedDataParallel(model, auto_wrap_policy=ModuleWrapPolicy({LlamaDecoderLayer}),
                                     sharding_strategy=ShardingStrategy.FULL_SHARD, device_id=torch.device("cpu"),
                                     use_orig_params=True)
monitor = DriftMonitor(DriftGuardConfig(suite=suite, max_new_tokens=8, batch_size=4), ranks=Ranks(accelerator))
baseline = monitor.start(model, tokenizer, step=0)
evaluation, assessment = monitor.evaluate(model, tokenizer, step=1)
summary = {"world_size": accelerator.num_processes, "sharded": is_sharded(model), "peft": is_peft_model(model),
           "reference": monitor.reference.name if monitor.reference else None,
           "wrapper": type(model).__name__, "keeps_logits": _accepts_logits_to_keep(model),
           "baseline": baseline.to_dict(), "evaluation": evaluation.to_dict()}
(out / f"fsdp1-{variant}-rank{accelerator.process_index}.json").write_text(json.dumps(summary))
accelerator.wait_for_everyone()
accelerator.end_training()  # destroys the process group: a gloo rank that exits with it alive can abort
