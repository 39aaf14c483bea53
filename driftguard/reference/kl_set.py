"""The KL set: fixed (prompt, completion) token ids, teacher-forced through policy and reference.

Built once at the baseline from the reference's greedy completions of the suite's generate-probes
(``source="reference"``), or per evaluation from the policy's own probe generations
(``source="policy"``, on-policy KL). Batches are length-sorted and padded (left by default) with an
attention mask; ``completion_mask`` selects the logit positions that predict completion tokens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from driftguard.errors import ModelSetupError
from driftguard.types import Generation, Probe

KLSource = Literal["reference", "policy"]


@dataclass(frozen=True)
class KLItem:
    """One row of the KL set: a generate-probe's prompt ids and the completion ids to score."""

    probe_id: str
    dimension: str
    prompt_ids: tuple[int, ...]
    completion_ids: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.prompt_ids) + len(self.completion_ids)


@dataclass
class KLBatch:
    """Padded rows of a KL set. Logits are needed only for the last ``keep`` positions.

    ``completion_mask [B, keep]`` is True where logit position ``L - keep + j`` predicts a completion token.
    """

    items: list[KLItem]
    input_ids: Tensor
    attention_mask: Tensor
    position_ids: Tensor
    keep: int
    completion_mask: Tensor

    @property
    def probe_ids(self) -> list[str]:
        return [item.probe_id for item in self.items]

    def to(self, device: torch.device | str) -> KLBatch:
        return KLBatch(self.items, self.input_ids.to(device), self.attention_mask.to(device),
                       self.position_ids.to(device), self.keep, self.completion_mask.to(device))


class KLSet:
    """Token ids on which KL is measured; build with :meth:`from_generations` or :meth:`on_policy`."""

    def __init__(self, items: Sequence[KLItem], *, source: KLSource = "reference", skipped: Sequence[str] = ()):
        self.items = list(items)
        self.source: KLSource = source
        self.skipped = tuple(skipped)

    @classmethod
    def from_generations(cls, probes: Sequence[Probe], generations: Mapping[str, Generation], *,
                         source: KLSource = "reference") -> KLSet:
        """One item per generate-probe that has a generation with a non-empty completion.

        Probes without a generation, or whose completion is empty, are listed in ``skipped``. A
        generation without ``prompt_ids`` is an error (the runner fills them).
        """
        items, skipped = [], []
        for probe in probes:
            if probe.kind != "generate":
                continue
            generation = generations.get(probe.id)
            if generation is None or not generation.completion_ids:
                skipped.append(probe.id)
                continue
            if not generation.prompt_ids:
                raise ModelSetupError(f"generation of probe {probe.id!r} has no prompt_ids; the runner must fill "
                                      "Generation.prompt_ids (the chat-templated prompt tokens) for the KL set")
            items.append(KLItem(probe.id, probe.dimension, tuple(int(t) for t in generation.prompt_ids),
                                tuple(int(t) for t in generation.completion_ids)))
        return cls(items, source=source, skipped=skipped)

    @classmethod
    def on_policy(cls, probes: Sequence[Probe], generations: Mapping[str, Generation]) -> KLSet:
        """A KL set on the policy's own generations of this evaluation (reused, not generated again)."""
        return cls.from_generations(probes, generations, source="policy")

    def __len__(self) -> int:
        return len(self.items)

    @property
    def n_tokens(self) -> int:
        """Completion tokens scored per pass."""
        return sum(len(item.completion_ids) for item in self.items)

    def fingerprint(self) -> str:
        """sha256 of every item's id, dimension and token ids: what a cached reference is pinned to."""
        digest = hashlib.sha256()
        for item in self.items:
            digest.update(json.dumps([item.probe_id, item.dimension, item.prompt_ids, item.completion_ids]).encode())
        return digest.hexdigest()

    def batches(self, batch_size: int, *, padding_side: Literal["left", "right"] = "left",
                pad_id: int = 0) -> Iterator[KLBatch]:
        """Length-sorted (longest first) padded batches of at most ``batch_size`` rows."""
        if batch_size < 1:
            raise ModelSetupError(f"batch_size = {batch_size}: must be >= 1")
        if padding_side not in ("left", "right"):
            raise ModelSetupError(f"padding_side = {padding_side!r}: use 'left' or 'right'")
        ordered = sorted(self.items, key=lambda item: item.length, reverse=True)
        for start in range(0, len(ordered), batch_size):
            yield _pad(ordered[start:start + batch_size], padding_side, pad_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (to persist the KL set next to a baseline)."""
        return {"source": self.source, "skipped": list(self.skipped),
                "items": [[i.probe_id, i.dimension, list(i.prompt_ids), list(i.completion_ids)] for i in self.items]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KLSet:
        items = [KLItem(pid, dim, tuple(prompt), tuple(completion)) for pid, dim, prompt, completion in data["items"]]
        return cls(items, source=data.get("source", "reference"), skipped=data.get("skipped", ()))


def _pad(items: list[KLItem], padding_side: str, pad_id: int) -> KLBatch:
    """Pad ``items`` into one batch; position ids count real tokens only, so padding never changes logits."""
    width = max(item.length for item in items)
    input_ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(items), width), dtype=torch.long)
    predicts_completion = torch.zeros((len(items), width), dtype=torch.bool)
    for row, item in enumerate(items):
        start = width - item.length if padding_side == "left" else 0
        first_completion = start + len(item.prompt_ids)
        input_ids[row, start:start + item.length] = torch.tensor(item.prompt_ids + item.completion_ids)
        attention_mask[row, start:start + item.length] = 1
        # logits at position t predict token t + 1
        predicts_completion[row, first_completion - 1:start + item.length - 1] = True
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    first_needed = int(predicts_completion.any(0).nonzero()[0]) if predicts_completion.any() else width - 1
    keep = width - first_needed
    return KLBatch(items, input_ids, attention_mask, position_ids, keep, predicts_completion[:, width - keep:])


def forward_logits(model: Any, batch: KLBatch) -> Tensor:
    """Logits of ``model`` for the last ``batch.keep`` positions, ``[B, keep, V]`` in the model's dtype.

    Uses ``logits_to_keep`` so the LM head runs only where completion tokens are predicted; models
    that do not take it get their full logits sliced.
    """
    kwargs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask,
              "position_ids": batch.position_ids, "use_cache": False}
    try:
        logits = model(**kwargs, logits_to_keep=batch.keep).logits
    except TypeError as e:
        if "logits_to_keep" not in str(e):
            raise
        logits = model(**kwargs).logits
    if logits.shape[1] != batch.keep:
        logits = logits[:, -batch.keep:]
    return logits
