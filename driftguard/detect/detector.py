"""DriftDetector: paired tests against the baseline, Holm correction, thresholds, KL budget, patience.

A metric regresses when its Holm-adjusted p-value is below ``alpha`` *and* its change in the bad
direction reaches the metric's threshold (minimal effect that counts). KL metrics have no paired
test: they regress when they exceed their budget. Regressions on ``patience`` consecutive
evaluations turn WARN into FAIL. Unscored items (record ``error`` or NaN value) are left out of the
pairing and counted per metric. No torch here: CI gates reuse this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from driftguard.config import DriftGuardConfig
from driftguard.detect.baseline import Baseline, paired_arrays, recorded_errors, scored_values, unscored_counts
from driftguard.detect.stats import holm, mcnemar_from_pairs, paired_bootstrap_pvalue, wilcoxon_pvalue
from driftguard.errors import ConfigError, DriftGuardError
from driftguard.metrics import METRICS, MetricSpec
from driftguard.types import Evaluation, SuiteInfo, Verdict

__all__ = ["Assessment", "DriftDetector", "Regression", "count_errors", "recorded_errors", "KL_MEAN", "MULTIPLE_TESTING"]

STATE_VERSION = 1
KL_MEAN = "driftguard/kl/mean"
MULTIPLE_TESTING = "holm"
_TOLERANCE = 1e-9  # float slack when comparing an effect with its threshold
ContinuousTest = Literal["bootstrap", "wilcoxon"]


@dataclass
class Regression:
    """One metric that regressed: significant (Holm) and beyond its threshold, or KL over its budget.

    ``baseline``/``current`` are the means over the ``n`` items scored in both (paired); for budget
    metrics they are the aggregated values. ``p_value`` is Holm-adjusted (the one compared with alpha).
    """

    metric: str
    baseline: float
    current: float
    delta: float  # current - baseline
    p_value: float | None  # Holm-adjusted; None for budget metrics (no test)
    threshold: float  # minimal effect, or the budget for KL metrics
    direction: str
    p_value_raw: float | None = None
    adverse_change: float = 0.0  # change in the bad direction (|.| for "zero" metrics); > 0 is worse
    test: str = ""  # mcnemar | bootstrap | wilcoxon | budget
    n: int = 0  # paired items tested

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Assessment:
    """The detector's judgement of one evaluation (JSON-ready through :meth:`to_dict`)."""

    step: int
    verdict: Verdict
    deltas: dict[str, float]  # aggregated metric now - at the baseline
    p_values: dict[str, float]  # Holm-adjusted
    regressions: list[Regression]
    consecutive: int
    kl_over_budget: bool
    errors: int  # recorded errors + unscored records of this evaluation
    multiple_testing: str = MULTIPLE_TESTING
    alpha: float = 0.05
    patience: int = 2
    p_values_raw: dict[str, float] = field(default_factory=dict)
    n_paired: dict[str, int] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    unscored: dict[str, dict[str, int]] = field(default_factory=dict)  # metric -> {"baseline": n, "current": n}
    untested: list[str] = field(default_factory=list)  # baseline metrics with no paired item now
    baseline_step: int = 0
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    baseline_errors: list[dict[str, Any]] = field(default_factory=list)
    informational: list[Regression] = field(default_factory=list)  # regressed, but never counted (config)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        d["regressions"] = [r.to_dict() for r in self.regressions]
        d["informational"] = [r.to_dict() for r in self.informational]
        return d


def count_errors(evaluation: Evaluation) -> int:
    """Recorded errors plus unscored items not already named by an error entry."""
    return len(recorded_errors(evaluation))


