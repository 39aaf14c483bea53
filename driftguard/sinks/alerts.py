"""Alert policy shared by the W&B and trackio sinks: which alerts an evaluation triggers.

Pure logic, no tracker imports. Rules, per metric (``driftguard/<dimension>/<metric>``):

- a metric that starts regressing alerts at the verdict's level (warn -> WARN, fail -> ERROR),
  unless the same metric was alerted at that level less than ``cooldown_steps`` steps ago;
- escalation (regressed at WARN, now at ERROR) always alerts;
- a regression that persists at the same (or a lower) level does not alert again;
- a metric that had failed (ERROR) and is no longer regressed sends a recovery INFO alert,
  under the same cool-down.

A warn/fail verdict without any regressed metric (e.g. probe errors) is tracked under the
pseudo-metric ``driftguard/verdict``. Alerts of one evaluation are grouped: one per level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from driftguard.metrics import VERDICT_METRIC

TITLE_MAX_CHARS = 63  # W&B: "must be less than 64 characters"


class AlertLevel(str, Enum):
    """Alert severity; the values are W&B's level strings."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"

    @property
    def rank(self) -> int:
        return {"INFO": 0, "WARN": 1, "ERROR": 2}[self.value]


VERDICT_LEVELS: dict[str, AlertLevel] = {"warn": AlertLevel.WARN, "fail": AlertLevel.ERROR}


@dataclass(frozen=True)
class Alert:
    """One alert to send: the metrics it is about, for the given step."""

    level: AlertLevel
    title: str
    text: str
    metrics: tuple[str, ...]
    step: int


