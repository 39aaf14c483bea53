"""Cached reference: exact at k >= vocab, a bounded lower-bound estimate below, persisted with a fingerprint check."""

from __future__ import annotations

import copy

import pytest

from driftguard.errors import BaselineMismatchError, ConfigError, ModelSetupError
from driftguard.reference import CachedReference, KLSet, ModelReference, measure_kl
from driftguard.reference.cached import DEFAULT_TOP_K


def prepared(model, kl_set, top_k: int = DEFAULT_TOP_K, path=None) -> CachedReference:
    cache = CachedReference(top_k, path, model=model)
    cache.prepare(kl_set, batch_size=4)
    return cache


def test_exact_when_k_covers_the_vocabulary(reference_model, perturbed_model, kl_set):
    cache = prepared(reference_model, kl_set, top_k=reference_model.config.vocab_size)
    exact = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=4)
    cached = measure_kl(perturbed_model, cache, kl_set, batch_size=3, padding_side="right")
    assert cached.exact is False and cached.reference == "cached"
    for probe_id, kl in exact.per_probe.items():
        assert cached.per_probe[probe_id] == pytest.approx(kl, rel=1e-5, abs=1e-6)


def test_cached_error_is_a_lower_bound_that_shrinks_with_k(reference_model, perturbed_model, kl_set):
    """Random tiny Llama (vocab 502, near-uniform next-token distributions: the worst case for top-k) vs a copy
    perturbed by N(0, 0.05) weight noise. Measured here: relative error ~0.82 at k=64 (it only bounds from below);
    on peaked, trained distributions it is ~0.04-0.06 (see CachedReference's docstring)."""
    exact = measure_kl(perturbed_model, ModelReference(reference_model), kl_set, batch_size=8)
    errors = {}
    for k in (8, DEFAULT_TOP_K):
        cached = measure_kl(perturbed_model, prepared(reference_model, kl_set, k), kl_set, batch_size=8)
        assert all(cached.per_probe[p] <= kl + 1e-6 for p, kl in exact.per_probe.items())  # never over-estimates
        errors[k] = (exact.mean - cached.mean) / exact.mean
    assert 0 <= errors[DEFAULT_TOP_K] < errors[8] < 1


def test_self_kl_is_zero_and_no_model_is_held(reference_model, kl_set):
    cache = prepared(reference_model, kl_set)
    assert cache.model is None and cache.prepared
    assert cache.memory_bytes == kl_set.n_tokens * (DEFAULT_TOP_K * 8 + 4)
    result = measure_kl(reference_model, cache, kl_set, batch_size=4)
    assert max(abs(v) for v in result.per_probe.values()) <= 1e-6
    with pytest.raises(ModelSetupError, match="holds no model"), cache.generating(reference_model):
        pass


def test_saved_cache_is_reloaded_without_a_model(reference_model, perturbed_model, kl_set, tmp_path):
    path = tmp_path / "ref.safetensors"
    first = measure_kl(perturbed_model, prepared(reference_model, kl_set, path=path), kl_set, batch_size=4)
    assert path.exists()
    loaded = CachedReference(DEFAULT_TOP_K, path)  # no model: everything comes from the file
    loaded.prepare(kl_set, batch_size=4)
    again = measure_kl(perturbed_model, loaded, kl_set, batch_size=4)
    assert again.per_probe == pytest.approx(first.per_probe, rel=1e-6)
    other = KLSet(kl_set.items[:-1])
    with pytest.raises(BaselineMismatchError, match="delete the file"):
        CachedReference(DEFAULT_TOP_K, path).prepare(other, batch_size=4)
    with pytest.raises(BaselineMismatchError, match="top_k"):
        CachedReference(8, path).prepare(kl_set, batch_size=4)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelSetupError, match="bad.safetensors"):
        CachedReference(DEFAULT_TOP_K, bad).prepare(kl_set, batch_size=4)


def test_misuse_is_reported(reference_model, kl_set):
    with pytest.raises(ConfigError, match="cached_top_k"):
        CachedReference(0)
    with pytest.raises(ConfigError, match="no reference model to cache"):
        CachedReference().prepare(kl_set, batch_size=4)
    with pytest.raises(ModelSetupError, match="before prepare"):
        measure_kl(reference_model, CachedReference(model=reference_model), kl_set, batch_size=4)
    cache = prepared(reference_model, KLSet(kl_set.items[:2]))
    with pytest.raises(BaselineMismatchError, match="not in the cached reference"):
        measure_kl(reference_model, cache, kl_set, batch_size=4)
    changed = copy.deepcopy(kl_set)
    changed.items[0] = type(changed.items[0])(changed.items[0].probe_id, changed.items[0].dimension,
                                              changed.items[0].prompt_ids, changed.items[0].completion_ids[:-1])
    with pytest.raises(BaselineMismatchError):
        measure_kl(reference_model, prepared(reference_model, kl_set), changed, batch_size=4)
