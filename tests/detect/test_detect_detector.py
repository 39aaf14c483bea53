"""DriftDetector on synthetic per-item records: paired tests, thresholds, directions, Holm, KL budget, patience."""

from __future__ import annotations

import math

import numpy as np
import pytest
from detect_synthetic import BENIGN, BIAS, KL, MARGIN, REFUSAL, TOXIC, build_evaluation, flips
from scipy import stats as sps

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.detect.stats import mcnemar_one_sided, signflip_pvalue, tarone_holm
from driftguard.errors import ConfigError, DriftGuardError
from driftguard.types import Verdict


def _detector(**config) -> DriftDetector:
    return DriftDetector(DriftGuardConfig(**config))


def _refusal_scenario(flipped: int, n: int = 200, ones: int = 190):
    """Baseline 190/200 harmful prompts refused; ``flipped`` of them now comply. Benign items unchanged."""
    base, cur = flips(n, ones, flipped)
    benign = [1.0] * 90 + [0.0] * 10
    return (build_evaluation(0, {REFUSAL: base, BENIGN: benign}),
            lambda step: build_evaluation(step, {REFUSAL: cur, BENIGN: benign}))


def test_same_records_pass_with_unit_p_values():
    baseline = build_evaluation(0, {REFUSAL: [1, 0, 1, 1] * 50, MARGIN: np.linspace(-2, 3, 200)})
    det = _detector()
    det.set_baseline(baseline)
    a = det.assess(build_evaluation(100, {REFUSAL: [1, 0, 1, 1] * 50, MARGIN: np.linspace(-2, 3, 200)}))
    assert a.verdict is Verdict.PASS and a.regressions == [] and a.consecutive == 0
    assert a.p_values == {REFUSAL: 1.0, MARGIN: 1.0}
    assert a.deltas == {REFUSAL: 0.0, MARGIN: 0.0}
    assert a.tests == {REFUSAL: "mcnemar", MARGIN: "signflip"}
    assert a.n_paired == {REFUSAL: 200, MARGIN: 200} and a.multiple_testing == "tarone-holm"


def test_big_refusal_drop_warns_then_fails_after_patience():
    baseline, later = _refusal_scenario(flipped=70)  # 0.95 -> 0.60 on 200 paired items
    det = _detector(patience=2)
    det.set_baseline(baseline)
    first = det.assess(later(100))
    assert first.verdict is Verdict.WARN and first.consecutive == 1
    (reg,) = first.regressions
    assert reg.metric == REFUSAL and reg.test == "mcnemar" and reg.n == 200
    assert reg.baseline == pytest.approx(0.95) and reg.current == pytest.approx(0.60)
    assert reg.delta == pytest.approx(-0.35) and reg.adverse_change == pytest.approx(0.35)
    raw = mcnemar_one_sided(70, 0)  # one-sided: only the regression direction counts
    assert reg.p_value_raw == pytest.approx(raw)
    assert reg.p_value == pytest.approx(raw)  # Tarone: the unchanged benign metric cannot reject, so K = 1
    assert reg.threshold == 0.05 and reg.direction == "higher"
    second = det.assess(later(200))
    assert second.verdict is Verdict.FAIL and second.consecutive == 2


def test_small_drop_below_threshold_passes_even_when_significant():
    baseline, later = _refusal_scenario(flipped=6)  # -0.03 < default threshold 0.05
    det = _detector()
    det.set_baseline(baseline)
    a = det.assess(later(100))
    assert a.p_values_raw[REFUSAL] == pytest.approx(mcnemar_one_sided(6, 0)) and a.p_values_raw[REFUSAL] < 0.05
    assert a.verdict is Verdict.PASS and a.regressions == []
    assert a.deltas[REFUSAL] == pytest.approx(-0.03)


def test_configured_threshold_overrides_the_default():
    baseline, later = _refusal_scenario(flipped=8)  # -0.04, p = 2 * 0.5**8 (x2 Holm) < 0.05
    strict = _detector(thresholds={"safety/harmful_refusal_rate": 0.02})
    strict.set_baseline(baseline)
    assert [r.metric for r in strict.assess(later(100)).regressions] == [REFUSAL]
    lax = _detector()
    lax.set_baseline(baseline)
    assert lax.assess(later(100)).regressions == []


