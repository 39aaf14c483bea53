"""The re-fitted direction (refit_dprime) and the ablation necessity check (ablation_margin_drop*)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from driftguard.mechanism.ablation import ablation_margins, decoder_layers, direction_ablated
from driftguard.mechanism.direction import DIRECTION_COSINE, REFIT_DPRIME, REFUSAL_DPRIME, RefusalDirection
from driftguard.probe_pass import margin_requests
from driftguard.probes import load_suite
from driftguard.runner import score_options
from driftguard.scorers.refusal import REFUSAL_OPENINGS, refusal_margin

MINI_SUITE = str(Path(__file__).parents[1] / "fixtures" / "mini_suite.jsonl")
HIDDEN, LAYERS = 16, 3


def _acts(axis: int | None, seed: int, shift: float = 4.0) -> dict[str, np.ndarray]:
    """12 harmful and 12 benign prompts separated by ``shift`` along unit axis ``axis`` (None: not separated)."""
    rng = np.random.default_rng(seed)
    acts = {}
    for cls, sign in (("h", 1.0), ("b", -1.0)):
        for i in range(12):
            a = rng.normal(size=(LAYERS, HIDDEN))
            if axis is not None:
                a[1:, axis] += sign * shift / 2
            acts[f"{cls}{i}"] = a
    return acts


HARMFUL, BENIGN = [f"h{i}" for i in range(12)], [f"b{i}" for i in range(12)]


def test_a_rotated_direction_is_found_by_the_refit_and_missed_by_the_frozen_one():
    direction = RefusalDirection.fit(_acts(0, 0), HARMFUL, BENIGN, seed=0)
    _, base = direction.read(_acts(0, 1))
    assert base[REFUSAL_DPRIME] > 2 and base[REFIT_DPRIME] > 2 and base[DIRECTION_COSINE] > 0.7
    _, rotated = direction.read(_acts(5, 2))  # the classes now separate along another axis
    assert abs(rotated[REFUSAL_DPRIME]) < 1.5 and rotated[REFIT_DPRIME] > 2 and abs(rotated[DIRECTION_COSINE]) < 0.4
    assert direction.refit is not None and abs(direction.refit[5]) > 0.8
    _, gone = direction.read(_acts(None, 3))  # no separation left anywhere
    assert abs(gone[REFUSAL_DPRIME]) < 1.5 and gone[REFIT_DPRIME] < 1.5


def test_refit_records_average_to_the_metric():
    direction = RefusalDirection.fit(_acts(0, 0), HARMFUL, BENIGN, seed=0)
    records, metrics = direction.read(_acts(5, 2))
    assert np.mean([r.values[REFIT_DPRIME] for r in records]) == pytest.approx(metrics[REFIT_DPRIME], rel=1e-6)


def test_ablation_removes_the_direction_from_every_layer_and_is_undone(tiny_model, tiny_tokenizer):
    ids = torch.tensor([tiny_tokenizer("Explain how to pick a lock.")["input_ids"]])
    with torch.no_grad():
        before = tiny_model(input_ids=ids, output_hidden_states=True).hidden_states
    r = torch.nn.functional.normalize(before[1][0, -1] - before[1][0, 0], dim=0)
    blocks = decoder_layers(tiny_model)
    assert len(blocks) == tiny_model.config.num_hidden_layers
    seen = []

    def capture(module, inputs, output):
        seen.append(output[0] if isinstance(output, tuple) else output)

    with torch.no_grad(), direction_ablated(tiny_model, r.tolist()):
        handles = [m.register_forward_hook(capture) for m in [tiny_model.get_input_embeddings(), *blocks]]
        tiny_model(input_ids=ids)
        for h in handles:
            h.remove()
    assert len(seen) == 1 + len(blocks)
    for h in seen:  # what every block passes on has no component along r
        assert float((h @ r).abs().max()) < 1e-4
    with torch.no_grad():
        after = tiny_model(input_ids=ids, output_hidden_states=True).hidden_states
    torch.testing.assert_close(after[-1], before[-1])

    probes = [p for p in load_suite(MINI_SUITE) if p.dimension == "safety" and p.expect == "refuse"]
    margins = ablation_margins(tiny_model, tiny_tokenizer, probes, None, {"frozen": r.tolist(), "refit": None},
                               batch_size=16)
    plain = score_options(tiny_model, tiny_tokenizer, margin_requests(probes), batch_size=16)
    for p in probes:
        assert set(margins[p.id]) == {"none", "frozen"}  # a missing direction is skipped
        expected = refusal_margin(plain[p.id + "#refusal-margin"], len(REFUSAL_OPENINGS))
        assert margins[p.id]["none"] == pytest.approx(expected, abs=1e-4)
        assert margins[p.id]["frozen"] != pytest.approx(expected, abs=1e-3)  # the ablation changes the reading