@dataclass
class AlertState:
    """What the policy remembers between evaluations (JSON-serialisable via to_dict/from_dict)."""

    regressed: dict[str, AlertLevel] = field(default_factory=dict)
    last_sent: dict[tuple[str, AlertLevel], int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "regressed": {m: lv.value for m, lv in self.regressed.items()},
            "last_sent": [[m, lv.value, s] for (m, lv), s in self.last_sent.items()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlertState:
        return cls(
            regressed={m: AlertLevel(v) for m, v in d.get("regressed", {}).items()},
            last_sent={(m, AlertLevel(v)): int(s) for m, v, s in d.get("last_sent", [])},
        )


def plan_alerts(
    state: AlertState, report: dict[str, Any], *, step: int, cooldown_steps: int = 0, checkpoint: str | None = None
) -> tuple[list[Alert], AlertState]:
    """The alerts ``report`` triggers given ``state``, and the next state (``state`` is not modified)."""
    level = VERDICT_LEVELS.get(str(report.get("verdict", "pass")).lower())
    regressions = {r["metric"]: r for r in report.get("regressions") or []
                   if "metric" in r and not r.get("informational")}  # informational metrics never alert
    now: dict[str, AlertLevel] = {}
    if level is not None:
        now = {m: level for m in regressions} or {VERDICT_METRIC: level}

    def cooled(metric: str, lv: AlertLevel) -> bool:
        last = state.last_sent.get((metric, lv))
        return last is None or step < last or step - last >= cooldown_steps

    fire: dict[AlertLevel, list[str]] = {AlertLevel.ERROR: [], AlertLevel.WARN: [], AlertLevel.INFO: []}
    for metric, lv in now.items():
        prev = state.regressed.get(metric)
        if (prev is None and cooled(metric, lv)) or (prev is not None and lv.rank > prev.rank):
            fire[lv].append(metric)
    for metric, prev in state.regressed.items():
        if metric not in now and prev is AlertLevel.ERROR and cooled(metric, AlertLevel.INFO):
            fire[AlertLevel.INFO].append(metric)

    alerts: list[Alert] = []
    last_sent = dict(state.last_sent)
    for lv, metrics in fire.items():
        if not metrics:
            continue
        for m in metrics:
            last_sent[(m, lv)] = step
        alerts.append(_build_alert(lv, metrics, report, step=step, checkpoint=checkpoint, persisting=now))
    return alerts, AlertState(regressed=now, last_sent=last_sent)


class AlertPolicy:
    """Stateful wrapper of :func:`plan_alerts` for one run; ``enabled=False`` sends nothing."""

    def __init__(self, cooldown_steps: int = 0, enabled: bool = True) -> None:
        self.cooldown_steps = max(int(cooldown_steps), 0)
        self.enabled = enabled
        self.state = AlertState()

    @classmethod
    def from_config(cls, config: Any) -> AlertPolicy:
        """From a DriftGuardConfig (``alert_cooldown_steps``, ``wandb_alerts``)."""
        return cls(getattr(config, "alert_cooldown_steps", 0), getattr(config, "wandb_alerts", True))

    def update(self, report: dict[str, Any], *, step: int, checkpoint: str | None = None) -> list[Alert]:
        """Advance the state with ``report``; the alerts to send now."""
        if not self.enabled:
            return []
        alerts, self.state = plan_alerts(
            self.state, report, step=step, cooldown_steps=self.cooldown_steps, checkpoint=checkpoint
        )
        return alerts


class RunAlertPolicies:
    """One :class:`AlertPolicy` per tracker run; the latest run's state is what a resume restores.

    A resumed training run often logs to a new tracker run: the restored state seeds the first policy
    created after :meth:`load_state_dict`, so a regression that persists across the resume is not re-alerted.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self._by_run: dict[str, AlertPolicy] = {}
        self._latest: AlertPolicy | None = None
        self._restored: AlertState | None = None

    def for_run(self, run_id: str) -> AlertPolicy:
        """The policy of ``run_id`` (created on first use, from the restored state if there is one)."""
        policy = self._by_run.get(run_id)
        if policy is None:
            policy = self._by_run[run_id] = AlertPolicy.from_config(self.config)
            if self._restored is not None:
                policy.state, self._restored = self._restored, None
        self._latest = policy
        return policy

    def state_dict(self) -> dict[str, Any] | None:
        """The latest run's alert state (JSON-safe), or the restored one not yet used; None before any."""
        if self._latest is not None:
            return self._latest.state.to_dict()
        return self._restored.to_dict() if self._restored is not None else None

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        """Restore :meth:`state_dict` (None: nothing to restore)."""
        self._restored = AlertState.from_dict(state) if state else None

    def clear(self) -> None:
        """Forget every run's state (the restored state is kept for the next run)."""
        self._by_run.clear()
        self._latest = None


def dimension_of(metric: str) -> str:
    """``driftguard/safety/harmful_refusal_rate`` -> ``safety``."""
    parts = metric.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "driftguard" else metric.removeprefix("driftguard/")


def short_title(prefix: str, labels: list[str], suffix: str = "") -> str:
    """``prefix`` + as many labels as fit in TITLE_MAX_CHARS, then ``+N more``, then ``suffix``."""
    for keep in range(len(labels), 0, -1):
        more = f" +{len(labels) - keep} more" if keep < len(labels) else ""
        title = f"{prefix}{', '.join(labels[:keep])}{more}{suffix}"
        if len(title) <= TITLE_MAX_CHARS:
            return title
    return f"{prefix}{len(labels)} metrics{suffix}"[:TITLE_MAX_CHARS]


def _fmt(x: Any, spec: str = ".4g") -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return "n/a" if x is None else str(x)
    return "nan" if math.isnan(x) else format(x, spec)


def _regression_line(r: dict[str, Any]) -> str:
    name = str(r.get("metric", "?")).removeprefix("driftguard/")
    return (f"- {name}: {_fmt(r.get('baseline'))} -> {_fmt(r.get('current'))} (delta {_fmt(r.get('delta'), '+.4g')}, "
            f"p={_fmt(r.get('p_value'), '.2g')}, threshold {_fmt(r.get('threshold'))})")


def _build_alert(
    level: AlertLevel, metrics: list[str], report: dict[str, Any], *, step: int, checkpoint: str | None,
    persisting: dict[str, AlertLevel],
) -> Alert:
    regressions = {r["metric"]: r for r in report.get("regressions") or [] if "metric" in r}
    errors = report.get("errors") or []
    where = f"step {step}" + (f", checkpoint {checkpoint}" if checkpoint else "")
    lines: list[str] = []
    if level is AlertLevel.INFO:
        dims = sorted({dimension_of(m) for m in metrics})
        title = short_title("driftguard recovered: ", dims)
        lines.append(f"No longer regressed at {where} (verdict {report.get('verdict', '?')}):")
        base = (report.get("baseline") or {}).get("metrics") or {}
        cur = report.get("metrics") or {}
        for m in metrics:
            name = m.removeprefix("driftguard/")
            lines.append(f"- {name}: baseline {_fmt(base.get(m))}, now {_fmt(cur.get(m))}")
    else:
        word = "FAIL" if level is AlertLevel.ERROR else "WARN"
        if metrics == [VERDICT_METRIC]:
            label = f"{len(errors)} probe error(s)" if errors else f"verdict {report.get('verdict')}"
            title = short_title(f"driftguard {word}: ", [label])
        else:
            dims = sorted({dimension_of(m) for m in metrics})
            title = short_title(f"driftguard {word}: ", dims, " regressed")
        lines.append(f"Verdict {str(report.get('verdict', '?')).upper()} at {where}.")
        lines.extend(_regression_line(regressions[m]) for m in metrics if m in regressions)
        others = [m for m in persisting if m not in metrics and m in regressions]
        if others:
            lines.append("Still regressed:")
            lines.extend(_regression_line(regressions[m]) for m in others)
        if errors:
            lines.append(f"{len(errors)} probe-pass error(s) recorded (a gate does not pass on errors).")
    last_ok = report.get("last_passing_checkpoint")
    if last_ok:
        lines.append(f"Last passing checkpoint: {last_ok}")
    return Alert(level=level, title=title, text="\n".join(lines), metrics=tuple(metrics), step=step)
