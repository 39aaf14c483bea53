"""Reaching the Trainer from a callback.

Callbacks receive ``model`` and ``processing_class`` but not the trainer, and driftguard also needs
its accelerator, ``ref_model`` (DPO/KTO/GRPO/RLOO), callback handler (to dispatch logs) and output dir.
``find_trainer`` walks the call stack of the current hook — every ``on_*`` event is called from a
``Trainer`` method whose ``self`` holds our callback in ``callback_handler.callbacks`` — and falls back
to the garbage collector's referrers (callback <- list <- CallbackHandler <- Trainer). Both identify
the trainer by that membership, never by a class name, so subclasses (all TRL trainers) work.
"""

from __future__ import annotations

import gc
import inspect
from dataclasses import dataclass
from typing import Any


def _owns(candidate: Any, callback: Any) -> bool:
    handler = getattr(candidate, "callback_handler", None)
    return handler is not None and any(cb is callback for cb in getattr(handler, "callbacks", ()))


def find_trainer(callback: Any) -> Any | None:
    """The Trainer whose callback handler holds ``callback`` (None outside a Trainer)."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            candidate = frame.f_locals.get("self")
            if candidate is not None and _owns(candidate, callback):
                return candidate
            frame = frame.f_back
    finally:
        del frame
    for holder in gc.get_referrers(callback):
        if isinstance(holder, list):
            for handler in gc.get_referrers(holder):
                for trainer in gc.get_referrers(handler):
                    if not isinstance(trainer, dict | list) and _owns(trainer, callback):
                        return trainer
                    if isinstance(trainer, dict):
                        for owner in gc.get_referrers(trainer):
                            if _owns(owner, callback):
                                return owner
    return None


@dataclass
class TrainerHandles:
    """What the callback uses from the trainer (each may be None when absent)."""

    trainer: Any
    model: Any
    tokenizer: Any
    accelerator: Any
    ref_model: Any
    output_dir: str
    ref_adapter: str | None = None  # the trainer's reference adapter (TRL: "ref"; older: args.ref_adapter_name)


def tokenizer_of(processing_class: Any) -> Any:
    """A tokenizer from a processing class (processors wrap one as ``.tokenizer``)."""
    if processing_class is None:
        return None
    return getattr(processing_class, "tokenizer", None) or processing_class


def trainer_handles(callback: Any, args: Any, model: Any = None, processing_class: Any = None) -> TrainerHandles:
    """Collect the handles from the trainer when found, else from the hook's keyword arguments."""
    trainer = find_trainer(callback)
    model = getattr(trainer, "model", None) or model
    tokenizer = tokenizer_of(getattr(trainer, "processing_class", None) or processing_class)
    ref_model = getattr(trainer, "ref_model", None)
    return TrainerHandles(
        trainer=trainer,
        model=model,
        tokenizer=tokenizer,
        accelerator=getattr(trainer, "accelerator", None),
        ref_model=ref_model,
        output_dir=str(args.output_dir),
        ref_adapter=getattr(getattr(trainer, "args", None), "ref_adapter_name", None) or getattr(
            args, "ref_adapter_name", None) or "ref",
    )
