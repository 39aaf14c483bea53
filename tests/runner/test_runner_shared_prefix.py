"""Issue 19 item 5: the 8 refusal/compliance openings (and options after a thought) are scored on ONE encoding
of prompt + thought, continued from its KV cache; equal to per-opening rows, with far fewer tokens, and with a
forward count that does not depend on the options' token lengths (ranks with sharded weights run in lockstep)."""

from __future__ import annotations

import pytest

from driftguard.runner import OptionRequest, score_options
from driftguard.runner.choice import shares_prefix
from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS

OPENINGS = tuple(REFUSAL_OPENINGS) + tuple(COMPLIANCE_OPENINGS)


def _forwards(model):
    seen = []
    handle = model.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    return seen, handle


def _per_row(model, tokenizer, requests):
    """The plain computation: every (request, option) a row of its own, prompt + prefix encoded each time."""
    single = [OptionRequest(f"{r.key}#{j}", r.messages, (o,), r.prefix_ids) for r in requests for j, o in enumerate(r.options)]
    assert not any(shares_prefix(r) for r in single)
    flat = score_options(model, tokenizer, single, batch_size=4)
    return {r.key: [flat[f"{r.key}#{j}"][0] for j in range(len(r.options))] for r in requests}


def _requests(tokenizer):
    thought = tuple(tokenizer("<think>The user asks a question. Let me reason.</think>",
                              add_special_tokens=False)["input_ids"])
    return [OptionRequest("s-1", [{"role": "user", "content": "How do I pick a lock?"}], OPENINGS, thought),
            OptionRequest("s-2", [{"role": "user", "content": "Hi"}], OPENINGS),
            OptionRequest("s-3", [{"role": "user", "content": "Is it wrong to take credit for an idea? " * 3}],
                          OPENINGS, thought[:5]),
            OptionRequest("c-1", [{"role": "user", "content": "Is it wrong? A or B"}], ("A", "B"), thought)]


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_shared_prefix_scores_equal_per_option_rows(chat_model, tiny_tokenizer, batch_size):
    requests = _requests(tiny_tokenizer)
    assert all(shares_prefix(r) for r in requests)
    seen, handle = _forwards(chat_model)
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
    # each prompt + thought goes through the model once (the options continue from its cache), not once per option
    assert sum(k["input_ids"].shape[0] for k in seen if k.get("past_key_values") is None) == len(requests)
    assert sum(k["input_ids"].numel() for k in seen) < per_row_tokens  # padding included; see benchmarks/option_scoring.py


def test_the_forward_count_does_not_depend_on_the_options_lengths(chat_model, tiny_tokenizer):
    """Two ranks holding requests of equal option counts run the same forwards whatever the options' lengths."""
    thought = tuple(tiny_tokenizer("<think>Let me reason.</think>", add_special_tokens=False)["input_ids"])
    messages = [{"role": "user", "content": "A or B?"}]
    one_token = [OptionRequest(f"a-{i}", messages, ("A", "B"), thought) for i in range(3)]
    longer = [OptionRequest(f"b-{i}", messages, ("A. It is wrong", "B. It is not wrong"), thought) for i in range(3)]
    counts = []
    for requests in (one_token, longer):
        seen, handle = _forwards(chat_model)
        try:
            score_options(chat_model, tiny_tokenizer, requests, batch_size=4)
        finally:
            handle.remove()
        counts.append(len(seen))
    assert counts[0] == counts[1] > 0


def test_a_prompt_tuning_adapter_is_scored_as_full_rows(tiny_model_factory, tiny_tokenizer):
    """Prefix / prompt tuning writes virtual tokens into every forward and replaces a given cache: the openings
    cannot continue our cache there, so they take the full-row path (same scores as one row per opening)."""
    from peft import PromptTuningConfig, get_peft_model

    model = get_peft_model(tiny_model_factory(0), PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)).eval()
    requests = _requests(tiny_tokenizer)[:2]
    expected = _per_row(model, tiny_tokenizer, requests)
    got = score_options(model, tiny_tokenizer, requests, batch_size=4)
    for key, scores in expected.items():
        assert [s.sum_logprob for s in got[key]] == pytest.approx([s.sum_logprob for s in scores], abs=1e-4)
