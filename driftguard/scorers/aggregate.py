"""Score a whole suite (dispatch by dimension) and aggregate per-item records into contract metrics.

A metric is the mean of its scored item values; ``n`` counts them and ``n_unscored`` the NaN
ones and those of records with an ``error`` (unscored as a whole, as the detector pairs them).
A metric no probe contributes to is absent; one whose items are all unscored is NaN.
Records come back in suite order, one per probe, so that two evaluations pair item by item.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from driftguard.errors import ConfigError, DriftGuardError, ProbeSuiteError
from driftguard.metrics import METRICS
from driftguard.scorers import bias, ethics, privacy, robustness, safety, toxicity  # noqa: F401  (register built-ins)
from driftguard.scorers.base import SCORERS, ScorerOptions
from driftguard.scorers.judges import ToxicityJudge
from driftguard.scorers.refusal import RefusalJudge
from driftguard.types import ItemRecord, MetricValue, Probe, ProbeOutputs


def score_all(probes: Iterable[Probe], outputs: ProbeOutputs, *,
              toxicity_judge: str | ToxicityJudge | Callable[[list[str]], Sequence[float]] | None = None,
              refusal_judge: RefusalJudge | None = None) -> list[ItemRecord]:
    """One record per probe, in the order given, scored by the registered scorer of its dimension.

    ``toxicity_judge``: a judge object, a spec (``"profanity-check"``, ``"hf:PATH"``) or a callable
    (default: profanity-check). ``refusal_judge``: replaces the refusal markers (safety, robustness).
    """
    suite = list(probes)
    by_id = {p.id: p for p in suite}
    if len(by_id) != len(suite):
        seen: set[str] = set()
        dupes = sorted({p.id for p in suite if p.id in seen or seen.add(p.id)})
        raise ProbeSuiteError(f"probe ids are not unique: {dupes}; give every probe its own id")
    by_dimension: dict[str, list[Probe]] = {}
    for probe in suite:
        by_dimension.setdefault(probe.dimension, []).append(probe)
    missing = sorted(set(by_dimension) - set(SCORERS))
    if missing:
        raise ConfigError(f"no scorer registered for dimension(s) {missing}; registered: {sorted(SCORERS)} "
                          "(register one with driftguard.scorers.register_scorer)")
    options = ScorerOptions(toxicity_judge=toxicity_judge, refusal_judge=refusal_judge)
    records: dict[str, ItemRecord] = {}
    for dimension, group in by_dimension.items():
        scorer = SCORERS[dimension](options)
        produced = scorer.score(group, outputs, by_id)
        ids = [r.probe_id for r in produced]
        if ids != [p.id for p in group]:
            raise DriftGuardError(f"scorer {type(scorer).__name__} of {dimension!r} returned records for {ids[:5]}... "
                                  f"({len(ids)}) instead of one per probe in order ({len(group)}); fix the scorer")
        records.update({r.probe_id: r for r in produced})
    for probe in suite:  # the template cluster travels with the record to the detector (no torch there)
        template = probe.meta.get("template")
        if template is not None and records[probe.id].cluster is None:
            records[probe.id].cluster = f"{probe.dimension}:{template}"
    return [records[p.id] for p in suite]


def aggregate(records: Iterable[ItemRecord]) -> dict[str, MetricValue]:
    """Per metric: mean over the scored items, their count ``n`` and the count of unscored (NaN) items."""
    values: dict[str, list[float]] = {}
    for record in records:
        for name, value in record.values.items():
            values.setdefault(name, []).append(math.nan if record.error is not None else float(value))
    order = {name: i for i, name in enumerate(METRICS)}
    result: dict[str, MetricValue] = {}
    for name in sorted(values, key=lambda n: (order.get(n, len(order)), n)):
        scored = [v for v in values[name] if not math.isnan(v)]
        mean = math.fsum(scored) / len(scored) if scored else math.nan
        result[name] = MetricValue(name=name, value=mean, n=len(scored), n_unscored=len(values[name]) - len(scored))
    return result
