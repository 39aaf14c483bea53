"""Option log-likelihood: score each option as the assistant's continuation of the rendered prompt.

All (request, option) rows are length-sorted and batched; ONE forward per batch. Rows are left-padded
so every row's option tokens end at the last column: only the last ``max option length`` positions
go through the LM head (``logits_to_keep``), and the fp32 log-softmax is taken only at the gathered
target tokens (``logit[target] - logsumexp(logits)``, one position at a time), never as a full-vocab
fp32 tensor for the batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from driftguard.errors import ProbeSuiteError
from driftguard.runner.chat import render_prompt_ids
from driftguard.runner.generate import left_pad, length_sorted_batches, model_device
from driftguard.runner.modes import probing_mode
from driftguard.types import OptionScore, Probe


@dataclass(frozen=True)
class OptionRequest:
    """Score ``options`` as continuations of the conversation ``messages``; results are filed under ``key``.

    ``prefix_ids``: tokens between the rendered prompt and the answer (a reasoning model's own thought,
    closed): the options are scored at the answer position, not at the first assistant token.
    """

    key: str
    messages: list[dict]
    options: tuple[str, ...]
    prefix_ids: tuple[int, ...] = ()


def probe_option_requests(probes: Sequence[Probe]) -> list[OptionRequest]:
    """One request per ``choice`` probe (key = probe id); other probes are skipped."""
    requests = []
    for probe in probes:
        if probe.kind != "choice":
            continue
        if not probe.options:
            raise ProbeSuiteError(f"probe {probe.id!r}: kind 'choice' needs a non-empty 'options' list; "
                                  "add the answer options or make it a 'generate' probe")
        requests.append(OptionRequest(key=probe.id, messages=probe.chat(), options=tuple(probe.options)))
    return requests


def _named_parameters(fn: Any) -> list[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def unwrap_model(model: Any) -> Any:
    """The model that really runs the forward, through wrappers whose ``forward`` is ``(*args, **kwargs)``:
    PEFT (``get_base_model``), torch.compile (``_orig_mod``), FSDP1 (``_fsdp_wrapped_module``), DDP / FSDP1 /
    DeepSpeed (``.module``); a model with a real forward signature is returned as is."""
    for _ in range(16):
        get_base_model = getattr(model, "get_base_model", None)
        if callable(get_base_model):
            inner = get_base_model()
        else:
            inner = next((getattr(model, a) for a in ("_orig_mod", "_fsdp_wrapped_module", "module")
                          if callable(getattr(getattr(model, a, None), "forward", None))), None)
            if inner is not None and _named_parameters(getattr(model, "forward", None)) and not hasattr(model, "_orig_mod"):
                inner = None  # a real forward signature: not a wrapper (a submodule that happens to be named "module")
        if inner is None or inner is model:
            return model
        model = inner
    return model


def _accepts_logits_to_keep(model: Any) -> bool:
    """Whether the forward that really runs takes ``logits_to_keep`` (read through FSDP1 / DDP / PEFT / compile:
    their own ``forward(*args, **kwargs)`` says nothing, and without it the LM head returns every position)."""
    return "logits_to_keep" in _named_parameters(unwrap_model(model).forward)


def continuation_logprobs(model: Any, rows: Sequence[Sequence[int]], n_scored: Sequence[int], *,
                          batch_size: int, pad_id: int) -> list[float]:
    """Sum of log p(token) over the last ``n_scored[i]`` tokens of each ``rows[i]`` given the tokens before.

    Results are in the order given. One forward per batch of ``batch_size`` length-sorted rows;
    callers must already be in :func:`probing_mode`. A sharding wrapper can call this on its shard.
    """
    import torch

    device = model_device(model)
    keep_logits = _accepts_logits_to_keep(model)
    batches = length_sorted_batches([len(r) for r in rows], batch_size)
    sums = []
    for batch in batches:
        width = max(n_scored[i] for i in batch)
        input_ids, attention_mask = left_pad([rows[i] for i in batch], pad_id, device)
        targets = input_ids[:, -width:]
        inputs, mask = input_ids[:, :-1], attention_mask[:, :-1]
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        kwargs = {"logits_to_keep": width} if keep_logits else {}
        logits = model(input_ids=inputs, attention_mask=mask, position_ids=position_ids, use_cache=False, **kwargs).logits
        logits = logits[:, -width:]
        picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1).float()
        normaliser = torch.stack([torch.logsumexp(logits[:, j].float(), dim=-1) for j in range(width)], dim=1)
        lengths = torch.tensor([n_scored[i] for i in batch], device=device)
        scored = torch.arange(width, device=device).unsqueeze(0) >= (width - lengths).unsqueeze(1)
        sums.append(((picked - normaliser) * scored).sum(-1))
    flat = torch.cat(sums).tolist() if sums else []
    result = [0.0] * len(rows)
    for i, value in zip((i for batch in batches for i in batch), flat, strict=True):
        result[i] = value
    return result


def score_options(model: Any, tokenizer: Any, requests: Sequence[OptionRequest], *,
                  batch_size: int) -> dict[str, list[OptionScore]]:
    """Log-likelihood of every option of every request, keyed by ``request.key``, options in order.

    The prompt (chat template + generation prompt + the request's answer prefix) and each option are
    tokenised separately and concatenated, so the prompt tokens are identical across a request's options.
    """
    rows: list[list[int]] = []
    n_scored: list[int] = []
    for request in requests:
        prompt_ids = render_prompt_ids(tokenizer, request.messages) + list(request.prefix_ids)
        for j, option in enumerate(request.options):
            option_ids = list(tokenizer(option, add_special_tokens=False)["input_ids"])
            if not option_ids:
                raise ProbeSuiteError(f"request {request.key!r}: options[{j}] = {option!r} tokenises to no tokens; "
                                      "give every option some text")
            rows.append(prompt_ids + option_ids)
            n_scored.append(len(option_ids))
    with probing_mode(model, tokenizer) as pad_id:
        sums = continuation_logprobs(model, rows, n_scored, batch_size=batch_size, pad_id=pad_id) if rows else []
    results: dict[str, list[OptionScore]] = {}
    row = 0
    for request in requests:
        results[request.key] = [OptionScore(sum_logprob=sums[row + j], n_tokens=n_scored[row + j])
                                for j in range(len(request.options))]
        row += len(request.options)
    return results
