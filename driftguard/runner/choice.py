"""Option log-likelihood: score each option as the assistant's continuation of the rendered prompt.

All (request, option) rows are length-sorted and batched; ONE forward per batch. Rows are left-padded
so every row's option tokens end at the last column: only the last ``max option length`` positions
go through the LM head (``logits_to_keep``), and the fp32 log-softmax is taken only at the gathered
target tokens (``logit[target] - logsumexp(logits)``, one position at a time), never as a full-vocab
fp32 tensor for the batch (the shared-prefix path below takes one fp32 log-softmax per prefix, at its last
position). A request whose options share a long prefix (the 8 refusal/compliance openings,
or options after a thought) encodes its prompt + thought once and scores the options as continuations of its
KV cache (:func:`shared_prefix_logprobs`).
"""

from __future__ import annotations

import copy
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


def _target_logprobs(logits: Any, targets: Any) -> Any:
    """log p(targets[b, j]) under ``logits[b, j]``: the gathered logit minus the fp32 logsumexp, one position at a
    time (never a full-vocab fp32 tensor for the batch)."""
    import torch

    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1).float()
    normaliser = torch.stack([torch.logsumexp(logits[:, j].float(), dim=-1) for j in range(logits.shape[1])], dim=1)
    return picked - normaliser


def rows_logprobs(model: Any, rows: Sequence[Sequence[int]], n_scored: Sequence[int], *, pad_id: int) -> Any:
    """ONE forward: a tensor of the sums of log p(token) over the last ``n_scored[i]`` tokens of each ``rows[i]``.

    Differentiable (the caller picks the grad mode): the attribution's safety loss back-propagates through it.
    """
    import torch

    device = model_device(model)
    width = max(n_scored)
    input_ids, attention_mask = left_pad(rows, pad_id, device)
    targets = input_ids[:, -width:]
    inputs, mask = input_ids[:, :-1], attention_mask[:, :-1]
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    kwargs = {"logits_to_keep": width} if _accepts_logits_to_keep(model) else {}
    logits = model(input_ids=inputs, attention_mask=mask, position_ids=position_ids, use_cache=False, **kwargs).logits
    lengths = torch.tensor(list(n_scored), device=device)
    scored = torch.arange(width, device=device).unsqueeze(0) >= (width - lengths).unsqueeze(1)
    return (_target_logprobs(logits[:, -width:], targets) * scored).sum(-1)


def continuation_logprobs(model: Any, rows: Sequence[Sequence[int]], n_scored: Sequence[int], *,
                          batch_size: int, pad_id: int) -> list[float]:
    """Sum of log p(token) over the last ``n_scored[i]`` tokens of each ``rows[i]`` given the tokens before.

    Results are in the order given. One forward per batch of ``batch_size`` length-sorted rows;
    callers must already be in :func:`probing_mode`. A sharding wrapper can call this on its shard.
    """
    import torch

    batches = length_sorted_batches([len(r) for r in rows], batch_size)
    sums = [rows_logprobs(model, [rows[i] for i in batch], [n_scored[i] for i in batch], pad_id=pad_id)
            for batch in batches]
    flat = torch.cat(sums).tolist() if sums else []
    result = [0.0] * len(rows)
    for i, value in zip((i for batch in batches for i in batch), flat, strict=True):
        result[i] = value
    return result


SHARED_MIN_OPTIONS = 4  # this many options (the 8 openings) share one encoding of the prompt


def shares_prefix(request: OptionRequest) -> bool:
    """Whether ``request``'s options are scored on one shared encoding of its prompt (+ thought)."""
    return len(request.options) >= SHARED_MIN_OPTIONS or (len(request.options) > 1 and bool(request.prefix_ids))


def shared_prefix_logprobs(model: Any, prefixes: Sequence[Sequence[int]], options: Sequence[Sequence[Sequence[int]]], *,
                           batch_size: int, pad_id: int) -> list[list[float]] | None:
    """Sum of log p(option tokens | prefix) for every option of every prefix, each prefix encoded ONCE.

    Per batch of length-sorted prefixes (at most ``batch_size`` option rows, or one prefix): one forward of the
    left-padded prefixes with the KV cache (its last position scores every option's first token), then the
    options, right-padded, as continuations of their prefix's cache. None when the model returns no cache
    (the caller scores full rows).
    """
    import torch

    if _prompt_learning(model):
        return None
    device = model_device(model)
    keep_logits = _accepts_logits_to_keep(model)
    result: list[list[float]] = [[] for _ in options]
    batches: list[list[int]] = []
    for i in sorted(range(len(prefixes)), key=lambda i: -len(prefixes[i])):
        if batches and sum(len(options[j]) for j in batches[-1]) + len(options[i]) <= batch_size:
            batches[-1].append(i)
        else:
            batches.append([i])
    for batch in batches:
        input_ids, attention_mask = left_pad([prefixes[i] for i in batch], pad_id, device)
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=True,
                    **({"logits_to_keep": 1} if keep_logits else {}))
        cache = getattr(out, "past_key_values", None)
        if cache is None or not hasattr(cache, "reorder_cache"):
            return None
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        owner = torch.tensor([b for b, i in enumerate(batch) for _ in options[i]], device=device)
        rows = [opt for i in batch for opt in options[i]]
        sums = first[owner, torch.tensor([r[0] for r in rows], device=device)]
        # always run (a 1-token option adds 0): ranks with sharded weights must run the same forwards
        chunks = [list(range(c, min(c + batch_size, len(rows)))) for c in range(0, len(rows), batch_size)]
        sums = sums + torch.cat([
            _continuation(model, cache if len(chunks) == 1 else copy.deepcopy(cache), attention_mask,
                          [rows[r] for r in chunk], owner[chunk], pad_id) for chunk in chunks])
        flat = sums.tolist()
        at = 0
        for i in batch:
            result[i] = flat[at:at + len(options[i])]
            at += len(options[i])
    return result


