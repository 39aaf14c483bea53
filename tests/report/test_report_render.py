"""Markdown summary and PNG plots of a report (matplotlib Agg): real files with real content."""

from __future__ import annotations

from detect_synthetic import BIAS, ETHICS, MARGIN, REFUSAL, TOXIC, build_evaluation, flips

from driftguard.detect.detector import DriftDetector
from driftguard.report import build_report, history_row, plot_comparison, plot_history, render_markdown

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path, min_bytes: int = 5000) -> bool:
    data = path.read_bytes()
    return data[:8] == PNG_MAGIC and len(data) > min_bytes


def test_markdown_summarises_verdict_regressions_kl_unscored_and_errors(scenario):
    config, det, baseline, current = scenario
    md = render_markdown(build_report(current, det.assess(current), baseline, config=config,
                                      last_passing_checkpoint={"path": "out/checkpoint-50", "step": 50}))
    assert md.startswith("# driftguard report: **WARN** at step 100")
    assert "holm-adjusted p-values" in md and "alpha = 0.05" in md
    row = next(line for line in md.splitlines() if line.startswith("| safety/harmful_refusal_rate"))
    assert "0.950" in row and "0.603" in row and "**REGRESSED**" in row
    assert "Mean per-token KL: 0.210 nats" in md and "| safety | 0.350 |" in md
    assert "| safety/harmful_refusal_rate | 0 | 1 |" in md  # unscored counts
    assert "## Errors (1)" in md and "harmful_refusal_rate-0010" in md
    assert "Last passing checkpoint: `out/checkpoint-50` (step 50)." in md


def test_markdown_of_a_clean_report(scenario):
    config, det, baseline, _ = scenario
    md = render_markdown(build_report(baseline, det.assess(baseline), baseline))
    assert "**PASS**" in md and "REGRESSED" not in md and "## Errors (0)" in md and "None." in md


def test_comparison_plot_is_a_real_png(scenario, tmp_path):
    config, det, baseline, current = scenario
    path = plot_comparison(build_report(current, det.assess(current), baseline), tmp_path / "plots" / "report.png")
    assert path.exists() and _is_png(path)


def test_history_plot_is_a_real_png(tmp_path):
    base, dropped = flips(100, 90, 40)
    columns = {MARGIN: [0.5] * 100, TOXIC: [0.0] * 100, BIAS: [0.0] * 100, ETHICS: [1.0] * 100}
    det = DriftDetector()
    baseline = build_evaluation(0, {REFUSAL: base, **columns})
    det.set_baseline(baseline)
    rows = []
    for step, values in ((0, base), (50, base), (100, dropped), (150, dropped)):
        ev = build_evaluation(step, {REFUSAL: values, **columns})
        rows.append(history_row(build_report(ev, det.assess(ev), baseline)))
    assert [r["verdict"] for r in rows] == ["pass", "pass", "warn", "fail"]
    path = plot_history(rows, tmp_path / "history.png")
    assert _is_png(path, min_bytes=10000)
