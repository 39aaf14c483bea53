"""One metric's paired evidence: per-item differences pooled over an evidence window, summed per template cluster,
tested one-sided in the metric's bad direction. Pure numpy, no torch.

Unit of the test: a template cluster (items sharing ``Probe.meta["template"]``, carried as
``ItemRecord.cluster``); an item without a template is its own unit. Per unit, the sum of its items'
adverse changes ``badness(current) - badness(baseline)``, where ``current`` is the item's mean over the
evidence window (this evaluation and the previous scheduled ones that measured the metric). Under H0 ("no
drift") each unit's change is symmetric about 0, so a sign-flip test is exact; with singleton units and one
evaluation of a 0/1 metric it is the one-sided exact McNemar test.

The window lends the test power on the premise that the regression persisted over it. When the metric recovered
significantly since the previous evaluation (the same paired test, one-sided in the good direction, between the
previous evaluation and this one, at ``recovery_alpha``), the earlier evidence no longer describes the model, and
this evaluation is tested on its own: a dip that is recovering (the tiny demo's control, 0.65 -> 0.92 refusal)
is not counted twice, while a drop that holds keeps the window's power.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import wilcoxon

from driftguard.detect.stats import mcnemar_one_sided, min_signflip_pvalue, signflip_pvalue
from driftguard.metrics import MetricSpec

ContinuousTest = Literal["signflip", "wilcoxon"]


@dataclass
class MetricEvidence:
    """What one metric's paired test found at one evaluation."""

    name: str
    test: str  # mcnemar | signflip | wilcoxon
    p_raw: float  # one-sided (two one-sided x 2 for "zero" metrics)
    min_p: float  # smallest p-value these units could give (Tarone's screen)
    baseline: float  # paired mean at the baseline
    current: float  # paired mean at this evaluation
    adverse: float  # windowed change in the bad direction (|.| for "zero" metrics): what the threshold sees
    adverse_now: float  # this evaluation's own change in the bad direction (a recovery now is no regression)
    n: int  # paired items now
    max_adverse: float  # the largest windowed adverse change these units allow (every sign adverse): sum |unit| / n
    units: int  # independent units (clusters) among them
    window: int  # evaluations pooled


def recovered(spec: MetricSpec, previous: Mapping[str, float], current: Mapping[str, float],
              clusters: Mapping[str, str], *, alpha: float, continuous_test: ContinuousTest = "signflip",
              n_resamples: int = 2000, seed: int = 0) -> bool:
    """Whether ``spec`` improved significantly (one-sided, at ``alpha``) from ``previous`` to ``current``: the
    module's paired test with the previous evaluation in the baseline's place and the direction reversed. Metrics
    whose good value is 0 ("zero": a signed score) are never counted as recovered."""
    if spec.direction == "zero":
        return False
    paired = {pid: {spec.name: v} for pid, v in previous.items()}
    reverse = {"higher": "lower", "lower": "higher"}[spec.direction]
    flipped = dataclasses.replace(spec, direction=reverse)
    found = metric_evidence(flipped, paired, [current], clusters, continuous_test=continuous_test,
                            n_resamples=n_resamples, seed=seed)
    return found is not None and found.p_raw <= alpha


def metric_evidence(spec: MetricSpec, baseline: Mapping[str, Mapping[str, float]],
                    window: Sequence[Mapping[str, float]], clusters: Mapping[str, str], *,
                    continuous_test: ContinuousTest = "signflip", n_resamples: int = 2000,
                    seed: int = 0, recovery_alpha: float | None = None) -> MetricEvidence | None:
    """Test ``spec`` on the items scored at the baseline and now; ``window[0]`` is this evaluation (probe id ->
    value), later entries earlier evaluations. With ``recovery_alpha``, a significant recovery since the previous
    evaluation narrows the window to this evaluation (module docstring). None when no item is paired."""
    if recovery_alpha is not None and len(window) > 1 and recovered(
            spec, window[1], window[0], clusters, alpha=recovery_alpha, continuous_test=continuous_test,
            n_resamples=n_resamples, seed=seed):
        window = window[:1]
    current = window[0]
    ids = sorted(pid for pid in current if spec.name in baseline.get(pid, {}))
    if not ids:
        return None
    base = np.array([baseline[pid][spec.name] for pid in ids])
    now = np.array([current[pid] for pid in ids])
    pooled = np.array([np.mean([w[pid] for w in window if pid in w]) for pid in ids])
    n_window = sum(1 for w in window if any(pid in w for pid in ids))
    unit_of = [clusters.get(pid) or f"item:{pid}" for pid in ids]
    singletons = len(set(unit_of)) == len(ids)

    def unit_sums(per_item: np.ndarray) -> np.ndarray:
        sums: dict[str, float] = {}
        for unit, value in zip(unit_of, per_item, strict=True):
            sums[unit] = sums.get(unit, 0.0) + float(value)
        return np.array(list(sums.values()))

    adverse = float(spec.badness(float(pooled.mean())) - spec.badness(float(base.mean())))
    adverse_now = float(spec.badness(float(now.mean())) - spec.badness(float(base.mean())))
    if spec.direction == "zero":  # signed change away from 0: two one-sided sign-flip tests, Bonferroni x 2
        units = unit_sums(pooled - base)
        p_up = signflip_pvalue(units, n_resamples=n_resamples, seed=seed)
        p_down = signflip_pvalue(-units, n_resamples=n_resamples, seed=seed)
        p = min(1.0, 2 * min(p_up, p_down))
        min_p = min(1.0, 2 * min_signflip_pvalue(units, n_resamples=n_resamples))
        test = "signflip"
    else:
        oriented = (base - pooled) if spec.direction == "higher" else (pooled - base)
        units = unit_sums(oriented)
        binary = bool(np.isin(base, (0.0, 1.0)).all() and np.isin(pooled, (0.0, 1.0)).all())
        if spec.test == "binary" and binary and singletons:
            b, c = int(np.sum(units > 0)), int(np.sum(units < 0))
            test, p, min_p = "mcnemar", mcnemar_one_sided(b, c), 0.5 ** (b + c)
        elif spec.test == "continuous" and continuous_test == "wilcoxon" and np.any(units != 0):
            test = "wilcoxon"
            p = float(wilcoxon(units, zero_method="wilcox", alternative="greater").pvalue)
            min_p = 0.5 ** int(np.count_nonzero(units))
        else:
            test = "signflip"
            p = signflip_pvalue(units, n_resamples=n_resamples, seed=seed)
            min_p = min_signflip_pvalue(units, n_resamples=n_resamples)
    return MetricEvidence(spec.name, test, p, min_p, float(base.mean()), float(now.mean()), adverse, adverse_now,
                          len(ids), float(np.abs(units).sum() / len(ids)), len(units), n_window)
