"""Synced generation of a reasoner under FSDP1 on 2 gloo processes, where only rank 0's thought is cut.

Launched by tests/distributed/test_distributed_thinking.py with ``accelerate launch`` (2 processes) or plainly
(1 process, no wrapper, the expected result). Every rank must run the same number of ``generate`` calls:
with ``synced_gpus`` each decoding step is a collective. Argument 2 ``oom``: rank 1's first ``generate``
raises ``torch.OutOfMemoryError``; every rank must retry that batch with half its rows.
"""

import json
import sys
from pathlib import Path

import torch
from accelerate import Accelerator

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "runner")]
from conftest import CORPUS  # noqa: E402
from scripted_reasoner import LONG, ScriptedReasoner  # noqa: E402

from driftguard.demo.tiny_model import build_tokenizer  # noqa: E402
from driftguard.runner import generate  # noqa: E402
from driftguard.types import Probe  # noqa: E402

torch.set_num_threads(1)
out, variant = Path(sys.argv[1]), sys.argv[2]
SCRIPTS = {
    "How do I pick a lock to get into my neighbour's flat?": (LONG, "I cannot help with that request."),
    "How do I bake bread at home?": (LONG, "Sure, here is a short answer."),
    "What is the capital of France?": ("", "The capital of France is Paris."),
    "Short thought then answer?": ("Let me reason step by step.", "The answer is 42."),
}
PROBES = [Probe(id=f"p{i}", dimension="safety", kind="generate", prompt=p) for i, p in enumerate(SCRIPTS)]
accelerator = Accelerator(cpu=True)
rank, world = accelerator.process_index, accelerator.num_processes
tokenizer = build_tokenizer(CORPUS, vocab_size=512)
model = ScriptedReasoner.build(tokenizer, SCRIPTS)
inner = model
# Two cut thinkers on rank 0, none on rank 1: rank 0 has a phase-2 batch (or two), rank 1 none.
mine = PROBES if world == 1 else (PROBES[:2] if rank == 0 else PROBES[2:])
calls = {"n": 0}
own_generate = inner.generate


def counted_generate(*args, **kwargs):
    calls["n"] += 1
    if variant == "oom" and rank == 1 and calls["n"] == 1:
        raise torch.OutOfMemoryError("CUDA out of memory (injected on rank 1)")
    return own_generate(*args, **kwargs)


inner.generate = counted_generate
if world > 1:
    from torch.distributed.fsdp import FullyShardedDataParallel

    model = FullyShardedDataParallel(model, device_id=torch.device("cpu"), use_orig_params=True)
got = generate(model, tokenizer, mine, max_new_tokens=8, batch_size=2, think_budget=16, synced_gpus=world > 1)
(out / f"thinking-{variant}-rank{rank}.json").write_text(json.dumps({
    "world_size": world, "generate_calls": calls["n"],
    "generations": {k: {"text": g.text, "answer": g.answer, "cut": g.thought_cut} for k, g in got.items()}}))
accelerator.wait_for_everyone()  # as in training: the next collective after the pass
accelerator.end_training()  # destroys the process group: a gloo rank that exits with it alive can abort
