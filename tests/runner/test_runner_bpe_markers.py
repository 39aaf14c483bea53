"""Close markers that are several BPE tokens, with ``>\\n\\n`` merged: the separator is written once, and a
budget cut inside the close marker completes it instead of writing a second one."""

from __future__ import annotations

import pytest
from bpe_reasoner import ANSWER, THOUGHT, BpeReasoner, build_bpe_tokenizer

from driftguard.runner import generate
from driftguard.runner.chat import render_prompt_ids
from driftguard.runner.modes import probing_mode
from driftguard.runner.reasoning import ReasoningFormat
from driftguard.runner.thinking import think_then_answer
from driftguard.types import Probe

FMT = ReasoningFormat(separator="\n\n")  # what a Qwen3-style template puts after </think>
PROBE = Probe(id="q", dimension="safety", kind="generate", prompt="Q?", expect="comply")


@pytest.fixture(scope="module")
def bpe():
    tok = build_bpe_tokenizer()
    return tok, BpeReasoner.build(tok)


def _pieces(tok, text):
    return [tok.decode([i]) for i in tok(text, add_special_tokens=False)["input_ids"]]


def test_the_tokenizer_splits_the_close_marker_and_merges_the_separator(bpe):
    tok, _ = bpe
    assert len(_pieces(tok, "</think>")) > 1
    assert _pieces(tok, "</think>\n\n")[-1] == ">\n\n"


def _run(bpe, mode, think_budget):
    tok, model = bpe
    prompt = render_prompt_ids(tok, PROBE.chat())
    with probing_mode(model, tok) as pad:
        (got,), _ = think_then_answer(model, tok, [prompt], FMT, mode=mode, think_budget=think_budget,
                                      answer_budget=16, batch_size=1, pad_id=pad, eos_ids=[tok.eos_token_id])
    return got


@pytest.mark.parametrize("mode", ["prefix", "answer"])
def test_self_closed_thought_gets_the_separator_once(bpe, mode):
    tok, _ = bpe
    got = _run(bpe, mode, think_budget=64)
    assert not got.thought_cut
    assert tok.decode(got.prefix_ids) == f"<think>{THOUGHT}</think>\n\n"


def _cut_inside_close(tok) -> int:
    """A budget that stops the thought after the first token of its close marker."""
    script = tok(f"<think>{THOUGHT}</think>", add_special_tokens=False)["input_ids"]
    opened = next(n for n in range(1, len(script)) if tok.decode(script[:n]).startswith("<think>"))
    inside = next(n for n in range(opened, len(script)) if tok.decode(script[:n]).endswith(("<", "</")))
    return inside - opened


@pytest.mark.parametrize("mode", ["prefix", "answer"])
def test_budget_cut_inside_the_close_marker_completes_it(bpe, mode):
    tok, _ = bpe
    got = _run(bpe, mode, think_budget=_cut_inside_close(tok))
    assert got.thought_cut
    assert tok.decode(got.prefix_ids) == f"<think>{THOUGHT}</think>\n\n"
    if mode == "answer":
        assert tok.decode(got.ids) == f"<think>{THOUGHT}</think>\n\n{ANSWER}<|end|>"


def test_generate_splits_the_bpe_completion(bpe):
    tok, model = bpe
    got = generate(model, tok, [PROBE], max_new_tokens=16, batch_size=1, think_budget=64, fmt=FMT)["q"]
    assert got.reasoning == THOUGHT and got.answer == ANSWER
    assert tok.decode(got.answer_prefix_ids) == f"<think>{THOUGHT}</think>\n\n"
