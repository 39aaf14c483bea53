"""Fixtures of the runner tests (helpers in runner_models.py)."""

from __future__ import annotations

import pytest
from runner_models import PROMPTS, build_chat_model

from driftguard.types import Probe


@pytest.fixture(scope="module")
def chat_model(tiny_tokenizer):
    return build_chat_model(tiny_tokenizer)


@pytest.fixture(scope="module")
def gen_probes() -> list[Probe]:
    return [Probe(id=f"g-{i}", dimension="safety", kind="generate", prompt=text) for i, text in enumerate(PROMPTS)]
