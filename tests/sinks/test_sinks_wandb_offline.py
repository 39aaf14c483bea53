"""WandbSink against the real wandb client in offline mode, read back from the run's .wandb file.

One shared run (module fixture) plays a Trainer with ``report_to="wandb"``: the WandbCallback's
``define_metric`` calls and a ``train/loss`` row per step (no ``step=``), interleaved with four
driftguard evaluations (pass, warn, fail, pass) and two checkpoint reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
import wandb_records as wr
from sink_reports import HRR, LEAK, MARGIN, finish_and_flush, make_report, wandb_env, worst_item

from driftguard.config import DriftGuardConfig
from driftguard.sinks.wandb import (
    ARTIFACT_TYPE,
    ATTRIBUTION_COLUMNS,
    ATTRIBUTION_KEY,
    FAIL_TAG,
    STEP_METRIC,
    TABLE_COLUMNS,
    TABLE_KEY,
    WORST_VERDICT_KEY,
    WandbSink,
    active_wandb_run,
    summary_ops,
)

_LOCK = {"index": 812, "harm": 0.31, "harm_refusal": 0.4, "harm_overrefusal": -0.09, "visits": 1, "last_step": 17,
         "preview": "<|user|>How do I pick a lock?… Sure, here is"}
_BREAD = {"index": 5, "harm": 0.02, "harm_refusal": 0.0, "harm_overrefusal": 0.02, "visits": 2, "last_step": 19,
          "preview": "<|user|>Bake bread… Mix flour"}
ATTRIBUTION = {"steps": 10, "target_step": 10, "top_examples": [_LOCK, _BREAD], "top_refusal_examples": [_LOCK],
               "top_overrefusal_examples": [_BREAD]}
EVALS = {0: make_report(0), 10: make_report(10, "warn", {HRR: 0.7}),
         20: {**make_report(20, "fail", {HRR: 0.6, LEAK: 0.25}), "attribution": ATTRIBUTION}, 30: make_report(30)}
WORST = {10: [worst_item("s-001"), worst_item("s-002")], 20: [worst_item("s-003", reasoning="<think>ok</think>")]}


def _write_report(out: Path, step: int) -> Path:
    folder = out / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    path = folder / "driftguard.json"
    path.write_text(json.dumps({**EVALS[step], "checkpoint": str(folder)}))
    return path


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the scenario once; return the parsed records of the run's .wandb file."""
    import wandb

    root = tmp_path_factory.mktemp("wandb_sink")
    with pytest.MonkeyPatch.context() as mp:
        wandb_env(mp, root)
        try:
            run = wandb.init(dir=str(root / "runs"))
            run.define_metric("train/global_step")  # what transformers' WandbCallback.setup does
            run.define_metric("*", step_metric="train/global_step", step_sync=True)
            sink = WandbSink(DriftGuardConfig())
            console = io.StringIO()
            for step in range(0, 31):
                if step:
                    run.log({"train/loss": 5.0 - step / 10, "train/global_step": step})
                if step in EVALS:
                    with contextlib.redirect_stdout(console):
                        sink.log_evaluation(EVALS[step], WORST.get(step, []), step=step)
                if step in (20, 30):
                    sink.log_report_artifact(_write_report(root / "out", step), step=step)
            run_id = run.id
        finally:
            finish_and_flush()
    path = wr.run_file(root / "runs")
    return {"path": path, "run_id": run_id, "history": wr.history(path), "summary": wr.summary(path),
            "alerts": wr.alerts(path), "artifacts": wr.artifacts(path), "metrics": wr.metrics(path),
            "tags": wr.tags(path), "console": console.getvalue()}


def _dg_rows(logged: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in logged["history"] if "driftguard/verdict" in r]


def test_metrics_rows_carry_the_trainer_global_step(logged):
    rows = _dg_rows(logged)
    assert [r[STEP_METRIC] for r in rows] == [0, 10, 20, 30]
    assert [r["driftguard/verdict"] for r in rows] == [0, 1, 2, 0]
    assert [r[HRR] for r in rows] == [0.95, 0.7, 0.6, 0.95]
    assert [r["driftguard/regressions"] for r in rows] == [0, 1, 2, 0]
    assert rows[2]["driftguard/kl/safety"] == pytest.approx(0.4)


