"""Reference providers: where the frozen reference's distribution comes from during a KL pass.

* :class:`AdapterReference` — a PEFT policy with its adapter disabled (or TRL's ``ref`` adapter); no copy.
* :class:`ModelReference` — a separate frozen model (a path or an object such as a trainer's ``ref_model``).
* :class:`~driftguard.reference.cached.CachedReference` — the reference's top-k log-probs cached on CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from driftguard.errors import ConfigError, ModelSetupError
from driftguard.reference.kl import token_kl
from driftguard.reference.kl_set import KLBatch, KLSet, forward_logits


@runtime_checkable
class ReferenceProvider(Protocol):
    """The reference side of a KL pass.

    ``exact`` providers compute KL over the full vocabulary; ``prepare`` runs once at the baseline;
    ``generating(policy)`` is a context manager yielding the model to generate the KL set's completions
    with (reference weights active inside, the policy restored after); ``token_kl`` returns per-position
    KL ``[B, batch.keep]`` (0 outside ``batch.completion_mask``) given the policy's logits for ``batch``.
    """

    name: str
    exact: bool

    def prepare(self, kl_set: KLSet, batch_size: int) -> None: ...

    def generating(self, policy: Any) -> AbstractContextManager[Any]: ...

    def token_kl(self, policy_logits: Tensor, batch: KLBatch, *, reverse: bool = False,
                 chunk_size: int = 1024) -> Tensor: ...


def model_device(model: Any) -> torch.device:
    """The device of the model's first parameter (CPU for a parameterless module)."""
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")


@contextmanager
def inference_scope(model: Any) -> Iterator[None]:
    """``torch.no_grad()`` with every module in eval mode; each module's own training flag restored on exit."""
    flags = [(module, module.training) for module in model.modules()]
    try:
        with torch.no_grad():
            for module, _ in flags:
                module.training = False
            yield
    finally:
        for module, flag in flags:
            module.training = flag


def unwrap_model(model: Any) -> Any:
    """The module inside DDP / FSDP1 (``FullyShardedDataParallel``) wrappers (``.module``); others as given."""
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel
    except ImportError:  # a torch built without distributed support
        FullyShardedDataParallel = ()  # noqa: N806
    wrappers = (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel, FullyShardedDataParallel)
    while isinstance(model, wrappers):
        model = model.module
    return model


def is_peft_model(model: Any) -> bool:
    """True for a ``peft.PeftModel`` or a transformers model with PEFT adapters loaded (also inside DDP/FSDP1)."""
    model = unwrap_model(model)
    try:
        from peft import PeftModel
    except ImportError:
        PeftModel = ()  # noqa: N806 - peft not installed: only transformers-integrated adapters remain
    return isinstance(model, PeftModel) or bool(getattr(model, "_hf_peft_config_loaded", False))


class _ExactReference:
    """Shared part of the exact providers: reference logits for a batch, then chunked exact KL."""

    name = "exact"
    exact = True

    def prepare(self, kl_set: KLSet, batch_size: int) -> None:
        """Nothing to precompute: exact providers run the reference at every evaluation."""

    def logits(self, batch: KLBatch) -> Tensor:
        raise NotImplementedError

    def token_kl(self, policy_logits: Tensor, batch: KLBatch, *, reverse: bool = False,
                 chunk_size: int = 1024) -> Tensor:
        ref_logits = self.logits(batch)
        if ref_logits.shape[-1] != policy_logits.shape[-1]:
            raise ModelSetupError(f"{self.name} reference vocabulary {ref_logits.shape[-1]} != policy vocabulary "
                                  f"{policy_logits.shape[-1]}; KL needs the same tokenizer and LM head size "
                                  "(resize the reference's embeddings like the policy's, or use reference='cached')")
        return token_kl(policy_logits, ref_logits, batch.completion_mask, chunk_size=chunk_size, reverse=reverse)


