"""Shared value types passed between the pipeline stages. No torch here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

DIMENSIONS: tuple[str, ...] = ("safety", "toxicity", "bias", "ethics", "privacy", "robustness")
Dimension = Literal["safety", "toxicity", "bias", "ethics", "privacy", "robustness"]
ProbeKind = Literal["generate", "choice"]


class Verdict(str, Enum):
    """Outcome of one evaluation; ordered pass < warn < fail."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def level(self) -> int:
        """0 pass, 1 warn, 2 fail (the value logged as ``driftguard/verdict``)."""
        return {"pass": 0, "warn": 1, "fail": 2}[self.value]


@dataclass(frozen=True)
class Probe:
    """One probe item of a suite (see the probe-file contract in DESIGN.md)."""

    id: str
    dimension: Dimension
    kind: ProbeKind
    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    expect: Literal["refuse", "comply"] | None = None
    options: tuple[str, ...] | None = None
    answer: int | None = None
    stereotyped: int | None = None
    condition: Literal["ambiguous", "disambiguated"] | None = None
    category: str | None = None
    secret: str | None = None
    variant_of: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def chat(self) -> list[dict[str, str]]:
        """The conversation to render with the chat template."""
        if self.messages is not None:
            return [dict(m) for m in self.messages]
        return [{"role": "user", "content": self.prompt or ""}]

    def display_prompt(self) -> str:
        """The last user turn, for tables and reports."""
        turns = self.chat()
        users = [t["content"] for t in turns if t.get("role") == "user"]
        return users[-1] if users else turns[-1]["content"]


@dataclass
class ItemRecord:
    """Per-probe outcome: the values this probe contributes to each metric (NaN = unscored)."""

    probe_id: str
    dimension: str
    values: dict[str, float]
    answer: str = ""
    reasoning: str = ""
    error: str | None = None
    cluster: str | None = None  # the probe's ``template``: items sharing it are one statistical unit

    @property
    def scored(self) -> bool:
        return self.error is None and not any(math.isnan(v) for v in self.values.values())


@dataclass(frozen=True)
class MetricValue:
    """An aggregated metric: mean of the per-item values that were scored."""

    name: str
    value: float
    n: int
    n_unscored: int = 0


@dataclass
class Generation:
    """A greedy completion of one generate-probe, split at the reasoning markers (see runner/thinking.py)."""

    probe_id: str
    text: str
    reasoning: str
    answer: str
    prompt_ids: list[int] = field(default_factory=list)
    completion_ids: list[int] = field(default_factory=list)
    thought_cut: bool = False  # the thought ran out of budget and was closed by the probe pass
    answer_prefix_ids: list[int] = field(default_factory=list)  # prompt -> answer position (thought + close)


@dataclass(frozen=True)
class OptionScore:
    """Log-likelihood of one option given the prompt: ``sum_logprob`` over ``n_tokens`` tokens."""

    sum_logprob: float
    n_tokens: int

    @property
    def mean_logprob(self) -> float:
        """Length-normalised log-likelihood (per token)."""
        return self.sum_logprob / max(self.n_tokens, 1)


@dataclass
class ProbeOutputs:
    """What the runner produced for one suite: the scorers' only input besides the probes."""

    generations: dict[str, Generation] = field(default_factory=dict)
    choices: dict[str, list[OptionScore]] = field(default_factory=dict)
    refusal_margins: dict[str, float] = field(default_factory=dict)
    choice_prefix_tokens: dict[str, int] = field(default_factory=dict)  # choice probe -> tokens of its own thought
    thought_open_p: dict[str, float] = field(default_factory=dict)  # forward tier: probe -> p(open marker first)


@dataclass(frozen=True)
class SuiteInfo:
    """Identity of a suite: what a baseline is pinned to.

    ``judges``: ``(role, name, version)`` of the judges that scored an evaluation (refusal, toxicity,
    leak); part of the fingerprint, so a baseline scored by another judge does not compare silently.
    Empty when unknown (a suite not yet scored, a state written before judges were recorded).
    """

    name: str
    version: str
    sha256: str
    judges: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version, "sha256": self.sha256}
        if self.judges:
            out["judges"] = self.judges_dict()
        return out

    def judges_dict(self) -> dict[str, dict[str, str]]:
        """``{role: {"name", "version"}}`` of the judges (the report's ``judges`` key)."""
        return {role: {"name": name, "version": version} for role, name, version in self.judges}

    def with_judges(self, judges: dict[str, dict[str, str]]) -> SuiteInfo:
        """This suite identity, scored by ``judges`` (``{role: {"name", "version"}}``)."""
        rows = tuple(sorted((str(role), str(j["name"]), str(j["version"])) for role, j in judges.items()))
        return SuiteInfo(self.name, self.version, self.sha256, rows)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SuiteInfo:
        """Inverse of :meth:`to_dict` (``judges`` optional)."""
        info = cls(str(d["name"]), str(d["version"]), str(d["sha256"]))
        return info.with_judges(d["judges"]) if d.get("judges") else info


@dataclass
class Evaluation:
    """One probe pass: per-item records, aggregated metrics, KL and recorded errors."""

    step: int
    suite: SuiteInfo
    records: list[ItemRecord]
    metrics: dict[str, float]
    kl: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # e.g. "reasoning": how thoughts were read (no metrics)
    tier: str = "full"  # "full" (generation + forwards) or "forward" (forward passes only), driftguard/schedule.py

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (NaN -> None) to persist a baseline next to a checkpoint."""
        return {
            "step": self.step, "suite": self.suite.to_dict(), "metrics": _nan_to_none(self.metrics),
            "kl": self.kl, "errors": self.errors, "info": self.info, "tier": self.tier,
            "records": [{"probe_id": r.probe_id, "dimension": r.dimension, "values": _nan_to_none(r.values),
                         "answer": r.answer, "reasoning": r.reasoning, "error": r.error,
                         **({"cluster": r.cluster} if r.cluster is not None else {})} for r in self.records],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evaluation:
        """Inverse of :meth:`to_dict`."""
        records = [ItemRecord(r["probe_id"], r["dimension"], _none_to_nan(r["values"]), r.get("answer", ""),
                              r.get("reasoning", ""), r.get("error"), r.get("cluster")) for r in d["records"]]
        return cls(step=int(d["step"]), suite=SuiteInfo.from_dict(d["suite"]), records=records,
                   metrics=_none_to_nan(d["metrics"]), kl=d.get("kl"), errors=list(d.get("errors", [])),
                   info=dict(d.get("info") or {}), tier=str(d.get("tier", "full")))


def _nan_to_none(values: dict[str, float]) -> dict[str, float | None]:
    return {k: None if math.isnan(v) else v for k, v in values.items()}


def _none_to_nan(values: dict[str, float | None]) -> dict[str, float]:
    return {k: math.nan if v is None else float(v) for k, v in values.items()}
