"""One compact table per evaluation: baseline vs now, regressions highlighted (rich)."""

from __future__ import annotations

import math
from typing import Any

from driftguard.metrics import METRICS

ARROWS = {"higher": "↑", "lower": "↓", "zero": "→0"}
VERDICT_STYLE = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render_table(report: dict[str, Any], title: str | None = None):
    """A rich Table for a report dict (schema v1)."""
    from rich.table import Table

    regressed = {r["metric"]: r for r in report.get("regressions", [])}
    base = report.get("baseline", {}).get("metrics", {})
    verdict = report.get("verdict", "pass")
    table = Table(title=title or f"driftguard · step {report.get('step')} · [{VERDICT_STYLE[verdict]}]{verdict.upper()}[/]",
                  show_lines=False, title_justify="left")
    for col, justify in (("metric", "left"), ("", "center"), ("baseline", "right"), ("now", "right"),
                         ("Δ", "right"), ("p (adj.)", "right")):
        table.add_column(col, justify=justify)
    p_values = report.get("p_values", {})
    for name, value in report.get("metrics", {}).items():
        spec = METRICS.get(name)
        before = base.get(name)
        delta = value - before if isinstance(before, int | float) and isinstance(value, int | float) else None
        style = "bold red" if name in regressed else None
        table.add_row(name.removeprefix("driftguard/"), ARROWS.get(spec.direction, "") if spec else "",
                      _fmt(before), _fmt(value), _fmt(delta), _fmt(p_values.get(name)), style=style)
    if report.get("errors"):
        table.caption = f"[red]{len(report['errors'])} error(s) recorded — gate will refuse this checkpoint[/]"
    return table


def print_report(report: dict[str, Any], title: str | None = None) -> None:
    """Print the table to the console (rank 0 only; the caller checks)."""
    from rich.console import Console

    Console(stderr=False, width=110).print(render_table(report, title))


ALERT_STYLE = {"INFO": "bold green", "WARN": "bold yellow", "ERROR": "bold red"}


def print_alert(where: str, level: str, title: str, text: str) -> None:
    """Echo an alert that was sent to a tracker, so a console user sees what paged the team."""
    from rich.console import Console
    from rich.markup import escape

    style = ALERT_STYLE.get(level, "bold")
    Console(stderr=False, width=110).print(f"[{style}]{where} alert {level}[/]: {escape(title)}\n  {escape(text)}")
