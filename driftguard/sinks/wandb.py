"""Weights & Biases sink: driftguard metrics, alerts, worst-probe tables and the report artifact.

Called on world-rank 0 by the callback. **driftguard never starts a W&B run** (so there is never a
second one): it logs into the run that the Trainer's ``WandbCallback`` (``report_to="wandb"``) or the
user (``wandb.init``) opened. Every method is a no-op, with one info message per sink, when no run is
active (wandb never imported or not installed, ``wandb.run`` is None, the run is disabled or
finished). The run is looked up at each call, never cached: the Trainer may re-initialise it. A
failure inside W&B is logged as a warning and never interrupts training.

Rows are logged with ``run.log(row)`` carrying ``train/global_step`` -- never ``step=``, which would
collide with the Trainer's own rows and make W&B drop them -- and ``define_metric`` plots every
``driftguard/*`` series against ``train/global_step`` (as ``WandbCallback`` does for its own series).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.metrics import ERRORS_METRIC, METRICS, REGRESSIONS_METRIC, VERDICT_METRIC
from driftguard.sinks.alerts import Alert, RunAlertPolicies
from driftguard.sinks.console import print_alert
from driftguard.types import Verdict

logger = logging.getLogger(__name__)

STEP_METRIC = "train/global_step"
TABLE_KEY = "driftguard/worst_probes"
TABLE_COLUMNS = ("step", "dimension", "probe_id", "metric", "prompt", "baseline_answer", "current_answer",
                 "baseline_reasoning", "current_reasoning", "baseline_score", "current_score")
WORST_VERDICT_KEY = "driftguard/worst_verdict"
VERDICT_ORDER = tuple(v.value for v in Verdict)  # pass < warn < fail
ARTIFACT_TYPE = "driftguard-report"
FAIL_TAG = "driftguard-fail"
ALERT_WAIT_SECONDS = 1  # W&B's own per-title throttle; our step-based cool-down is the policy
MAX_TEXT_CHARS = 2000


def active_wandb_run() -> Any | None:
    """The live W&B run, or None (wandb not imported, no run, disabled, finished)."""
    return _lookup_run()[0]


def _lookup_run() -> tuple[Any | None, str]:
    """(run, "") or (None, why there is none)."""
    wandb = sys.modules.get("wandb")  # a run needs wandb imported: never import it ourselves
    if wandb is None:
        return None, "wandb is not imported (not installed, or no run was started)"
    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        return None, "WANDB_MODE=disabled"
    run = getattr(wandb, "run", None)
    if run is None:
        return None, "no active wandb run (use report_to='wandb' or call wandb.init() before training)"
    try:
        if run.disabled:
            return None, "the wandb run is disabled"
        if getattr(run, "_is_finished", False):
            return None, "the wandb run is finished"
    except Exception as e:
        return None, f"the wandb run is unusable ({type(e).__name__}: {e})"
    return run, ""


def summary_ops(metric: str) -> str:
    """W&B summary aggregation of a metric in its good direction ("max,last", "min,last", "last")."""
    if metric == VERDICT_METRIC:
        return "none"  # the run summary holds the verdict string instead
    if metric in (REGRESSIONS_METRIC, ERRORS_METRIC):
        return "max,last"
    spec = METRICS.get(metric)
    if spec is None or spec.direction == "zero":
        return "last"
    return "max,last" if spec.direction == "higher" else "min,last"


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def metrics_row(report: dict[str, Any]) -> dict[str, float]:
    """The ``driftguard/*`` values of one evaluation (metrics, KL, verdict level, counts)."""
    row: dict[str, float] = {}
    for name, value in (report.get("metrics") or {}).items():
        v = _number(value)
        if v is not None and str(name).startswith("driftguard/"):
            row[name] = v
    kl = report.get("kl") or {}
    if _number(kl.get("mean")) is not None:
        row.setdefault("driftguard/kl/mean", float(kl["mean"]))
    for dim, value in (kl.get("by_dimension") or {}).items():
        if _number(value) is not None:
            row.setdefault(f"driftguard/kl/{dim}", float(value))
    try:
        row[VERDICT_METRIC] = float(Verdict(str(report.get("verdict", "pass")).lower()).level)
    except ValueError:
        row[VERDICT_METRIC] = float("nan")
    row[REGRESSIONS_METRIC] = float(len(report.get("regressions") or []))
    row[ERRORS_METRIC] = float(len(report.get("errors") or []))
    return row


def _cell(x: Any) -> Any:
    if x is None or isinstance(x, bool | int):
        return x
    if isinstance(x, float):
        return None if math.isnan(x) else x
    text = str(x)
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "…"


def table_rows(worst_items: list[dict[str, Any]], step: int) -> list[list[Any]]:
    """Rows of the worst-probes table, in TABLE_COLUMNS order."""
    return [[step, *(_cell(item.get(c)) for c in TABLE_COLUMNS[1:])] for item in worst_items]


ATTRIBUTION_KEY = "driftguard/attribution"
ATTRIBUTION_COLUMNS = ("step", "ranked_by", "rank", "dataset_index", "harm", "harm_refusal", "harm_overrefusal",
                       "visits", "last_step", "preview")
ATTRIBUTION_RANKINGS = (("harm", "top_examples"), ("harm_refusal", "top_refusal_examples"),
                        ("harm_overrefusal", "top_overrefusal_examples"))


def attribution_rows(summary: dict[str, Any], step: int) -> list[list[Any]]:
    """Rows of the attribution table: this interval's top examples by harm and by each half of it (``ranked_by``),
    in ATTRIBUTION_COLUMNS order."""
    return [[step, by, rank, e.get("index"), *(_cell(e.get(k)) for k in ("harm", "harm_refusal", "harm_overrefusal")),
             e.get("visits"), e.get("last_step"), _cell(e.get("preview"))]
            for by, key in ATTRIBUTION_RANKINGS for rank, e in enumerate(summary.get(key) or [], start=1)]


class WandbSink:
    """Logs driftguard evaluations to the active W&B run (rank 0 only)."""

    def __init__(self, config: DriftGuardConfig) -> None:
        self.config = config
        self._defined: dict[str, set[str]] = {}  # run -> metric names already defined
        self.alerts = RunAlertPolicies(config)  # run id -> alert state; survives a resume via the callback
        self._worst: dict[str, str] = {}  # run id -> worst verdict so far
        self._told_noop = False

    def _run(self) -> Any | None:
        """The active run; the first time there is none, say why (once per sink)."""
        run, why = _lookup_run()
        if run is None and not self._told_noop:
            self._told_noop = True
            logger.info("driftguard: W&B logging is off: %s", why)
        return run

    def log_evaluation(self, report: dict[str, Any], worst_items: list[dict[str, Any]] | None = None, *, step: int,
                       checkpoint: str | None = None) -> None:
        """Log one evaluation: metrics (+ worst-probes table) in one history row, verdict, alerts.

        ``checkpoint`` names the checkpoint in alert texts (default: ``report["checkpoint"]``).
        """
        run = self._run()
        if run is None:
            return
        wandb = sys.modules["wandb"]
        row: dict[str, Any] = dict(metrics_row(report))
        self._guard("define_metric", lambda: self._define_metrics(run, row))
        rows = table_rows(worst_items or [], step)
        if rows:
            try:
                row[TABLE_KEY] = wandb.Table(columns=list(TABLE_COLUMNS), data=rows, allow_mixed_types=True)
            except Exception as e:
                logger.warning("driftguard: W&B sink: worst-probes table failed: %s: %s", type(e).__name__, e)
        attribution = report.get("attribution") or {}
        if attribution.get("top_examples"):
            try:
                row[ATTRIBUTION_KEY] = wandb.Table(columns=list(ATTRIBUTION_COLUMNS),
                                                   data=attribution_rows(attribution, step), allow_mixed_types=True)
            except Exception as e:
                logger.warning("driftguard: W&B sink: attribution table failed: %s: %s", type(e).__name__, e)
        row[STEP_METRIC] = step
        self._guard("log", lambda: run.log(row))  # never step=: it would collide with the Trainer's rows
        self._guard("summary/tags", lambda: self._mark_verdict(run, report.get("verdict")))
        checkpoint = checkpoint or report.get("checkpoint")
        self._guard("alert", lambda: self._send_alerts(run, report, step=step, checkpoint=checkpoint))

    def log_report_artifact(self, report_path: str | Path, *, step: int) -> None:
        """Log the checkpoint report as artifact ``driftguard-report-<run id>`` (aliases latest, step-N).

        ``report_path`` is the report file or its checkpoint folder; the metadata holds the step, the
        verdict and the checkpoint (the report's ``checkpoint`` field, else the folder name).
        """
        run = self._run()
        if run is None:
            return
        wandb = sys.modules["wandb"]
        path = Path(report_path)
        if path.is_dir():
            path = path / "driftguard.json"
        verdict: str | None = None
        checkpoint: str | None = path.parent.name
        try:
            saved = json.loads(path.read_text())
            verdict = saved.get("verdict")
            checkpoint = saved.get("checkpoint") or checkpoint
        except (OSError, ValueError, AttributeError) as e:
            logger.warning("driftguard: W&B sink: report %s unreadable (%s); logging it as is", path, e)

        def log() -> None:
            art = wandb.Artifact(f"{ARTIFACT_TYPE}-{run.id}", type=ARTIFACT_TYPE,
                                 description=f"driftguard report at step {step}",
                                 metadata={"step": step, "verdict": verdict, "checkpoint": checkpoint})
            art.add_file(str(path), name="driftguard.json")
            run.log_artifact(art, aliases=["latest", f"step-{step}"])

        if path.is_file():
            self._guard("log_artifact", log)
        else:
            logger.warning("driftguard: W&B sink: no report file at %s; artifact not logged", path)
        self._guard("summary/tags", lambda: self._mark_verdict(run, verdict))

    def finish(self) -> None:
        """Forget per-run state (the run itself belongs to the Trainer and is not closed here)."""
        self._defined.clear()
        self.alerts.clear()
        self._worst.clear()

    # -- internals ---------------------------------------------------------------------------

    def _define_metrics(self, run: Any, row: dict[str, Any]) -> None:
        key = f"{run.id}:{id(run)}"  # a re-initialised run (same id, new object) needs its metrics defined again
        defined = self._defined.get(key)
        if defined is None:
            run.define_metric(STEP_METRIC)
            run.define_metric("driftguard/*", step_metric=STEP_METRIC, step_sync=True)
            defined = self._defined[key] = set()
        for name in sorted(set(row) - defined):
            run.define_metric(name, step_metric=STEP_METRIC, step_sync=True, summary=summary_ops(name))
            defined.add(name)

    def _mark_verdict(self, run: Any, verdict: Any) -> None:
        """Summary ``driftguard/verdict`` (latest) and ``driftguard/worst_verdict``; tag the run on fail."""
        if not isinstance(verdict, str) or verdict.lower() not in VERDICT_ORDER:
            return
        verdict = verdict.lower()
        worst = max(verdict, self._worst.get(run.id, Verdict.PASS.value), key=VERDICT_ORDER.index)
        self._worst[run.id] = worst
        run.summary[VERDICT_METRIC] = verdict
        run.summary[WORST_VERDICT_KEY] = worst
        if verdict == Verdict.FAIL.value and FAIL_TAG not in (run.tags or ()):
            run.tags = (*(run.tags or ()), FAIL_TAG)

    def _send_alerts(self, run: Any, report: dict[str, Any], *, step: int, checkpoint: str | None) -> None:
        policy = self.alerts.for_run(str(run.id))
        for alert in policy.update(report, step=step, checkpoint=checkpoint):
            send_wandb_alert(run, alert)
            print_alert("W&B", alert.level.value, alert.title, alert.text)

    @staticmethod
    def _guard(what: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception as e:  # a monitoring failure must not stop training
            logger.warning("driftguard: W&B sink: %s failed: %s: %s", what, type(e).__name__, e)


def send_wandb_alert(run: Any, alert: Alert) -> None:
    """Send one policy alert through ``run.alert``."""
    wandb = sys.modules["wandb"]
    run.alert(title=alert.title, text=alert.text, level=wandb.AlertLevel(alert.level.value),
              wait_duration=ALERT_WAIT_SECONDS)
