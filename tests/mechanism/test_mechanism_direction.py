"""RefusalDirection (numpy): layer choice by held-out separation, formulas of the three metrics, state round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from driftguard.errors import BaselineMismatchError
from driftguard.mechanism import (
    DIRECTION_COSINE,
    HARMFUL_PROJECTION,
    RECORD_SUFFIX,
    REFUSAL_DPRIME,
    MechanismError,
    RefusalDirection,
    split_folds,
)

HIDDEN, STATES = 16, 4  # embeddings + 3 layers


def _acts(seed: int = 0, signal_layer: int = 2, gap: float = 3.0, n: int = 12) -> tuple[dict, list[str], list[str]]:
    """Gaussian activations; only ``signal_layer`` separates harmful from benign (along axis 0)."""
    rng = np.random.default_rng(seed)
    harmful, benign = [f"h{i}" for i in range(n)], [f"b{i}" for i in range(n)]
    acts = {}
    for pid in harmful + benign:
        a = rng.normal(size=(STATES, HIDDEN))
        a[0] = 1.0  # the embedding of the shared last template token: identical for every prompt
        if pid.startswith("h"):
            a[signal_layer, 0] += gap
        acts[pid] = a
    return acts, harmful, benign


def test_folds_are_deterministic_balanced_and_order_free():
    ids = [f"p{i}" for i in range(11)]
    folds = split_folds(ids, seed=3)
    assert folds == split_folds(list(reversed(ids)), seed=3)
    assert sorted(folds.values()).count(0) == 6 and sorted(folds.values()).count(1) == 5
    assert folds != split_folds(ids, seed=4)


def test_fit_chooses_the_separating_layer_and_never_the_embeddings():
    acts, harmful, benign = _acts(signal_layer=2)
    direction = RefusalDirection.fit(acts, harmful, benign, seed=0)
    assert direction.layer == 2
    assert direction.layer_scores[0] is None, "embeddings are not a candidate"
    assert direction.layer_scores[2] > 2 * max(abs(direction.layer_scores[1]), abs(direction.layer_scores[3]))
    assert abs(direction.direction[0]) > 0.8, "the difference in means points along the planted axis"


def test_readings_match_their_formulas():
    acts, harmful, benign = _acts()
    direction = RefusalDirection.fit(acts, harmful, benign, seed=0)
    records, metrics = direction.read(acts)
    dirs = [np.asarray(d) for d in direction.fold_directions]
    proj = {pid: acts[pid][direction.layer] @ dirs[1 - direction.folds[pid]] for pid in harmful + benign}
    ph, pb = np.array([proj[i] for i in harmful]), np.array([proj[i] for i in benign])
    sd = math.sqrt((ph.var(ddof=1) + pb.var(ddof=1)) / 2)
    assert metrics[REFUSAL_DPRIME] == pytest.approx((ph.mean() - pb.mean()) / sd), "classical d' at the baseline"
    assert metrics[HARMFUL_PROJECTION] == pytest.approx((ph.mean() - (ph.mean() + pb.mean()) / 2) / sd)
    assert metrics[DIRECTION_COSINE] == pytest.approx(1.0)
    # per-item terms average to the metric (what the detector's paired test tests)
    dprime_items = [r.values[REFUSAL_DPRIME] for r in records]
    assert np.mean(dprime_items) == pytest.approx(metrics[REFUSAL_DPRIME])
    proj_items = [r.values[HARMFUL_PROJECTION] for r in records if HARMFUL_PROJECTION in r.values]
    assert len(proj_items) == len(harmful) and np.mean(proj_items) == pytest.approx(metrics[HARMFUL_PROJECTION])
    assert all(r.probe_id.endswith(RECORD_SUFFIX) for r in records) and len(records) == 24


def test_an_eroded_direction_lowers_every_metric():
    acts, harmful, benign = _acts(gap=4.0)
    direction = RefusalDirection.fit(acts, harmful, benign, seed=0)
    _, before = direction.read(acts)
    eroded = {pid: a.copy() for pid, a in acts.items()}
    for pid in harmful:
        eroded[pid][direction.layer, 0] -= 3.0  # harmful prompts drift toward the benign side
    rotated = {pid: a.copy() for pid, a in acts.items()}
    for pid in harmful:  # the separation moves to another axis: the re-estimated direction turns away
        rotated[pid][direction.layer, 0] -= 4.0
        rotated[pid][direction.layer, 5] += 4.0
    _, after = direction.read(eroded)
    _, turned = direction.read(rotated)
    assert after[REFUSAL_DPRIME] < before[REFUSAL_DPRIME] - 1.5
    assert after[HARMFUL_PROJECTION] < before[HARMFUL_PROJECTION] - 1.0
    assert turned[DIRECTION_COSINE] < 0.5 < before[DIRECTION_COSINE]


def test_too_few_prompts_is_a_clear_error():
    acts, harmful, benign = _acts(n=3)
    with pytest.raises(MechanismError, match="need >= 4 of each"):
        RefusalDirection.fit(acts, harmful, benign, seed=0)


def test_state_round_trips_through_json_and_checks_the_fingerprint():
    acts, harmful, benign = _acts()
    fingerprint = {"suite_sha256": "abc", "model": {"hidden_size": HIDDEN}}
    direction = RefusalDirection.fit(acts, harmful, benign, seed=0, fingerprint=fingerprint)
    state = json.loads(json.dumps(direction.to_dict()))
    restored = RefusalDirection.from_dict(state, expected_fingerprint=fingerprint)
    assert restored.read(acts)[1] == direction.read(acts)[1]
    with pytest.raises(BaselineMismatchError, match="suite_sha256"):
        RefusalDirection.from_dict(state, expected_fingerprint={**fingerprint, "suite_sha256": "other"})
