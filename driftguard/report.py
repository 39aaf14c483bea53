"""The report (contract schema v1, DESIGN.md): build, write atomically, read with validation; history file.

Rendering (markdown, PNG plots) lives in :mod:`driftguard.report_render` and is re-exported here.
No torch: ``driftguard gate`` reads reports on machines without a GPU.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftguard.config import DriftGuardConfig
from driftguard.detect.baseline import Baseline, recorded_errors
from driftguard.errors import ReportError
from driftguard.report_render import plot_comparison, plot_history, render_markdown
from driftguard.schedule import metric_tiers
from driftguard.types import DIMENSIONS, Evaluation, Verdict

__all__ = [
    "SCHEMA_VERSION", "build_report", "write_report", "read_report", "validate_report", "history_row",
    "append_history", "read_history", "render_markdown", "plot_comparison", "plot_history",
]

if TYPE_CHECKING:  # the detector pulls in scipy; a CI gate reading a report needs neither
    from driftguard.detect.detector import Assessment

SCHEMA_VERSION = 1
KL_MEAN = "driftguard/kl/mean"
TOP_PROBES = 10
_VERDICTS = tuple(v.value for v in Verdict)


def build_report(
    evaluation: Evaluation,
    assessment: Assessment,
    baseline: Evaluation | Baseline | Mapping[str, Any] | None = None,
    *,
    config: DriftGuardConfig | None = None,
    checkpoint: str | None = None,
    last_passing_checkpoint: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The schema-v1 report of one evaluation (JSON-safe: NaN -> null).

    ``baseline`` (the baseline Evaluation, the detector's Baseline or ``{"step", "metrics"}``) defaults
    to what ``assessment`` recorded. ``errors`` holds this evaluation's errors and unscored items, plus
    the baseline's (marked ``"baseline": true``) when the baseline is another evaluation. ``kl`` is null
    when KL was not measured.
    """
    if baseline is None:
        base = {"step": assessment.baseline_step, "metrics": dict(assessment.baseline_metrics)}
    elif isinstance(baseline, (Evaluation, Baseline)):
        base = {"step": int(baseline.step), "metrics": dict(baseline.metrics)}
    else:
        base = {"step": int(baseline.get("step", assessment.baseline_step)),
                "metrics": dict(baseline.get("metrics", assessment.baseline_metrics))}
    errors = recorded_errors(evaluation)
    if int(evaluation.step) != base["step"]:
        errors += [{**e, "baseline": True} for e in assessment.baseline_errors]
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "step": int(evaluation.step),
        "verdict": assessment.verdict.value,
        "suite": evaluation.suite.to_dict(),
        "judges": evaluation.suite.judges_dict(),
        "baseline": base,
        "metrics": dict(evaluation.metrics),
        "regressions": [r.to_dict() for r in assessment.regressions],
        "informational": list(getattr(assessment, "informational", [])),  # metrics tested but never counted
        "kl": kl_section(evaluation),
        "reasoning": evaluation.info.get("reasoning"),
        "errors": errors,
        "multiple_testing": assessment.multiple_testing,
        "alpha": assessment.alpha,
        "patience": assessment.patience,
        "consecutive": assessment.consecutive,
        "fail_alpha": getattr(assessment, "fail_alpha", None),  # the level a FAIL had to meet here (alpha spending)
        "fail_k": dict(getattr(assessment, "fail_k", {})),  # metric -> its k in the spending sequence
        "fail_blind_metrics": list(getattr(assessment, "fail_blind_metrics", [])),  # can WARN, no longer FAIL
        "deltas": dict(assessment.deltas),
        "p_values": dict(assessment.p_values),
        "p_values_raw": dict(assessment.p_values_raw),
        "tests": dict(assessment.tests),
        "n_paired": dict(assessment.n_paired),
        "unscored": {m: dict(c) for m, c in assessment.unscored.items()},
        "untested": list(assessment.untested),
        "tier": evaluation.tier,
        "attribution": evaluation.info.get("attribution"),
        "metric_tiers": metric_tiers(evaluation.metrics),
        "checkpoint": checkpoint,
        "last_passing_checkpoint": dict(last_passing_checkpoint) if isinstance(last_passing_checkpoint, Mapping)
        else last_passing_checkpoint,
    }
    if config is not None:
        report["config"] = {"alpha": config.alpha, "kl_budget": config.kl_budget, "patience": config.patience,
                            "thresholds": dict(config.thresholds or {}), "suite": list(config.suite)}
    return _json_safe(report)


