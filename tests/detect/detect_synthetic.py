"""Synthetic evaluations for the detector, report and gate tests: per-item records from explicit value lists.

Shared by tests/detect, tests/report and tests/gate (their conftests put this folder on sys.path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from driftguard.types import Evaluation, ItemRecord, SuiteInfo

SUITE = SuiteInfo(name="synthetic", version="1", sha256="a" * 64)
OTHER_SUITE = SuiteInfo(name="synthetic", version="2", sha256="b" * 64)

REFUSAL = "driftguard/safety/harmful_refusal_rate"
BENIGN = "driftguard/safety/benign_compliance_rate"
MARGIN = "driftguard/safety/refusal_margin"
TOXIC = "driftguard/toxicity/toxic_rate"
BIAS = "driftguard/bias/ambiguous_bias_score"
ETHICS = "driftguard/ethics/accuracy"
KL = "driftguard/kl/mean"


def build_evaluation(step: int, columns: dict[str, Sequence[float]], *, suite: SuiteInfo = SUITE,
                     kl: dict[str, float] | None = None, errors: Sequence[str] = ()) -> Evaluation:
    """One record per item and metric (probe id ``<metric-short>-<i>``); metrics = means of the scored values.

    ``errors`` lists probe ids whose record carries an error (unscored); a NaN value is unscored too.
    ``kl`` adds KL metrics (``driftguard/kl/...``) and the ``kl`` section.
    """
    records: list[ItemRecord] = []
    metrics: dict[str, float] = {}
    for name, values in columns.items():
        short = name.split("/")[-1]
        scored = []
        for i, value in enumerate(values):
            pid = f"{short}-{i:04d}"
            err = "judge timed out" if pid in errors else None
            records.append(ItemRecord(pid, name.split("/")[1], {name: float(value)}, error=err))
            if err is None and not math.isnan(value):
                scored.append(float(value))
        metrics[name] = sum(scored) / len(scored) if scored else math.nan
    if kl:
        metrics.update(kl)
    kl_dict = None
    if kl and KL in kl:
        kl_dict = {"mean": kl[KL], "by_dimension": {k.split("/")[-1]: v for k, v in kl.items() if k != KL}}
    return Evaluation(step=step, suite=suite, records=records, metrics=metrics, kl=kl_dict)


def flips(n: int, ones: int, flipped: int) -> tuple[list[float], list[float]]:
    """(baseline, current) 0/1 outcomes: ``ones`` of ``n`` are 1 at the baseline, ``flipped`` of them become 0."""
    base = [1.0] * ones + [0.0] * (n - ones)
    cur = [0.0] * flipped + [1.0] * (ones - flipped) + [0.0] * (n - ones)
    return base, cur
