"""trackio alerts: the same policy alerts as the W&B sink, sent with ``trackio.alert``.

trackio is optional and not a dependency of driftguard. Everything here is a no-op unless the
training script imported trackio and a trackio run is active. trackio has no cool-down of its
own; driftguard's (``alert_cooldown_steps``) applies. Metrics reach trackio through the Trainer's
own log stream, so this sink sends alerts only.
"""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.sinks.alerts import Alert, RunAlertPolicies

logger = logging.getLogger(__name__)


def active_trackio_run() -> Any | None:
    """The current trackio run, or None (trackio not imported or no run started)."""
    trackio = sys.modules.get("trackio")  # a run needs trackio imported: never import it ourselves
    if trackio is None:
        return None
    context_vars = getattr(trackio, "context_vars", None)
    current = getattr(context_vars, "current_run", None)
    try:
        return current.get() if current is not None else None
    except Exception:
        return None


class TrackioSink:
    """Sends driftguard alerts to the active trackio run (rank 0 only)."""

    def __init__(self, config: DriftGuardConfig) -> None:
        self.config = config
        self.alerts = RunAlertPolicies(config)  # run id -> alert state; survives a resume via the callback

    def log_evaluation(self, report: dict[str, Any], worst_items: list[dict[str, Any]] | None = None, *, step: int,
                       checkpoint: str | None = None) -> None:
        """Send the alerts this evaluation triggers (``worst_items`` is accepted for symmetry, unused)."""
        run = active_trackio_run()
        if run is None:
            return
        key = str(getattr(run, "id", None) or id(run))
        policy = self.alerts.for_run(key)
        for alert in policy.update(report, step=step, checkpoint=checkpoint):
            try:
                send_trackio_alert(run, alert)  # trackio prints its alerts on the terminal itself
            except Exception as e:  # a monitoring failure must not stop training
                logger.warning("driftguard: trackio sink: alert failed: %s: %s", type(e).__name__, e)

    def finish(self) -> None:
        """Forget per-run alert state."""
        self.alerts.clear()


def _accepts(fn: Any, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def send_trackio_alert(run: Any, alert: Alert) -> None:
    """Send one policy alert with ``run.alert`` (``step=`` where that trackio version takes it), else ``trackio.alert``."""
    trackio = sys.modules["trackio"]
    level = trackio.AlertLevel[alert.level.name]  # trackio's values are lower-case, the names match ours
    send = getattr(run, "alert", None)
    if callable(send):
        extra = {"step": alert.step} if _accepts(send, "step") else {}
        send(title=alert.title, text=alert.text, level=level, **extra)
    else:
        trackio.alert(title=alert.title, text=alert.text, level=level)
