"""Render a conversation with the tokenizer's chat template into prompt token ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftguard.errors import ModelSetupError


def require_chat_template(tokenizer: Any) -> None:
    """A clear ``ModelSetupError`` for a tokenizer without a chat template (probes are conversations)."""
    if not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", "") or "<in-memory>"
        raise ModelSetupError(
            f"tokenizer {type(tokenizer).__name__} of {name!r} has no chat_template, so probes cannot be "
            "rendered as a conversation; set `tokenizer.chat_template` (a Jinja template) or pass the "
            "tokenizer of an instruct/chat model"
        )


def render_prompt_ids(tokenizer: Any, messages: Sequence[dict]) -> list[int]:
    """Token ids of ``messages`` rendered with the chat template plus the assistant generation prompt.

    The template is rendered to text and tokenised with ``add_special_tokens=False`` (what
    ``apply_chat_template(tokenize=True)`` does): templates that write the BOS token themselves
    get exactly one BOS, and a doubled leading BOS is collapsed.
    """
    require_chat_template(tokenizer)
    text = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
        ids = ids[1:]
    return [int(i) for i in ids]
