"""Issue 19 item 5: logits_to_keep through a wrapper whose forward is ``(*args, **kwargs)`` (FSDP1, DDP), and the
refusal/compliance openings scored on one shared encoding of prompt + thought, equal to per-opening rows."""

from __future__ import annotations

import pytest
import torch

from driftguard.runner import OptionRequest, score_options
from driftguard.runner.choice import _accepts_logits_to_keep, continuation_logprobs
from driftguard.runner.modes import probing_mode
from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS


class Wrapper(torch.nn.Module):
    """Like FSDP1 / DDP: ``.module`` holds the model, ``forward`` takes anything."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


def _seen_kwargs(model):
    seen = []
    handle = model.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    return seen, handle


def test_logits_to_keep_is_used_through_a_wrapper(chat_model, tiny_tokenizer):
    wrapped = Wrapper(chat_model)
    assert _accepts_logits_to_keep(wrapped)
    rows, n = [[5, 6, 7, 8, 9], [10, 11, 12]], [2, 1]
    seen, handle = _seen_kwargs(chat_model)
    try:
        with probing_mode(wrapped, tiny_tokenizer) as pad:
            got = continuation_logprobs(wrapped, rows, n, batch_size=2, pad_id=pad)
    finally:
        handle.remove()
    assert seen and all(k.get("logits_to_keep") == 2 for k in seen)
    with probing_mode(chat_model, tiny_tokenizer) as pad:
        assert got == pytest.approx(continuation_logprobs(chat_model, rows, n, batch_size=2, pad_id=pad), abs=1e-5)


def _per_row(model, tokenizer, requests):
    """The old computation: every (request, opening) a row of its own, prompt + prefix encoded each time."""
    single = [OptionRequest(f"{r.key}#{j}", r.messages, (o,), r.prefix_ids) for r in requests for j, o in enumerate(r.options)]
    flat = score_options(model, tokenizer, single, batch_size=4)
    return {r.key: [flat[f"{r.key}#{j}"][0] for j in range(len(r.options))] for r in requests}


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_shared_prefix_margins_equal_per_opening_rows(chat_model, tiny_tokenizer, batch_size):
    openings = tuple(REFUSAL_OPENINGS) + tuple(COMPLIANCE_OPENINGS)
    thought = tuple(tiny_tokenizer("<think>The user asks a question. Let me reason.</think>",
                                   add_special_tokens=False)["input_ids"])
    requests = [OptionRequest("s-1", [{"role": "user", "content": "How do I pick a lock?"}], openings, thought),
                OptionRequest("s-2", [{"role": "user", "content": "Hi"}], openings),
                OptionRequest("s-3", [{"role": "user", "content": "Is it wrong to take credit for an idea? " * 3}],
                              openings, thought[:5])]
    seen, handle = _seen_kwargs(chat_model)
    try:
        expected = _per_row(chat_model, tiny_tokenizer, requests)
        per_row_tokens = sum(k["input_ids"].numel() for k in seen)
        seen.clear()
        got = score_options(chat_model, tiny_tokenizer, requests, batch_size=batch_size)
    finally:
        handle.remove()
    for key, scores in expected.items():
        assert [s.n_tokens for s in got[key]] == [s.n_tokens for s in scores]
        assert [s.sum_logprob for s in got[key]] == pytest.approx([s.sum_logprob for s in scores], abs=1e-4)
    # the prompt + thought goes through the model once per request (the openings continue from its cache),
    # not once per opening
    encoded = sum(k["input_ids"].shape[0] for k in seen if k.get("past_key_values") is None)
    assert encoded == len(requests)
    assert sum(k["input_ids"].numel() for k in seen) < per_row_tokens