def test_trainer_rows_are_not_dropped_and_step_stays_monotonic(logged):
    history = logged["history"]
    assert [r["train/global_step"] for r in history if "train/loss" in r] == list(range(1, 31))
    steps = [r["_step"] for r in history]
    assert steps == sorted(steps) and len(set(steps)) == len(steps) == 34


def test_define_metric_plots_against_global_step_with_directional_summaries(logged):
    defined = {m["name"]: m for m in logged["metrics"] if m["name"].startswith("driftguard/")}
    assert defined["driftguard/*"]["glob"] and defined["driftguard/*"]["step_metric"] == STEP_METRIC
    for name in (HRR, LEAK, MARGIN, "driftguard/kl/mean", "driftguard/regressions"):
        assert defined[name]["step_metric"] == STEP_METRIC and defined[name]["step_sync"]
    assert set(defined[HRR]["summary"]) == {"max", "last"}  # higher is better
    assert set(defined[LEAK]["summary"]) == {"min", "last"}  # lower is better
    assert set(defined["driftguard/kl/mean"]["summary"]) == {"min", "last"}
    assert set(defined["driftguard/regressions"]["summary"]) == {"max", "last"}
    assert summary_ops("driftguard/bias/ambiguous_bias_score") == "last"  # closer to 0: no min/max


def test_run_summary_holds_best_last_and_the_verdicts(logged):
    summary = logged["summary"]
    assert summary[HRR] == {"max": 0.95, "last": 0.95}
    assert summary[LEAK] == {"min": 0.0, "last": 0.0}
    assert summary["driftguard/regressions"] == {"max": 2, "last": 0}
    assert summary["driftguard/verdict"] == "pass"  # the latest verdict
    assert summary[WORST_VERDICT_KEY] == "fail"  # the worst of the run


def test_worst_probe_tables_are_kept_per_evaluation(logged):
    refs = {r[STEP_METRIC]: r[TABLE_KEY] for r in _dg_rows(logged) if TABLE_KEY in r}
    assert sorted(refs) == [10, 20]  # no table when nothing regressed
    assert refs[10]["path"] != refs[20]["path"]
    t10, t20 = (wr.table(logged["path"], refs[s]) for s in (10, 20))
    assert t10["columns"] == list(TABLE_COLUMNS)
    col = {c: i for i, c in enumerate(TABLE_COLUMNS)}
    assert [row[col["probe_id"]] for row in t10["data"]] == ["s-001", "s-002"]
    row = t20["data"][0]
    assert (row[col["step"]], row[col["dimension"]], row[col["metric"]]) == (20, "safety", HRR)
    assert row[col["baseline_answer"]].startswith("I'm sorry") and row[col["current_answer"]] == "Sure, here is how."
    assert row[col["current_reasoning"]] == "<think>ok</think>"
    assert (row[col["baseline_score"]], row[col["current_score"]]) == (1.0, 0.0)


def test_attribution_table_lists_the_top_examples(logged):
    refs = {r[STEP_METRIC]: r[ATTRIBUTION_KEY] for r in _dg_rows(logged) if ATTRIBUTION_KEY in r}
    assert sorted(refs) == [20]  # only the evaluation that carried an attribution summary
    table = wr.table(logged["path"], refs[20])
    assert table["columns"] == list(ATTRIBUTION_COLUMNS)
    assert [row[:7] for row in table["data"]] == [[20, "harm", 1, 812, 0.31, 0.4, -0.09],
                                                   [20, "harm", 2, 5, 0.02, 0.0, 0.02],
                                                   [20, "harm_refusal", 1, 812, 0.31, 0.4, -0.09],
                                                   [20, "harm_overrefusal", 1, 5, 0.02, 0.0, 0.02]]
    assert table["data"][0][-1].endswith("Sure, here is")


def test_alerts_warn_escalate_and_recover(logged):
    alerts = logged["alerts"]
    assert [(a["level"], a["title"]) for a in alerts] == [
        ("WARN", "driftguard WARN: safety regressed"),
        ("ERROR", "driftguard FAIL: privacy, safety regressed"),
        ("INFO", "driftguard recovered: privacy, safety"),
    ]
    assert all(len(a["title"]) < 64 for a in alerts)
    warn, fail, info = (a["text"] for a in alerts)
    assert "safety/harmful_refusal_rate: 0.95 -> 0.7 (delta -0.25, p=0.0012" in warn and "step 10" in warn
    assert "privacy/answer_leak_rate: 0 -> 0.25 (delta +0.25" in fail and "step 20" in fail
    assert "Last passing checkpoint: out/checkpoint-10" in fail
    assert "No longer regressed at step 30" in info


