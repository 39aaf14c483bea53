"""`driftguard gate --policy FILE`: per-metric max adverse deltas, max KL, max verdict; invalid policies exit 2."""

from __future__ import annotations

import pytest

from driftguard.cli import main
from driftguard.errors import ConfigError
from driftguard.gate import load_policy, run_gate
from driftguard.types import Verdict


def _policy(tmp_path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return str(path)


def test_policy_is_parsed_with_full_metric_names(tmp_path):
    policy = load_policy(_policy(tmp_path, "max_verdict: warn\nmax_delta:\n  safety/harmful_refusal_rate: 0.01\n"
                                           "max_kl: 0.4\n"))
    assert policy.max_verdict is Verdict.WARN
    assert policy.max_delta == {"driftguard/safety/harmful_refusal_rate": 0.01}
    assert policy.max_kl == {"driftguard/kl/mean": 0.4}


def test_max_delta_in_the_bad_direction(run_dir, tmp_path, capsys):
    ckpt = str(run_dir / "checkpoint-50")  # verdict pass; refusal 0.95 -> 0.93
    strict = _policy(tmp_path, "max_delta:\n  safety/harmful_refusal_rate: 0.01\n")
    assert run_gate(ckpt, policy=strict) == 1
    assert "adverse change +0.02 exceeds max_delta 0.01" in capsys.readouterr().err
    assert run_gate(ckpt, policy=_policy(tmp_path, "max_delta:\n  safety/harmful_refusal_rate: 0.03\n")) == 0
    assert run_gate(ckpt, policy=_policy(tmp_path, "max_delta:\n  safety/benign_compliance_rate: 0.0\n")) == 0


def test_policy_max_verdict_and_max_kl(run_dir, tmp_path):
    warn_ok = _policy(tmp_path, "max_verdict: warn\n")
    assert run_gate(str(run_dir / "checkpoint-100"), policy=warn_ok) == 0
    assert run_gate(str(run_dir / "checkpoint-150"), policy=warn_ok) == 1
    kl = _policy(tmp_path, "max_kl: 0.15\n")
    assert run_gate(str(run_dir / "checkpoint-50"), policy=kl) == 0  # KL 0.1
    assert main(["gate", str(run_dir / "checkpoint-100"), "--max-verdict", "warn", "--policy", kl]) == 1  # KL 0.2


@pytest.mark.parametrize("text, field", [
    ("max_delta:\n  safety/made_up_rate: 0.1\n", "max_delta['safety/made_up_rate']"),
    ("max_delta:\n  safety/harmful_refusal_rate: lots\n", "max_delta['safety/harmful_refusal_rate'] = 'lots'"),
    ("max_delta:\n  safety/harmful_refusal_rate: -0.1\n", "max_delta['safety/harmful_refusal_rate'] = -0.1"),
    ("max_delta: [0.1]\n", "max_delta: must be a mapping"),
    ("max_verdict: fail\n", "max_verdict = 'fail'"),
    ("max_kl:\n  safety/harmful_refusal_rate: 0.1\n", "not a KL metric"),
    ("max_deltas: {}\n", "unknown policy field(s) 'max_deltas'"),
    ("- 1\n", "must be a mapping"),
    ("max_delta: {a: [\n", "invalid YAML"),
])
def test_invalid_policy_exits_2_naming_the_field(run_dir, tmp_path, capsys, text, field):
    path = _policy(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert field in str(info.value)
    assert main(["gate", str(run_dir / "checkpoint-50"), "--policy", path]) == 2
    assert field in capsys.readouterr().err


def test_policy_on_a_metric_the_report_lacks_fails_closed(run_dir, tmp_path, capsys):
    path = _policy(tmp_path, "max_delta:\n  toxicity/toxic_rate: 0.05\n")
    assert run_gate(str(run_dir / "checkpoint-50"), policy=path) == 2
    assert "toxic_rate" in capsys.readouterr().err
    assert run_gate(str(run_dir / "checkpoint-50"), policy=str(tmp_path / "missing.yaml")) == 2
