"""Issue 14 defects 1 and 9 at the monitor: a failed probe pass is no PASS; the KL set is a collective decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import monitor as monitor_module
from driftguard.config import DriftGuardConfig
from driftguard.distributed import Ranks
from driftguard.monitor import DriftMonitor
from driftguard.types import Verdict

MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")


def _config(**kw) -> DriftGuardConfig:
    return DriftGuardConfig(suite=MINI_SUITE, max_new_tokens=6, batch_size=8, **kw)


def test_probe_pass_failure_is_warn_then_fail(tiny_model, tiny_tokenizer, monkeypatch):
    """Defect 1: OOM after the retry / a judge or rank failure with nothing else regressed read as PASS."""
    monitor = DriftMonitor(_config(patience=2))
    monitor.start(tiny_model, tiny_tokenizer)

    def broken(*args, **kwargs):
        raise RuntimeError("judge service unavailable")

    monkeypatch.setattr(monitor_module, "run_probe_pass", broken)
    with pytest.warns(UserWarning, match="probe_pass failed"):
        evaluation, first = monitor.evaluate(tiny_model, tiny_tokenizer, step=10)
    assert evaluation.records == [] and first.verdict is Verdict.WARN and first.errors >= 1
    with pytest.warns(UserWarning, match="probe_pass failed"):
        _, second = monitor.evaluate(tiny_model, tiny_tokenizer, step=20)
    assert second.verdict is Verdict.FAIL


class _PeerFailed(Ranks):
    """Two ranks where the *other* rank failed preparing the reference (this one succeeded)."""

    @property
    def world_size(self) -> int:
        return 2

    def shard(self, items):
        return list(items)

    def gather_dicts(self, fn):
        return fn()

    def generate_kwargs(self, model=None):
        return {}

    def all_agree(self, flag: bool) -> bool:
        return False


def test_reference_prepared_on_one_rank_only_turns_kl_off_everywhere(tiny_model, tiny_tokenizer):
    """Defect 9: a rank-0-only cache failure left rank 0 without a KL set while the others gathered: a hang."""
    monitor = DriftMonitor(_config(), ranks=_PeerFailed())
    baseline = monitor.start(tiny_model, tiny_tokenizer)
    assert monitor.kl_set is None  # same decision as the failed rank: nobody enters the KL gather
    assert any(e["stage"] == "reference_prepare" and e["type"] == "RankFailure" for e in baseline.errors)


def test_all_agree_gathers_every_rank(monkeypatch):
    import accelerate.utils

    class _Acc:
        num_processes = 2

    monkeypatch.setattr(accelerate.utils, "gather_object", lambda objs: [*objs, False])  # the peer says False
    assert Ranks(_Acc()).all_agree(True) is False
    monkeypatch.setattr(accelerate.utils, "gather_object", lambda objs: [*objs, True])
    assert Ranks(_Acc()).all_agree(True) is True
    assert Ranks().all_agree(True) is True  # one process: its own flag
