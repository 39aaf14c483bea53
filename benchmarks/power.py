"""Power and false alarms of the default compact suite, simulated through the detector's real code.

Each simulated run: a baseline evaluation and ``patience`` later evaluations of the compact suite, as
``Evaluation`` records with exactly the per-probe metric layout the real scorers produce (taken from
``driftguard.scorers.score_all`` on the suite itself), judged by ``DriftDetector`` with the default
``DriftGuardConfig`` (alpha 0.05, Holm over every paired metric, default thresholds, patience 2).

Outcome model (paired, per item, independently; as in ``driftguard.probes.power``): a binary metric with
baseline rate ``p0`` of good outcomes moves good->bad with probability ``d + r/2`` and bad->good with
``r/2`` (joint cell probabilities), so its expected change is exactly ``-d`` (a drop of ``d`` points in the
bad direction) with background churn ``r`` (default 0.02: items that flip either way without drift).
Continuous metrics follow their items: the refusal margin is drawn around +2 (refused) or -1 (complied) and
re-drawn when the item flips, else jittered; toxicity scores likewise around the 0.5 toxic cut; the
ambiguous bias score (-1/0/+1) re-draws with probability ``r``. Only the target metric drifts.

Reported per (metric, drop): the per-evaluation flag rate (the detector lists that metric as a regression
at the first evaluation), the fail-verdict rate (FAIL after ``patience`` consecutive drifted evaluations),
and the exact unadjusted McNemar power (``driftguard.probes.power.mcnemar_power``) as a cross-check; with
no drop: the per-evaluation false-alarm rate (any regression) and the false-fail rate.

Usage: ``python benchmarks/power.py [--runs 200] [--churn 0.02] [--drops 0.05,0.10,0.15]``.
Prints one JSON object, then the headline as JSON on the last line.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from driftguard.config import DriftGuardConfig
from driftguard.detect.detector import DriftDetector
from driftguard.metrics import METRICS
from driftguard.probes import ProbeSuite, load_suite
from driftguard.probes.power import DEFAULT_CHURN, mcnemar_power
from driftguard.scorers import score_all
from driftguard.types import Evaluation, ItemRecord, ProbeOutputs, Verdict

if not __package__:  # run as a script (python benchmarks/power.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit  # noqa: E402

HARMFUL_REFUSAL = "driftguard/safety/harmful_refusal_rate"
REFUSAL_MARGIN = "driftguard/safety/refusal_margin"
MEAN_TOXICITY = "driftguard/toxicity/mean_toxicity"
TOXIC_RATE = "driftguard/toxicity/toxic_rate"
AMBIGUOUS_BIAS = "driftguard/bias/ambiguous_bias_score"

# Headline metrics: one or two per dimension.
TARGETS = (
    HARMFUL_REFUSAL,
    "driftguard/safety/benign_compliance_rate",
    TOXIC_RATE,
    "driftguard/bias/disambiguated_accuracy",
    "driftguard/ethics/accuracy",
    "driftguard/privacy/answer_leak_rate",
    "driftguard/robustness/consistency",
)
# Baseline rate of each binary metric (a plausible instruction-tuned model); "good" = 1 for higher-is-better.
BASE_RATES: dict[str, float] = {
    HARMFUL_REFUSAL: 0.90,
    "driftguard/safety/benign_compliance_rate": 0.90,
    TOXIC_RATE: 0.05,
    "driftguard/bias/disambiguated_accuracy": 0.80,
    "driftguard/ethics/accuracy": 0.80,
    "driftguard/ethics/evasive_fpr": 0.20,
    "driftguard/privacy/answer_leak_rate": 0.05,
    "driftguard/privacy/reasoning_leak_rate": 0.05,
    "driftguard/robustness/consistency": 0.90,
    "driftguard/robustness/ood_accuracy": 0.85,  # suites v2
    "driftguard/robustness/jailbreak_refusal_rate": 0.80,
    "driftguard/privacy/utility_rate": 0.80,
}
AMBIGUOUS_BIAS_PROBS = (0.15, 0.70, 0.15)  # P(-1), P(0 = "unknown"), P(+1) at the baseline
DISAMBIGUATED_BIAS = "driftguard/bias/disambiguated_bias_score"  # suites v2
DISAMBIGUATED_BIAS_PROBS = (0.45, 0.10, 0.45)  # half the right answers are stereotype-consistent


def metric_layout(suite: ProbeSuite) -> list[tuple[str, str, tuple[str, ...]]]:
    """(probe id, dimension, metric names) per probe, as the real scorers emit them (all items unscored here)."""
    outputs = ProbeOutputs(refusal_margins={p.id: 0.0 for p in suite if p.dimension == "safety" and p.expect == "refuse"})
    records = score_all(list(suite), outputs, toxicity_judge=lambda texts: [0.0] * len(texts))
    return [(r.probe_id, r.dimension, tuple(r.values)) for r in records]


class RunSimulator:
    """Draws paired per-item values for every metric of the suite and wraps them as Evaluations."""

    def __init__(self, suite: ProbeSuite, churn: float) -> None:
        self.suite = suite
        self.churn = churn
        self.layout = metric_layout(suite)
        self.items: dict[str, list[int]] = {}
        for index, (_pid, _dim, names) in enumerate(self.layout):
            for name in names:
                self.items.setdefault(name, []).append(index)

    def _binary(self, rng, name: str, drop: float, n_evals: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Baseline and ``n_evals`` current 0/1 values of ``name`` (current draws share the baseline)."""
        spec = METRICS[name]
        good_rate = BASE_RATES[name] if spec.direction == "higher" else 1 - BASE_RATES[name]
        if drop + self.churn / 2 > good_rate or self.churn / 2 > 1 - good_rate:
            raise ValueError(f"{name}: drop {drop} + churn/2 {self.churn / 2} exceeds its good rate {good_rate} (or churn/2 "
                             f"exceeds its bad rate); lower --drops or --churn")
        n = len(self.items[name])
        base_good = rng.random(n) < good_rate
        currents = []
        for _ in range(n_evals):
            # cells: good->bad w.p. p * (d + r/2)/p = d + r/2, bad->good w.p. (1-p) * (r/2)/(1-p) = r/2
            flip_good = rng.random(n) < (drop + self.churn / 2) / good_rate
            flip_bad = rng.random(n) < (self.churn / 2) / (1 - good_rate)
            currents.append(np.where(base_good, ~flip_good, flip_bad))
        to_value = (lambda g: g.astype(float)) if spec.direction == "higher" else (lambda g: (~g).astype(float))
        return to_value(base_good), [to_value(c) for c in currents]

    def simulate(self, rng: np.random.Generator, target: str | None, drop: float, n_evals: int) -> list[Evaluation]:
        """Baseline (step 0) and ``n_evals`` drifted evaluations; only ``target`` drifts (by ``drop``)."""
        columns: dict[str, list[np.ndarray]] = {}
        for name in self.items:
            if METRICS[name].test == "binary":
                base, cur = self._binary(rng, name, drop if name == target else 0.0, n_evals)
                columns[name] = [base, *cur]
        columns[REFUSAL_MARGIN] = self._follow(rng, columns[HARMFUL_REFUSAL], 2.0, -1.0, 1.0, 0.2)
        toxic = self._follow(rng, columns[TOXIC_RATE], 0.75, 0.08, 0.1, 0.02)
        columns[MEAN_TOXICITY] = [np.clip(t, 0.0, 1.0) for t in toxic]
        if AMBIGUOUS_BIAS in self.items:
            columns[AMBIGUOUS_BIAS] = self._bias(rng, n_evals)
        if DISAMBIGUATED_BIAS in self.items:
            columns[DISAMBIGUATED_BIAS] = self._bias(rng, n_evals, DISAMBIGUATED_BIAS, DISAMBIGUATED_BIAS_PROBS)
        return [self._evaluation(step, {k: v[step] for k, v in columns.items()}) for step in range(n_evals + 1)]

    def _follow(self, rng, states: list[np.ndarray], good_mean: float, bad_mean: float, spread: float,
                jitter: float) -> list[np.ndarray]:
        """A continuous per-item score tied to a 0/1 state: re-drawn where the state changed, else jittered."""
        base = np.where(states[0] == 1, good_mean, bad_mean) + rng.normal(0, spread, states[0].size)
        out = [base]
        for state in states[1:]:
            fresh = np.where(state == 1, good_mean, bad_mean) + rng.normal(0, spread, state.size)
            out.append(np.where(state == states[0], base + rng.normal(0, jitter, state.size), fresh))
        return out

    def _bias(self, rng, n_evals: int, name: str = AMBIGUOUS_BIAS,
              probs: tuple[float, float, float] = AMBIGUOUS_BIAS_PROBS) -> list[np.ndarray]:
        n = len(self.items[name])
        base = rng.choice([-1.0, 0.0, 1.0], size=n, p=probs)
        out = [base]
        for _ in range(n_evals):
            redraw = rng.random(n) < self.churn
            out.append(np.where(redraw, rng.choice([-1.0, 0.0, 1.0], size=n, p=probs), base))
        return out

    def _evaluation(self, step: int, columns: dict[str, np.ndarray]) -> Evaluation:
        values: list[dict[str, float]] = [{} for _ in self.layout]
        for name, indices in self.items.items():
            for position, index in enumerate(indices):
                values[index][name] = float(columns[name][position])
        records = [ItemRecord(pid, dim, vals) for (pid, dim, _), vals in zip(self.layout, values, strict=True)]
        metrics = {name: float(np.mean(col)) for name, col in columns.items()}
        return Evaluation(step=step, suite=self.suite.info, records=records, metrics=metrics)


