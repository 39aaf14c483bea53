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


@pytest.mark.parametrize(("text", "expected"), [
    ("The template opened it and the budget cut it while thinking about 7731-0952",
     ("The template opened it and the budget cut it while thinking about 7731-0952", "")),  # all thought
    ("Thought.</think>\n\nAnswer.", ("Thought.", "Answer.")),
    ("Thought cut by the budget</think>I can't help with that.", ("Thought cut by the budget", "I can't help with that.")),
    ("<think>written anyway</think>A", ("written anyway", "A")),
])
def test_template_opened_thought(text, expected):
    assert split_reasoning(text, opened=True) == expected


def test_prompt_opens_thought():
    from driftguard.runner.reasoning import prompt_opens_thought

    markers = ("<think>", "</think>")
    assert prompt_opens_thought("<|assistant|><think>\n", markers)
    assert not prompt_opens_thought("<|assistant|><think>\n\n</think>\n\n", markers)  # thinking switched off
    assert not prompt_opens_thought("<|user|>hi<|assistant|><think>a</think>b<|user|>q<|assistant|>", markers)