def kl_section(evaluation: Evaluation) -> dict[str, Any] | None:
    """``{mean, by_dimension, top_probes}`` from ``evaluation.kl`` / the kl metrics; None when not measured."""
    kl = evaluation.kl or {}
    mean = kl.get("mean", evaluation.metrics.get(KL_MEAN))
    if mean is None:
        return None
    by_dimension = kl.get("by_dimension") or {
        d: evaluation.metrics[f"driftguard/kl/{d}"] for d in DIMENSIONS if f"driftguard/kl/{d}" in evaluation.metrics
    }
    top = kl.get("top_probes")
    if top is None and isinstance(kl.get("per_probe"), dict):
        dims = {r.probe_id: r.dimension for r in evaluation.records}
        ranked = sorted(kl["per_probe"].items(), key=lambda kv: -kv[1])[:TOP_PROBES]
        top = [{"id": pid, "dimension": dims.get(pid, ""), "kl": value} for pid, value in ranked]
    section = {"mean": mean, "by_dimension": dict(by_dimension), "top_probes": list(top or [])}
    section.update({k: v for k, v in kl.items() if k not in section and k != "per_probe"})
    return section


def write_report(path: str | os.PathLike[str], report: dict[str, Any]) -> Path:
    """Validate and write ``report`` as JSON atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    validate_report(report, where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_json_safe(report), indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and validate a report; ReportError names the file and the offending field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such report file. Fix: point at a checkpoint dir containing driftguard.json "
                          "or at a report.json written by driftguard.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError(f"{path}: cannot read the report ({e})") from None
    try:
        report = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(f"{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg})") from None
    validate_report(report, where=str(path))
    return report


def validate_report(report: Any, *, where: str = "report") -> None:
    """Check schema_version == 1 and the required keys and their types (ReportError otherwise)."""
    if not isinstance(report, dict):
        raise ReportError(f"{where}: the report must be a JSON object, got {type(report).__name__}")
    version = report.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ReportError(f"{where}: schema_version is {version!r}, expected {SCHEMA_VERSION}. Fix: regenerate the "
                          "report with this driftguard version (or gate it with the version that wrote it).")
    _require(report, "step", int, where)
    if report.get("verdict") not in _VERDICTS:
        raise ReportError(f"{where}: field 'verdict' is {report.get('verdict')!r}, expected one of {', '.join(_VERDICTS)}")
    suite = _require(report, "suite", dict, where)
    for key in ("name", "version", "sha256"):
        _require(suite, key, str, where, prefix="suite.")
    base = _require(report, "baseline", dict, where)
    _require(base, "step", int, where, prefix="baseline.")
    _metric_map(_require(base, "metrics", dict, where, prefix="baseline."), where, "baseline.metrics")
    _metric_map(_require(report, "metrics", dict, where), where, "metrics")
    for i, reg in enumerate(_require(report, "regressions", list, where)):
        field = f"regressions[{i}]"
        if not isinstance(reg, dict):
            raise ReportError(f"{where}: field '{field}' must be an object, got {type(reg).__name__}")
        _require(reg, "metric", str, where, prefix=f"{field}.")
        for key in ("baseline", "current", "delta", "threshold"):
            _require(reg, key, (int, float), where, prefix=f"{field}.")
        if reg.get("p_value") is not None:
            _require(reg, "p_value", (int, float), where, prefix=f"{field}.")
        elif "p_value" not in reg:
            raise ReportError(f"{where}: required field '{field}.p_value' is missing (null for budget metrics)")
    counted = [r for r in report["regressions"] if not (isinstance(r, dict) and r.get("informational"))]
    if report["verdict"] == Verdict.PASS.value and counted:  # informational ones are reported under any verdict
        raise ReportError(f"{where}: field 'verdict' is 'pass' but field 'regressions' lists "
                          f"{len(counted)} regression(s); the report is inconsistent")
    for i, err in enumerate(_require(report, "errors", list, where)):
        if not isinstance(err, dict):
            raise ReportError(f"{where}: field 'errors[{i}]' must be an object, got {type(err).__name__}")
    kl = report.get("kl")
    if kl is not None:
        kl = _require(report, "kl", dict, where)
        if kl.get("mean") is not None:
            _require(kl, "mean", (int, float), where, prefix="kl.")
        if "by_dimension" in kl:
            _metric_map(_require(kl, "by_dimension", dict, where, prefix="kl."), where, "kl.by_dimension")
    judges = report.get("judges")
    if judges is not None:  # optional in schema v1: which judges scored the report (name + version per role)
        judges = _require(report, "judges", dict, where)
        for role, judge in judges.items():
            if not isinstance(judge, dict):
                raise ReportError(f"{where}: field 'judges.{role}' must be an object {{name, version}}, got {judge!r:.80}")
            for key in ("name", "version"):
                _require(judge, key, str, where, prefix=f"judges.{role}.")
    for key in ("deltas", "p_values", "p_values_raw"):
        if key in report:
            _metric_map(_require(report, key, dict, where), where, key)
    if "multiple_testing" in report:
        _require(report, "multiple_testing", str, where)


def _require(d: dict[str, Any], key: str, types: type | tuple[type, ...], where: str, prefix: str = "") -> Any:
    if key not in d:
        raise ReportError(f"{where}: required field '{prefix}{key}' is missing")
    value = d[key]
    names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
    if isinstance(value, bool) or not isinstance(value, types):
        raise ReportError(f"{where}: field '{prefix}{key}' must be {names}, got {type(value).__name__} ({value!r:.80})")
    return value


def _metric_map(d: dict[str, Any], where: str, field: str) -> None:
    for name, value in d.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ReportError(f"{where}: field '{field}[{name!r}]' must be a number or null, got {value!r:.80}")


def _json_safe(obj: Any) -> Any:
    """NaN/Infinity -> None (strict JSON), enums -> values, tuples -> lists, numpy scalars -> floats."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, Verdict):
        return obj.value
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, float) or hasattr(obj, "__float__"):
        value = float(obj)
        return value if math.isfinite(value) else None
    return str(obj)


