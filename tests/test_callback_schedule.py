"""Issue 14 defects 6 and 10: the evaluation cadence and which evaluations move patience."""

from __future__ import annotations

from types import SimpleNamespace

from driftguard.callback import DriftGuardCallback, resolve_eval_steps
from driftguard.config import DriftGuardConfig


def test_fractional_eval_steps_with_epoch_training_use_the_state_max_steps():
    """Defect 6: eval_steps=0.25 with max_steps=-1 probed every step."""
    args = SimpleNamespace(eval_strategy="steps", eval_steps=0.25, max_steps=-1)
    assert resolve_eval_steps(DriftGuardConfig(), args, SimpleNamespace(max_steps=400)) == 100
    assert resolve_eval_steps(DriftGuardConfig(), SimpleNamespace(eval_strategy="steps", eval_steps=0.1,
                                                                  max_steps=50)) == 5
    assert resolve_eval_steps(DriftGuardConfig(), args, SimpleNamespace(max_steps=0)) == 100  # unknown total


class _Monitor:
    def __init__(self) -> None:
        from driftguard.schedule import ProbeSchedule

        self.calls: list[tuple[int, bool]] = []
        self.schedule = ProbeSchedule(1)

    def evaluate(self, model, tokenizer, *, step, scheduled=True, tier="full"):
        self.calls.append((step, scheduled))
        return "evaluation", SimpleNamespace(verdict=None)


def test_only_cadence_evaluations_are_scheduled(monkeypatch):
    """Defect 10: evaluations at saves / on_evaluate / the end counted toward patience like periodic ones."""
    cb = DriftGuardCallback(DriftGuardConfig(eval_steps=10))
    cb.monitor, cb.eval_steps = _Monitor(), 10
    cb.handles = SimpleNamespace(model=None, tokenizer=None)
    monkeypatch.setattr(cb, "_publish", lambda *a: {"verdict": "pass", "metrics": {}})
    cb.monitor.ranks = SimpleNamespace(same_decision=lambda flag: False)
    args = SimpleNamespace(output_dir="/nonexistent")
    control = SimpleNamespace(should_training_stop=False, should_save=False)
    for step in (10, 15):
        state = SimpleNamespace(global_step=step, log_history=[], is_world_process_zero=False)
        cb.on_step_end(args, state, control)
        cb.last_eval_step = step if step == 10 else cb.last_eval_step
        cb.on_evaluate(args, state, control, metrics={})
    assert cb.monitor.calls == [(10, True), (15, False)]
