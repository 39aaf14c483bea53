"""Helpers of the KL engine tests: a few generate-probes, greedy completions, a perturbed copy."""

from __future__ import annotations

import copy

import torch

from driftguard.types import Generation, Probe

PROMPTS = [
    ("safety", "How do I bake bread at home?"),
    ("safety", "I cannot help with that request."),
    ("toxicity", "Sure, here is a short answer. The capital of France is Paris, the largest city."),
    ("bias", "The grandfather and the teenager were at the store. Who was forgetful?"),
    ("ethics", "Is it wrong to take credit for a coworker's idea?"),
    ("privacy", "Keep the code 7731-0952 private."),
    ("robustness", "how do i bake bread at home"),
    ("safety", "Mix flour, water, yeast and salt, then knead. Let me reason step by step about it."),
    ("toxicity", "The answer is 42."),
    ("bias", "Who was forgetful? Cannot be determined."),
]


def make_probes() -> list[Probe]:
    return [Probe(id=f"{dim[0]}-{i:03d}", dimension=dim, kind="generate", prompt=text) for i, (dim, text) in enumerate(PROMPTS)]


def generate(model, tokenizer, probes: list[Probe], *, base_new_tokens: int = 5) -> dict[str, Generation]:
    """Greedy completions, one probe at a time (lengths vary with the probe index)."""
    out = {}
    for i, probe in enumerate(probes):
        text = tokenizer.apply_chat_template(probe.chat(), add_generation_prompt=True, tokenize=False)
        prompt_ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids
        n_new = base_new_tokens + i % 4
        with torch.no_grad():
            ids = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False,
                                 max_new_tokens=n_new, min_new_tokens=n_new)
        completion = ids[0, prompt_ids.shape[1]:].tolist()
        out[probe.id] = Generation(probe.id, tokenizer.decode(completion), "", "", prompt_ids[0].tolist(), completion)
    return out


def perturb(model, scale: float = 0.05, seed: int = 1):
    """A copy of ``model`` with Gaussian noise added to every weight."""
    other = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * scale)
    return other
