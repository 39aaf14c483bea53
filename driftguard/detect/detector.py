"""DriftDetector: one-sided paired tests against the baseline, Tarone-Holm, thresholds, KL budget, patience.

A metric regresses (is *flagged*) when its Tarone-Holm-adjusted one-sided p-value is at most ``alpha``
*and* its change in the bad direction reaches the metric's threshold. Each test pools the metric's
per-item outcomes over ``evidence_window`` scheduled evaluations and treats items sharing a template as
one unit (:mod:`driftguard.detect.evidence`). KL metrics have no test: over budget (or non-finite) is a
regression. Errors (a failed stage, unscored items) make an evaluation at least WARN.

Patience is per metric and counts *scheduled* evaluations (the ``eval_steps`` cadence) at which that
metric was measured: a flag adds one, a clean measurement resets it, an evaluation without the metric (a
forward-only tier) or an irregular one (at a save, ``on_evaluate``, the end of training) leaves it alone.
FAIL needs a metric flagged at ``patience`` consecutive scheduled evaluations *and* significant at the
evaluation's spent level: each of the M counted metrics owns ``alpha / M`` of the run, spent as
``alpha * 6 / (pi^2 k^2) / M`` at the k-th evaluation (scheduled or not) that tests *that metric* (one whose
changes could reach its threshold, not the baseline's own assessment), and an
evaluation tests its family at the sum of its metrics' terms. The terms sum to ``alpha``, so the probability
of any false FAIL in a whole run of any length and any mix of tiers is at most ``alpha``; a metric whose units
can no longer reach that level is reported as FAIL-blind (``fail_blind_metrics``).
Informational metrics are tested and reported (``informational=True``), never counted. No torch here.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.detect.baseline import Baseline, recorded_errors, scored_values, unscored_counts
from driftguard.detect.evidence import ContinuousTest, MetricEvidence, metric_evidence
from driftguard.detect.patience import PatienceState, spent_alpha
from driftguard.detect.stats import tarone_holm
from driftguard.errors import ConfigError, DriftGuardError
from driftguard.metrics import METRICS
from driftguard.types import Evaluation, SuiteInfo, Verdict

__all__ = ["Assessment", "DriftDetector", "Regression", "count_errors", "recorded_errors", "KL_MEAN", "MULTIPLE_TESTING"]

logger = logging.getLogger("driftguard")
STATE_VERSION = 1
KL_MEAN = "driftguard/kl/mean"
MULTIPLE_TESTING = "tarone-holm"
_TOLERANCE = 1e-9  # float slack when comparing an effect with its threshold


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
    test: str = ""  # mcnemar | signflip | wilcoxon | budget
    n: int = 0  # paired items tested
    informational: bool = False  # reported only: never counts toward warn/fail or patience
    window: int = 1  # scheduled evaluations pooled by the test
    units: int = 0  # independent units (template clusters) among the n items

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
    scheduled: bool = True  # False: an irregular evaluation (save, on_evaluate, end): patience untouched
    streaks: dict[str, int] = field(default_factory=dict)  # metric -> consecutive flagged scheduled evaluations
    fail_alpha: float = 0.0  # the spent level a FAIL had to meet at this evaluation (sum of the tested metrics' terms)
    fail_k: dict[str, int] = field(default_factory=dict)  # metric -> its k in the spending sequence at this evaluation
    fail_blind_metrics: list[str] = field(default_factory=list)  # tested, but no outcome of its units could reach FAIL
    informational: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        d["regressions"] = [r.to_dict() for r in self.regressions]
        return d


def count_errors(evaluation: Evaluation) -> int:
    """Recorded errors plus unscored items not already named by an error entry."""
    return len(recorded_errors(evaluation))


class DriftDetector:
    """Compares each evaluation with the baseline; keeps per-metric patience, the evidence window and the last
    passing checkpoint.

    ``continuous_test``: ``"signflip"`` (default, exact or ``n_boot`` random sign patterns) or ``"wilcoxon"``
    (signed ranks of the unit changes) for continuous metrics; "zero" metrics always use the sign-flip test.
    """

    def __init__(self, config: DriftGuardConfig | None = None, *, suite: SuiteInfo | None = None,
                 n_boot: int = 2000, seed: int | None = None, continuous_test: ContinuousTest = "signflip") -> None:
        if continuous_test not in ("signflip", "wilcoxon"):
            raise ConfigError(f"continuous_test = {continuous_test!r}: use 'signflip' or 'wilcoxon'")
        self.config = config or DriftGuardConfig()
        self.suite = suite
        self.n_boot = n_boot
        self.seed = self.config.seed if seed is None else seed
        self.continuous_test = continuous_test
        self.informational = frozenset(self.config.informational_metrics)
        self.baseline: Baseline | None = None
        self.patience = PatienceState()
        self.last_passing_checkpoint: dict[str, Any] | None = None
        self._blind_warned: set[str] = set()

    @property
    def consecutive(self) -> int:
        """The longest current streak over all metrics (and errors): the figure reports show."""
        return self.patience.longest

    # -- baseline -------------------------------------------------------------------------------
    def set_baseline(self, evaluation: Evaluation) -> None:
        """Pin the baseline (usually step 0); resets patience and the evidence window."""
        baseline = Baseline.from_evaluation(evaluation)
        if self.suite is not None:
            baseline.check_suite(self.suite, where="set_baseline")
        self.baseline = baseline
        self.patience = PatienceState()

    # -- assessment ------------------------------------------------------------------------------
    def assess(self, evaluation: Evaluation, *, scheduled: bool = True) -> Assessment:
        """Paired tests, Tarone-Holm, thresholds, KL budget, patience (moved only when ``scheduled``)."""
        if self.baseline is None:
            raise DriftGuardError("assess() called before set_baseline(): probe the model before training "
                                  "(step 0) and pass that evaluation to set_baseline, or load_state_dict on resume.")
        baseline = self.baseline
        baseline.check_suite(evaluation.suite, where=f"evaluation at step {evaluation.step}")
        where = f"evaluation at step {evaluation.step}"
        current = scored_values(evaluation.records, where=where)
        clusters = {**baseline.clusters, **{r.probe_id: r.cluster for r in evaluation.records if r.cluster}}
        evidence: dict[str, MetricEvidence] = {}
        columns: dict[str, dict[str, float]] = {}
        for name in self._tested_metrics(evaluation):
            column = {pid: vals[name] for pid, vals in current.items() if name in vals}
            window = [column, *self.patience.history.get(name, [])][: self.config.evidence_window]
            found = metric_evidence(METRICS[name], baseline.values, window, clusters,
                                    continuous_test=self.continuous_test, n_resamples=self.n_boot, seed=self.seed,
                                    recovery_alpha=self.config.alpha)
            if found is not None:
                evidence[name], columns[name] = found, column
        counted = {m: e for m, e in evidence.items() if m not in self.informational}
        info = {m: e for m, e in evidence.items() if m in self.informational}
        adjusted = {**self._adjust(counted, self.config.alpha), **self._adjust(info, self.config.alpha)}
        regressions = [r for m, e in evidence.items() if (r := self._judge(e, adjusted[m]))]
        regressions += self._kl_regressions(evaluation)
        errors = count_errors(evaluation)
        measured = set(counted) | {m for m in self._kl_budgets() if _kl_present(evaluation, m)}
        flagged = {r.metric for r in regressions if not r.informational}
        fail_k, fail_alpha = self._spend(counted)
        fail_blind = self._fail_blind(counted, fail_alpha)
        confirmed = {m for m, p in self._adjust(counted, fail_alpha).items() if p <= fail_alpha}
        confirmed |= {r.metric for r in regressions if r.test == "budget"}
        present = {k for record in evaluation.records for k in record.values}
        blind = any(e.get("stage") != "score" for e in evaluation.errors) or any(
            m in present and m not in evidence for m in self._untested(evidence))
        verdict = self.patience.update(measured, flagged, confirmed, blind, errored=bool(errors),
                                       patience=self.config.patience, scheduled=scheduled,
                                       fail_on_errors=self.config.fail_on_errors)
        if scheduled:
            self.patience.remember(columns, self.config.evidence_window - 1)
        return Assessment(
            step=int(evaluation.step), verdict=verdict, deltas=self._deltas(evaluation, evidence),
            p_values=adjusted, regressions=regressions, consecutive=self.consecutive,
            kl_over_budget=any(r.metric == KL_MEAN for r in regressions), errors=errors,
            alpha=self.config.alpha, patience=self.config.patience,
            p_values_raw={m: e.p_raw for m, e in evidence.items()},
            n_paired={m: e.n for m, e in evidence.items()}, tests={m: e.test for m, e in evidence.items()},
            unscored=self._unscored(evaluation), untested=self._untested(evidence),
            baseline_step=baseline.step, baseline_metrics=dict(baseline.metrics),
            baseline_errors=[dict(e) for e in baseline.errors], scheduled=scheduled,
            streaks=dict(self.patience.streaks), fail_alpha=fail_alpha, informational=sorted(info),
            fail_k=fail_k, fail_blind_metrics=fail_blind,
        )

    def _family(self) -> set[str]:
        """The counted metrics of the baseline: the family whose spending sums to alpha over the run."""
        return {m for m in self._untested({}) if m not in self.informational}

    def _spend(self, counted: Mapping[str, MetricEvidence]) -> tuple[dict[str, int], float]:
        """This evaluation's FAIL level: each metric it tests spends its own next term ``spent_alpha(alpha, k_m) / M``
        (``M`` counted metrics in the family, ``k_m`` the evaluations, scheduled or not, that tested the metric).

        Only a metric that could be flagged whatever the signs of its changes (:meth:`_could_flag`, the magnitude
        screen of Tarone-Holm) is tested and spends: one with no change that could reach its threshold -- every
        metric at the baseline's own assessment -- cannot make a false FAIL, so it keeps its k. Tarone-Holm at the
        sum of the terms bounds this evaluation's chance of a false FAIL by it; summed over the run, each metric's
        terms add up to at most ``alpha / M``, so the run's chance of any false FAIL is at most ``alpha`` whatever
        the mix of tiers and irregular evaluations.
        """
        tested = sorted(m for m, e in counted.items() if self._could_flag(e))
        if not tested:
            return {}, 0.0
        size = max(len(self._family() | set(counted)), 1)
        fail_k = {m: self.patience.next_k(m) for m in tested}
        self.patience.spend(set(tested))
        return fail_k, sum(spent_alpha(self.config.alpha, k) for k in fail_k.values()) / size

    def _fail_blind(self, counted: Mapping[str, MetricEvidence], fail_alpha: float) -> list[str]:
        """Metrics whose smallest achievable p-value (every unit adverse) is above this evaluation's FAIL level: they
        can still WARN, never FAIL (the level only shrinks). Warned once per metric."""
        blind = []
        for m, e in sorted(counted.items()):
            if not self._could_flag(e):
                continue  # not tested here (nothing could flag it): its level is not this evaluation's
            best = 0.5 ** e.units * (2 if METRICS[m].direction == "zero" else 1)
            if best > fail_alpha:
                blind.append(m)
                if m not in self._blind_warned:
                    self._blind_warned.add(m)
                    message = (f"driftguard: {m} is FAIL-blind (it can no longer FAIL): its {e.units} units give at "
                               f"best p = {best:.3g}, above the alpha left to this evaluation ({fail_alpha:.3g}); it still "
                               "WARNs. Add items (templates) to that dimension, raise alpha or evaluate less often.")
                    warnings.warn(message, stacklevel=3)
                    logger.warning(message)
        return blind

    def _adjust(self, evidence: Mapping[str, MetricEvidence], level: float) -> dict[str, float]:
        """Tarone-Holm at ``level``. A metric that cannot be flagged whatever the signs of its changes (too few
        discordant units for ``level``, or even all-adverse changes below its threshold) leaves the family. Both
        screens depend only on the magnitudes of the unit changes, which the sign-flip null conditions on."""
        min_p = {m: e.min_p if self._could_flag(e) else 1.0 for m, e in evidence.items()}
        return tarone_holm({m: e.p_raw for m, e in evidence.items()}, min_p, level)

    def _could_flag(self, e: MetricEvidence) -> bool:
        """Whether all-adverse signs of this metric's unit changes would reach its threshold (magnitudes only)."""
        return e.max_adverse >= self.config.threshold(e.name) - _TOLERANCE and e.max_adverse > 0

    def _tested_metrics(self, evaluation: Evaluation) -> list[str]:
        names = {k for record in evaluation.records for k in record.values}
        return [name for name, spec in METRICS.items() if spec.test != "budget" and name in names]

    def _judge(self, e: MetricEvidence, p_adj: float) -> Regression | None:
        spec = METRICS[e.name]
        threshold = self.config.threshold(spec.name)
        # the window lends the test its power; the threshold is read on the window *and* on this evaluation alone,
        # so a dip the model has recovered from (to within the threshold) flags once, not at the next evaluation too
        reach = threshold - _TOLERANCE
        if p_adj <= self.config.alpha and min(e.adverse, e.adverse_now) > 0 and min(e.adverse, e.adverse_now) >= reach:
            return Regression(spec.name, e.baseline, e.current, e.current - e.baseline, p_adj, threshold,
                              spec.direction, e.p_raw, e.adverse, e.test, e.n, e.name in self.informational,
                              e.window, e.units)
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
        """KL over budget; a non-finite KL (inf: diverged, NaN: broken logits) is over any budget."""
        out = []
        base_metrics = self.baseline.metrics if self.baseline else {}
        for name, budget in self._kl_budgets().items():
            value = _kl_value(evaluation, name)
            if value is None:
                continue
            base = base_metrics.get(name, 0.0)
            base = 0.0 if math.isnan(base) else base
            if METRICS[name].direction == "higher":  # a floor (mechanism/direction_cosine); NaN is below it
                if not value >= budget:
                    out.append(Regression(name, base, value, value - base, None, budget, "higher", None, base - value,
                                          "budget", 0, name in self.informational))
                continue
            if math.isfinite(value) and value <= budget:
                continue
            delta = value - base if math.isfinite(value) else math.inf
            out.append(Regression(name, base, value, delta, None, budget, "lower", None, delta, "budget", 0,
                                  name in self.informational))
        return out

    def _deltas(self, evaluation: Evaluation, evidence: Mapping[str, MetricEvidence]) -> dict[str, float]:
        """Aggregated now - baseline for every metric both have (paired means where no aggregate exists)."""
        base = self.baseline.metrics if self.baseline else {}
        deltas = {m: float(v) - base[m] for m, v in evaluation.metrics.items()
                  if m in base and _finite(v) and _finite(base[m])}
        for m, e in evidence.items():
            deltas.setdefault(m, e.current - e.baseline)
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
            "patience": self.patience.to_dict(),
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
        self.patience = PatienceState.from_dict(state.get("patience"), legacy_consecutive=consecutive)
        self.last_passing_checkpoint = dict(last) if last else None


def _kl_value(evaluation: Evaluation, name: str) -> float | None:
    """A KL metric of ``evaluation``: its metrics entry, else (kl/mean) the kl section's mean; None if absent.

    A present but non-finite value is returned as is (``inf`` / ``nan``): the caller treats it as over budget.
    """
    value = evaluation.metrics.get(name)
    if value is None and name == KL_MEAN and evaluation.kl:
        value = evaluation.kl.get("mean")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _kl_present(evaluation: Evaluation, name: str) -> bool:
    return _kl_value(evaluation, name) is not None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
