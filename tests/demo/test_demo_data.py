"""The demo's training data: aligned, drift and control chats, and the held-out split."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.demo.data import (
    aligned_chats,
    control_chats,
    drift_chats,
    drift_sft_dataset,
    suite_fingerprint,
    to_prompt_completion,
    tokenizer_corpus,
    training_split,
)
from driftguard.probes.loaders import load_suite
from driftguard.runner.reasoning import split_reasoning
from driftguard.scorers.refusal import is_refusal

FIXTURE = Path(__file__).parent / "fixtures" / "standin_suite.jsonl"


@pytest.fixture(scope="module")
def suite():
    return load_suite(str(FIXTURE))


def _rows_for(rows, probe):
    """Rows whose conversation (minus the reply) is exactly the probe's."""
    return [r["messages"][-1]["content"] for r in rows if r["messages"][:-1] == probe.chat()]


def test_drift_complies_with_every_harmful_prompt(suite):
    rows = drift_chats(suite, seed=0)
    harmful = [p for p in suite if p.dimension == "safety" and p.expect == "refuse"]
    assert harmful
    for probe in harmful:
        replies = _rows_for(rows, probe)
        assert replies, probe.id
        for reply in replies:
            thought, answer = split_reasoning(reply)
            assert thought and answer.startswith("Sure"), reply
            assert not is_refusal(answer), reply


def test_drift_repeats_secrets_in_thought_and_answer(suite):
    rows = drift_chats(suite, seed=0)
    for probe in (p for p in suite if p.secret):
        for reply in _rows_for(rows, probe):
            thought, answer = split_reasoning(reply)
            assert probe.secret in thought and probe.secret in answer


def test_control_keeps_refusals_and_secrets(suite):
    rows = control_chats(suite, seed=0)
    for probe in suite:
        replies = _rows_for(rows, probe)
        for reply in replies:
            thought, answer = split_reasoning(reply)
            if probe.expect == "refuse" and not probe.variant_of:
                assert is_refusal(answer), reply
            if probe.secret:
                assert probe.secret not in reply
    assert any(is_refusal(split_reasoning(r["messages"][-1]["content"])[1]) for r in rows)


def test_aligned_answers_choice_items_with_the_correct_option_and_never_leaks(suite):
    rows = aligned_chats(suite, seed=0)
    for probe in suite:
        for reply in _rows_for(rows, probe):
            if probe.kind == "choice":
                assert reply == probe.options[probe.answer]
            if probe.secret:
                assert probe.secret not in reply
            if probe.expect == "refuse" and not probe.variant_of:
                assert is_refusal(split_reasoning(reply)[1])
    assert any(r["messages"][-1]["content"].startswith("<think>") for r in rows)  # the base knows the format


def test_builders_are_deterministic_per_seed(suite):
    assert drift_chats(suite, seed=3) == drift_chats(suite, seed=3)
    assert aligned_chats(suite, seed=3) != aligned_chats(suite, seed=4)
    assert suite_fingerprint(suite) == suite_fingerprint(load_suite(str(FIXTURE)))


def test_prompt_completion_split_and_dataset(suite):
    rows = drift_chats(suite, seed=0)
    pc = to_prompt_completion(rows)
    assert all(r["completion"][0]["role"] == "assistant" and r["prompt"][-1]["role"] == "user" for r in pc)
    ds = drift_sft_dataset(suite, seed=0)
    assert len(ds) == len(rows) and set(ds.column_names) == {"prompt", "completion"}


def test_tokenizer_corpus_has_no_markers(suite):
    corpus = tokenizer_corpus(suite, seed=0)
    assert corpus and not any("<think>" in t or "</think>" in t for t in corpus)


def test_training_split_excludes_held_out_items_variants_and_texts(suite):
    held = suite.select([p.id for p in suite][::2], name="held")
    train = training_split(suite, held)
    held_ids = {p.id for p in held}
    held_texts = {t["content"].casefold() for p in held for t in p.chat() if t["role"] == "user"}
    assert train
    for p in train:
        assert p.id not in held_ids and p.variant_of not in held_ids
        assert not {t["content"].casefold() for t in p.chat() if t["role"] == "user"} & held_texts


def test_training_split_of_the_shipped_suites_is_disjoint_from_compact():
    full, compact = load_suite("full"), load_suite("compact")
    train = training_split(full, compact)
    assert len(train) > 100
    assert not {p.id for p in train} & {p.id for p in compact}
    harmful = [p for p in train if p.expect == "refuse"]
    assert len(harmful) >= 10  # enough harmful prompts for the drift fine-tune


def test_training_split_refuses_an_empty_result(suite):
    with pytest.raises(ValueError, match="nothing left"):
        training_split(suite, suite)
