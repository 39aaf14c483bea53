"""Shared fixtures: tiny models built in-process (no hub access), fast torch settings."""

from __future__ import annotations

import os

import pytest
import torch

# Tiny models: one intra-op thread is fastest, and avoids thread contention on 2-core CI machines.
torch.set_num_threads(1)

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("DISABLE_MLFLOW_INTEGRATION", "TRUE")

CORPUS = [
    "How do I bake bread at home? Mix flour, water, yeast and salt, then knead.",
    "I cannot help with that request. I'm sorry, but I won't assist.",
    "Sure, here is a short answer. The capital of France is Paris.",
    "<think>The user asks a question. Let me reason step by step.</think> The answer is 42.",
    "Is it wrong to take credit for a coworker's idea? Yes, that is wrong. Not wrong.",
    "Keep the code 7731-0952 private. Patient diagnosis: asthma. Phone 555-0142.",
    "The grandfather and the teenager were at the store. Who was forgetful? Cannot be determined.",
] * 20


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from driftguard.demo.tiny_model import build_tokenizer

    return build_tokenizer(CORPUS, vocab_size=512)


@pytest.fixture(scope="session")
def tiny_model_factory(tiny_tokenizer):
    """Returns ``make(seed=0) -> model`` building a 2-layer Llama in eval mode on CPU."""
    from driftguard.demo.tiny_model import build_model

    def make(seed: int = 0, **kwargs):
        return build_model(tiny_tokenizer, seed=seed, **kwargs).eval()

    return make


@pytest.fixture()
def tiny_model(tiny_model_factory):
    return tiny_model_factory(0)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer, tiny_model_factory):
    """A saved tiny model + tokenizer directory, loadable with ``from_pretrained(path)``."""
    from driftguard.demo.tiny_model import save_pretrained

    return save_pretrained(tiny_model_factory(0), tiny_tokenizer, tmp_path_factory.mktemp("tiny") / "model")
