"""Issue 19 items 1 and 8 in one process: synced generation agrees with the other ranks (a fake agreement
stands in for ``torch.distributed``) on the number of batches and on an out-of-memory retry."""

from __future__ import annotations

import importlib

import pytest
import torch
from scripted_reasoner import ScriptedReasoner
from test_runner_thinking import SCRIPTS, probes

from driftguard.runner import generate

batching_module = importlib.import_module("driftguard.runner.batching")  # where generate_ids looks up RankAgreement


class FakeAgreement:
    """This rank plus one simulated peer whose answers are queued in ``peer`` (default 0)."""

    def __init__(self, peer: list[int]):
        self.peer, self.asked = peer, []

    active = True

    def max(self, value: int) -> int:
        self.asked.append(value)
        return max(value, self.peer.pop(0) if self.peer else 0)

    def any(self, flag: bool) -> bool:
        return self.max(int(flag)) > 0


@pytest.fixture()
def sync(monkeypatch, tiny_tokenizer):
    """``(model, calls, agreement)``: generate calls recorded as (rows, max_new_tokens); ``fail`` holds the call
    numbers that raise torch.OutOfMemoryError after generating (the rows' budget state is then dirty)."""
    model = ScriptedReasoner.build(tiny_tokenizer, SCRIPTS)
    own = model.generate
    calls, fail = [], set()

    def fake_generate(*args, synced_gpus=False, max_new_tokens=None, **kwargs):
        assert synced_gpus
        calls.append((kwargs["input_ids"].shape[0], max_new_tokens))
        out = own(*args, **kwargs, **({"max_new_tokens": max_new_tokens} if max_new_tokens else {}))
        if len(calls) in fail:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return out

    model.generate = fake_generate
    agreement = FakeAgreement([])
    monkeypatch.setattr(batching_module, "RankAgreement", lambda device: agreement, raising=False)
    return model, calls, agreement, fail


def _plain(tiny_tokenizer):
    return generate(ScriptedReasoner.build(tiny_tokenizer, SCRIPTS), tiny_tokenizer, probes(), max_new_tokens=16,
                    batch_size=4, think_budget=32)


def test_a_rank_without_cut_thoughts_runs_the_peers_phase_2_batches(sync, tiny_tokenizer):
    model, calls, agreement, _ = sync
    agreement.peer[:] = [0, 0, 3]  # phase 1: same count; phase 2: the peer has 3 batches, this rank none
    direct = [p for p in probes() if p.prompt == "What is the capital of France?"]
    got = generate(model, tiny_tokenizer, direct, max_new_tokens=16, batch_size=4, think_budget=32, synced_gpus=True)
    assert got[direct[0].id].answer == "The capital of France is Paris."
    assert calls[0] == (1, None) and calls[1:] == [(1, 1)] * 3  # three one-token dummies
    assert agreement.asked[:1] == [1]


def test_an_oom_on_this_rank_is_rerun_as_halves_with_a_clean_state(sync, tiny_tokenizer):
    model, calls, agreement, fail = sync
    fail.add(1)  # phase 1's only batch: generated, then "out of memory"
    got = generate(model, tiny_tokenizer, probes(), max_new_tokens=16, batch_size=4, think_budget=32,
                   synced_gpus=True)
    assert {k: (g.text, g.thought_cut) for k, g in got.items()} == \
        {k: (g.text, g.thought_cut) for k, g in _plain(tiny_tokenizer).items()}
    # the failed batch, the dummy that joins the peers' decoding, the two halves, phase 2 (two cut thoughts)
    assert calls == [(4, None), (1, 1), (2, None), (2, None), (2, None)]
    assert 1 in agreement.asked


def test_an_oom_on_the_peer_reruns_the_batch_here_too(sync, tiny_tokenizer):
    model, calls, agreement, _ = sync
    agreement.peer[:] = [0, 1]  # batch count agreed; then the peer reports an OOM in phase 1's batch
    got = generate(model, tiny_tokenizer, probes(), max_new_tokens=16, batch_size=4, think_budget=32,
                   synced_gpus=True)
    assert {k: g.text for k, g in got.items()} == {k: g.text for k, g in _plain(tiny_tokenizer).items()}
    assert calls[:3] == [(4, None), (2, None), (2, None)]


def test_an_oom_at_one_row_is_raised_on_every_rank(sync, tiny_tokenizer):
    model, calls, agreement, _ = sync
    agreement.peer[:] = [0, 1, 1, 1]  # the peer runs out of memory at every size
    with pytest.raises(torch.OutOfMemoryError, match="another rank"):
        generate(model, tiny_tokenizer, probes()[:2], max_new_tokens=16, batch_size=2, think_budget=32,
                 synced_gpus=True)
