"""A necessity check of a refusal direction: project it out of the residual stream and read the refusal margin again.

Directional ablation (as in Arditi et al. 2024): every decoder layer's output and the embeddings' output lose their
component along the unit direction ``r`` (``h <- h - (h . r) r``) at every position, for the whole forward. The
refusal margin of a few harmful prompts is read at the answer position (after the model's own thought, as the probe
pass reads it) with and without the ablation; ``drop = margin - margin_ablated``. A direction the model's refusals
still run through gives a large drop; one that has rotated out of use gives about none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from driftguard.runner import OptionRequest, score_options
from driftguard.runner.choice import unwrap_model
from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS, refusal_margin
from driftguard.types import Generation, Probe


def decoder_layers(model: Any) -> list[Any]:
    """The model's decoder blocks: its ``ModuleList`` with ``num_hidden_layers`` entries."""
    import torch

    inner = unwrap_model(model)
    config = getattr(inner, "config", None)
    n = getattr(config, "num_hidden_layers", None) or getattr(getattr(config, "get_text_config", lambda: None)(),
                                                               "num_hidden_layers", None)
    for module in inner.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n:
            return list(module)
    raise ValueError(f"{type(inner).__name__}: no ModuleList of num_hidden_layers={n} decoder blocks to ablate")


@contextlib.contextmanager
def direction_ablated(model: Any, direction: Sequence[float]) -> Iterator[None]:
    """Inside: ``direction`` (unit, hidden-size) is projected out of the embeddings and every decoder block's output."""
    import torch

    r = torch.tensor(np.asarray(direction, dtype=np.float32))

    def project_out(module: Any, inputs: Any, output: Any) -> Any:
        hidden = output[0] if isinstance(output, tuple) else output
        u = r.to(device=hidden.device, dtype=hidden.dtype)
        hidden = hidden - (hidden @ u).unsqueeze(-1) * u
        return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

    inner = unwrap_model(model)
    embeddings = inner.get_input_embeddings() if hasattr(inner, "get_input_embeddings") else None
    handles = [m.register_forward_hook(project_out) for m in [embeddings, *decoder_layers(model)] if m is not None]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def ablation_margins(model: Any, tokenizer: Any, probes: Sequence[Probe], generations: Mapping[str, Generation] | None,
                     directions: Mapping[str, Sequence[float] | None], *, batch_size: int) -> dict[str, dict[str, float]]:
    """Per probe: the refusal margin (``"none"``) and the margin with each named direction ablated."""
    options = tuple(REFUSAL_OPENINGS) + tuple(COMPLIANCE_OPENINGS)
    requests = [OptionRequest(key=p.id, messages=p.chat(), options=options,
                              prefix_ids=tuple(generations[p.id].answer_prefix_ids) if p.id in (generations or {}) else ())
                for p in probes]
    out: dict[str, dict[str, float]] = {p.id: {} for p in probes}
    for name, direction in {"none": None, **directions}.items():
        if name != "none" and direction is None:
            continue
        with direction_ablated(model, direction) if direction is not None else contextlib.nullcontext():
            scores = score_options(model, tokenizer, requests, batch_size=batch_size)
        for pid, s in scores.items():
            out[pid][name] = refusal_margin(s, len(REFUSAL_OPENINGS))
    return out
