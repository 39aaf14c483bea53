"""The attribution's two numerical pieces against plain autograd: the safety loss and the ghost dot-products."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from driftguard.attribution.ghost import GhostDots
from driftguard.attribution.safety_loss import _batches, safety_gradient, safety_items
from driftguard.attribution.tracker import attributed_layers
from driftguard.probe_pass import margin_requests
from driftguard.probes import load_suite
from driftguard.runner import score_options
from driftguard.scorers.refusal import REFUSAL_OPENINGS, refusal_margin
from driftguard.types import Generation

MINI_SUITE = str(Path(__file__).parents[1] / "fixtures" / "mini_suite.jsonl")


def _lora(model):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                                            lora_dropout=0.0, init_lora_weights=False))


def test_safety_loss_is_the_probe_pass_margin_and_its_gradient_is_autograds(tiny_model, tiny_tokenizer):
    """L = -mean_h(margin)/2 + mean_b(margin)/2 with the probe pass's own margins (after a thought prefix), and
    dL/dtheta equals loss.backward() on one batch; the trainer's .grad and train mode are untouched."""
    model = _lora(tiny_model).train()
    probes = list(load_suite(MINI_SUITE))
    thought = tiny_tokenizer("<think>Let me reason.</think>", add_special_tokens=False)["input_ids"]
    gens = {p.id: Generation(p.id, "", "", "", answer_prefix_ids=list(thought)) for p in probes[:2]}
    items = safety_items(tiny_tokenizer, probes, gens)
    params = [p for _, m in attributed_layers(model) for p in (m.weight,)]
    result = safety_gradient(model, tiny_tokenizer, items, params, batch_size=16)
    assert model.training and all(p.grad is None for p in model.parameters())

    scores = score_options(model, tiny_tokenizer, margin_requests(probes, gens), batch_size=64)
    harmful = {k.split("#")[0]: refusal_margin(s, len(REFUSAL_OPENINGS)) for k, s in scores.items()}
    assert harmful.keys() == {i.probe_id for i in items if i.weight < 0}
    for pid, m in harmful.items():
        assert result.margins[pid] == pytest.approx(m, abs=1e-4)
    benign = [result.margins[i.probe_id] for i in items if i.weight > 0]
    expected = -0.5 * sum(harmful.values()) / len(harmful) + 0.5 * sum(benign) / len(benign)
    assert result.loss == pytest.approx(expected, abs=1e-4)

    assert all(len({i.weight < 0 for i in batch}) == 1 for batch in _batches(items, 16)), "a batch holds one half"
    one = safety_gradient(model, tiny_tokenizer, items, params, batch_size=10_000)  # one backward per half
    for half in ("refusal_grads", "overrefusal_grads"):
        for a, b in zip(getattr(result, half), getattr(one, half), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert sum(float(g.abs().sum()) for g in result.grads) > 0

    # each half is the loss and gradient of its prompts alone
    assert result.refusal_loss == pytest.approx(-0.5 * sum(harmful.values()) / len(harmful), abs=1e-4)
    for weight_sign, half in ((-1, "refusal_grads"), (1, "overrefusal_grads")):
        alone = safety_gradient(model, tiny_tokenizer, [i for i in items if i.weight * weight_sign > 0], params,
                                batch_size=16)
        loss = result.refusal_loss if weight_sign < 0 else result.loss - result.refusal_loss
        assert alone.loss == pytest.approx(loss, abs=1e-5)
        for a, b in zip(getattr(result, half), alone.grads, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
        assert sum(float(g.abs().sum()) for g in getattr(result, half)) > 0


def _rows_and_loss(model, tok):
    texts = ["Sure, here is how to do that.", "I cannot help with that request. I'm sorry.", "Paris is the capital."]
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    width = max(map(len, ids))
    input_ids = torch.tensor([r + [0] * (width - len(r)) for r in ids])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids])
    labels = input_ids.masked_fill(mask == 0, -100)
    return input_ids, mask, labels


def _loss(model, input_ids, mask, labels):
    return model(input_ids=input_ids, attention_mask=mask, labels=labels).loss


