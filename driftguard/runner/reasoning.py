"""Where a reasoning model's thought is: the chat template's reasoning format, and the thought/answer split.

A reasoning model's completion is ``<think>thought</think>answer``. Two things vary by model and are
read from the chat template, never assumed:

- whether the generation prompt already *opens* the thought (R1-distill and Qwen3-style templates end
  with ``<think>\\n``): the model then never writes the open marker, and text without a close marker
  is all thought;
- the separator the template puts between the close marker and the answer (``"\\n\\n"`` for most
  reasoners, nothing for the demo's tiny model): a thought closed by the probe pass gets the same.

Whether a template strips thoughts from earlier assistant turns is detected too and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_SEPARATOR = "\n\n"
_R, _A = "DGREASONX", "DGANSWERX"


@dataclass(frozen=True)
class ReasoningFormat:
    """The reasoning markers and how the chat template places them.

    ``opens_thought``: the rendered generation prompt ends inside an open thought. ``separator``: text
    between the close marker and the answer in the template's rendering of an assistant turn.
    ``strips_history``: the template drops thoughts from assistant turns (the separator is then the
    common ``"\\n\\n"``, as the template cannot show its own).
    """

    open: str = "<think>"
    close: str = "</think>"
    opens_thought: bool = False
    separator: str = ""
    strips_history: bool = False

    @property
    def markers(self) -> tuple[str, str]:
        return self.open, self.close

    @property
    def closing(self) -> str:
        """What the probe pass appends to close a thought that ran out of budget."""
        return self.close + self.separator

    def to_dict(self) -> dict[str, Any]:
        return {"open": self.open, "close": self.close, "opens_thought": self.opens_thought,
                "separator": self.separator, "strips_history": self.strips_history}


def prompt_opens_thought(prompt_text: str, markers: tuple[str, str]) -> bool:
    """True when ``prompt_text`` (a rendered generation prompt) ends inside an open thought."""
    open_marker, close_marker = markers
    last_open = prompt_text.rfind(open_marker)
    return last_open >= 0 and prompt_text.find(close_marker, last_open + len(open_marker)) < 0


def detect_format(tokenizer: Any, markers: Sequence[str] = ("<think>", "</think>")) -> ReasoningFormat:
    """Read the reasoning format off ``tokenizer``'s chat template (see the module docstring).

    Renders a one-turn conversation with a generation prompt (does it open the thought?) and the same
    turn answered with ``open R close A`` (the separator between close and A; R missing = stripped).
    """
    from driftguard.runner.chat import require_chat_template

    require_chat_template(tokenizer)
    open_marker, close_marker = markers[0], markers[1]
    user = [{"role": "user", "content": "hello"}]
    prompt = tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    opens = prompt_opens_thought(prompt, (open_marker, close_marker))
    reply = f"{open_marker}{_R}{close_marker}{_A}"
    try:
        rendered = tokenizer.apply_chat_template(user + [{"role": "assistant", "content": reply}], tokenize=False)
    except Exception:  # a template that rejects a final assistant turn: assume the common layout
        return ReasoningFormat(open_marker, close_marker, opens, DEFAULT_SEPARATOR, strips_history=True)
    stripped = _R not in rendered
    separator = DEFAULT_SEPARATOR
    if not stripped:
        after = rendered[rendered.find(_R) + len(_R):]
        close_at = after.find(close_marker)
        answer_at = after.find(_A)
        if 0 <= close_at < answer_at:
            separator = after[close_at + len(close_marker):answer_at]
    return ReasoningFormat(open_marker, close_marker, opens, separator, strips_history=stripped)


def split_reasoning(text: str, markers: tuple[str, str] = ("<think>", "</think>"), *,
                    opened: bool = False) -> tuple[str, str]:
    """Return ``(reasoning, answer)``, both stripped.

    - ``<think>R</think>A``: reasoning R, answer A (text before the open marker joins the answer).
    - ``R</think>A``: reasoning R, answer A (the template opened the thought in the prompt).
    - ``<think>R`` never closed (cut off while thinking): reasoning R, empty answer.
    - ``opened=True`` (the prompt opened the thought) and no close marker: all reasoning, empty answer.
    - no marker otherwise: everything is answer.
    """
    open_marker, close_marker = markers
    if opened and not text.lstrip().startswith(open_marker):
        end = text.find(close_marker)
        if end < 0:
            return text.strip(), ""
        return text[:end].strip(), text[end + len(close_marker):].strip()
    start = text.find(open_marker)
    close_from = start + len(open_marker) if start >= 0 else 0
    end = text.find(close_marker, close_from)
    if start >= 0 and end >= 0:
        reasoning = text[close_from:end]
        answer = text[:start] + text[end + len(close_marker):]
    elif start >= 0:
        reasoning, answer = text[close_from:], text[:start]
    elif end >= 0:
        reasoning, answer = text[:end], text[end + len(close_marker):]
    else:
        reasoning, answer = "", text
    return reasoning.strip(), answer.strip()
