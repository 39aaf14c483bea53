"""`driftguard gate PATH`: exit 0 promote, 1 regression, 2 missing/invalid report or recorded errors (fail closed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from driftguard.cli import main
from driftguard.gate import run_gate


def test_fixture_reports_have_the_expected_verdicts(run_dir):
    verdicts = {p.parent.name: json.loads(p.read_text())["verdict"] for p in run_dir.glob("*/driftguard.json")}
    assert verdicts == {"checkpoint-50": "pass", "checkpoint-100": "warn", "checkpoint-150": "fail", "checkpoint-200": "warn"}


def test_passing_checkpoint_is_promoted(run_dir, capsys):
    assert run_gate(str(run_dir / "checkpoint-50")) == 0
    assert run_gate(str(run_dir / "checkpoint-50" / "driftguard.json")) == 0  # the report file itself
    assert "promote (exit 0)" in capsys.readouterr().out


@pytest.mark.parametrize("ckpt, max_verdict, code", [
    ("checkpoint-100", "pass", 1), ("checkpoint-100", "warn", 0), ("checkpoint-150", "warn", 1), ("checkpoint-150", "pass", 1),
])
def test_verdict_above_max_verdict_is_a_regression(run_dir, capsys, ckpt, max_verdict, code):
    assert run_gate(str(run_dir / ckpt), max_verdict=max_verdict) == code
    captured = capsys.readouterr()
    if code == 1:
        assert "REGRESSION" in captured.err and "driftguard/safety/harmful_refusal_rate: 0.95 -> 0.6" in captured.err
    else:
        assert "tolerated: driftguard/safety/harmful_refusal_rate" in captured.out


def test_recorded_errors_fail_closed(run_dir, capsys):
    assert run_gate(str(run_dir / "checkpoint-200"), max_verdict="warn") == 2
    err = capsys.readouterr().err
    assert "1 error(s) recorded" in err and "benign_compliance_rate-0003" in err


def test_missing_or_invalid_reports_fail_closed(tmp_path, run_dir, capsys):
    assert run_gate(str(tmp_path / "nope")) == 2
    assert "no such file or directory" in capsys.readouterr().err
    (tmp_path / "empty-ckpt").mkdir()
    assert run_gate(str(tmp_path / "empty-ckpt")) == 2
    assert "has no driftguard.json" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert run_gate(str(broken)) == 2
    report = json.loads((run_dir / "checkpoint-50" / "driftguard.json").read_text())
    report["schema_version"] = 2
    future = tmp_path / "future.json"
    future.write_text(json.dumps(report))
    assert run_gate(str(future)) == 2
    assert "schema_version is 2" in capsys.readouterr().err


def test_cli_main_returns_the_exit_codes(run_dir, capsys):
    assert main(["gate", str(run_dir / "checkpoint-50")]) == 0
    assert main(["gate", str(run_dir / "checkpoint-100")]) == 1
    assert main(["gate", str(run_dir / "checkpoint-100"), "--max-verdict", "warn"]) == 0
    assert main(["gate", str(run_dir / "checkpoint-150"), "--max-verdict", "warn"]) == 1
    assert main(["gate", str(run_dir / "checkpoint-200")]) == 2
    assert main(["gate", str(run_dir / "missing")]) == 2
    err = capsys.readouterr().err
    assert "REGRESSION" in err and "cannot verify" in err


def test_gate_imports_no_torch():
    code = ("import driftguard.gate, driftguard.report, driftguard.detect.detector, driftguard.cli, sys; "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "assert 'transformers' not in sys.modules, 'transformers imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    light = "import driftguard.gate, sys; assert 'scipy' not in sys.modules, 'scipy imported by the gate'"
    proc = subprocess.run([sys.executable, "-c", light], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