@pytest.mark.parametrize("setup", ["lora", "full", "full-checkpointing"])
def test_ghost_scores_are_each_rows_gradient_dot_the_target(setup, tiny_model_factory, tiny_tokenizer):
    """Per row, the hooks' score equals <G, grad of that row's share of the batch loss> from a separate backward;
    the rows sum to <G, batch grad>. With non-reentrant activation checkpointing too (TRL's default)."""
    torch.manual_seed(0)
    model = tiny_model_factory(0)
    model = _lora(model) if setup == "lora" else model
    if setup == "full-checkpointing":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    layers = attributed_layers(model)
    assert layers and (setup != "lora" or all("lora_" in name for name, _ in layers))
    targets = [[(torch.randn_like(m.weight, dtype=torch.float32), None) for _ in range(2)] for _, m in layers]
    ghost = GhostDots(model, [m for _, m in layers])
    ghost.set_targets(targets)
    ghost.attach()
    input_ids, mask, labels = _rows_and_loss(model, tiny_tokenizer)
    _loss(model, input_ids, mask, labels).backward()
    (_, _, scores), = ghost.take()
    ghost.detach()
    assert scores.shape == (3, 2)  # a score per row and target

    def dots() -> list[float]:
        return [sum(float((t[k][0] * m.weight.grad).sum()) for t, (_, m) in zip(targets, layers, strict=True))
                for k in range(2)]

    for k, total in enumerate(dots()):
        assert float(scores[:, k].sum()) == pytest.approx(total, rel=1e-4)

    n_tokens = int((labels[:, 1:] != -100).sum())
    for r in range(3):  # row r's share: its token losses over the batch's token count
        model.zero_grad()
        out = model(input_ids=input_ids, attention_mask=mask)
        logp = torch.log_softmax(out.logits[r, :-1].float(), -1)
        target = labels[r, 1:]
        keep = target != -100
        (-logp[keep].gather(-1, target[keep].unsqueeze(-1)).sum() / n_tokens).backward()
        for k, expected in enumerate(dots()):
            assert float(scores[r, k]) == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_ghost_ignores_eval_and_no_grad_forwards(tiny_model, tiny_tokenizer):
    layers = attributed_layers(tiny_model)
    ghost = GhostDots(tiny_model, [m for _, m in layers])
    ghost.set_targets([[(torch.ones_like(m.weight), None)] for _, m in layers])
    ghost.attach()
    input_ids, mask, labels = _rows_and_loss(tiny_model, tiny_tokenizer)
    tiny_model.eval()
    _loss(tiny_model, input_ids, mask, labels).backward()  # eval mode (the safety loss's own forward)
    tiny_model.train()
    with torch.no_grad():
        _loss(tiny_model, input_ids, mask, labels)  # generation / probe passes
    assert ghost.take() == []
    ghost.detach()


def test_a_failed_gradient_is_retried_without_closing_the_interval_twice(tiny_model_factory, tiny_tokenizer,
                                                                           monkeypatch):
    """The monitor retries an OOM with a smaller batch: the retry re-enters at the gradient, so the interval's
    summary (and, under DDP, its gathers) runs once; until a gradient succeeds no step is attributed."""
    from driftguard.attribution import safety_loss
    from driftguard.attribution import tracker as tracker_module
    from driftguard.attribution.tracker import AttributionTracker

    model = _lora(tiny_model_factory(0)).train()
    tracker = AttributionTracker(model, tokenizer=tiny_tokenizer)
    probes = list(load_suite(MINI_SUITE))
    tracker.evaluate(model, tiny_tokenizer, probes, None, step=0, batch_size=16)
    input_ids, mask, labels = _rows_and_loss(model, tiny_tokenizer)
    _loss(model, input_ids, mask, labels).backward()
    tracker.before_step(1)
    tracker.after_step(1)
    assert [s["step"] for s in tracker.steps] == [1]

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(tracker_module, "safety_gradient", out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        tracker.evaluate(model, tiny_tokenizer, probes, None, step=1, batch_size=16)
    assert tracker.target is None and not tracker.steps  # closed once; the old G is gone
    model.zero_grad()
    _loss(model, input_ids, mask, labels).backward()
    tracker.before_step(2)  # no target: nothing attributed
    tracker.after_step(2)
    assert tracker.ghost.take() == [] and not tracker.examples

    monkeypatch.setattr(tracker_module, "safety_gradient", safety_loss.safety_gradient)
    summary = tracker.evaluate(model, tiny_tokenizer, probes, None, step=1, batch_size=8)  # the retry
    assert summary["steps"] == 1 and [s["step"] for s in summary["top_steps"]] == [1]
    assert sorted(e["visits"] for e in summary["run_top_examples"]) == [1, 1, 1], "each row counted once"
    assert summary["safety_loss"] is not None and summary["actual_change"] is not None
    assert tracker.target is not None and tracker.target_step == 1
