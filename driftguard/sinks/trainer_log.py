"""Deliver driftguard metrics to the trainer's log stream without calling ``trainer.log``.

TRL trainers override ``log()`` and flush their own metric buffers (loss, rewards, ...) on every call,
so calling it from a callback at an arbitrary step would swallow or split their rows. And
``CallbackHandler.on_log`` resets ``control.should_log``, which would silently skip the trainer's own
logging step. We therefore append to ``state.log_history`` ourselves and dispatch ``on_log`` to the
other callbacks (TensorBoard, MLflow, trackio, ...) with a *copy* of the control object.
"""

from __future__ import annotations

import copy
from typing import Any

# W&B gets driftguard metrics from WandbSink (exact names, alerts, tables); the Trainer's own
# WandbCallback would rename them to train/driftguard/... — skip it to avoid duplicate series.
SKIPPED_CALLBACKS = {"WandbCallback"}


def dispatch_logs(trainer: Any, callback: Any, args: Any, state: Any, control: Any, logs: dict[str, float]) -> None:
    """Append ``logs`` to ``state.log_history`` and hand them to every other callback's ``on_log``."""
    state.log_history.append({**logs, "step": state.global_step})
    handler = getattr(trainer, "callback_handler", None)
    if handler is None:
        return
    scratch = copy.deepcopy(control)
    for cb in handler.callbacks:
        if cb is callback or type(cb).__name__ in SKIPPED_CALLBACKS:
            continue
        cb.on_log(args, state, scratch, logs=dict(logs), model=handler.model,
                  processing_class=handler.processing_class, optimizer=handler.optimizer,
                  lr_scheduler=handler.lr_scheduler, train_dataloader=handler.train_dataloader,
                  eval_dataloader=handler.eval_dataloader)