def test_improvement_is_never_a_regression():
    base, cur = flips(200, 190, 70)
    det = _detector(patience=1)
    det.set_baseline(build_evaluation(0, {REFUSAL: cur}))  # 0.60 at the baseline
    a = det.assess(build_evaluation(1, {REFUSAL: base}))  # 0.95 now: significant, good direction
    assert a.p_values_raw[REFUSAL] == 1.0 and a.verdict is Verdict.PASS  # one-sided: an improvement is no evidence


def test_lower_is_better_metric_regresses_upwards():
    det = _detector(patience=1)
    det.set_baseline(build_evaluation(0, {TOXIC: [0.0] * 200}))
    a = det.assess(build_evaluation(1, {TOXIC: [1.0] * 30 + [0.0] * 170}))
    assert a.verdict is Verdict.FAIL and a.regressions[0].metric == TOXIC
    assert a.regressions[0].adverse_change == pytest.approx(0.15)


def test_zero_direction_metric_uses_abs_mean():
    rng = np.random.default_rng(1)
    centred = rng.normal(0.0, 0.2, 200)
    det = _detector(patience=1)
    det.set_baseline(build_evaluation(0, {BIAS: centred}))
    a = det.assess(build_evaluation(1, {BIAS: centred + 0.3}))  # |mean| 0 -> 0.3: worse
    assert a.tests[BIAS] == "signflip" and [r.metric for r in a.regressions] == [BIAS]
    det2 = _detector(patience=1)
    det2.set_baseline(build_evaluation(0, {BIAS: centred + 0.3}))
    assert det2.assess(build_evaluation(1, {BIAS: centred})).regressions == []  # towards 0: better


def test_continuous_tests_are_seeded_and_match_stats():
    rng = np.random.default_rng(0)
    base = rng.normal(1.0, 1.0, 200)
    cur = base - 0.6 + rng.normal(0, 0.5, 200)
    runs = []
    for _ in range(2):
        det = _detector(seed=7)
        det.set_baseline(build_evaluation(0, {MARGIN: base}))
        runs.append(det.assess(build_evaluation(1, {MARGIN: cur})).p_values_raw[MARGIN])
    assert runs[0] == runs[1] == signflip_pvalue(base - cur, n_resamples=2000, seed=7)  # higher is better
    wil = DriftDetector(DriftGuardConfig(), continuous_test="wilcoxon")
    wil.set_baseline(build_evaluation(0, {MARGIN: base}))
    a = wil.assess(build_evaluation(1, {MARGIN: cur}))
    one_sided = sps.wilcoxon(base - cur, alternative="greater").pvalue
    assert a.tests[MARGIN] == "wilcoxon" and a.p_values_raw[MARGIN] == pytest.approx(one_sided)
    assert [r.metric for r in a.regressions] == [MARGIN]  # -0.6 beyond the 0.5 threshold
    with pytest.raises(ConfigError, match="continuous_test"):
        DriftDetector(DriftGuardConfig(), continuous_test="ttest")  # type: ignore[arg-type]


def test_holm_correction_removes_a_marginal_regression():
    b1, c1 = flips(200, 100, 5)  # one-sided raw p = 0.03125 each; both can reject: 2 * 0.03125 = 0.0625 > alpha
    det = _detector(thresholds={"safety/harmful_refusal_rate": 0.01, "safety/benign_compliance_rate": 0.01})
    det.set_baseline(build_evaluation(0, {REFUSAL: b1, BENIGN: b1}))
    a = det.assess(build_evaluation(1, {REFUSAL: c1, BENIGN: c1}))
    assert a.p_values_raw[REFUSAL] < 0.05 < a.p_values[REFUSAL]
    assert a.p_values == tarone_holm(a.p_values_raw, {REFUSAL: 2 ** -5, BENIGN: 2 ** -5}, 0.05)
    assert a.regressions == [] and a.verdict is Verdict.PASS


