"""Greedy generations of generate-probes: chat prompts -> budgeted thinking -> Generations split at the markers.

The batching itself (length-sorted, left-padded, one ``generate`` per batch, synced across ranks) is
:mod:`driftguard.runner.batching`; its public names are re-exported here.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from driftguard.runner.batching import (  # re-exported: these lived here before batching.py existed
    RankAgreement,
    cut_at_eos,
    generate_ids,
    generation_module,
    left_pad,
    length_sorted_batches,
    model_device,
)
from driftguard.runner.chat import render_prompt_ids
from driftguard.runner.modes import eos_token_ids, probing_mode
from driftguard.runner.reasoning import ReasoningFormat, detect_format, prompt_opens_thought, split_reasoning
from driftguard.runner.thinking import ThinkingStats, think_then_answer
from driftguard.types import Generation, Probe

__all__ = ["RankAgreement", "cut_at_eos", "decode_completion", "generate", "generate_ids", "generation_module", "left_pad",
           "length_sorted_batches", "model_device"]


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' generation-flag warnings for the duration of the probe pass."""
    logger = logging.getLogger("transformers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def decode_completion(tokenizer: Any, ids: Sequence[int], drop_ids: set[int]) -> str:
    """Decode keeping special tokens such as reasoning markers, but without pad/BOS/EOS tokens."""
    kept = [t for t in ids if t not in drop_ids]
    return tokenizer.decode(kept, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def generate(model: Any, tokenizer: Any, probes: Sequence[Probe], *, max_new_tokens: int, batch_size: int,
             markers: tuple[str, str] = ("<think>", "</think>"), think_budget: int = 0,
             fmt: ReasoningFormat | None = None, synced_gpus: bool = False,
             stats: ThinkingStats | None = None) -> dict[str, Generation]:
    """Greedy generations of ``probes``, keyed by probe id in the order of ``probes``.

    Reasoning models get ``think_budget`` tokens of thought, then a forced close and ``max_new_tokens``
    answer tokens (:mod:`driftguard.runner.thinking`); a row that does not think is a plain greedy
    completion of ``max_new_tokens`` tokens. The completion keeps its markers in ``text`` and is split
    into ``reasoning`` and ``answer``. ``prompt_ids`` and ``completion_ids`` (which ends with the EOS token
    when the model stopped) are unpadded, for teacher forcing. ``stats`` accumulates the pass's cost.
    """
    prompts = [render_prompt_ids(tokenizer, p.chat()) for p in probes]
    fmt = fmt or detect_format(tokenizer, markers)
    with _quiet_transformers(), probing_mode(model, tokenizer) as pad_id:
        eos_ids = eos_token_ids(model, tokenizer)
        completions, pass_stats = think_then_answer(
            model, tokenizer, prompts, fmt, mode="answer", think_budget=think_budget, answer_budget=max_new_tokens,
            batch_size=batch_size, pad_id=pad_id, eos_ids=eos_ids, synced_gpus=synced_gpus) if prompts else ([], None)
        drop_ids = {pad_id, *eos_ids} | {t for t in (tokenizer.bos_token_id, tokenizer.eos_token_id) if t is not None}
    if stats is not None and pass_stats is not None:
        stats.add(pass_stats)
    results: dict[str, Generation] = {}
    for probe, prompt_ids, completion in zip(probes, prompts, completions, strict=True):
        text = decode_completion(tokenizer, completion.ids, drop_ids)
        opened = prompt_opens_thought(decode_completion(tokenizer, prompt_ids, set()), fmt.markers)
        reasoning, answer = split_reasoning(text, fmt.markers, opened=opened)
        results[probe.id] = Generation(probe_id=probe.id, text=text, reasoning=reasoning, answer=answer,
                                       prompt_ids=prompt_ids, completion_ids=completion.ids,
                                       thought_cut=completion.thought_cut, answer_prefix_ids=completion.prefix_ids)
    return results
