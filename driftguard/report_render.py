"""Human views of a report: a markdown summary and PNG plots (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftguard.metrics import METRICS
from driftguard.types import DIMENSIONS

_ARROWS = {"higher": "↑ higher", "lower": "↓ lower", "zero": "→ 0"}
_VERDICT_COLORS = {"warn": "#f0a202", "fail": "#d62828"}


def render_markdown(report: dict[str, Any]) -> str:
    """A readable summary: verdict, metric table (regressions marked), KL, top drifting probes, errors."""
    regressed = {r["metric"]: r for r in report.get("regressions", [])}
    suite = report.get("suite", {})
    base = report.get("baseline", {})
    lines = [
        f"# driftguard report: **{str(report.get('verdict', '?')).upper()}** at step {report.get('step')}",
        "",
        f"Suite `{suite.get('name')}` v{suite.get('version')} (sha256 `{str(suite.get('sha256', ''))[:12]}`), "
        f"baseline step {base.get('step')}; {report.get('multiple_testing', 'holm')}-adjusted p-values, "
        f"alpha = {report.get('alpha', '?')}.",
    ]
    if report.get("judges"):
        lines.append("Judges: " + ", ".join(f"{role} `{j.get('name')}` v{j.get('version')}"
                                            for role, j in sorted(report["judges"].items())) + ".")
    if report.get("tier") == "forward":
        lines.append("Tier: forward passes only (mechanism, refusal margin, option scores, KL); the generation "
                     "probes ran at the last full evaluation.")
    if report.get("checkpoint"):
        lines.append(f"Checkpoint: `{report['checkpoint']}`.")
    lines += _checkpoint_line(report.get("last_passing_checkpoint"))
    lines += ["", f"## Metrics ({len(regressed)} regressed)", "",
              "| metric | direction | baseline | now | delta | p (adj.) | |", "|---|---|---:|---:|---:|---:|---|"]
    metrics, base_metrics = report.get("metrics", {}), base.get("metrics", {})
    deltas, p_values = report.get("deltas", {}), report.get("p_values", {})
    for name in _metric_order({**base_metrics, **metrics}):
        if METRICS.get(name) and METRICS[name].test == "budget" and name.startswith("driftguard/kl/"):
            continue  # KL has its own section
        direction = _ARROWS.get(METRICS[name].direction, "") if name in METRICS else ""
        delta = deltas.get(name, _diff(metrics.get(name), base_metrics.get(name)))
        marker = ("informational: regressed" if regressed[name].get("informational") else "**REGRESSED**") \
            if name in regressed else ""
        lines.append(f"| {name.removeprefix('driftguard/')} | {direction} | {_fmt(base_metrics.get(name))} | "
                     f"{_fmt(metrics.get(name))} | {_fmt(delta, signed=True)} | {_fmt_p(p_values.get(name))} | {marker} |")
    lines += _unscored_lines(report.get("unscored") or {}, report.get("untested") or [])
    lines += _kl_lines(report.get("kl"), regressed)
    lines += _attribution_lines(report.get("attribution"))
    errors = report.get("errors", [])
    lines += ["", f"## Errors ({len(errors)})", ""]
    if errors:
        lines.append("Errors were recorded: some probes are unverified, so `driftguard gate` refuses this report.")
        lines.append("")
        lines += [f"- step {e.get('step', '?')} · {e.get('stage', '?')} · {e.get('probe_id', '')} "
                  f"{e.get('type', '')}: {str(e.get('message', ''))[:200]}" for e in errors[:50]]
        if len(errors) > 50:
            lines.append(f"- … and {len(errors) - 50} more")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _unscored_lines(unscored: dict[str, Any], untested: list[str]) -> list[str]:
    """Items left out of the pairing (unscored at the baseline or now), and metrics with nothing to pair."""
    rows = [(m, c) for m, c in unscored.items() if isinstance(c, dict) and (c.get("baseline") or c.get("current"))]
    if not rows and not untested:
        return []
    lines = ["", "## Unscored items (left out of the paired tests)", ""]
    if rows:
        lines += ["| metric | unscored at baseline | unscored now |", "|---|---:|---:|"]
        lines += [f"| {m.removeprefix('driftguard/')} | {c.get('baseline', 0)} | {c.get('current', 0)} |" for m, c in rows]
    if untested:
        lines += ["", "Not tested (no item scored both at the baseline and now): "
                  + ", ".join(f"`{m.removeprefix('driftguard/')}`" for m in untested) + "."]
    return lines


def _checkpoint_line(last: Any) -> list[str]:
    if not last:
        return []
    path = last.get("path") if isinstance(last, dict) else last
    step = f" (step {last['step']})" if isinstance(last, dict) and "step" in last else ""
    return [f"Last passing checkpoint: `{path}`{step}."]


def _kl_lines(kl: dict[str, Any] | None, regressed: dict[str, Any]) -> list[str]:
    if not kl:
        return ["", "## KL to the reference", "", "Not measured."]
    marker = " **over budget**" if "driftguard/kl/mean" in regressed else ""
    lines = ["", "## KL to the reference", "", f"Mean per-token KL: {_fmt(kl.get('mean'))} nats{marker}."]
    by_dim = kl.get("by_dimension") or {}
    if by_dim:
        lines += ["", "| dimension | KL |", "|---|---:|"]
        lines += [f"| {d} | {_fmt(v)} |" for d, v in sorted(by_dim.items(), key=lambda kv: -(kv[1] or 0))]
    top = kl.get("top_probes") or []
    if top:
        lines += ["", "### Top drifting probes", "", "| probe | dimension | KL |", "|---|---|---:|"]
        for row in top:
            if isinstance(row, dict):
                pid = row.get("probe_id", row.get("id", ""))
                lines.append(f"| {pid} | {row.get('dimension', '')} | {_fmt(row.get('kl'))} |")
    return lines


def _metric_order(names: dict[str, Any]) -> list[str]:
    known = [n for n in METRICS if n in names]
    return known + sorted(n for n in names if n not in METRICS)


def _diff(cur: Any, base: Any) -> float | None:
    return cur - base if isinstance(cur, (int, float)) and isinstance(base, (int, float)) else None


def _fmt(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _fmt_p(p: Any) -> str:
    if p is None:
        return "–"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


# -- plots ------------------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_comparison(report: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Per-dimension grouped bars, baseline vs model (regressed metrics outlined red); a KL panel if measured."""
    plt = _pyplot()
    metrics, base = report.get("metrics", {}), report.get("baseline", {}).get("metrics", {})
    regressed = {r["metric"] for r in report.get("regressions", [])}
    groups = {d: [n for n in _metric_order({**base, **metrics}) if n.startswith(f"driftguard/{d}/")] for d in DIMENSIONS}
    groups = {d: names for d, names in groups.items() if names}
    kl = report.get("kl")
    panels = len(groups) + (1 if kl else 0)
    if panels == 0:
        raise ValueError("plot_comparison: the report has no metrics to plot")
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.6), squeeze=False)
    for ax, (dim, names) in zip(axes[0], groups.items(), strict=False):
        xs = range(len(names))
        b = [_num(base.get(n)) for n in names]
        m = [_num(metrics.get(n)) for n in names]
        ax.bar([x - 0.2 for x in xs], b, width=0.4, label="baseline", color="#8d99ae")
        bars = ax.bar([x + 0.2 for x in xs], m, width=0.4, label="model", color="#2b6cb0")
        if ax is axes[0][0]:
            ax.legend(fontsize=7)  # before outlining regressed bars, so the legend keeps the plain style
        for bar, name in zip(bars, names, strict=True):
            if name in regressed:
                bar.set_edgecolor(_VERDICT_COLORS["fail"])
                bar.set_linewidth(2.5)
        ax.set_xticks(list(xs), [n.split("/")[-1] for n in names], rotation=30, ha="right", fontsize=7)
        ax.set_title(dim)
        ax.axhline(0, color="black", linewidth=0.5)
    if kl:
        ax = axes[0][-1]
        by_dim = kl.get("by_dimension") or {}
        labels = ["mean", *by_dim]
        ax.bar(labels, [_num(kl.get("mean")), *[_num(v) for v in by_dim.values()]], color="#6a4c93")
        ax.set_title("KL to reference")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.suptitle(f"step {report.get('step')}: {str(report.get('verdict', '')).upper()}")
    return _save(fig, plt, path)