class DriftDetector:
    """Compares each evaluation with the baseline; keeps the patience counter and the last passing checkpoint.

    ``continuous_test`` picks the paired test of continuous metrics: ``"bootstrap"`` (default, on the
    mean) or ``"wilcoxon"``; metrics whose ideal is 0 always use the bootstrap on ``|mean|``.
    """

    def __init__(self, config: DriftGuardConfig | None = None, *, suite: SuiteInfo | None = None,
                 n_boot: int = 2000, seed: int | None = None, continuous_test: ContinuousTest = "bootstrap") -> None:
        if continuous_test not in ("bootstrap", "wilcoxon"):
            raise ConfigError(f"continuous_test = {continuous_test!r}: use 'bootstrap' or 'wilcoxon'")
        self.config = config or DriftGuardConfig()
        self.suite = suite
        self.n_boot = n_boot
        self.seed = self.config.seed if seed is None else seed
        self.continuous_test = continuous_test
        self.baseline: Baseline | None = None
        self.consecutive = 0
        self.regressed: set[str] = set()  # metrics of the current streak (held while not measured)
        self.last_passing_checkpoint: dict[str, Any] | None = None

    # -- baseline -------------------------------------------------------------------------------
    def set_baseline(self, evaluation: Evaluation) -> None:
        """Pin the baseline (usually step 0); resets the patience counter."""
        baseline = Baseline.from_evaluation(evaluation)
        if self.suite is not None:
            baseline.check_suite(self.suite, where="set_baseline")
        self.baseline = baseline
        self.consecutive = 0
        self.regressed = set()

    # -- assessment ------------------------------------------------------------------------------
    def assess(self, evaluation: Evaluation) -> Assessment:
        """Paired tests per metric, Holm over the tested metrics, thresholds, KL budget, patience."""
        if self.baseline is None:
            raise DriftGuardError("assess() called before set_baseline(): probe the model before training "
                                  "(step 0) and pass that evaluation to set_baseline, or load_state_dict on resume.")
        baseline = self.baseline
        baseline.check_suite(evaluation.suite, where=f"evaluation at step {evaluation.step}")
        current = scored_values(evaluation.records, where=f"evaluation at step {evaluation.step}")
        raw: dict[str, float] = {}
        effects: dict[str, tuple[float, float, int]] = {}
        tests: dict[str, str] = {}
        for spec in self._tested_metrics(evaluation):
            base, cur, _ids = paired_arrays(baseline.values, current, spec.name)
            if base.size == 0:
                continue
            tests[spec.name], raw[spec.name] = self._test(spec, base, cur)
            effects[spec.name] = (float(base.mean()), float(cur.mean()), int(base.size))
        informational = set(self.config.informational or ())
        adjusted = {**holm({m: p for m, p in raw.items() if m not in informational}),  # two families:
                    **holm({m: p for m, p in raw.items() if m in informational})}  # the counted, the informational
        regressions = [r for m in raw if (r := self._judge(METRICS[m], effects[m], raw[m], adjusted[m], tests[m]))]
        kl_regressions = self._kl_regressions(evaluation)
        regressions += kl_regressions
        noted = [r for r in regressions if r.metric in informational]
        regressions = [r for r in regressions if r.metric not in informational]
        kl_regressions = [r for r in kl_regressions if r.metric not in informational]
        errors = count_errors(evaluation)
        # Tiers: a metric regressed earlier and not measured now (a forward-only evaluation) holds the count.
        measured = set(effects) | {n for n in self._kl_budgets() if _kl_value(evaluation, n) is not None}
        unmeasured = self.regressed - measured
        verdict = self._update_patience(bool(regressions), errors or len(unmeasured))
        if regressions or not unmeasured:
            self.regressed = {r.metric for r in regressions} | (unmeasured if regressions else set())
        return Assessment(
            step=int(evaluation.step), verdict=verdict, deltas=self._deltas(evaluation, effects),
            p_values=adjusted, regressions=regressions, consecutive=self.consecutive,
            kl_over_budget=any(r.metric == KL_MEAN for r in kl_regressions), errors=errors,
            alpha=self.config.alpha, patience=self.config.patience, p_values_raw=raw,
            n_paired={m: n for m, (_b, _c, n) in effects.items()}, tests=tests,
            unscored=self._unscored(evaluation), untested=self._untested(effects),
            baseline_step=baseline.step, baseline_metrics=dict(baseline.metrics),
            baseline_errors=[dict(e) for e in baseline.errors], informational=noted,
        )

    def _update_patience(self, regressed: bool, errors: int) -> Verdict:
        """Regressed: count up (FAIL at ``patience``). Clean: reset. Errors without regression: hold the count."""
        if regressed:
            self.consecutive += 1
            return Verdict.FAIL if self.consecutive >= self.config.patience else Verdict.WARN
        if errors and self.consecutive:  # an unverified evaluation cannot clear an earlier regression
            return Verdict.WARN
        self.consecutive = 0
        return Verdict.PASS

    def _tested_metrics(self, evaluation: Evaluation) -> list[MetricSpec]:
        names = {k for record in evaluation.records for k in record.values}
        return [spec for name, spec in METRICS.items() if spec.test != "budget" and name in names]

    def _test(self, spec: MetricSpec, base: np.ndarray, cur: np.ndarray) -> tuple[str, float]:
        """Exact McNemar for 0/1 outcomes; otherwise bootstrap (|mean| for "zero" metrics) or Wilcoxon."""
        binary = np.isin(base, (0.0, 1.0)).all() and np.isin(cur, (0.0, 1.0)).all()
        if spec.test == "binary" and binary:
            return "mcnemar", mcnemar_from_pairs(base, cur)
        if self.continuous_test == "wilcoxon" and spec.direction != "zero":
            return "wilcoxon", wilcoxon_pvalue(base, cur)
        statistic = "abs_mean" if spec.direction == "zero" else "mean"
        return "bootstrap", paired_bootstrap_pvalue(base, cur, statistic, n_boot=self.n_boot, seed=self.seed)

    def _judge(self, spec: MetricSpec, effect: tuple[float, float, int], p: float, p_adj: float,
               test: str) -> Regression | None:
        base, cur, n = effect
        adverse = spec.badness(cur) - spec.badness(base)
        threshold = self.config.threshold(spec.name)
        if p_adj < self.config.alpha and adverse > 0 and adverse >= threshold - _TOLERANCE:
            return Regression(spec.name, base, cur, cur - base, p_adj, threshold, spec.direction, p, adverse, test, n)
        return None

    def _kl_budgets(self) -> dict[str, float]:
        """kl/mean -> kl_budget (a thresholds entry for it overrides); other KL metrics only when configured."""
        configured = self.config.thresholds if isinstance(self.config.thresholds, dict) else {}
        budgets = {name: value for name, value in configured.items() if METRICS[name].test == "budget" and value > 0}
        budgets.setdefault(KL_MEAN, self.config.kl_budget)
        for name, spec in METRICS.items():  # registered non-zero defaults (a floor of "higher" metrics)
            if spec.test == "budget" and spec.default_threshold > 0 and name not in configured:
                budgets.setdefault(name, spec.default_threshold)
        return budgets

    def _kl_regressions(self, evaluation: Evaluation) -> list[Regression]:
        out = []
        base_metrics = self.baseline.metrics if self.baseline else {}
        for name, budget in self._kl_budgets().items():
            value = _kl_value(evaluation, name)
            if value is None:
                continue
            base = base_metrics.get(name, 0.0)
            base = 0.0 if math.isnan(base) else base
            if METRICS[name].direction == "higher":  # a floor (mechanism/direction_cosine)
                if value < budget:
                    out.append(Regression(name, base, value, value - base, None, budget, "higher", None, base - value,
                                          "budget", 0))
                continue
            if value <= budget:
                continue
            out.append(Regression(name, base, value, value - base, None, budget, "lower", None, value - base, "budget", 0))
        return out

    def _deltas(self, evaluation: Evaluation, effects: Mapping[str, tuple[float, float, int]]) -> dict[str, float]:
        """Aggregated now - baseline for every metric both have (paired means where no aggregate exists)."""
        base = self.baseline.metrics if self.baseline else {}
        deltas = {m: float(v) - base[m] for m, v in evaluation.metrics.items()
                  if m in base and _finite(v) and _finite(base[m])}
        for m, (b, c, _n) in effects.items():
            deltas.setdefault(m, c - b)
        return deltas

    def _unscored(self, evaluation: Evaluation) -> dict[str, dict[str, int]]:
        base = self.baseline.unscored if self.baseline else {}
        now = unscored_counts(evaluation.records)
        return {m: {"baseline": base.get(m, 0), "current": now.get(m, 0)} for m in sorted(set(base) | set(now))}

    def _untested(self, effects: Mapping[str, Any]) -> list[str]:
        names = {k for vals in (self.baseline.values if self.baseline else {}).values() for k in vals}
        return sorted(m for m in names if m in METRICS and METRICS[m].test != "budget" and m not in effects)

    # -- checkpoints and resume -------------------------------------------------------------------
    def mark_checkpoint(self, path: str, result: Assessment | Mapping[str, Any]) -> dict[str, Any] | None:
        """Remember ``path`` as the last passing checkpoint when ``result`` (an Assessment or a report dict)
        passed with no errors; returns the last passing checkpoint ``{"path", "step"}`` (or None)."""
        if isinstance(result, Assessment):
            verdict, errors, step = result.verdict.value, result.errors, result.step
        else:
            verdict, step = result.get("verdict"), result.get("step")
            errors = len(result.get("errors") or [])
        if verdict == Verdict.PASS.value and errors == 0:
            self.last_passing_checkpoint = {"path": str(path), "step": step}
        return self.last_passing_checkpoint

    def state_dict(self) -> dict[str, Any]:
        """JSON-safe state for resume: baseline values/metrics/suite, patience counter, last passing checkpoint."""
        return {
            "version": STATE_VERSION,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "consecutive": self.consecutive,
            "last_passing_checkpoint": self.last_passing_checkpoint,
            "regressed": sorted(self.regressed),
        }

    def load_state_dict(self, state: dict[str, Any], *, suite: SuiteInfo | None = None) -> None:
        """Restore :meth:`state_dict`; raises BaselineMismatchError if ``suite`` (or the detector's) differs."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            found = state.get("version") if isinstance(state, dict) else type(state).__name__
            raise DriftGuardError(f"detector state: version is {found!r}, expected {STATE_VERSION}. "
                                  "Fix: pass a dict produced by DriftDetector.state_dict() of this driftguard version.")
        baseline = Baseline.from_dict(state["baseline"], where="detector state") if state.get("baseline") else None
        expected = suite or self.suite
        if baseline is not None and expected is not None:
            baseline.check_suite(expected, where="load_state_dict")
        consecutive = state.get("consecutive", 0)
        if type(consecutive) is not int or consecutive < 0:
            raise DriftGuardError(f"detector state: field 'consecutive' = {consecutive!r}, expected an int >= 0")
        last = state.get("last_passing_checkpoint")
        if last is not None and not (isinstance(last, dict) and "path" in last):
            raise DriftGuardError(f"detector state: field 'last_passing_checkpoint' = {last!r}, expected null or "
                                  "{'path': ..., 'step': ...}")
        self.baseline = baseline
        self.consecutive = consecutive
        self.regressed = {str(m) for m in state.get("regressed", [])}
        self.last_passing_checkpoint = dict(last) if last else None


def _kl_value(evaluation: Evaluation, name: str) -> float | None:
    """A KL metric of ``evaluation``: its metrics entry, else (kl/mean) the kl section's mean; None if absent/NaN."""
    value = evaluation.metrics.get(name)
    if value is None and name == KL_MEAN and evaluation.kl:
        value = evaluation.kl.get("mean")
    return float(value) if _finite(value) else None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