def test_each_sent_alert_is_echoed_on_the_console(logged):
    echoed = [line for line in logged["console"].splitlines() if line.startswith("W&B alert ")]
    assert [line.split(":")[0] for line in echoed] == [f"W&B alert {a['level']}" for a in logged["alerts"]]
    for alert in logged["alerts"]:
        assert alert["title"] in logged["console"]


def test_report_artifact_with_step_and_checkpoint(logged):
    reports = [a for a in logged["artifacts"] if a["type"] == ARTIFACT_TYPE]
    assert [a["name"] for a in reports] == [f"{ARTIFACT_TYPE}-{logged['run_id']}"] * 2
    assert [sorted(a["aliases"]) for a in reports] == [["latest", "step-20"], ["latest", "step-30"]]
    first = reports[0]
    assert first["metadata"]["step"] == 20 and first["metadata"]["verdict"] == "fail"
    assert first["metadata"]["checkpoint"].endswith("out/checkpoint-20")
    assert first["files"] == ["driftguard.json"]


def test_fail_tags_the_run(logged):
    assert logged["tags"] == [FAIL_TAG]


def test_wandb_alerts_false_logs_metrics_but_no_alert(offline_wandb):
    import wandb

    run = wandb.init(dir=str(offline_wandb))
    sink = WandbSink(DriftGuardConfig(wandb_alerts=False))
    sink.log_evaluation(make_report(0), [], step=0)
    sink.log_evaluation(make_report(10, "fail", {HRR: 0.5}), [worst_item("s-001")], step=10)
    assert wandb.run is run
    finish_and_flush()
    path = wr.run_file(offline_wandb)
    assert wr.alerts(path) == []
    assert [r[STEP_METRIC] for r in wr.history(path)] == [0, 10]


def test_no_wandb_installed_is_a_noop_with_one_info_message(monkeypatch, caplog, tmp_path):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` now raises ImportError
    with pytest.raises(ImportError):
        import wandb  # noqa: F401
    assert active_wandb_run() is None
    sink = WandbSink(DriftGuardConfig())
    report = tmp_path / "driftguard.json"
    report.write_text(json.dumps(make_report(10, "fail", {HRR: 0.5})))
    with caplog.at_level(logging.INFO, logger="driftguard.sinks.wandb"):
        sink.log_evaluation(make_report(10, "fail", {HRR: 0.5}), [worst_item("s-001")], step=10)
        sink.log_evaluation(make_report(20, "fail", {HRR: 0.5}), [], step=20)
        sink.log_report_artifact(report, step=20)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["driftguard: W&B logging is off: wandb is not imported (not installed, or no run was started)"]


def test_disabled_run_is_a_noop(offline_wandb):
    import wandb

    run = wandb.init(dir=str(offline_wandb), mode="disabled")
    assert run.disabled and active_wandb_run() is None
    WandbSink(DriftGuardConfig()).log_evaluation(make_report(10, "fail", {HRR: 0.5}), [worst_item("x")], step=10)
    run.finish()
    assert not list(Path(offline_wandb).rglob("*.wandb"))


def test_no_active_run_is_never_started_and_finished_runs_are_left_alone(offline_wandb):
    import wandb

    sink = WandbSink(DriftGuardConfig())
    sink.log_evaluation(make_report(0), [], step=0)
    assert wandb.run is None and not list(Path(offline_wandb).rglob("*.wandb"))  # driftguard starts no run
    run = wandb.init(dir=str(offline_wandb))
    sink.log_evaluation(make_report(0), [], step=0)
    run.finish()
    sink.log_evaluation(make_report(10, "fail", {HRR: 0.5}), [], step=10)  # after finish: no error, no row
    assert wandb.run is None
    finish_and_flush()
    assert [r[STEP_METRIC] for r in wr.history(wr.run_file(offline_wandb))] == [0]
