"""Last-prompt-token activations at every layer: one batched, left-padded forward per batch, no generation.

Prompts are rendered with the chat template and its generation prompt (``render_prompt_ids``), so the
last token is where the assistant's answer would start. Left padding puts that token in the last
column of every row; ``output_hidden_states`` gives every layer there, and only one position goes
through the LM head (``logits_to_keep=1`` where the model accepts it). With several ranks each runs
its shard (padded to equal counts, so every rank runs the same number of forwards) and the
activations are gathered, keyed by probe id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from driftguard.distributed import Ranks
from driftguard.runner.chat import render_prompt_ids
from driftguard.runner.choice import _accepts_logits_to_keep
from driftguard.runner.generate import left_pad, length_sorted_batches, model_device
from driftguard.runner.modes import probing_mode
from driftguard.types import Probe


def forward_last_token(model: Any, rows: Sequence[Sequence[int]], *, batch_size: int, pad_id: int,
                       hidden_states: bool = True) -> list[np.ndarray | None]:
    """Per row, the ``[n_layers + 1, hidden]`` float32 activations at its last token (order kept).

    ``hidden_states=False`` runs the same forwards without collecting them (the benchmark's bare
    forward) and returns None per row. Callers are inside :func:`probing_mode`.
    """
    import torch

    device = model_device(model)
    keep = {"logits_to_keep": 1} if _accepts_logits_to_keep(model) else {}
    out: list[np.ndarray | None] = [None] * len(rows)
    for batch in length_sorted_batches([len(r) for r in rows], batch_size):
        input_ids, mask = left_pad([rows[i] for i in batch], pad_id, device)
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        result = model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=False,
                       output_hidden_states=hidden_states, **keep)
        if not hidden_states:
            continue
        last = torch.stack([h[:, -1, :] for h in result.hidden_states], dim=1).float().cpu().numpy()
        for j, i in enumerate(batch):
            out[i] = last[j]
    return out


def last_token_states(model: Any, tokenizer: Any, probes: Sequence[Probe], *, batch_size: int,
                      ranks: Ranks | None = None) -> dict[str, np.ndarray]:
    """probe id -> ``[n_layers + 1, hidden]`` activations at the last prompt token, gathered from all ranks."""
    ranks = ranks or Ranks()

    def local() -> dict[str, np.ndarray]:
        shard = ranks.shard(list(probes))
        rows = [render_prompt_ids(tokenizer, p.chat()) for p in shard]
        with probing_mode(model, tokenizer) as pad_id:
            states = forward_last_token(model, rows, batch_size=batch_size, pad_id=pad_id) if rows else []
        return {p.id: s for p, s in zip(shard, states, strict=True)}

    return ranks.gather_dicts(local)
