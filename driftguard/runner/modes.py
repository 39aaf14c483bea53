"""probing_mode(): scope every change a probe pass makes to the model and tokenizer, and undo it exactly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from driftguard.errors import ModelSetupError


@dataclass
class _SavedState:
    """What probing_mode found on entry, restored verbatim on exit."""

    training: list[tuple[Any, bool]]
    checkpointing: list[tuple[Any, bool]]
    use_cache: list[tuple[Any, bool, Any]]
    padding_side: str | None
    pad_token: Any


def _configs(model: Any) -> list[Any]:
    """The model's config and, when it is another object, its text config (both carry ``use_cache``)."""
    config = getattr(model, "config", None)
    if config is None:
        return []
    configs = [config]
    get_text_config = getattr(config, "get_text_config", None)
    text_config = get_text_config() if callable(get_text_config) else None
    if text_config is not None and text_config is not config:
        configs.append(text_config)
    return configs


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every id that ends a completion, in order, without repeats: the union of ``generation_config.eos_token_id``
    (int or list) and the tokenizer's EOS (a chat template's end-of-turn token such as ``<|im_end|>`` is often
    only the tokenizer's, while the generation config lists ``<|endoftext|>``)."""
    found: list[int] = []
    for eos in (getattr(getattr(model, "generation_config", None), "eos_token_id", None),
                getattr(tokenizer, "eos_token_id", None)):
        if eos is None:
            continue
        for e in eos if isinstance(eos, (list, tuple)) else [eos]:
            if int(e) not in found:
                found.append(int(e))
    return found


def pad_token_id(model: Any, tokenizer: Any) -> int:
    """The id used to pad batches: the tokenizer's pad token, else the generation config's, else the first EOS."""
    for candidate in (getattr(tokenizer, "pad_token_id", None),
                      getattr(getattr(model, "generation_config", None), "pad_token_id", None)):
        if candidate is not None:
            return int(candidate)
    eos = eos_token_ids(model, tokenizer)
    if eos:
        return eos[0]
    name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
    raise ModelSetupError(
        f"tokenizer {name!r} has neither a pad token nor an EOS token (and the model's generation_config has no "
        "eos_token_id), so probe batches cannot be padded; set `tokenizer.pad_token` (e.g. to the EOS token)"
    )


def _save(model: Any, tokenizer: Any) -> _SavedState:
    modules = list(model.modules())
    return _SavedState(
        training=[(m, m.training) for m in modules],
        checkpointing=[(m, m.gradient_checkpointing) for m in modules
                       if isinstance(getattr(m, "gradient_checkpointing", None), bool)],
        use_cache=[(c, hasattr(c, "use_cache"), getattr(c, "use_cache", None)) for c in _configs(model)],
        padding_side=getattr(tokenizer, "padding_side", None),
        pad_token=getattr(tokenizer, "pad_token", None),
    )


def _restore(saved: _SavedState, tokenizer: Any) -> None:
    for module, flag in saved.training:
        module.training = flag
    for module, flag in saved.checkpointing:
        module.gradient_checkpointing = flag
    for config, had_it, value in saved.use_cache:
        if had_it:
            config.use_cache = value
        elif hasattr(config, "use_cache"):
            delattr(config, "use_cache")
    if saved.padding_side is not None:
        tokenizer.padding_side = saved.padding_side
    if saved.pad_token is None and getattr(tokenizer, "pad_token", None) is not None:
        tokenizer.pad_token = None


@contextmanager
def probing_mode(model: Any, tokenizer: Any) -> Iterator[int]:
    """Put ``model`` and ``tokenizer`` in probing state; yield the pad token id; restore everything on exit.

    Inside: ``torch.no_grad()``, every module in eval mode, activation (gradient) checkpointing off,
    ``config.use_cache = True``, left padding, and a pad token (the EOS token when the tokenizer has
    none). On exit, even when the body raises, each module gets back its own training flag (so
    submodules deliberately kept in eval stay so), each layer its own checkpointing flag (its
    ``_gradient_checkpointing_func``, which carries the checkpoint kwargs, is never touched, so a
    ``every_n_layers`` pattern and the kwargs survive), the config its ``use_cache`` and the tokenizer
    its padding side and its absent pad token.
    """
    import torch

    saved = _save(model, tokenizer)
    with ExitStack() as stack:
        stack.callback(_restore, saved, tokenizer)
        stack.enter_context(torch.no_grad())
        for module, _ in saved.training:
            module.training = False
        for module, _ in saved.checkpointing:
            module.gradient_checkpointing = False
        for config, _, _ in saved.use_cache:
            config.use_cache = True
        if saved.padding_side is not None:
            tokenizer.padding_side = "left"
        pad_id = pad_token_id(model, tokenizer)
        if saved.pad_token is None:
            tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad_id)
        yield pad_id
