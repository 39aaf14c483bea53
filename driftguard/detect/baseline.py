"""The stored baseline: per-item values, metrics and the suite fingerprint they were measured on.

Kept JSON-safe (NaN <-> null) so that a resumed run compares against the same baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftguard.errors import BaselineMismatchError, DriftGuardError
from driftguard.types import Evaluation, ItemRecord, SuiteInfo


@dataclass
class Baseline:
    """What an evaluation is compared with: step, suite identity, metrics and per-probe values."""

    step: int
    suite: SuiteInfo
    metrics: dict[str, float]
    values: dict[str, dict[str, float]]  # probe id -> metric name -> value (only scored values)
    unscored: dict[str, int] = field(default_factory=dict)  # metric -> items unscored at the baseline
    errors: list[dict[str, Any]] = field(default_factory=list)  # the baseline pass's recorded errors
    clusters: dict[str, str] = field(default_factory=dict)  # probe id -> template cluster (absent: own unit)

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, errors: list[dict[str, Any]] | None = None) -> Baseline:
        """Pin ``evaluation``; ``errors`` are its recorded errors (kept so later reports still show them)."""
        return cls(
            step=int(evaluation.step),
            suite=evaluation.suite,
            metrics={k: float(v) for k, v in evaluation.metrics.items()},
            values=scored_values(evaluation.records, where=f"baseline at step {evaluation.step}"),
            unscored=unscored_counts(evaluation.records),
            errors=[dict(e) for e in (errors if errors is not None else recorded_errors(evaluation))],
            clusters={r.probe_id: str(r.cluster) for r in evaluation.records if r.cluster is not None},
        )

    def check_suite(self, suite: SuiteInfo, *, where: str) -> None:
        """Raise BaselineMismatchError unless ``suite`` has the baseline's fingerprint (probes; judges when both know them)."""
        if suite.sha256 == self.suite.sha256 and suite.judges and self.suite.judges and suite.judges != self.suite.judges:
            raise BaselineMismatchError(
                f"{where}: scored by judges {suite.judges_dict()}, but the baseline (step {self.step}) was scored by "
                f"{self.suite.judges_dict()}. A different judge changes the metrics without any change in the model. "
                "Fix: re-baseline with the new judges (start a fresh run or call set_baseline), or score with the "
                "baseline's judges."
            )
        if suite.sha256 != self.suite.sha256:
            raise BaselineMismatchError(
                f"{where}: suite {suite.name!r} v{suite.version} has sha256 {suite.sha256}, but the baseline "
                f"(step {self.step}) was measured on suite {self.suite.name!r} v{self.suite.version} with sha256 "
                f"{self.suite.sha256}. Fix: re-baseline on the new suite (start a fresh run or call "
                "set_baseline), or probe with the original suite file."
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "suite": self.suite.to_dict(),
            "metrics": {k: _json_float(v) for k, v in self.metrics.items()},
            "values": {pid: {k: _json_float(v) for k, v in vals.items()} for pid, vals in self.values.items()},
            "unscored": dict(self.unscored),
            "errors": [dict(e) for e in self.errors],
            "clusters": dict(self.clusters),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str = "baseline") -> Baseline:
        try:
            suite = SuiteInfo.from_dict(d["suite"])
            return cls(
                step=int(d["step"]),
                suite=suite,
                metrics={str(k): _from_json_float(v) for k, v in d["metrics"].items()},
                values={str(pid): {str(k): _from_json_float(v) for k, v in vals.items()}
                        for pid, vals in d["values"].items()},
                unscored={str(k): int(v) for k, v in d.get("unscored", {}).items()},
                errors=[dict(e) for e in d.get("errors", [])],
                clusters={str(k): str(v) for k, v in d.get("clusters", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise DriftGuardError(
                f"{where}: malformed baseline state ({type(e).__name__}: {e}); expected keys step, suite "
                "{name, version, sha256}, metrics, values. Fix: pass a dict produced by DriftDetector.state_dict()."
            ) from None


def scored_values(records: list[ItemRecord], *, where: str) -> dict[str, dict[str, float]]:
    """probe id -> {metric: value} for the values that were scored (finite, record without error)."""
    out: dict[str, dict[str, float]] = {}
    for record in records:
        if record.probe_id in out:
            raise DriftGuardError(
                f"{where}: probe id {record.probe_id!r} appears twice in the records; items are paired by id. "
                "Fix: give every probe of the (combined) suite a unique id."
            )
        if record.error is not None:
            out[record.probe_id] = {}
            continue
        out[record.probe_id] = {k: float(v) for k, v in record.values.items() if not math.isnan(float(v))}
    return out


def recorded_errors(evaluation: Evaluation) -> list[dict[str, Any]]:
    """``evaluation.errors`` plus one entry per unscored record (error or NaN) that no entry names."""
    errors = [dict(e) for e in evaluation.errors]
    named = {e.get("probe_id") for e in errors if e.get("probe_id")}
    for record in evaluation.records:
        if record.scored or record.probe_id in named:
            continue
        nan_metrics = sorted(k for k, v in record.values.items() if math.isnan(v))
        errors.append({
            "stage": "score", "step": evaluation.step, "probe_id": record.probe_id, "type": "Unscored",
            "message": record.error or f"unscored (NaN) value for {', '.join(nan_metrics)}",
        })
    return errors


def unscored_counts(records: list[ItemRecord]) -> dict[str, int]:
    """metric -> number of items that feed it but are unscored (record error or NaN value)."""
    counts: dict[str, int] = {}
    for record in records:
        for name, value in record.values.items():
            if record.error is not None or math.isnan(float(value)):
                counts[name] = counts.get(name, 0) + 1
    return counts


def paired_arrays(baseline: dict[str, dict[str, float]], current: dict[str, dict[str, float]],
                  metric: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Values of ``metric`` on the probes scored in both, in probe-id order: (baseline, current, ids)."""
    ids = sorted(pid for pid, vals in current.items() if metric in vals and metric in baseline.get(pid, {}))
    base = np.array([baseline[pid][metric] for pid in ids], dtype=float)
    cur = np.array([current[pid][metric] for pid in ids], dtype=float)
    return base, cur, ids


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # strict JSON has no NaN/Infinity


def _from_json_float(value: Any) -> float:
    return math.nan if value is None else float(value)
