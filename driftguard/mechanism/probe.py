"""MechanismProbe: fit the refusal direction on the baseline model, read it on every later model.

Glue between the activations (torch, ranks) and the direction (numpy). The fingerprint ties a
stored direction to the suite (sha256, the prompt ids, the split seed) and to the model's shape,
so a resumed run never reads a direction fitted on another suite or model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from driftguard.distributed import Ranks
from driftguard.mechanism.ablation import ablation_margins
from driftguard.mechanism.activations import last_token_states
from driftguard.mechanism.direction import ABLATION_DROP, ABLATION_DROP_REFIT, MIN_PER_CLASS, RefusalDirection
from driftguard.probes.suite import ProbeSuite
from driftguard.types import ItemRecord, Probe

logger = logging.getLogger("driftguard")
ABLATION_PROMPTS = 8  # harmful prompts of the necessity check (3 margin readings of 8 openings each)
ABLATION_SUFFIX = "#ablation"
MODEL_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size", "num_attention_heads")


def refusal_prompts(suite: ProbeSuite) -> tuple[list[Probe], list[Probe]]:
    """(harmful, benign) safety probes of ``suite``: ``expect`` ``refuse`` and ``comply``."""
    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse"]
    benign = [p for p in suite if p.dimension == "safety" and p.expect == "comply"]
    return harmful, benign


def model_fingerprint(model: Any) -> dict[str, Any]:
    """The shape-defining fields of ``model.config`` (through PEFT/FSDP wrappers)."""
    inner = model
    while not hasattr(inner, "config") and hasattr(inner, "module"):
        inner = inner.module
    config = getattr(inner, "config", None)
    get = config.to_dict() if hasattr(config, "to_dict") else {}
    text = get.get("text_config") or {}
    return {k: get.get(k, text.get(k)) for k in MODEL_KEYS}


class MechanismProbe:
    """The refusal-direction monitor of one suite: :meth:`fit` at the baseline, :meth:`read` afterwards."""

    def __init__(self, suite: ProbeSuite, *, seed: int = 0, ranks: Ranks | None = None) -> None:
        self.suite = suite
        self.seed = seed
        self.ranks = ranks or Ranks()
        self.harmful, self.benign = refusal_prompts(suite)
        self.direction: RefusalDirection | None = None

    @classmethod
    def for_suite(cls, suite: ProbeSuite, *, seed: int = 0, ranks: Ranks | None = None) -> MechanismProbe | None:
        """A probe, or None (logged) when the suite has too few harmful/benign safety prompts to fit one."""
        probe = cls(suite, seed=seed, ranks=ranks)
        if len(probe.harmful) < MIN_PER_CLASS or len(probe.benign) < MIN_PER_CLASS:
            logger.info("driftguard: mechanism metrics off: the suite has %d harmful and %d benign safety prompts "
                        "(need >= %d of each)", len(probe.harmful), len(probe.benign), MIN_PER_CLASS)
            return None
        return probe

    def fingerprint(self, model: Any) -> dict[str, Any]:
        return {"suite_sha256": self.suite.info.sha256, "seed": self.seed, "model": model_fingerprint(model),
                "harmful": sorted(p.id for p in self.harmful), "benign": sorted(p.id for p in self.benign)}

    def ablation(self, model: Any, tokenizer: Any, batch_size: int, generations: Mapping[str, Any] | None,
                 ) -> tuple[list[ItemRecord], dict[str, float]]:
        """The necessity check (``ablation.py``) on the first ``ABLATION_PROMPTS`` harmful prompts: the margin drop
        when the frozen and when the re-fitted direction is projected out. Every rank runs all of them."""
        direction = self.direction
        probes = sorted(self.harmful, key=lambda p: p.id)[:ABLATION_PROMPTS]
        margins = ablation_margins(model, tokenizer, probes, generations,
                                   {"frozen": direction.direction, "refit": direction.refit}, batch_size=batch_size)
        records = []
        for pid, m in margins.items():
            values = {ABLATION_DROP: m["none"] - m["frozen"]}
            if "refit" in m:
                values[ABLATION_DROP_REFIT] = m["none"] - m["refit"]
            records.append(ItemRecord(pid + ABLATION_SUFFIX, "safety", values))
        metrics = {name: float(np.mean([r.values[name] for r in records]))
                   for name in (ABLATION_DROP, ABLATION_DROP_REFIT) if all(name in r.values for r in records)}
        return records, metrics

    def activations(self, model: Any, tokenizer: Any, batch_size: int) -> dict[str, Any]:
        return last_token_states(model, tokenizer, [*self.harmful, *self.benign], batch_size=batch_size,
                                 ranks=self.ranks)

    def fit(self, model: Any, tokenizer: Any, batch_size: int, generations: Mapping[str, Any] | None = None,
            ) -> tuple[list[ItemRecord], dict[str, float]]:
        """Fit the direction on ``model`` (the baseline) and return its own reading (one forward pass + ablation)."""
        acts = self.activations(model, tokenizer, batch_size)
        self.direction = RefusalDirection.fit(acts, [p.id for p in self.harmful], [p.id for p in self.benign],
                                              seed=self.seed, fingerprint=self.fingerprint(model))
        return self._with_ablation(self.direction.read(acts), model, tokenizer, batch_size, generations)

    def read(self, model: Any, tokenizer: Any, batch_size: int, generations: Mapping[str, Any] | None = None,
             ) -> tuple[list[ItemRecord], dict[str, float]]:
        """Records and metrics of ``model`` on the baseline direction and on the one re-fitted now."""
        if self.direction is None:
            raise RuntimeError("MechanismProbe.read() before fit() or load_state_dict()")
        reading = self.direction.read(self.activations(model, tokenizer, batch_size))
        return self._with_ablation(reading, model, tokenizer, batch_size, generations)

    def _with_ablation(self, reading: tuple[list[ItemRecord], dict[str, float]], model: Any, tokenizer: Any,
                       batch_size: int, generations: Mapping[str, Any] | None) -> tuple[list[ItemRecord], dict[str, float]]:
        records, metrics = reading
        ablated, drops = self.ablation(model, tokenizer, batch_size, generations)
        return records + ablated, {**metrics, **drops}

    def state_dict(self) -> dict[str, Any] | None:
        return self.direction.to_dict() if self.direction is not None else None

    def load_state_dict(self, state: Mapping[str, Any] | None, model: Any) -> None:
        """Restore a stored direction; another suite or model shape raises BaselineMismatchError."""
        self.direction = (RefusalDirection.from_dict(state, expected_fingerprint=self.fingerprint(model))
                          if state is not None else None)
