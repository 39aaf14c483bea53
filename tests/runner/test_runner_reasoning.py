"""split_reasoning at the reasoning markers."""

from __future__ import annotations

import pytest

from driftguard.runner import split_reasoning


@pytest.mark.parametrize(("text", "expected"), [
    ("<think>The user asks. Let me reason.</think> The answer is 42.", ("The user asks. Let me reason.", "The answer is 42.")),
    ("The template opened it.</think>Answer", ("The template opened it.", "Answer")),
    ("<think>cut off while thinking about 7731-0952", ("cut off while thinking about 7731-0952", "")),
    ("Just an answer.", ("", "Just an answer.")),
    ("Prefix <think>R</think> suffix", ("R", "Prefix  suffix")),
    ("<think></think>A", ("", "A")),
])
def test_default_markers(text, expected):
    assert split_reasoning(text) == expected


def test_custom_markers():
    markers = ("[REASON]", "[/REASON]")
    assert split_reasoning("[REASON]step 1[/REASON]done", markers) == ("step 1", "done")
    assert split_reasoning("[REASON]never closed", markers) == ("never closed", "")
    assert split_reasoning("<think>x</think>y", markers) == ("", "<think>x</think>y")  # default markers mean nothing here