def test_kl_over_budget_regresses_without_p_value():
    det = _detector(kl_budget=0.5, patience=1)
    det.set_baseline(build_evaluation(0, {REFUSAL: [1.0] * 50}, kl={KL: 0.0}))
    ok = det.assess(build_evaluation(1, {REFUSAL: [1.0] * 50}, kl={KL: 0.4}))
    assert ok.verdict is Verdict.PASS and not ok.kl_over_budget and ok.deltas[KL] == pytest.approx(0.4)
    over = det.assess(build_evaluation(2, {REFUSAL: [1.0] * 50}, kl={KL: 0.8, "driftguard/kl/safety": 1.2}))
    (reg,) = over.regressions
    assert reg.metric == KL and reg.p_value is None and reg.test == "budget" and reg.threshold == 0.5
    assert over.kl_over_budget and over.verdict is Verdict.FAIL
    per_dim = _detector(thresholds={"kl/safety": 1.0}, patience=1)
    per_dim.set_baseline(build_evaluation(0, {REFUSAL: [1.0] * 50}, kl={KL: 0.0}))
    a = per_dim.assess(build_evaluation(1, {REFUSAL: [1.0] * 50}, kl={KL: 0.3, "driftguard/kl/safety": 1.2}))
    assert [r.metric for r in a.regressions] == ["driftguard/kl/safety"]


def test_unscored_items_are_excluded_from_pairing_and_counted():
    base, cur = flips(200, 190, 70)
    base[5] = math.nan  # unscored at the baseline
    cur[7] = math.nan  # unscored now
    det = _detector()
    det.set_baseline(build_evaluation(0, {REFUSAL: base}))
    a = det.assess(build_evaluation(1, {REFUSAL: cur}, errors=["harmful_refusal_rate-0009"]))
    assert a.n_paired[REFUSAL] == 197
    assert a.unscored == {REFUSAL: {"baseline": 1, "current": 2}}
    assert a.errors == 2  # the NaN item and the errored record of this evaluation
    keep = [i for i in range(200) if i not in (5, 7, 9)]
    b = int(sum(1 for i in keep if base[i] == 1 and cur[i] == 0))
    assert a.p_values_raw[REFUSAL] == pytest.approx(mcnemar_one_sided(b, 0))
    assert len(a.baseline_errors) == 1 and a.baseline_errors[0]["probe_id"] == "harmful_refusal_rate-0005"


def test_metric_without_paired_items_is_listed_untested():
    det = _detector()
    det.set_baseline(build_evaluation(0, {REFUSAL: [1.0] * 10, BENIGN: [1.0] * 10}))
    a = det.assess(build_evaluation(1, {REFUSAL: [1.0] * 10, BENIGN: [math.nan] * 10}))
    assert a.untested == [BENIGN] and BENIGN not in a.p_values and a.errors == 10


def test_patience_resets_on_clean_evaluation_and_holds_on_errors():
    baseline, later = _refusal_scenario(flipped=70)
    clean = build_evaluation(0, {REFUSAL: flips(200, 190, 0)[0], BENIGN: [1.0] * 90 + [0.0] * 10})
    det = _detector(patience=2)
    det.set_baseline(baseline)
    assert det.assess(later(1)).verdict is Verdict.WARN
    errored = build_evaluation(2, {REFUSAL: flips(200, 190, 0)[0], BENIGN: [1.0] * 90 + [0.0] * 10},
                               errors=["benign_compliance_rate-0000"])
    held = det.assess(errored)
    # an evaluation with errors is never PASS; refusal was measured clean here, so its own streak resets
    assert held.verdict is Verdict.WARN and held.consecutive == 0 and held.errors == 1
    assert det.assess(clean).verdict is Verdict.PASS and det.consecutive == 0
    assert det.assess(later(3)).verdict is Verdict.WARN  # counting starts again
    immediate = _detector(patience=1)
    immediate.set_baseline(baseline)
    assert immediate.assess(later(1)).verdict is Verdict.FAIL


def test_duplicate_probe_ids_and_missing_baseline_are_errors():
    det = _detector()
    with pytest.raises(DriftGuardError, match="before set_baseline"):
        det.assess(build_evaluation(1, {REFUSAL: [1.0]}))
    dup = build_evaluation(0, {REFUSAL: [1.0, 0.0]})
    dup.records[1].probe_id = dup.records[0].probe_id
    with pytest.raises(DriftGuardError, match="appears twice"):
        det.set_baseline(dup)
