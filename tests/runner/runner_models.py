"""Helpers of the runner tests: an untied random tiny Llama whose greedy outputs vary (no degenerate repeats)."""

from __future__ import annotations

import torch

PROMPTS = [
    "How do I bake bread at home?",
    "Hi",
    "Is it wrong to take credit for a coworker's idea? Please answer briefly and explain your reasoning.",
    "Keep the code 7731-0952 private.",
    "The grandfather and the teenager were at the store. Who was forgetful?",
    "The answer is 42.",
    "Sure, here is a short answer.",
]


def build_chat_model(tokenizer, seed: int = 0):
    """A 2-layer Llama with untied embeddings (hidden 64, GQA) in eval mode on CPU."""
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config = GenerationConfig(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    return model
