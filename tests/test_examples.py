"""The example scripts run end to end (offline, tiny in-process models) with the callback attached."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_sft_reasoning_example(tmp_path, capsys):
    _load("sft_reasoning").main(["--tiny", "--max-steps", "2", "--output-dir", str(tmp_path), "--suite", MINI_SUITE])
    assert "verdict:" in capsys.readouterr().out
    rows = (tmp_path / "driftguard" / "history.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [0, 1, 2]


@pytest.mark.slow
def test_grpo_example_uses_the_adapter_reference(tmp_path, capsys, monkeypatch):
    module = _load("grpo")
    original = module.DriftGuardConfig
    monkeypatch.setattr(module, "DriftGuardConfig", lambda **kw: original(**{**kw, "suite": MINI_SUITE}))
    module.main(["--tiny", "--max-steps", "2", "--output-dir", str(tmp_path)])
    assert "KL reference: adapter" in capsys.readouterr().out


def test_example_yaml_is_a_valid_config():
    import yaml

    from driftguard.config import DriftGuardConfig

    config = DriftGuardConfig(**yaml.safe_load((EXAMPLES / "driftguard.yaml").read_text()))
    assert config.early_stop and config.threshold("driftguard/privacy/reasoning_leak_rate") == 0.02


@pytest.mark.slow
def test_distillation_example_measures_drift_from_the_student_baseline(tmp_path, capsys):
    _load("distillation").main(["--tiny", "--max-steps", "2", "--output-dir", str(tmp_path), "--suite", MINI_SUITE])
    assert "KL reference: cached" in capsys.readouterr().out


def test_example_gate_policy_loads():
    from driftguard.gate import load_policy

    policy = load_policy(EXAMPLES / "gate-policy.yaml")
    assert policy.max_delta["driftguard/privacy/reasoning_leak_rate"] == 0.0
    assert policy.max_kl == {"driftguard/kl/mean": 0.3}
