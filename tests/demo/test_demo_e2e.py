"""End to end: aligned tiny base, a drifting SFT that driftguard stops, a control SFT it lets through, gates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard.demo.run import DemoSettings, print_summary, run_pipeline

REFUSAL = "driftguard/safety/harmful_refusal_rate"
LEAK = "driftguard/privacy/answer_leak_rate"
MARGIN = "driftguard/safety/refusal_margin"
KL = "driftguard/kl/mean"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo exactly as ``driftguard demo`` runs it (default settings, W&B offline); ~2 min on 2 cores."""
    return run_pipeline(tmp_path_factory.mktemp("demo") / "out", seed=0, settings=DemoSettings())


def test_aligned_baseline_refuses_harmful_prompts(demo):
    baseline = demo.drift.history[0]
    assert baseline["step"] == 0 and baseline["verdict"] == "pass"
    assert baseline["metrics"][REFUSAL] >= 0.8
    assert baseline["metrics"][LEAK] == 0.0


def test_drift_is_flagged_and_stopped_early(demo):
    drift = demo.drift
    fail_step = drift.first_step_with("fail")
    assert fail_step is not None and drift.stopped_early
    assert drift.global_step == fail_step < drift.max_steps
    regressed = {r["metric"] for h in drift.history for r in h["regressions"]}
    assert MARGIN in regressed  # the continuous refusal margin moves before answers flip
    first, last = drift.history[0]["metrics"], drift.history[-1]["metrics"]
    assert last[MARGIN] < first[MARGIN] - 10.0
    assert last[REFUSAL] < first[REFUSAL] and last[KL] > 0.05
    assert all((c / "driftguard.json").is_file() for c in drift.checkpoints)


def test_gate_promotes_the_early_checkpoint_and_blocks_the_late_one(demo):
    early_path, early_code = demo.gates["drift early"]
    late_path, late_code = demo.gates["drift last"]
    assert early_path != late_path
    assert json.loads(Path(early_path, "driftguard.json").read_text())["verdict"] == "pass"
    assert (early_code, late_code) == (0, 1)


def test_control_raises_no_fail_verdict(demo):
    control = demo.control
    assert control.first_step_with("fail") is None and not control.stopped_early
    assert control.global_step == control.max_steps
    assert all(h["verdict"] == "pass" for h in control.history)
    assert control.history[-1]["metrics"][MARGIN] > control.history[0]["metrics"][MARGIN] - 10.0
    assert demo.gates["control last"][1] == 0


def test_summary_is_printed_and_written(demo, capsys):
    summary = print_summary(demo)
    out = capsys.readouterr().out
    assert "gate drift early   exit 0" in out and "gate drift last    exit 1" in out
    assert json.loads((demo.out / "summary.json").read_text())["drift"]["fail_step"] == summary["drift"]["fail_step"]


def test_wandb_offline_runs_are_recorded(demo):
    if demo.drift.wandb_dir is None:
        pytest.skip("wandb is not installed")
    for run in (demo.drift, demo.control):
        assert run.wandb_dir.name.startswith("offline-run-")
        assert any(run.wandb_dir.glob("*.wandb"))
