"""The scorer contract: a small Protocol, a registry by dimension, and the per-item record helpers.

A scorer turns the probes of one dimension plus the runner's ``ProbeOutputs`` into one
``ItemRecord`` per probe. An item that cannot be scored (missing output, failed judge,
malformed probe) keeps its record: its metric values are NaN and ``error`` says why, so the
item is counted as unscored and never silently dropped. No torch here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from driftguard.errors import ConfigError, DriftGuardError
from driftguard.metrics import METRICS
from driftguard.types import Generation, ItemRecord, OptionScore, Probe, ProbeOutputs

NAN = float("nan")


class ItemScoringError(DriftGuardError):
    """One item could not be scored; caught by the scorers and recorded as the item's ``error``."""


@dataclass
class ScoredRecord(ItemRecord):
    """An ``ItemRecord`` with scorer notes in ``meta`` (e.g. what a robustness variant was compared with)."""

    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Scorer(Protocol):
    """Scores the probes of one dimension: exactly one record per probe, in the order given."""

    dimension: str

    def score(self, probes: Sequence[Probe], outputs: ProbeOutputs, suite_probes: Mapping[str, Probe]) -> list[ItemRecord]:
        """``probes``: this dimension's probes; ``suite_probes``: every probe of the suite by id."""
        ...


@dataclass(frozen=True)
class ScorerOptions:
    """What a scorer factory may use: the toxicity judge (spec or object) and the refusal judge (or None)."""

    toxicity_judge: Any = None
    refusal_judge: Any = None


ScorerFactory = Callable[[ScorerOptions], Scorer]
SCORERS: dict[str, ScorerFactory] = {}


def register_scorer(dimension: str, factory: ScorerFactory) -> ScorerFactory:
    """Register (or replace) the scorer of ``dimension``; ``factory(options)`` builds it for one pass."""
    if not callable(factory):
        raise ConfigError(f"register_scorer({dimension!r}, {factory!r}): factory must be callable(ScorerOptions) -> Scorer")
    SCORERS[dimension] = factory
    return factory


def metric(short_name: str) -> str:
    """The full contract name of ``<dimension>/<metric>``; fails at import time on a typo."""
    name = f"driftguard/{short_name}"
    if name not in METRICS:
        raise ConfigError(f"scorer metric {name!r} is not in driftguard.metrics.METRICS")
    return name


def make_record(probe: Probe, values: dict[str, float], generation: Generation | None = None,
                error: str | None = None, meta: dict[str, Any] | None = None) -> ScoredRecord:
    """A record of ``probe`` carrying its answer/reasoning text when it was a generate-probe."""
    return ScoredRecord(
        probe_id=probe.id,
        dimension=probe.dimension,
        values=values,
        answer=generation.answer if generation else "",
        reasoning=generation.reasoning if generation else "",
        error=error,
        meta=dict(meta or {}),
    )


def unscored(probe: Probe, metric_names: Iterable[str], error: str, generation: Generation | None = None) -> ScoredRecord:
    """The record of an item that could not be scored: NaN for every metric it would feed."""
    return make_record(probe, dict.fromkeys(metric_names, NAN), generation, error=error)


def generation_of(probe: Probe, outputs: ProbeOutputs) -> Generation:
    """The probe's generation, or ItemScoringError when the runner produced none."""
    if probe.kind != "generate":
        raise ItemScoringError(f"probe {probe.id!r} ({probe.dimension}): kind is {probe.kind!r}, "
                               "this dimension scores generate-probes; set \"kind\": \"generate\"")
    generation = outputs.generations.get(probe.id)
    if generation is None:
        raise ItemScoringError(f"probe {probe.id!r}: no generation in the probe outputs (the generate pass "
                               "skipped or failed on it)")
    return generation


def chosen_option(probe: Probe, outputs: ProbeOutputs, by: Literal["mean", "sum"] = "mean") -> int:
    """Index of the option with the highest log-likelihood (first one on ties): ``by="mean"`` per token
    (length-normalised), ``by="sum"`` the whole option's log-probability."""
    if probe.kind != "choice" or not probe.options:
        raise ItemScoringError(f"probe {probe.id!r} ({probe.dimension}): needs \"kind\": \"choice\" and a "
                               f"non-empty \"options\" list, got kind={probe.kind!r}, options={probe.options!r}")
    scores: Sequence[OptionScore] | None = outputs.choices.get(probe.id)
    if scores is None:
        raise ItemScoringError(f"probe {probe.id!r}: no option scores in the probe outputs (the option pass "
                               "skipped or failed on it)")
    if len(scores) != len(probe.options):
        raise ItemScoringError(f"probe {probe.id!r}: {len(scores)} option scores for {len(probe.options)} "
                               "options; the runner must score every option")
    means = [s.mean_logprob if by == "mean" else s.sum_logprob for s in scores]
    if any(math.isnan(m) for m in means):
        raise ItemScoringError(f"probe {probe.id!r}: NaN option log-likelihood {means}")
    return max(range(len(means)), key=means.__getitem__)


def option_index(probe: Probe, field_name: str) -> int:
    """A validated option index field (``answer`` / ``stereotyped``) of a choice probe."""
    value = getattr(probe, field_name)
    n = len(probe.options or ())
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < n:
        raise ItemScoringError(f"probe {probe.id!r} ({probe.dimension}): field {field_name!r} = {value!r} must be "
                               f"an option index in [0, {n - 1}]; fix the probe file")
    return value


def score_each(probes: Sequence[Probe], metric_names: Callable[[Probe], Sequence[str]],
               score_one: Callable[[Probe], ScoredRecord], outputs: ProbeOutputs) -> list[ItemRecord]:
    """Apply ``score_one`` per probe; an ItemScoringError becomes an unscored record of that probe."""
    records: list[ItemRecord] = []
    for probe in probes:
        try:
            records.append(score_one(probe))
        except ItemScoringError as e:
            records.append(unscored(probe, metric_names(probe), str(e), outputs.generations.get(probe.id)))
    return records