def _prompt_learning(model: Any) -> bool:
    """A PEFT prompt-learning adapter (prefix / prompt tuning) writes its own virtual tokens into every forward and
    replaces a given cache: the options cannot continue a cache of ours, so they are scored as full rows."""
    config = getattr(model, "peft_config", None)
    active = getattr(model, "active_adapter", None)
    adapter = config.get(active) if isinstance(config, dict) and isinstance(active, str) else None
    return bool(getattr(adapter, "is_prompt_learning", False))


def _continuation(model: Any, cache: Any, prefix_mask: Any, rows: list[Sequence[int]], owner: Any, pad_id: int) -> Any:
    """Sum of log p(option[1:] | prefix, option[0]) per row, continuing the cache of prefix ``owner[row]``."""
    import torch

    device = prefix_mask.device
    width = max(1, max(len(r) for r in rows) - 1)
    cont = torch.full((len(rows), width), pad_id, dtype=torch.long)
    cont_mask = torch.zeros((len(rows), width), dtype=torch.long)
    targets = torch.zeros((len(rows), width), dtype=torch.long)
    for r, opt in enumerate(rows):
        n = len(opt) - 1
        if n:
            cont[r, :n], targets[r, :n], cont_mask[r, :n] = torch.tensor(opt[:-1]), torch.tensor(opt[1:]), 1
    cont, cont_mask, targets = cont.to(device), cont_mask.to(device), targets.to(device)
    cache.reorder_cache(owner)  # each prefix's keys/values once per option row
    mask = torch.cat([prefix_mask[owner], torch.ones_like(cont_mask)], dim=1)
    positions = prefix_mask.sum(-1)[owner].unsqueeze(1) + torch.arange(width, device=device).unsqueeze(0)
    logits = model(input_ids=cont, attention_mask=mask, position_ids=positions, past_key_values=cache,
                   use_cache=True).logits[:, -width:]
    return (_target_logprobs(logits, targets) * cont_mask).sum(-1)


def encode_request(tokenizer: Any, request: OptionRequest) -> tuple[list[int], list[list[int]]]:
    """The request's prompt ids (chat template + generation prompt + answer prefix) and each option's ids, tokenised
    separately, so the prompt tokens are identical across its options."""
    encoded = []
    for j, option in enumerate(request.options):
        ids = list(tokenizer(option, add_special_tokens=False)["input_ids"])
        if not ids:
            raise ProbeSuiteError(f"request {request.key!r}: options[{j}] = {option!r} tokenises to no tokens; "
                                  "give every option some text")
        encoded.append(ids)
    return render_prompt_ids(tokenizer, request.messages) + list(request.prefix_ids), encoded


def score_options(model: Any, tokenizer: Any, requests: Sequence[OptionRequest], *,
                  batch_size: int) -> dict[str, list[OptionScore]]:
    """Log-likelihood of every option of every request, keyed by ``request.key``, options in order.

    The prompt (chat template + generation prompt + the request's answer prefix) and each option are
    tokenised separately and concatenated, so the prompt tokens are identical across a request's options.
    A request that :func:`shares_prefix` encodes its prompt + thought once (two forwards per batch, far fewer
    tokens); the others (choice items of 2-3 options without a thought, single-option rows) are batched as
    full rows, one forward each.
    """
    prompts: list[list[int]] = []
    option_ids: list[list[list[int]]] = []
    for request in requests:
        prompt, encoded = encode_request(tokenizer, request)
        prompts.append(prompt)
        option_ids.append(encoded)
    shared = [k for k, r in enumerate(requests) if shares_prefix(r)]
    sums: dict[int, list[float]] = {}
    with probing_mode(model, tokenizer) as pad_id:
        if shared:
            got = shared_prefix_logprobs(model, [prompts[k] for k in shared], [option_ids[k] for k in shared],
                                         batch_size=batch_size, pad_id=pad_id)
            if got is not None:
                sums.update(zip(shared, got, strict=True))
        rest = [k for k in range(len(requests)) if k not in sums]
        rows = [prompts[k] + o for k in rest for o in option_ids[k]]
        n_scored = [len(o) for k in rest for o in option_ids[k]]
        flat = continuation_logprobs(model, rows, n_scored, batch_size=batch_size, pad_id=pad_id) if rows else []
        at = 0
        for k in rest:
            sums[k] = flat[at:at + len(option_ids[k])]
            at += len(option_ids[k])
    return {request.key: [OptionScore(sum_logprob=sums[k][j], n_tokens=len(option_ids[k][j]))
                          for j in range(len(request.options))]
            for k, request in enumerate(requests)}
