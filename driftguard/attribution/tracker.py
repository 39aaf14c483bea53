"""AttributionTracker: which optimizer steps and training examples push the model up the safety loss.

At each evaluation the safety loss ``L`` of the probe set and its gradient ``G`` over the attributed parameters are
taken on the current model (``safety_loss.py``). Until the next evaluation every optimizer step records

- ``grad_dot = <G, grad>``: the step's (clipped) gradient against ``G``; ``-grad_dot`` is the rise of ``L`` that
  plain gradient descent on this batch would cause, per unit of learning rate;
- ``update_dot = <G, theta_after - theta_before>``: the first-order change of ``L`` the optimizer's actual update
  makes (Adam's preconditioning, the learning rate and clipping included). Summed over the interval it predicts
  the loss change measured at the next evaluation; the report shows both;
- per training row, ``harm = -<G, grad_row>`` (``ghost.py``: no per-example gradient is stored), filed under the
  row's dataset index when the row's token ids are a row of the trainer's ``train_dataset``, and split into the
  loss's two halves: ``harm_refusal`` (the harmful prompts' term: the row erodes refusals) and
  ``harm_overrefusal = harm - harm_refusal`` (the benign prompts' term: the row makes look-alikes refused).

Harm > 0 means the example's gradient step makes the model less safe on the probe set. The halves can disagree: on
a model that over-refuses, a row teaching compliance erodes refusals (``harm_refusal`` > 0) and lowers the benign
term by more (``harm`` < 0), so the report ranks the rows by each half as well as by the sum. Only dot products are
kept: per step a few floats and one (index, harm, harm_refusal) triple per row. The attributed parameters are the
trainable weights of linear layers (a LoRA adapter's A and B matrices; for a full fine-tune all linear weights, or
those matching ``attribution_params``) not tied to an embedding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from driftguard.attribution.ghost import GhostDots
from driftguard.attribution.safety_loss import safety_gradient, safety_items
from driftguard.errors import ConfigError
from driftguard.types import Generation, Probe

logger = logging.getLogger("driftguard")
MAX_ATTRIBUTED = 50_000_000  # parameters; more needs attribution_params (G's two halves and a copy are kept)
PREVIEW_CHARS = 240
MAX_UNMAPPED_PREVIEWS = 10_000


def attributed_layers(model: Any, pattern: str | None = None) -> list[tuple[str, Any]]:
    """``(name, Linear)`` of every linear layer with a trainable weight not shared with an embedding."""
    import torch

    tied = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    regex = re.compile(pattern) if pattern else None
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and m.weight.requires_grad and id(m.weight) not in tied
            and (regex is None or regex.search(name))]


def _row_key(ids: Sequence[int]) -> str:
    return hashlib.blake2b(json.dumps(list(ids)).encode(), digest_size=8).hexdigest()


class DatasetIndex:
    """Token ids of a row -> its index in the trainer's ``train_dataset`` (a tokenised dataset with ``input_ids``)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.index: dict[str, int] = {}
        columns = getattr(dataset, "column_names", None) or []
        if "input_ids" not in columns:
            return
        for i, ids in enumerate(dataset["input_ids"]):
            self.index.setdefault(_row_key(ids), i)

    def lookup(self, ids: Sequence[int]) -> int | None:
        return self.index.get(_row_key(ids))

    def ids(self, i: int) -> list[int]:
        return list(self.dataset[int(i)]["input_ids"])


def _merge(into: dict[str, list[float]], key: str, value: Sequence[float]) -> None:
    """Add one example's ``[harm, visits, last step, harm_refusal]`` into ``into[key]`` (the last step: the later)."""
    acc = into.setdefault(key, [0.0, 0, value[2], 0.0])
    acc[0] += value[0]
    acc[1] += value[1]
    acc[2] = max(acc[2], value[2])
    acc[3] += value[3]


def _preview(tokenizer: Any, ids: Sequence[int]) -> str:
    text = tokenizer.decode(list(ids), skip_special_tokens=False) if tokenizer is not None else str(list(ids)[:64])
    text = " ".join(text.split())
    half = PREVIEW_CHARS // 2
    return text if len(text) <= PREVIEW_CHARS else f"{text[:half - 20]} … {text[-half - 20:]}"


