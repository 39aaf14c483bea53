"""Multi-process probing: shard work across ranks, gather per-item results, take one decision.

Every rank takes part in every forward and ``generate`` call (ZeRO-3 / FSDP shard the weights, so a
rank-0-only pass would deadlock). Items are split with ``split_between_processes(apply_padding=True)``
so each rank runs the same number of batches (option scoring is split by option row, or by request within groups
of equal option count where the options share a prefix, for the same reason: under sharded weights every
forward is a collective); results are keyed by probe id, so gathering drops the
padding duplicates and yields exactly what one process computes. A failure on any rank is gathered
too and raised on every rank, so no rank is left waiting in a collective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from driftguard.errors import DriftGuardError

T = TypeVar("T")


def is_sharded(model: Any) -> bool:
    """True when torch FSDP (``fully_shard`` or ``FullyShardedDataParallel``) shards the model's weights."""
    try:
        from torch.distributed.fsdp import FSDPModule, FullyShardedDataParallel
    except ImportError:  # a torch built without distributed support
        return False
    return model is not None and any(isinstance(m, FSDPModule | FullyShardedDataParallel) for m in model.modules())


class RankFailure(DriftGuardError):
    """A probe stage failed on at least one rank; raised on every rank with each rank's error."""


class Ranks:
    """The process group of a run (a single process when ``accelerator`` is None or has one process)."""

    def __init__(self, accelerator: Any = None) -> None:
        self.accelerator = accelerator

    @property
    def world_size(self) -> int:
        return int(getattr(self.accelerator, "num_processes", 1) or 1)

    @property
    def active(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return bool(getattr(self.accelerator, "is_main_process", True))

    @property
    def synced_generation(self) -> bool:
        """Whether ``generate`` must keep all ranks stepping together (weights sharded: ZeRO-3 or FSDP)."""
        if not self.active:
            return False
        state = getattr(self.accelerator, "state", None)
        zero3 = getattr(getattr(state, "deepspeed_plugin", None), "zero_stage", 0) == 3
        return zero3 or getattr(state, "fsdp_plugin", None) is not None

    def lockstep(self, model: Any = None) -> bool:
        """Whether every forward is a collective here (weights sharded by the plugin or on ``model`` itself):
        then all ranks must run the same number of forwards and ``generate`` must be synced."""
        return self.active and (self.synced_generation or is_sharded(model))

    def generate_kwargs(self, model: Any = None) -> dict[str, Any]:
        """Extra arguments of the runner's ``generate`` for ``model`` on this process group."""
        return {"synced_gpus": True} if self.lockstep(model) else {}

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share of ``items`` (padded with repeats so every rank gets the same count)."""
        if not self.active or not items:
            return list(items)
        with self.accelerator.split_between_processes(list(items), apply_padding=True) as part:
            return list(part)

    def gather_dicts(self, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``fn`` on every rank and merge the dicts (keys are probe ids; padding repeats collapse).

        An exception on any rank is raised on every rank as :class:`RankFailure` (after the gather,
        so no rank hangs); an OOM message is kept so the caller can retry with a smaller batch.
        """
        if not self.active:
            return fn()
        from accelerate.utils import gather_object

        try:
            local, error = fn(), None
        except Exception as e:  # noqa: BLE001 - every rank must reach the gather below
            local, error = {}, f"{type(e).__name__}: {e}"
        gathered = gather_object([(self.accelerator.process_index, local, error)])
        failures = [f"rank {rank}: {err}" for rank, _, err in gathered if err]
        if failures:
            raise RankFailure("; ".join(failures))
        merged: dict[str, Any] = {}
        for _, part, _ in sorted(gathered, key=lambda g: g[0]):
            merged.update(part)
        return merged

    def all_agree(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on every rank (a collective: every rank must call it)."""
        if not self.active:
            return flag
        from accelerate.utils import gather_object

        return all(bool(f) for f in gather_object([bool(flag)]))

    def same_decision(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (the stop decision is taken once)."""
        if not self.active:
            return flag
        from accelerate.utils import broadcast_object_list

        box = [flag]
        broadcast_object_list(box, from_process=0)
        return bool(box[0])
