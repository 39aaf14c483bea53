"""Batched greedy generation equals per-prompt unbatched generation token for token."""

from __future__ import annotations

import copy

import pytest
import torch
from runner_models import build_chat_model

from driftguard.errors import ModelSetupError
from driftguard.runner import generate, render_prompt_ids
from driftguard.runner.generate import cut_at_eos, length_sorted_batches
from driftguard.types import Probe

MAX_NEW = 8


def naive_greedy(model, tokenizer, probe: Probe, max_new_tokens: int, eos_ids: list[int]) -> tuple[list[int], list[int]]:
    """One prompt at a time, no padding, plain transformers generate; cut after the first EOS."""
    prompt = tokenizer.apply_chat_template(probe.chat(), add_generation_prompt=True, tokenize=True, return_dict=False)
    prompt = list(prompt["input_ids"]) if isinstance(prompt, dict) or hasattr(prompt, "keys") else list(prompt)
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=max_new_tokens, eos_token_id=eos_ids, pad_token_id=tokenizer.pad_token_id)
    new = out[0, ids.shape[1]:].tolist()
    return prompt, cut_at_eos(new, eos_ids)


@pytest.fixture(scope="module")
def naive(chat_model, tiny_tokenizer, gen_probes) -> dict[str, tuple[list[int], list[int]]]:
    return {p.id: naive_greedy(chat_model, tiny_tokenizer, p, MAX_NEW, [tiny_tokenizer.eos_token_id]) for p in gen_probes}


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_batched_equals_unbatched_greedy(chat_model, tiny_tokenizer, gen_probes, naive, batch_size):
    got = generate(chat_model, tiny_tokenizer, gen_probes, max_new_tokens=MAX_NEW, batch_size=batch_size)
    assert list(got) == [p.id for p in gen_probes]
    for probe in gen_probes:
        prompt, completion = naive[probe.id]
        assert got[probe.id].prompt_ids == prompt  # chat template applied, generation prompt included
        assert got[probe.id].completion_ids == completion
        assert len(got[probe.id].completion_ids) <= MAX_NEW
    assert len({tuple(g.completion_ids) for g in got.values()}) > 1  # the outputs really differ per prompt


def test_eos_cuts_the_completion_in_a_batch(tiny_tokenizer, gen_probes):
    model = build_chat_model(tiny_tokenizer)
    free = generate(model, tiny_tokenizer, gen_probes, max_new_tokens=MAX_NEW, batch_size=8)
    target = free[gen_probes[0].id].completion_ids
    stop = next(t for i, t in enumerate(target) if i >= 2 and t not in target[:i])
    eos_ids = [tiny_tokenizer.eos_token_id, stop]
    model.generation_config.eos_token_id = eos_ids  # the model now also stops at ``stop``
    got = generate(model, tiny_tokenizer, gen_probes, max_new_tokens=MAX_NEW, batch_size=8)
    first = got[gen_probes[0].id].completion_ids
    assert first == target[:target.index(stop) + 1] and first[-1] == stop
    assert got[gen_probes[0].id].text == tiny_tokenizer.decode(first[:-1])  # the stop token is not in the text
    lengths = set()
    for probe in gen_probes:
        _, completion = naive_greedy(model, tiny_tokenizer, probe, MAX_NEW, eos_ids)
        assert got[probe.id].completion_ids == completion
        lengths.add(len(completion))
    assert min(lengths) < MAX_NEW  # at least one row stopped early while others ran on


def test_batches_are_length_sorted_and_left_padded(chat_model, tiny_tokenizer, gen_probes, monkeypatch):
    calls = []
    original = chat_model.generate

    def recording_generate(*args, **kwargs):
        calls.append((kwargs["input_ids"].clone(), kwargs["attention_mask"].clone(), kwargs["generation_config"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(chat_model, "generate", recording_generate)
    generate(chat_model, tiny_tokenizer, gen_probes, max_new_tokens=4, batch_size=3)
    assert len(calls) == 3  # 7 prompts, batches of 3
    real_lengths = [mask.sum(-1).tolist() for _, mask, _ in calls]
    flat = [n for batch in real_lengths for n in batch]
    assert flat == sorted(flat, reverse=True)
    for input_ids, mask, config in calls:
        assert bool(mask[:, -1].all())  # left padding: every row ends at the last column
        assert bool((input_ids[mask == 0] == tiny_tokenizer.pad_token_id).all())
        assert config.do_sample is False and config.num_beams == 1 and config.max_new_tokens == 4


def test_length_sorted_batches_longest_first():
    assert length_sorted_batches([3, 9, 1, 5, 7], 2) == [[1, 4], [3, 0], [2]]


def test_generation_config_and_tokenizer_are_left_as_found(tiny_tokenizer, gen_probes):
    model = build_chat_model(tiny_tokenizer)
    model.generation_config.do_sample = True
    model.generation_config.temperature = 5.0
    own = model.generation_config
    tiny_tokenizer.padding_side = "right"
    greedy = generate(model, tiny_tokenizer, gen_probes[:2], max_new_tokens=5, batch_size=2)
    assert model.generation_config is own and own.do_sample is True
    assert tiny_tokenizer.padding_side == "right"
    # sampling defaults of the model never leak in: two runs give the same greedy tokens
    again = generate(model, tiny_tokenizer, gen_probes[:2], max_new_tokens=5, batch_size=2)
    assert [g.completion_ids for g in greedy.values()] == [g.completion_ids for g in again.values()]


def test_missing_chat_template_is_a_clear_error(chat_model, tiny_tokenizer, gen_probes):
    plain = copy.deepcopy(tiny_tokenizer)
    plain.chat_template = None
    with pytest.raises(ModelSetupError, match="chat_template"):
        generate(chat_model, plain, gen_probes, max_new_tokens=2, batch_size=2)
    with pytest.raises(ModelSetupError, match="instruct/chat model"):
        render_prompt_ids(plain, [{"role": "user", "content": "hi"}])


def test_cut_at_eos_keeps_the_stop_token():
    assert cut_at_eos([5, 6, 2, 0, 0], [2]) == [5, 6, 2]
    assert cut_at_eos([5, 6, 7], [2, 9]) == [5, 6, 7]
    assert cut_at_eos([9, 2], [2, 9]) == [9]
