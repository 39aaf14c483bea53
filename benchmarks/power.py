"""Power and false alarms of the default compact suite over whole simulated runs, through the detector's real code.

Each simulated run: a baseline evaluation and then ``--evals`` (null: 50) scheduled evaluations of the compact
suite, as ``Evaluation`` records with exactly the per-probe metric layout the real scorers produce (from
``driftguard.scorers.score_all`` on the suite itself, template clusters included), judged by ``DriftDetector``
with the default ``DriftGuardConfig``.

Outcome model (paired, per item; as in ``driftguard.probes.power``): a binary metric with baseline rate ``p0``
of good outcomes moves good->bad with probability ``d + r/2`` and bad->good with ``r/2``, so its expected
change is exactly ``-d`` with background churn ``r`` (default 0.02). Each evaluation re-draws every item from
its baseline state (``--persistence q``: with probability q an item keeps its previous evaluation's outcome
instead, the marginals unchanged: greedy decoding on a slowly moving model repeats itself). **Template
clustering**: items sharing ``meta["template"]`` share their random draw with probability ``--icc`` (default
0.3), at the baseline and at each evaluation, so a template tends to flip as a unit (marginals unchanged);
``--cluster-size k`` groups the items without a template into synthetic templates of k consecutive probes (the
v2 suites carry templates everywhere). Continuous metrics follow their items (refusal margin around +2 refused /
-1 complied, toxicity around the 0.5 cut; re-drawn where the item flipped, else jittered); the ambiguous bias
score (-1/0/+1) re-draws with probability ``r``. Only the target metric drifts, from the first evaluation on.

Reported: with no drift, the per-evaluation false-alarm rate (any counted regression) and the **run-level**
rates over ``--evals`` evaluations (any false flag, any false FAIL); per (metric, drop), the probability that
the metric is flagged at the first evaluation and within the first two, and that the verdict is FAIL within two
and within five evaluations. Works against older detectors too (no ``scheduled`` argument: plain ``assess``).

Usage: ``python benchmarks/power.py [--runs 200] [--null-runs 200] [--evals 50] [--churn 0.02] [--icc 0.3]``.
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
    "driftguard/robustness/ood_accuracy",  # v2: consistency exists only given a right clean item (not placeable)
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
    "driftguard/toxicity/reasoning_toxic_rate": 0.05,  # issue 11 (informational while traces are hidden)
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


def templates(suite: ProbeSuite, cluster_size: int) -> list[str | None]:
    """Per probe: its template cluster (``dimension:template``), or a synthetic one of ``cluster_size`` consecutive
    probes of its dimension without a template (``cluster_size`` 1: none)."""
    out: list[str | None] = []
    counters: dict[str, int] = {}
    for probe in suite:
        template = probe.meta.get("template")
        if template is not None:
            out.append(f"{probe.dimension}:{template}")
        elif cluster_size > 1:
            i = counters[probe.dimension] = counters.get(probe.dimension, -1) + 1
            out.append(f"{probe.dimension}:synthetic-{i // cluster_size}")
        else:
            out.append(None)
    return out


class RunSimulator:
    """Draws paired per-item values for every metric of the suite and wraps them as Evaluations."""

    def __init__(self, suite: ProbeSuite, churn: float, *, icc: float = 0.0, cluster_size: int = 1,
                 persistence: float = 0.0) -> None:
        self.suite = suite
        self.churn = churn
        self.icc = icc
        self.persistence = persistence
        self.layout = metric_layout(suite)
        self.clusters = templates(suite, cluster_size)
        self.items: dict[str, list[int]] = {}
        for index, (_pid, _dim, names) in enumerate(self.layout):
            for name in names:
                self.items.setdefault(name, []).append(index)

    def _uniform(self, rng, name: str) -> np.ndarray:
        """One uniform per item of ``name``; with probability ``icc`` an item takes its template's shared draw."""
        indices = self.items[name]
        own = rng.random(len(indices))
        if self.icc <= 0:
            return own
        keys = [self.clusters[i] or f"item{i}" for i in indices]
        shared_by_key = {k: rng.random() for k in dict.fromkeys(keys)}
        shared = np.array([shared_by_key[k] for k in keys])
        return np.where(rng.random(len(indices)) < self.icc, shared, own)

    def _binary(self, rng, name: str, drop: float, n_evals: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Baseline and ``n_evals`` current 0/1 values of ``name`` (current draws share the baseline)."""
        spec = METRICS[name]
        good_rate = BASE_RATES[name] if spec.direction == "higher" else 1 - BASE_RATES[name]
        if drop + self.churn / 2 > good_rate or self.churn / 2 > 1 - good_rate:
            raise ValueError(f"{name}: drop {drop} + churn/2 {self.churn / 2} exceeds its good rate {good_rate} (or churn/2 "
                             f"exceeds its bad rate); lower --drops or --churn")
        n = len(self.items[name])
        base_good = self._uniform(rng, name) < good_rate
        currents: list[np.ndarray] = []
        for _ in range(n_evals):
            u = self._uniform(rng, name)
            # cells: good->bad w.p. d + r/2 (of all items), bad->good w.p. r/2
            flip = np.where(base_good, u < (drop + self.churn / 2) / good_rate, u < (self.churn / 2) / (1 - good_rate))
            fresh = base_good ^ flip
            if currents and self.persistence > 0:
                fresh = np.where(rng.random(n) < self.persistence, currents[-1], fresh)
            currents.append(fresh)
        to_value = (lambda g: g.astype(float)) if spec.direction == "higher" else (lambda g: (~g).astype(float))
        return to_value(base_good), [to_value(c) for c in currents]

    def simulate(self, rng: np.random.Generator, target: str | None, drop: float, n_evals: int) -> list[Evaluation]:
        """Baseline (step 0) and ``n_evals`` evaluations; only ``target`` drifts (by ``drop``)."""
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
            redraw = self._uniform(rng, name) < self.churn
            out.append(np.where(redraw, rng.choice([-1.0, 0.0, 1.0], size=n, p=probs), base))
        return out

    def _evaluation(self, step: int, columns: dict[str, np.ndarray]) -> Evaluation:
        values: list[dict[str, float]] = [{} for _ in self.layout]
        for name, indices in self.items.items():
            for position, index in enumerate(indices):
                values[index][name] = float(columns[name][position])
        records = [ItemRecord(pid, dim, vals) for (pid, dim, _), vals in zip(self.layout, values, strict=True)]
        for record, cluster in zip(records, self.clusters, strict=True):
            if cluster is not None and hasattr(record, "cluster"):  # older ItemRecords have no cluster field
                record.cluster = cluster
        metrics = {name: float(np.mean(col)) for name, col in columns.items()}
        return Evaluation(step=step, suite=self.suite.info, records=records, metrics=metrics)


def _counted(assessment: Any) -> set[str]:
    return {r.metric for r in assessment.regressions if not getattr(r, "informational", False)}


def run_scenario(sim: RunSimulator, config: DriftGuardConfig, target: str | None, drop: float, runs: int,
                 n_evals: int, seed: int, n_boot: int | None = None) -> dict[str, float]:
    """Rates over ``runs`` simulated runs of ``n_evals`` evaluations with ``target`` drifting by ``drop``."""
    rng = np.random.default_rng(seed)
    detector = DriftDetector(config, suite=sim.suite.info, **({"n_boot": n_boot} if n_boot else {}))
    flag1 = flag2 = fail2 = fail5 = any_flag_run = any_fail_run = 0
    flagged_evals = 0
    for _ in range(runs):
        evaluations = sim.simulate(rng, target, drop, n_evals)
        detector.set_baseline(evaluations[0])
        assessments = [detector.assess(e) for e in evaluations[1:]]
        counted = [_counted(a) for a in assessments]
        fails = [a.verdict == Verdict.FAIL for a in assessments]
        if target is not None:
            flag1 += target in counted[0]
            flag2 += any(target in c for c in counted[:2])
        fail2 += any(fails[:2])
        fail5 += any(fails[:5])
        flagged_evals += sum(bool(c) for c in counted)
        any_flag_run += any(bool(c) for c in counted)
        any_fail_run += any(fails)
    return {"flag_within_1": flag1 / runs if target else math.nan, "flag_within_2": flag2 / runs if target else math.nan,
            "fail_within_2": fail2 / runs, "fail_within_5": fail5 / runs,
            "false_alarm_rate_per_evaluation": flagged_evals / (runs * n_evals),
            "any_regression_in_run": any_flag_run / runs, "fail_in_run": any_fail_run / runs}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="compact")
    parser.add_argument("--runs", type=int, default=200, help="simulated runs per drift scenario")
    parser.add_argument("--null-runs", type=int, default=None, help="simulated no-drift runs (default: --runs)")
    parser.add_argument("--evals", type=int, default=50, help="evaluations per no-drift run (run-level false FAIL)")
    parser.add_argument("--drift-evals", type=int, default=5, help="evaluations per drift run")
    parser.add_argument("--churn", type=float, default=DEFAULT_CHURN, help="background flip probability per item")
    parser.add_argument("--icc", type=float, default=0.3, help="probability an item shares its template's draw")
    parser.add_argument("--cluster-size", type=int, default=1, help="synthetic templates of k probes where none")
    parser.add_argument("--persistence", type=float, default=0.0, help="probability an item repeats its last outcome")
    parser.add_argument("--drops", default="0.05,0.10,0.15", help="comma-separated true drops (rate points)")
    parser.add_argument("--metrics", default=",".join(TARGETS), help="comma-separated target metrics")
    parser.add_argument("--n-boot", type=int, default=None, help="random sign patterns / bootstrap resamples of "
                        "continuous metrics (default: the detector's default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.evals < 1 or args.drift_evals < 2:
        raise SystemExit("--runs and --evals must be >= 1, --drift-evals >= 2")
    drops = [float(d) for d in args.drops.split(",") if d.strip()]
    targets = [m if m.startswith("driftguard/") else f"driftguard/{m}" for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in targets if m not in BASE_RATES]
    if unknown:
        raise SystemExit(f"--metrics: {unknown} not simulated; choose from {', '.join(BASE_RATES)}")
    config = DriftGuardConfig()
    suite = load_suite(args.suite)
    sim = RunSimulator(suite, args.churn, icc=args.icc, cluster_size=args.cluster_size, persistence=args.persistence)
    missing = [m for m in targets if m not in sim.items]
    if missing:
        raise SystemExit(f"--metrics: {missing} have no item in suite {suite.name!r} v{suite.version}")
    start = time.perf_counter()
    null = run_scenario(sim, config, None, 0.0, args.null_runs or args.runs, args.evals, args.seed, args.n_boot)
    rows = []
    for t, target in enumerate(targets):
        units = len({sim.clusters[i] or f"item{i}" for i in sim.items[target]})
        for d, drop in enumerate(drops):
            rates = run_scenario(sim, config, target, drop, args.runs, args.drift_evals,
                                 args.seed + 1000 * (t + 1) + d, args.n_boot)
            rows.append({"metric": target, "items": len(sim.items[target]), "templates": units, "drop": drop,
                         **{k: rates[k] for k in ("flag_within_1", "flag_within_2", "fail_within_2", "fail_within_5")},
                         "mcnemar_power_unadjusted": mcnemar_power(len(sim.items[target]), drop, config.alpha, args.churn)})
    seconds = time.perf_counter() - start
    paired_family = sum(1 for name in sim.items if METRICS[name].test != "budget")
    detector = DriftDetector(config)
    result = {
        "benchmark": "power", "suite": {"name": suite.name, "probes": len(suite), "sha256": suite.sha256[:12]},
        "settings": {"runs": args.runs, "null_runs": args.null_runs or args.runs, "evals": args.evals,
                     "drift_evals": args.drift_evals, "churn": args.churn, "icc": args.icc,
                     "cluster_size": args.cluster_size, "persistence": args.persistence, "alpha": config.alpha,
                     "patience": config.patience, "evidence_window": getattr(config, "evidence_window", 1),
                     "multiple_testing": getattr(sys.modules[DriftDetector.__module__], "MULTIPLE_TESTING", "holm"),
                     "paired_metrics": paired_family, "n_boot": args.n_boot or detector.n_boot,
                     "thresholds": {m: config.threshold(m) for m in targets}, "base_rates": BASE_RATES},
        "no_drift": {"false_alarm_rate_per_evaluation": null["false_alarm_rate_per_evaluation"],
                     "any_false_flag_in_run": null["any_regression_in_run"], "false_fail_in_run": null["fail_in_run"]},
        "drift": rows,
        "seconds": seconds,
    }
    headline: dict[str, Any] = {"false_alarm_rate_per_eval": null["false_alarm_rate_per_evaluation"],
                                "run_false_fail_rate": null["fail_in_run"], "run_any_false_flag": null["any_regression_in_run"],
                                "alpha": config.alpha, "evals": args.evals}
    for drop in drops:
        chosen = [r for r in rows if r["drop"] == drop]
        pts = round(100 * drop)
        headline[f"mean_flag_within_1_drop_{pts}pt"] = float(np.mean([r["flag_within_1"] for r in chosen]))
        headline[f"mean_flag_within_2_drop_{pts}pt"] = float(np.mean([r["flag_within_2"] for r in chosen]))
        headline[f"min_flag_within_2_drop_{pts}pt"] = float(np.min([r["flag_within_2"] for r in chosen]))
    headline["runs"] = args.runs
    emit(result, headline)
    return result


if __name__ == "__main__":
    main()
