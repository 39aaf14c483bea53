"""Batched greedy generation of token ids: length-sorted, left-padded, one ``generate`` per batch.

The layer below both :mod:`driftguard.runner.generate` (probes -> Generations) and
:mod:`driftguard.runner.thinking` (budgeted thinking, then a forced answer); it imports neither.
Under synced generation (ZeRO-3, FSDP) the ranks agree on the number of batches and on out-of-memory retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from driftguard.errors import ConfigError, DriftGuardError


def model_device(model: Any) -> Any:
    """The device the inputs of ``model`` go to (its ``device``, else its first parameter's)."""
    device = getattr(model, "device", None)
    return device if device is not None else next(model.parameters()).device


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of ``batch_size``, longest first (memory errors surface on batch one)."""
    if batch_size < 1:
        raise ConfigError(f"batch_size = {batch_size}: must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def left_pad(rows: Sequence[Sequence[int]], pad_id: int, device: Any) -> tuple[Any, Any]:
    """``(input_ids, attention_mask)`` of ``rows`` left-padded to the longest, built on CPU and moved once."""
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            input_ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            attention_mask[i, width - len(row):] = 1
    return input_ids.to(device), attention_mask.to(device)


def _inner_model(model: Any) -> Any:
    """The transformers model whose ``generation_config`` generate() reads (a PEFT wrapper's base model)."""
    get_base_model = getattr(model, "get_base_model", None)
    return get_base_model() if callable(get_base_model) else model


@contextmanager
def _greedy_generation_config(model: Any, *, max_new_tokens: int, pad_id: int, eos_ids: list[int]) -> Iterator[Any]:
    """Swap in a clean greedy GenerationConfig so the model's own defaults (sampling, temperature,
    repetition penalty, beams, bad words...) cannot leak into the probe pass; restore it after."""
    from transformers import GenerationConfig

    inner = _inner_model(model)
    own = getattr(inner, "generation_config", None)
    clean = GenerationConfig(
        do_sample=False, num_beams=1, num_return_sequences=1, max_new_tokens=max_new_tokens, min_new_tokens=0,
        temperature=1.0, top_k=50, top_p=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0, length_penalty=1.0,
        use_cache=True, return_dict_in_generate=False, output_scores=False,
        pad_token_id=pad_id, eos_token_id=eos_ids or None, bos_token_id=getattr(own, "bos_token_id", None),
    )
    inner.generation_config = clean
    try:
        yield clean
    finally:
        inner.generation_config = own


def cut_at_eos(ids: Sequence[int], eos_ids: Sequence[int]) -> list[int]:
    """``ids`` up to and including the first EOS (the stop decision is kept for teacher forcing)."""
    eos = set(eos_ids)
    for i, token in enumerate(ids):
        if token in eos:
            return list(ids[:i + 1])
    return list(ids)


@contextmanager
def generation_module(model: Any) -> Iterator[Any]:
    """The module to call ``generate`` on: an FSDP1 root (``FullyShardedDataParallel``, the Trainer's ``fsdp=``
    path) gets its own parameters gathered (``summon_full_params(recurse=False)``: nested FSDP units still
    gather theirs in their forward) and its wrapped module is yielded; ``generate`` reached through the
    wrapper would run the inner model on the root's flat shards ("'weight' must be 2-D"). Others: as given."""
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel
    except ImportError:  # a torch built without distributed support
        yield model
        return
    if isinstance(model, FullyShardedDataParallel):
        with FullyShardedDataParallel.summon_full_params(model, recurse=False, writeback=False):
            yield model.module
    else:
        yield model


class RankAgreement:
    """Collective decisions of a synced generation (``torch.distributed`` when initialised with several ranks,
    else a single process): the number of batches and whether any rank ran out of memory."""

    def __init__(self, device: Any) -> None:
        import torch
        import torch.distributed as dist

        self.dist = dist if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1 else None
        if self.dist is not None and self.dist.get_backend() == "nccl":
            device = torch.device("cuda", torch.cuda.current_device())
        self.device = device

    @property
    def active(self) -> bool:
        return self.dist is not None

    def max(self, value: int) -> int:
        """The largest ``value`` over all ranks (a collective: every rank calls it)."""
        if self.dist is None:
            return value
        import torch

        box = torch.tensor([value], dtype=torch.long, device=self.device)
        self.dist.all_reduce(box, op=self.dist.ReduceOp.MAX)
        return int(box.item())

    def any(self, flag: bool) -> bool:
        return self.max(int(flag)) > 0


def _is_oom(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


def generate_ids(model: Any, prompts: Sequence[Sequence[int]], *, max_new_tokens: int, batch_size: int,
                 pad_id: int, eos_ids: Sequence[int], synced_gpus: bool = False,
                 stopping: Callable[[list[int]], Any] | None = None,
                 filler: Sequence[int] | None = None) -> list[list[int]]:
    """Greedy completion ids of each prompt (cut after the first EOS, no padding), in the order given.

    One ``model.generate`` per batch of ``batch_size`` length-sorted prompts; callers must already be in
    :func:`probing_mode`. ``synced_gpus`` keeps ranks stepping together when weights are sharded
    (ZeRO-3, FSDP): a rank whose batch finished keeps running forwards until every rank is done. Every
    decoding step is then a collective, so the ranks also agree on the number of batches (a rank with fewer
    prompts, or none, runs one-token dummy batches of ``filler``, default its first prompt) and on an
    out-of-memory error: when any rank's ``generate`` raised one, every rank runs that batch again as two
    halves (down to one row; then every rank raises); any other error on one rank is raised on every rank.
    The failed rank first joins the others' decoding steps with a one-row dummy ``generate`` until they finish:
    this recovers an error raised before the batch's first forward (allocating the batch, the cache); one
    raised inside a sharded forward leaves the other ranks in a weight gather and cannot be recovered.
    ``stopping(batch indices)`` builds an extra per-row ``StoppingCriteria`` for a batch (called again when a
    batch is retried).
    """
    import torch

    device = model_device(model)
    completions: list[list[int]] = [[] for _ in prompts]
    batches: list[list[int]] = length_sorted_batches([len(p) for p in prompts], batch_size)
    agree = RankAgreement(device) if synced_gpus else None
    if agree is not None and not agree.active:
        agree = None
    n_batches = agree.max(len(batches)) if agree is not None else len(batches)
    dummy = list(filler) if filler is not None else (list(prompts[0]) if prompts else [pad_id])
    with generation_module(model) as model, _greedy_generation_config(
            model, max_new_tokens=max_new_tokens, pad_id=pad_id, eos_ids=list(eos_ids)) as cfg:

        def run(batch: list[int]) -> None:
            rows = [prompts[i] for i in batch] if batch else [dummy]
            input_ids, attention_mask = left_pad(rows, pad_id, device)
            extra: dict[str, Any] = {"synced_gpus": True} if synced_gpus else {}
            if not batch:
                extra["max_new_tokens"] = 1
            elif stopping is not None:
                from transformers import StoppingCriteriaList

                extra["stopping_criteria"] = StoppingCriteriaList([stopping(batch)])
            output = model.generate(input_ids=input_ids, attention_mask=attention_mask, generation_config=cfg, **extra)
            for i, row in zip(batch, output[:, input_ids.shape[1]:].tolist(), strict=False):
                completions[i] = cut_at_eos(row, eos_ids)

        def run_agreed(batch: list[int], width: int) -> None:
            """``batch`` (empty: a dummy) on every rank at once; ``width``: the batch size all ranks share."""
            error: BaseException | None = None
            try:
                run(batch)
            except Exception as e:  # noqa: BLE001 - the other ranks must hear of it before anyone raises
                error = e
                _empty_cache()
                run([])  # join the other ranks' decoding steps (a one-row dummy) until every rank is done
            worst = agree.max(0 if error is None else 1 if _is_oom(error) else 2)
            if worst == 0:
                return
            if worst == 2:  # another error on some rank: every rank raises (and meets the others in the gather)
                raise error or DriftGuardError("generation failed on another rank")
            if width <= 1:
                raise error or torch.OutOfMemoryError("out of memory on another rank during synced generation")
            _empty_cache()
            half = (width + 1) // 2
            run_agreed(batch[:half], half)
            run_agreed(batch[half:], width - half)

        for k in range(n_batches):
            batch = batches[k] if k < len(batches) else []
            if agree is None:
                run(batch)
            else:
                run_agreed(batch, batch_size)
    return completions


def _empty_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
