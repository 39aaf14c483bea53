"""select_reference(): turn the configured reference mode into a ReferenceProvider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from driftguard.config import REFERENCE_MODES
from driftguard.errors import ConfigError
from driftguard.reference.cached import DEFAULT_TOP_K, CachedReference
from driftguard.reference.providers import (
    AdapterReference,
    ModelReference,
    ReferenceProvider,
    is_peft_model,
    model_device,
)


def select_reference(mode: str, policy_model: Any, *, reference_model: Any = None, top_k: int = DEFAULT_TOP_K,
                     dtype: str | torch.dtype | None = None, device: str | torch.device | None = None,
                     cache_path: str | Path | None = None, ref_adapter: str | None = None) -> ReferenceProvider:
    """The reference provider for ``mode`` (``auto | adapter | model | cached``).

    ``auto`` picks the cheapest exact provider: a PEFT policy -> ``adapter`` (no copy); a
    ``reference_model`` given (a path, or a trainer's ``ref_model``) -> ``model``; otherwise
    ``cached`` of the policy itself, which the caller must ``prepare`` at the baseline (step 0).
    The policy may be wrapped (DDP, FSDP1): PEFT is detected on the wrapped module. ``ref_adapter`` names the
    trainer's reference adapter (TRL: ``"ref"``, older versions ``args.ref_adapter_name``). A reference loaded
    from a path goes to ``device``, else to the policy's device (never left on the CPU by default).
    """
    if mode not in REFERENCE_MODES:
        raise ConfigError(f"reference = {mode!r}: use one of {', '.join(REFERENCE_MODES)}")
    if mode == "auto":
        if is_peft_model(policy_model):  # looks through DDP / FSDP1 wrappers; forwards keep the wrapper
            mode = "adapter"
        elif reference_model is not None:
            mode = "model"
        else:
            mode = "cached"
    if mode == "adapter":
        if not is_peft_model(policy_model):
            raise ConfigError(f"reference = 'adapter' but the policy ({type(policy_model).__name__}) is not a PEFT "
                              "model; use reference='model' with reference_model=PATH, or 'cached' / 'auto'")
        return AdapterReference(policy_model, ref_adapter=ref_adapter or "ref")
    if mode == "model":
        if reference_model is None:
            raise ConfigError("reference = 'model' but reference_model is not set; give reference_model=PATH "
                              "(or the trainer's ref_model), or use reference='cached' / 'auto'")
        if device is None and isinstance(reference_model, (str, Path)):
            device = model_device(policy_model)
        return ModelReference(reference_model, dtype=dtype, device=device)
    return CachedReference(top_k, cache_path, model=reference_model if reference_model is not None else policy_model)
