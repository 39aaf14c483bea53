"""Close markers that are several BPE tokens, with ``>\\n\\n`` merged: the separator is written once, and a
budget cut inside the close marker completes it instead of writing a second one."""

from __future__ import annotations

import pytest
from bpe_reasoner import ANSWER, THOUGHT, BpeReasoner, build_bpe_tokenizer, cut_inside_close, pieces, think_then_answer_one

from driftguard.runner import generate
from driftguard.runner.reasoning import ReasoningFormat
from driftguard.types import Probe

FMT = ReasoningFormat(separator="\n\n")  # what a Qwen3-style template puts after </think>
PROBE = Probe(id="q", dimension="safety", kind="generate", prompt="Q?", expect="comply")


@pytest.fixture(scope="module")
def bpe():
    tok = build_bpe_tokenizer()
    return tok, BpeReasoner.build(tok)


def test_the_tokenizer_splits_the_close_marker_and_merges_the_separator(bpe):
    tok, _ = bpe
    assert len(pieces(tok, "</think>")) > 1
    assert pieces(tok, "</think>\n\n")[-1] == ">\n\n"


def _run(bpe, mode, think_budget):
    tok, model = bpe
    return think_then_answer_one(tok, model, PROBE, FMT, mode, think_budget)


@pytest.mark.parametrize("mode", ["prefix", "answer"])
def test_self_closed_thought_gets_the_separator_once(bpe, mode):
    tok, _ = bpe
    got = _run(bpe, mode, think_budget=64)
    assert not got.thought_cut
    assert tok.decode(got.prefix_ids) == f"<think>{THOUGHT}</think>\n\n"


@pytest.mark.parametrize("mode", ["prefix", "answer"])
def test_budget_cut_inside_the_close_marker_completes_it(bpe, mode):
    tok, _ = bpe
    got = _run(bpe, mode, think_budget=cut_inside_close(tok))
    assert got.thought_cut
    assert tok.decode(got.prefix_ids) == f"<think>{THOUGHT}</think>\n\n"
    if mode == "answer":
        assert tok.decode(got.ids) == f"<think>{THOUGHT}</think>\n\n{ANSWER}<|end|>"


def test_generate_splits_the_bpe_completion(bpe):
    tok, model = bpe
    got = generate(model, tok, [PROBE], max_new_tokens=16, batch_size=1, think_budget=64, fmt=FMT)["q"]
    assert got.reasoning == THOUGHT and got.answer == ANSWER
    assert tok.decode(got.answer_prefix_ids) == f"<think>{THOUGHT}</think>\n\n"
