"""Split a completion into its reasoning trace and its answer at the reasoning markers."""

from __future__ import annotations


def split_reasoning(text: str, markers: tuple[str, str] = ("<think>", "</think>")) -> tuple[str, str]:
    """Return ``(reasoning, answer)``, both stripped.

    - ``<think>R</think>A``: reasoning R, answer A (text before the open marker joins the answer).
    - ``R</think>A`` (the template opened the thought in the prompt): reasoning R, answer A.
    - ``<think>R`` never closed (cut off while thinking): reasoning R, empty answer.
    - no marker: everything is answer.
    """
    open_marker, close_marker = markers
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
