"""``driftguard gate PATH``: may this checkpoint be promoted? Exit 0 promote, 1 regression, 2 missing/invalid.

Fails closed: a missing or invalid report, an invalid policy, or a report that records errors
(unverified probes) exits 2. No torch: CI gates from the report file alone.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftguard.errors import ConfigError, ReportError
from driftguard.metrics import METRICS, get_metric
from driftguard.report import read_report
from driftguard.types import Verdict

EXIT_PROMOTE, EXIT_REGRESSION, EXIT_INVALID = 0, 1, 2
REPORT_NAMES = ("driftguard.json", "report.json")
KL_MEAN = "driftguard/kl/mean"
_POLICY_KEYS = ("max_verdict", "max_delta", "max_kl")


@dataclass
class GatePolicy:
    """Limits a report must stay within: the worst verdict, adverse change per metric, max KL values."""

    max_verdict: Verdict = Verdict.PASS
    max_delta: dict[str, float] = field(default_factory=dict)
    max_kl: dict[str, float] = field(default_factory=dict)


def run_gate(path: str, *, max_verdict: str = "pass", policy: str | None = None) -> int:
    """Gate the report at ``path`` (checkpoint dir or report file); prints the reason, returns the exit code.

    A policy file's ``max_verdict`` replaces the ``max_verdict`` argument.
    """
    try:
        report_path = resolve_report(Path(path))
        report = read_report(report_path)
        rules = load_policy(policy, max_verdict=max_verdict) if policy else GatePolicy(_verdict(max_verdict, "--max-verdict"))
    except (ReportError, ConfigError) as e:
        print(f"driftguard gate: cannot verify, not promoting (exit 2): {e}", file=sys.stderr)
        return EXIT_INVALID
    errors = report["errors"]
    if errors:
        stages = sorted({str(e.get("stage", "?")) for e in errors})
        at_baseline = sum(1 for e in errors if e.get("baseline"))
        where = f"; {at_baseline} of them in the baseline evaluation" if at_baseline else ""
        print(f"driftguard gate: {report_path}: {len(errors)} error(s) recorded ({', '.join(stages)}{where}); some probes "
              "are unverified, so the checkpoint must not be promoted (exit 2). Fix the errors and re-run the audit.",
              file=sys.stderr)
        for e in errors[:5]:
            print(f"  - {e.get('probe_id') or e.get('stage', '?')}: {str(e.get('message', ''))[:160]}", file=sys.stderr)
        return EXIT_INVALID
    problems, missing = check_report(report, rules)
    if missing:
        print(f"driftguard gate: {report_path}: cannot verify the policy (exit 2): " + "; ".join(missing), file=sys.stderr)
        return EXIT_INVALID
    header = f"driftguard gate: {report_path}: step {report['step']}, verdict {report['verdict']}"
    if problems:
        print(f"{header}: REGRESSION, not promoting (exit 1)", file=sys.stderr)
        for line in problems:
            print(f"  - {line}", file=sys.stderr)
        return EXIT_REGRESSION
    print(f"{header} (allowed up to {rules.max_verdict.value}): promote (exit 0)")
    for reg in report["regressions"]:  # tolerated by --max-verdict warn: still worth seeing
        print(f"  - tolerated: {_describe(reg)}")
    return EXIT_PROMOTE


def resolve_report(path: Path) -> Path:
    """A checkpoint dir -> its driftguard.json (or an audit dir's report.json); a file stays itself."""
    if path.is_dir():
        for name in REPORT_NAMES:
            if (path / name).is_file():
                return path / name
        raise ReportError(f"{path}: directory has no {' or '.join(REPORT_NAMES)}; was driftguard attached when this "
                          "checkpoint was saved? Fix: run `driftguard audit` on it, or gate the report file directly.")
    if not path.exists():
        raise ReportError(f"{path}: no such file or directory")
    return path


def check_report(report: dict[str, Any], policy: GatePolicy) -> tuple[list[str], list[str]]:
    """(violations, unverifiable limits) of ``report`` under ``policy``."""
    problems: list[str] = []
    missing: list[str] = []
    verdict = Verdict(report["verdict"])
    if verdict.level > policy.max_verdict.level:
        problems.append(f"verdict {verdict.value} is above the allowed {policy.max_verdict.value}")
        problems += [_describe(r) for r in report["regressions"] if not r.get("informational")]
    metrics, base = report["metrics"], report["baseline"]["metrics"]
    for name, allowed in policy.max_delta.items():
        spec = METRICS[name]
        cur = metrics.get(name)
        ref = base.get(name, 0.0 if spec.test == "budget" else None)
        if not _finite(cur) or not _finite(ref):
            missing.append(f"policy max_delta[{name!r}] but the report has no value for it (now {cur!r}, baseline {ref!r})")
            continue
        adverse = spec.badness(cur) - spec.badness(ref)
        if adverse > allowed:
            problems.append(f"{name}: {ref:.4g} -> {cur:.4g}, adverse change {adverse:+.4g} exceeds max_delta {allowed:g}")
    for name, limit in policy.max_kl.items():
        value = metrics.get(name)
        if value is None and name == KL_MEAN:
            value = (report.get("kl") or {}).get("mean")
        if not _finite(value):
            missing.append(f"policy max_kl[{name!r}] but KL was not measured in this report")
        elif value > limit:
            problems.append(f"{name} = {value:.4g} exceeds max_kl {limit:g}")
    return problems, missing


def load_policy(path: str | Path, *, max_verdict: str = "pass") -> GatePolicy:
    """Parse a YAML policy (``safe_load``): ``max_verdict``, ``max_delta: {metric: x}``, ``max_kl: x | {metric: x}``."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such policy file") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML ({e})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a policy must be a mapping with keys {', '.join(_POLICY_KEYS)}, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_POLICY_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown policy field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(_POLICY_KEYS)}")
    policy = GatePolicy(_verdict(data.get("max_verdict", max_verdict), f"{path}: max_verdict"))
    policy.max_delta = _limits(data.get("max_delta", {}), f"{path}: max_delta")
    max_kl = data.get("max_kl", {})
    policy.max_kl = _limits({KL_MEAN: max_kl} if _is_number(max_kl) else max_kl, f"{path}: max_kl")
    for name in policy.max_kl:
        if METRICS[name].test != "budget":
            raise ConfigError(f"{path}: max_kl[{name!r}]: not a KL metric; use max_delta for it")
    return policy


def _limits(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping of metric name -> number, got {raw!r}")
    out = {}
    for name, value in raw.items():
        try:
            full = get_metric(str(name)).name
        except ConfigError as e:
            raise ConfigError(f"{where}[{name!r}]: {e}") from None
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where}[{name!r}] = {value!r}: must be a number >= 0 (the allowed change)")
        out[full] = float(value)
    return out


def _verdict(value: Any, where: str) -> Verdict:
    if value not in ("pass", "warn"):
        raise ConfigError(f"{where} = {value!r}: use 'pass' or 'warn'")
    return Verdict(value)


def _describe(reg: dict[str, Any]) -> str:
    p = f", p (adjusted) = {reg['p_value']:.2g}" if reg.get("p_value") is not None else ""
    return (f"{reg['metric']}: {reg['baseline']:.4g} -> {reg['current']:.4g} (delta {reg['delta']:+.4g}, "
            f"threshold {reg['threshold']:g}{p})")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)