def plot_history(history_rows: Sequence[dict[str, Any]], path: str | os.PathLike[str],
                 metrics: Sequence[str] | None = None) -> Path:
    """Metrics over steps (one panel per dimension), warn/fail steps marked with vertical bands."""
    plt = _pyplot()
    rows = sorted(history_rows, key=lambda r: r["step"])
    if not rows:
        raise ValueError("plot_history: no history rows to plot (history.jsonl is empty)")
    names = list(metrics) if metrics else _metric_order({k: 1 for r in rows for k in r.get("metrics", {})})
    by_dim: dict[str, list[str]] = {}
    for name in names:
        by_dim.setdefault(name.split("/")[1] if name.count("/") >= 2 else "other", []).append(name)
    if not by_dim:
        raise ValueError("plot_history: the rows carry no metrics to plot")
    fig, axes = plt.subplots(len(by_dim), 1, figsize=(7, 2.4 * len(by_dim)), squeeze=False, sharex=True)
    steps = [r["step"] for r in rows]
    for ax, (dim, dim_names) in zip(axes[:, 0], by_dim.items(), strict=True):
        margins = [n for n in dim_names if n.endswith("_margin")]  # nats, not a rate: own (right) axis
        right = ax.twinx() if margins and len(margins) < len(dim_names) else None
        for i, name in enumerate(dim_names):
            target = right if right is not None and name in margins else ax
            label = name.split("/")[-1] + (" (right axis)" if target is right else "")
            target.plot(steps, [_num(r.get("metrics", {}).get(name)) for r in rows], marker="o", markersize=3,
                        label=label, color=f"C{i}", linestyle="--" if target is right else "-")
        for row in rows:
            color = _VERDICT_COLORS.get(str(row.get("verdict")))
            if color:
                ax.axvline(row["step"], color=color, alpha=0.35, linewidth=4)
        ax.set_ylabel(dim)
        handles = [h for a in (ax, right) if a is not None for h in a.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("step (bands: orange warn, red fail)")
    return _save(fig, plt, path)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _save(fig, plt, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _attribution_lines(summary: dict[str, Any] | None) -> list[str]:
    """The training steps and examples that raised the probe set's safety loss most since the last evaluation."""
    if not summary or not summary.get("steps"):
        return []
    lines = ["", "## Attribution: what raised the safety loss", "",
             f"Steps {summary.get('steps')} since step {summary.get('target_step')}: safety loss changed by "
             f"{_fmt(summary.get('actual_change'), signed=True)} (first-order prediction from the updates: "
             f"{_fmt(summary.get('predicted_change'), signed=True)}); its refusal half by "
             f"{_fmt(summary.get('actual_change_refusal'), signed=True)} (predicted "
             f"{_fmt(summary.get('predicted_change_refusal'), signed=True)}). Harm = -<safety-loss gradient, example gradient>: "
             "positive makes the model less safe on the probe set; its refusal half is the harmful prompts' share "
             "(the row erodes refusals), the rest the benign prompts' (the row makes look-alikes refused)."]
    for title, key in (("By harm", "top_examples"), ("By the refusal half", "top_refusal_examples"),
                       ("By the over-refusal half", "top_overrefusal_examples")):
        lines += ["", f"{title}:", "", "| dataset index | harm | refusal half | over-refusal half | visits | preview |",
                  "|---:|---:|---:|---:|---:|---|"]
        for e in summary.get(key) or []:
            preview = str(e.get("preview", "")).replace("|", "\\|")[:160]
            halves = " | ".join(_fmt(e.get(k), signed=True) for k in ("harm", "harm_refusal", "harm_overrefusal"))
            lines.append(f"| {e.get('index') if e.get('index') is not None else '–'} | {halves} | {e.get('visits')} "
                         f"| {preview} |")
    return lines
