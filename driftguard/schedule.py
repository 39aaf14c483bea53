"""Which probe tier runs at an evaluation: one object, not branches in the callback. No torch.

Two tiers:

- ``forward``: forward passes only, cheap enough for every evaluation: the refusal-direction
  metrics (``driftguard/mechanism/*``), the refusal margin and the option scores of choice probes
  (bias, ethics), and KL on the cached KL set;
- ``full``: the forward tier plus the generation probes (refusal/compliance rates, toxicity, privacy,
  robustness, on-policy KL).

The baseline, every checkpoint save and the end of training are always ``full`` (so the report a
checkpoint carries is complete); periodic evaluations are ``full`` every ``generate_every``-th time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Tier = Literal["forward", "full"]
Reason = Literal["baseline", "periodic", "save", "end", "evaluate"]
FULL: Tier = "full"
FORWARD: Tier = "forward"

# Metrics the forward tier measures (prefixes); every other metric comes from the generation probes.
FORWARD_METRICS = ("driftguard/mechanism/", "driftguard/safety/refusal_margin", "driftguard/bias/",
                   "driftguard/ethics/", "driftguard/kl/")
GENERATION_ONLY = ("driftguard/kl/on_policy",)


def metric_tier(name: str) -> Tier:
    """The cheapest tier that measures ``name``: ``forward`` or ``full`` (generation needed)."""
    if name in GENERATION_ONLY:
        return FULL
    return FORWARD if name.startswith(FORWARD_METRICS) else FULL


def metric_tiers(metrics: dict[str, Any]) -> dict[str, str]:
    """metric -> ``"forward"`` or ``"generate"`` (the probes that produced it), for the report."""
    return {name: "forward" if metric_tier(name) == FORWARD else "generate" for name in metrics}


@dataclass
class ProbeSchedule:
    """Decides each evaluation's tier; ``periodic`` counts the periodic evaluations since the baseline."""

    generate_every: int = 1
    periodic: int = 0

    def __post_init__(self) -> None:
        if self.generate_every < 1:
            from driftguard.errors import ConfigError

            raise ConfigError(f"generate_every = {self.generate_every}: must be >= 1 (1: generate at every evaluation)")

    def tier(self, reason: Reason) -> Tier:
        """The tier of an evaluation triggered by ``reason`` (periodic ones advance the counter)."""
        if reason == "periodic":
            self.periodic += 1
            return FULL if self.periodic % self.generate_every == 0 else FORWARD
        if reason == "evaluate":  # the trainer's own evaluation: the cheap tier unless every one generates
            return FULL if self.generate_every == 1 else FORWARD
        return FULL

    @staticmethod
    def complete(last_tier: Tier | None) -> bool:
        """Whether an evaluation of ``last_tier`` can stand as a checkpoint's report (it generated)."""
        return last_tier == FULL

    def state_dict(self) -> dict[str, int]:
        return {"generate_every": self.generate_every, "periodic": self.periodic}

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if state:
            self.periodic = int(state.get("periodic", 0))