def run_scenario(sim: RunSimulator, config: DriftGuardConfig, target: str | None, drop: float, runs: int,
                 seed: int, n_boot: int | None = None) -> dict[str, float]:
    """Flag and fail rates of ``runs`` simulated runs with ``target`` drifting by ``drop`` (None: no drift)."""
    rng = np.random.default_rng(seed)
    detector = DriftDetector(config, suite=sim.suite.info, **({"n_boot": n_boot} if n_boot else {}))
    flagged = any_flag = failed = 0
    for _ in range(runs):
        evaluations = sim.simulate(rng, target, drop, config.patience)
        detector.set_baseline(evaluations[0])
        assessments = [detector.assess(e) for e in evaluations[1:]]
        first = {r.metric for r in assessments[0].regressions}
        flagged += target in first
        any_flag += bool(first)
        failed += assessments[-1].verdict == Verdict.FAIL
    return {"flag_rate": flagged / runs if target else math.nan, "any_regression_rate": any_flag / runs,
            "fail_rate": failed / runs}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="compact")
    parser.add_argument("--runs", type=int, default=200, help="simulated runs per scenario")
    parser.add_argument("--churn", type=float, default=DEFAULT_CHURN, help="background flip probability per item")
    parser.add_argument("--drops", default="0.05,0.10,0.15", help="comma-separated true drops (rate points)")
    parser.add_argument("--metrics", default=",".join(TARGETS), help="comma-separated target metrics")
    parser.add_argument("--n-boot", type=int, default=None, help="bootstrap resamples of continuous metrics "
                        "(default: the detector's default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.runs < 1:
        raise SystemExit(f"--runs {args.runs}: must be >= 1")
    drops = [float(d) for d in args.drops.split(",") if d.strip()]
    targets = [m if m.startswith("driftguard/") else f"driftguard/{m}" for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in targets if m not in BASE_RATES]
    if unknown:
        raise SystemExit(f"--metrics: {unknown} not simulated; choose from {', '.join(BASE_RATES)}")
    config = DriftGuardConfig()
    suite = load_suite(args.suite)
    sim = RunSimulator(suite, args.churn)
    start = time.perf_counter()
    null = run_scenario(sim, config, None, 0.0, args.runs, args.seed, args.n_boot)
    rows = []
    for t, target in enumerate(targets):
        for d, drop in enumerate(drops):
            rates = run_scenario(sim, config, target, drop, args.runs, args.seed + 1000 * (t + 1) + d,
                                 args.n_boot)
            rows.append({"metric": target, "items": len(sim.items[target]), "drop": drop, **rates,
                         "mcnemar_power_unadjusted": mcnemar_power(len(sim.items[target]), drop, config.alpha, args.churn)})
    seconds = time.perf_counter() - start
    paired_family = sum(1 for name in sim.items if METRICS[name].test != "budget")
    result = {
        "benchmark": "power", "suite": {"name": suite.name, "probes": len(suite), "sha256": suite.sha256[:12]},
        "settings": {"runs": args.runs, "churn": args.churn, "alpha": config.alpha, "patience": config.patience,
                     "multiple_testing": "holm", "paired_metrics": paired_family,
                     "n_boot": args.n_boot or DriftDetector(config).n_boot,
                     "thresholds": {m: config.threshold(m) for m in targets}, "base_rates": BASE_RATES},
        "no_drift": {"false_alarm_rate_per_evaluation": null["any_regression_rate"], "false_fail_rate": null["fail_rate"]},
        "drift": rows,
        "seconds": seconds,
    }
    headline: dict[str, Any] = {"false_alarm_rate_per_eval": null["any_regression_rate"],
                                "false_fail_rate": null["fail_rate"], "alpha": config.alpha}
    for drop in drops:
        chosen = [r for r in rows if r["drop"] == drop]
        headline[f"mean_flag_rate_drop_{round(100 * drop)}pt"] = float(np.mean([r["flag_rate"] for r in chosen]))
        headline[f"mean_fail_rate_drop_{round(100 * drop)}pt"] = float(np.mean([r["fail_rate"] for r in chosen]))
    headline["runs"] = args.runs
    emit(result, headline)
    return result


if __name__ == "__main__":
    main()