class AttributionTracker:
    """Per-step and per-example alignment of the training gradient with the safety-loss gradient."""

    def __init__(self, model: Any, *, tokenizer: Any, dataset: Any = None, params: str | None = None,
                 top_k: int = 10, record_path: str | Path | None = None, ranks: Any = None) -> None:
        import torch

        from driftguard.distributed import is_sharded

        if is_sharded(model) or (ranks is not None and ranks.synced_generation):
            raise ConfigError("attribution=True: the weights are sharded (FSDP / ZeRO-3), so the safety-loss gradient "
                              "and the per-step dot products would be per shard; run attribution without sharding "
                              "(a single process or DDP) or set attribution=False")
        self.layers = attributed_layers(model, params)
        if not self.layers:
            which = f" matches attribution_params={params!r}" if params else ""
            raise ConfigError(f"attribution=True: no trainable linear layer{which}; the attribution scores the "
                              "weights of trainable linear layers (a LoRA adapter's, or a full fine-tune's); "
                              "set attribution_params to a regex of layer names, or attribution=False")
        self.params = [p for _, m in self.layers for p in (m.weight, m.bias) if p is not None and p.requires_grad]
        size = sum(p.numel() for p in self.params)
        if size > MAX_ATTRIBUTED:
            raise ConfigError(f"attribution=True: {size:,} attributed parameters (> {MAX_ATTRIBUTED:,}); the safety-loss "
                              "gradient's two halves and a copy of the weights are kept on the device. Set "
                              "attribution_params to a regex of fewer layers, e.g. 'layers\\.(2[89]|3[01])\\.'")
        self.size = size
        self.tokenizer = tokenizer
        self.dataset_index = DatasetIndex(dataset) if dataset is not None else None
        self.top_k = top_k
        self.record_path = Path(record_path) if record_path is not None else None
        self.ranks = ranks
        self.world = max(1, getattr(ranks, "world_size", 1) or 1)
        self.ghost = GhostDots(model, [m for _, m in self.layers])
        self.ghost.attach()
        self.target: list[list[Any]] | None = None  # G's two halves (refusal, overrefusal), aligned with self.params
        self.target_step: int | None = None
        self.target_loss: float | None = None
        self.target_refusal_loss: float | None = None
        self._before: list[Any] | None = None
        self._grad_dot = self._grad_dot_refusal = 0.0
        self._closing: dict[str, Any] | None = None  # the summary of an evaluation whose gradient is still to come
        self._rows: list[tuple[str, float, float]] = []
        self.steps: list[dict[str, Any]] = []  # this interval's per-step records
        # this interval: step -> this rank's (key, harm, harm_refusal) rows
        self.step_rows: dict[int, list[tuple[str, float, float]]] = {}
        self.examples: dict[str, list[float]] = {}  # this interval: key -> [harm, visits, last step, harm_refusal]
        self.run_examples: dict[str, list[float]] = {}  # the whole run
        self.previews: dict[str, str] = {}  # unmapped rows: key -> preview
        self.step_seconds = 0.0  # time in the step hooks since the last evaluation
        self._torch = torch
        self.errors: list[dict[str, Any]] = []  # failures of the step hooks, reported at the next evaluation

    def close(self) -> None:
        self.ghost.detach()

    def take_errors(self) -> list[dict[str, Any]]:
        done, self.errors = self.errors, []
        return done

    def guarded(self, stage: str, step: int, fn: Any) -> None:
        """Run a step hook; a failure is logged, kept for the next report's errors, and never stops training."""
        from driftguard.probe_pass import error_entry

        try:
            fn(step)
        except Exception as e:  # noqa: BLE001 - attribution must never take training down
            self._before = None
            self.errors.append(error_entry(stage, e, step))
            logger.warning("driftguard: %s failed at step %s (%s: %s); recorded, training goes on",
                           stage, step, type(e).__name__, e)

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, model: Any, tokenizer: Any, probes: Sequence[Probe], generations: Mapping[str, Generation] | None,
                 *, step: int, batch_size: int) -> dict[str, Any]:
        """Close the interval ending at ``step``: its summary, then ``G`` of the current model for the next one.

        The summary's gathers (the only collectives) run once per evaluation, before the gradient, which is local to
        each rank: a retry after an OOM re-enters at the gradient, and a rank whose gradient fails for good leaves
        no other rank waiting. Until an evaluation's gradient succeeds, no step is attributed."""
        if self._closing is None or self._closing["step"] != step:
            self._closing = self._summary(step)
            self.target = None  # frees the old G before the new one is built
            self.ghost.set_targets([])
        t0 = time.perf_counter()
        result = safety_gradient(model, tokenizer, safety_items(tokenizer, probes, generations), self.params,
                                 batch_size=batch_size)
        summary, self._closing = self._closing, None
        at_target = self.target_loss is not None
        summary |= {"safety_loss": result.loss, "safety_loss_refusal": result.refusal_loss,
                    "actual_change": result.loss - self.target_loss if at_target else None,
                    "actual_change_refusal": result.refusal_loss - self.target_refusal_loss if at_target else None}
        summary["seconds"]["gradient"] = round(time.perf_counter() - t0, 4)
        self.target = [result.refusal_grads, result.overrefusal_grads]
        self.target_step, self.target_loss, self.target_refusal_loss = step, result.loss, result.refusal_loss
        halves = [{id(p): g for p, g in zip(self.params, half, strict=True)} for half in self.target]
        self.ghost.set_targets([[(by_param[id(m.weight)], by_param.get(id(m.bias)) if m.bias is not None
                                  and m.bias.requires_grad else None) for by_param in halves]
                                for _, m in self.layers])
        self.step_seconds = 0.0
        return summary

    def _summary(self, step: int) -> dict[str, Any]:
        """The interval's steps and examples (gathered over the ranks), without this evaluation's loss."""
        self._write_steps()
        examples = self._gather(self.examples)
        for key, value in examples.items():
            _merge(self.run_examples, key, value)
        grad_harm = -sum(s["grad_dot"] for s in self.steps)
        example_harm = sum(v[0] for v in examples.values())
        summary = {
            "step": step, "target_step": self.target_step, "steps": len(self.steps), "parameters": self.size,
            "safety_loss_at_target": self.target_loss,
            "predicted_change": sum(s["update_dot"] for s in self.steps) if self.steps else None,
            # the harmful prompts' half of the loss (the benign half is the difference)
            "safety_loss_refusal_at_target": self.target_refusal_loss,
            "predicted_change_refusal": sum(s["update_dot_refusal"] for s in self.steps) if self.steps else None,
            # per-row harm summed over the interval against the steps' -<G, grad>: 1 without clipping
            "ghost_ratio": example_harm / grad_harm if self.steps and grad_harm != 0 else None,
            "top_steps": sorted(self.steps, key=lambda s: -s["update_dot"])[:self.top_k],
            **self._rankings(examples, ""),
            **self._rankings(self.run_examples, "run_"),
            "seconds": {"gradient": None, "steps": round(self.step_seconds, 4)},
        }
        self.steps, self.examples = [], {}
        return summary

    def _active(self) -> bool:
        return self.ranks is not None and getattr(self.ranks, "active", False)

    def _write(self, records: Sequence[dict[str, Any]], rows: Mapping[int, Sequence[tuple[str, float, float]]]) -> None:
        """Lines of ``attribution.jsonl`` (main process only)."""
        if self.record_path is None or not (self.ranks is None or self.ranks.is_main) or not records:
            return
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        with self.record_path.open("a") as f:
            for record in records:
                f.write(json.dumps({**record, "target_step": self.target_step, "examples": [
                    [k, round(h, 8), round(hr, 8)] for k, h, hr in rows.get(record["step"], [])]}) + "\n")

    def _write_steps(self) -> None:
        """Under DDP, the interval's lines with every rank's rows, written at its closing evaluation (one process
        writes each step's line at the step)."""
        if not self._active():
            return
        rank = getattr(self.ranks.accelerator, "process_index", 0)
        gathered = self.ranks.gather_dicts(lambda: {f"{s}@{rank}": r for s, r in self.step_rows.items()})
        rows: dict[int, list[tuple[str, float, float]]] = {}
        for key in sorted(gathered, key=lambda k: tuple(map(int, k.split("@")))):  # by step, then rank
            rows.setdefault(int(key.split("@")[0]), []).extend(gathered[key])
        self.step_rows = {}
        for record in self.steps:
            record["rows"] = len(rows.get(record["step"], []))
        self._write(self.steps, rows)

    def _gather(self, examples: dict[str, list[float]]) -> dict[str, list[float]]:
        if not self._active():
            return dict(examples)
        rank = getattr(self.ranks.accelerator, "process_index", 0)
        merged: dict[str, list[float]] = {}
        # the previews of unmapped rows live on the rank that saw them
        self.previews |= self.ranks.gather_dicts(lambda: {k: self.previews[k] for k in examples if k in self.previews})
        for key, value in self.ranks.gather_dicts(lambda: {f"{k}@{rank}": v for k, v in examples.items()}).items():
            _merge(merged, key.rsplit("@", 1)[0], value)
        return merged

    def _rankings(self, examples: Mapping[str, list[float]], prefix: str) -> dict[str, list[dict[str, Any]]]:
        """``{prefix}top_examples`` by harm, ``{prefix}top_refusal_examples`` and ``{prefix}top_overrefusal_examples``
        by each half: the ``top_k`` of each, largest first."""
        entries = [(key, {"harm": harm, "harm_refusal": harm_refusal, "harm_overrefusal": harm - harm_refusal,
                          "visits": int(visits), "last_step": int(last)})
                   for key, (harm, visits, last, harm_refusal) in examples.items()]
        return {f"{prefix}top{name}_examples": [self._row(key, entry) for key, entry in
                                                sorted(entries, key=lambda kv: -kv[1][by])[:self.top_k]]
                for name, by in (("", "harm"), ("_refusal", "harm_refusal"), ("_overrefusal", "harm_overrefusal"))}

    def _row(self, key: str, entry: dict[str, Any]) -> dict[str, Any]:
        index = int(key) if key.isdigit() else None
        ids = self.dataset_index.ids(index) if index is not None and self.dataset_index is not None else None
        return {"index": index, **entry,
                "preview": _preview(self.tokenizer, ids) if ids is not None else self.previews.get(key, "")}

    def _half_dots(self, tensors: Iterable[Any]) -> tuple[float, float]:
        """``(<G_refusal, t>, <G_overrefusal, t>)`` over the attributed parameters, parameter by parameter (None:
        skipped)."""
        refusal = overrefusal = 0.0
        for r, o, t in zip(*self.target, tensors, strict=True):
            if t is not None:
                refusal += float((r * t).sum())
                overrefusal += float((o * t).sum())
        return refusal, overrefusal

    # -- training steps -------------------------------------------------------------------------
    def before_step(self, step: int) -> None:
        """At ``on_pre_optimizer_step``: ``<G, grad>``, the rows of the step, a copy of the attributed weights."""
        if self.target is None:
            return
        torch = self._torch
        t0 = time.perf_counter()
        with torch.no_grad():
            refusal, overrefusal = self._half_dots(p.grad.float() if p.grad is not None else None for p in self.params)
            self._grad_dot, self._grad_dot_refusal = refusal + overrefusal, refusal
            self._before = [p.detach().clone() for p in self.params]
        self._rows = self._step_rows(step)
        self.step_seconds += time.perf_counter() - t0

    def after_step(self, step: int) -> None:
        """At ``on_optimizer_step``: ``<G, theta_after - theta_before>`` and the step's record."""
        if self.target is None or self._before is None:
            return
        torch = self._torch
        t0 = time.perf_counter()
        with torch.no_grad():
            refusal, overrefusal = self._half_dots(
                (p.detach().float() - b.float() for p, b in zip(self.params, self._before, strict=True)))
        self._before = None
        record = {"step": step, "grad_dot": self._grad_dot, "grad_dot_refusal": self._grad_dot_refusal,
                  "update_dot": refusal + overrefusal, "update_dot_refusal": refusal, "rows": len(self._rows)}
        self.steps.append(record)
        if self._active():
            self.step_rows[step] = self._rows  # gathered and written at the closing evaluation
        else:
            self._write([record], {step: self._rows})
        self.step_seconds += time.perf_counter() - t0

    def _step_rows(self, step: int) -> list[tuple[str, float, float]]:
        """(key, harm, harm_refusal) of every row of this step's micro-batches, filed into the interval's sums."""
        rows: list[tuple[str, float, float]] = []
        for ids, mask, scores in self.ghost.take():
            halves = (-scores / self.world).tolist()  # [rows, (refusal, overrefusal)]
            for r, (harm_refusal, harm_overrefusal) in enumerate(halves):
                harm = harm_refusal + harm_overrefusal
                row = ids[r][mask[r].bool()] if mask is not None else ids[r]
                row = row.tolist()
                index = self.dataset_index.lookup(row) if self.dataset_index is not None else None
                key = str(index) if index is not None else "h" + _row_key(row)
                if index is None and key not in self.previews and len(self.previews) < MAX_UNMAPPED_PREVIEWS:
                    self.previews[key] = _preview(self.tokenizer, row)
                acc = self.examples.setdefault(key, [0.0, 0, step, 0.0])
                acc[0] += harm
                acc[1] += 1
                acc[2] = step
                acc[3] += harm_refusal
                rows.append((key, harm, harm_refusal))
        return rows