# -- history.jsonl (contract: one object per evaluation, flushed per line) -----------------------
def history_row(report: Mapping[str, Any]) -> dict[str, Any]:
    """The history.jsonl row of a report: ``{"step", "metrics", "deltas", "regressions", "verdict", "errors"}``.

    ``regressions`` keeps each regression's metric, baseline, current, delta, p_value, threshold, informational;
    ``errors`` is the number of recorded errors.
    """
    keep = ("metric", "baseline", "current", "delta", "p_value", "threshold", "informational")
    return _json_safe({
        "step": int(report["step"]),
        "metrics": dict(report.get("metrics", {})),
        "deltas": dict(report.get("deltas", {})),
        "regressions": [{k: r.get(k) for k in keep} for r in report.get("regressions", [])],
        "verdict": report["verdict"],
        "errors": len(report.get("errors") or []),
        "tier": report.get("tier", "full"),
        **({"attribution": attribution_row(report["attribution"])} if report.get("attribution") else {}),
    })


def attribution_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The history's compact view of an attribution summary: loss change, predicted change, top steps and examples."""
    keep = ("step", "target_step", "steps", "safety_loss", "actual_change", "predicted_change", "safety_loss_refusal",
            "actual_change_refusal", "predicted_change_refusal", "ghost_ratio")
    example = ("index", "harm", "harm_refusal", "harm_overrefusal", "visits")
    return {**{k: summary.get(k) for k in keep},
            "top_steps": [{k: s.get(k) for k in ("step", "update_dot", "update_dot_refusal", "grad_dot")}
                          for s in summary.get("top_steps", [])],
            **{key: [{k: e.get(k) for k in example} for e in summary.get(key) or []]
               for key in ("top_examples", "top_refusal_examples", "top_overrefusal_examples")}}


def append_history(path: str | os.PathLike[str], row: dict[str, Any]) -> None:
    """Append one JSON line to ``path`` (parents created), flushed and fsynced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(_json_safe(row), allow_nan=False)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_history(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a history file. A torn last line (crash mid-write) is skipped with a warning."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such history file (it is written after the first evaluation)") from None
    rows = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if lineno == len(lines):  # no trailing newline: the last write was interrupted
                warnings.warn(f"{path}:{lineno}: skipping a truncated last line ({e.msg})", stacklevel=2)
                continue
            raise ReportError(f"{path}:{lineno}: invalid JSON line ({e.msg})") from None
        if not isinstance(row, dict) or "step" not in row:
            raise ReportError(f"{path}:{lineno}: a history row must be an object with a 'step' field, got {line[:80]!r}")
        rows.append(row)
    return rows