class AdapterReference(_ExactReference):
    """Reference = the PEFT policy's base weights: the adapter disabled, or a ``ref`` adapter when present.

    TRL's DPO with ``ref_adapter_name`` keeps the reference as a second adapter; it is activated
    with ``set_adapter(ref)`` and the previously active adapter restored afterwards, together with
    every parameter's ``requires_grad`` (PEFT's ``set_adapter`` changes them). No weights are copied.
    """

    name = "adapter"

    def __init__(self, model: Any, *, ref_adapter: str | None = "ref"):
        if not is_peft_model(model):
            raise ConfigError(f"reference='adapter' needs a PEFT policy, got {type(model).__name__}; use "
                              "reference='model' with reference_model=PATH, or reference='cached'")
        self.model = model  # forwards go through any wrapper (FSDP1 gathers its shards there)
        self.peft = unwrap_model(model)  # adapters are switched on the wrapped PEFT model
        adapters = getattr(self.peft, "peft_config", {}) or {}
        self.ref_adapter = ref_adapter if ref_adapter in adapters else None

    @contextmanager
    def reference_weights(self) -> Iterator[None]:
        """Inside: the model computes the reference; outside: the policy, exactly as before."""
        model = self.peft
        if self.ref_adapter is not None:
            previous = model.active_adapter
            grads = [(p, p.requires_grad) for p in model.parameters()]
            model.set_adapter(self.ref_adapter)
            try:
                yield
            finally:
                model.set_adapter(previous)
                for parameter, flag in grads:
                    parameter.requires_grad_(flag)
        elif hasattr(model, "disable_adapter"):
            with model.disable_adapter():
                yield
        else:  # a transformers model with adapters loaded through its PEFT integration
            model.disable_adapters()
            try:
                yield
            finally:
                model.enable_adapters()

    @contextmanager
    def generating(self, policy: Any = None) -> Iterator[Any]:
        """Yield the policy with the reference weights active (adapter disabled / ``ref`` adapter set)."""
        with self.reference_weights():
            yield self.model

    def logits(self, batch: KLBatch) -> Tensor:
        with inference_scope(self.model), self.reference_weights():
            return forward_logits(self.model, batch)


def _resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype).removeprefix("torch."), None)
    if not isinstance(resolved, torch.dtype):
        raise ConfigError(f"reference_dtype = {dtype!r}: not a torch dtype; use e.g. 'bfloat16', 'float16' or 'float32'")
    return resolved


class ModelReference(_ExactReference):
    """A separate frozen reference model: loaded from a path, or an object (e.g. a trainer's ``ref_model``).

    The model is frozen (``requires_grad=False``, eval). ``dtype``/``device`` move it when given;
    otherwise it stays where it is. Its logits are moved to the policy's device one chunk at a time.
    """

    name = "model"

    def __init__(self, model_or_path: Any, *, dtype: str | torch.dtype | None = None,
                 device: str | torch.device | None = None):
        torch_dtype = _resolve_dtype(dtype)
        if isinstance(model_or_path, (str, Path)):
            from driftguard.models import load_causal_lm

            try:
                model = load_causal_lm(model_or_path, dtype=torch_dtype)
            except (OSError, ModelSetupError) as e:
                raise ConfigError(f"reference_model = {str(model_or_path)!r}: cannot load it ({e}); give a saved "
                                  "model directory, a PEFT adapter directory or a local .gguf file") from None
        elif isinstance(model_or_path, torch.nn.Module):
            model = model_or_path
            if torch_dtype is not None:
                model = model.to(torch_dtype)
        else:
            raise ConfigError(f"reference_model = {model_or_path!r}: give a path or a torch.nn.Module "
                              "(e.g. the trainer's ref_model)")
        if device is not None:
            model = model.to(device)
        model.eval()
        model.requires_grad_(False)
        self.model = model

    @contextmanager
    def generating(self, policy: Any = None) -> Iterator[Any]:
        """Yield the frozen reference model (the policy is not touched)."""
        yield self.model

    def logits(self, batch: KLBatch) -> Tensor:
        with inference_scope(self.model):
            return forward_logits(self.model, batch.to(model_device(self.model)))
