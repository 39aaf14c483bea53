"""Cached-mode accuracy on a trained (peaked) tiny Llama: within 2 % of exact KL at the default k.

The model pair comes from ``benchmarks/kl_pass.py`` (:func:`accuracy_models`): a vocab-512 tiny Llama
trained on the demo's aligned chats, and a copy fine-tuned a few steps on the drift chats; the KL set
is the reference's greedy completions. Fewer training steps than the benchmark, to stay fast.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from driftguard.reference.cached import DEFAULT_TOP_K

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kl_pass():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("benchmarks.kl_pass")


@pytest.fixture(scope="module")
def accuracy(kl_pass):
    reference, policy, kl_set = kl_pass.accuracy_models(512, steps=100, n_probes=48)
    return kl_pass.cached_accuracy(reference, policy, kl_set, ks=(16, 64, DEFAULT_TOP_K, 512), batch_size=16)


def test_model_is_peaked_and_drifted(accuracy):
    assert accuracy["reference_entropy"] < 3.0  # a uniform vocab-512 distribution has 6.2 nats
    assert accuracy["exact_mean_kl"] > 0.01


def test_default_k_within_two_percent(accuracy):
    by_k = accuracy["by_k"][str(DEFAULT_TOP_K)]
    assert -0.02 <= by_k["rel_error"] <= 0.0, by_k
    assert by_k["cache_bytes_per_token"] == DEFAULT_TOP_K * 8 + 4


def test_error_shrinks_with_k_never_overestimates_and_is_exact_at_vocab(accuracy):
    by_k = accuracy["by_k"]
    errors = [abs(by_k[str(k)]["rel_error"]) for k in (16, 64, DEFAULT_TOP_K)]
    assert errors[0] > errors[1] > errors[2], errors
    assert not any(v["over_exact"] for v in by_k.values())  # a lower bound, probe by probe
    assert abs(by_k["512"]["rel_error"]) <= 1e-5 and by_k["512"]["reference_tail_mass"] == 0.0
