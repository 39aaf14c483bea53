"""Fixtures of the KL engine tests (helpers in reference_models.py)."""

from __future__ import annotations

import pytest
from reference_models import generate, make_probes, perturb

from driftguard.reference import KLSet
from driftguard.types import Probe


@pytest.fixture(scope="module")
def reference_model(tiny_model_factory):
    return tiny_model_factory(0)


@pytest.fixture(scope="module")
def probes() -> list[Probe]:
    return make_probes()


@pytest.fixture(scope="module")
def kl_set(reference_model, tiny_tokenizer, probes) -> KLSet:
    return KLSet.from_generations(probes, generate(reference_model, tiny_tokenizer, probes))


@pytest.fixture(scope="module")
def perturbed_model(reference_model):
    return perturb(reference_model)
