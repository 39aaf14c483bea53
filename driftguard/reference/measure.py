"""measure_kl(): teacher-force a KL set through the policy and a reference provider; attribute by dimension."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from driftguard.errors import ConfigError
from driftguard.reference.kl import sequence_kl
from driftguard.reference.kl_set import KLSet, forward_logits
from driftguard.reference.providers import ReferenceProvider, inference_scope, model_device
from driftguard.types import DIMENSIONS

DEFAULT_CHUNK_SIZE = 256


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


@dataclass
class KLResult:
    """KL of one evaluation, per probe and aggregated.

    Averaging: each probe's KL is the mean per-token KL over its completion tokens; ``mean`` and
    ``by_dimension`` are the unweighted mean of those per-probe values (every probe weighs the same,
    whatever its length). ``direction`` is ``forward`` for KL(policy || reference), ``reverse`` otherwise.
    """

    per_probe: dict[str, float]
    dimensions: dict[str, str]
    reference: str = ""
    exact: bool = True
    direction: str = "forward"
    source: str = "reference"
    n_tokens: int = 0
    by_dimension: dict[str, float] = field(init=False)
    mean: float = field(init=False)

    def __post_init__(self) -> None:
        groups: dict[str, list[float]] = defaultdict(list)
        for probe_id, kl in self.per_probe.items():
            groups[self.dimensions[probe_id]].append(kl)
        self.by_dimension = {d: _mean(groups[d]) for d in sorted(groups, key=_dimension_order)}
        self.mean = _mean(list(self.per_probe.values()))

    def top_probes(self, n: int = 5) -> list[tuple[str, str, float]]:
        """The ``n`` probes that drifted most: ``(probe_id, dimension, kl)``, largest KL first."""
        ranked = sorted(self.per_probe.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(pid, self.dimensions[pid], kl) for pid, kl in ranked[:n]]

    def to_dict(self, top_n: int = 5) -> dict[str, Any]:
        """The report's ``"kl"`` section: mean, by_dimension, top_probes (+ how it was measured)."""
        return {
            "mean": self.mean,
            "by_dimension": dict(self.by_dimension),
            "top_probes": [{"id": pid, "dimension": dim, "kl": kl} for pid, dim, kl in self.top_probes(top_n)],
            "reference": self.reference,
            "exact": self.exact,
            "direction": self.direction,
            "source": self.source,
            "n_probes": len(self.per_probe),
            "n_tokens": self.n_tokens,
        }

    def metrics(self) -> dict[str, float]:
        """``driftguard/kl/mean`` and ``driftguard/kl/<dimension>`` for the dimensions measured."""
        out = {"driftguard/kl/mean": self.mean}
        out.update({f"driftguard/kl/{d}": v for d, v in self.by_dimension.items() if d in DIMENSIONS})
        return {name: value for name, value in out.items() if not math.isnan(value)}  # empty KL set: nothing to log


def _dimension_order(dimension: str) -> tuple[int, str]:
    return (DIMENSIONS.index(dimension) if dimension in DIMENSIONS else len(DIMENSIONS), dimension)


def measure_kl(policy_model: Any, reference: ReferenceProvider, kl_set: KLSet, *, batch_size: int,
               reverse: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
               padding_side: Literal["left", "right"] = "left") -> KLResult:
    """Teacher-force ``kl_set`` through ``policy_model`` and ``reference``; per-token KL over the full vocabulary.

    Runs under ``torch.no_grad()`` with the policy in eval mode (each module's training flag restored).
    Peak extra memory per batch: the two models' logits at completion positions only (model dtype)
    plus ``chunk_size x vocab`` fp32 temporaries. ``reverse=True`` measures KL(reference || policy).
    """
    if kl_set.source == "policy" and not reference.exact:
        raise ConfigError(f"on-policy KL (kl_on_policy=True) needs a reference that produces logits "
                          f"(reference='adapter' or 'model'); the {reference.name!r} reference only holds top-k "
                          "log-probs of the baseline KL set; turn kl_on_policy off or use an exact reference")
    device = model_device(policy_model)
    per_probe: dict[str, float] = {}
    with inference_scope(policy_model):
        for batch in kl_set.batches(batch_size, padding_side=padding_side):
            batch = batch.to(device)
            policy_logits = forward_logits(policy_model, batch)
            per_token = reference.token_kl(policy_logits, batch, reverse=reverse, chunk_size=chunk_size)
            del policy_logits
            per_sequence = sequence_kl(per_token, batch.completion_mask).tolist()
            per_probe.update(zip(batch.probe_ids, per_sequence, strict=True))
    return KLResult(per_probe, {item.probe_id: item.dimension for item in kl_set.items}, reference=reference.name,
                    exact=reference.exact, direction="reverse" if reverse else "forward", source=kl_set.source,
                    n_tokens=kl_set.n_tokens)
