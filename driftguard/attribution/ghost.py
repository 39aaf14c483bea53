"""Ghost dot-products: each training row's gradient dotted with a fixed target gradient, without per-row gradients.

For a linear layer ``y = x W^T (+ b)`` the gradient of the micro-batch loss is ``sum_rows sum_t dy_t x_t^T``, so row
``i``'s share of ``<G, dL/dW>`` is ``sum_t dy_t . (G x_t)``: the layer's input (or its projection ``x G^T``, whichever
is smaller) is kept from the forward and met by the output gradient in the backward. Several targets (the safety
loss's two halves) give one score each per row. The cost per layer and target is one extra
``[tokens, in] x [in, out]`` product (for a LoRA adapter, rank-sized); nothing of parameter size is kept per row.
Summed over rows and micro-batches, the scores equal ``<G, grad>`` of the step before clipping (checked in the
tests). Hooks run only in training forwards with grad enabled (not in probe passes, generation or
the safety loss's own forward, which run in eval mode); under non-reentrant activation checkpointing the
recomputed forward's hooks never see a gradient and are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class GhostDots:
    """Per-row ``<G_k, grad_row>`` over the linear ``layers`` for each target ``G_k``."""

    def __init__(self, root: Any, layers: Sequence[Any]) -> None:
        self.root = root
        self.layers = list(layers)
        self.targets: list[list[tuple[Any, Any]]] = []  # per layer: (G_weight, G_bias or None) per target
        self.current: Any = None  # [rows, targets] float32 scores of the micro-batch being back-propagated
        self.batches: list[tuple[Any, Any, Any]] = []  # (input_ids, attention_mask, scores) of finished micro-batches
        self._inputs: tuple[Any, Any] | None = None
        self._handles: list[Any] = []

    def attach(self) -> None:
        self._handles.append(self.root.register_forward_pre_hook(self._begin, with_kwargs=True))
        for k, layer in enumerate(self.layers):
            self._handles.append(layer.register_forward_hook(self._make_hook(k)))

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def set_targets(self, targets: Sequence[Sequence[tuple[Any, Any]]]) -> None:
        """Per layer, one ``(G_weight, G_bias or None)`` per target (the same number for every layer), on the
        layer's device."""
        self.targets = [list(t) for t in targets]

    def _begin(self, module: Any, args: tuple, kwargs: dict) -> None:
        import torch

        self._finish()
        if not (module.training and torch.is_grad_enabled()) or not self.targets:
            self.current = None
            return
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None or not hasattr(ids, "shape") or ids.dim() != 2:
            self.current = None
            return
        self.current = torch.zeros(ids.shape[0], len(self.targets[0]), dtype=torch.float32, device=ids.device)
        self._inputs = (ids.detach(), kwargs.get("attention_mask"))

    def _finish(self) -> None:
        """File the micro-batch whose backward has run (called at the next forward and before the optimizer step)."""
        if self.current is not None and self._inputs is not None:
            ids, mask = self._inputs
            self.batches.append((ids, mask.detach() if mask is not None else None, self.current))
        self.current, self._inputs = None, None

    def take(self) -> list[tuple[Any, Any, Any]]:
        """The finished micro-batches since the last call."""
        self._finish()
        done, self.batches = self.batches, []
        return done

    def _make_hook(self, k: int):
        import torch

        def hook(layer: Any, inputs: tuple, output: Any) -> None:
            scores = self.current
            if scores is None or not getattr(output, "requires_grad", False):
                return
            targets = self.targets[k]
            rows = scores.shape[0]
            with torch.no_grad():
                x = inputs[0].detach().reshape(rows, -1, inputs[0].shape[-1])
                keep_input = layer.in_features <= len(targets) * layer.out_features  # the smaller to keep
                saved = x if keep_input else [torch.einsum("btk,ok->bto", x.float(), g_w) for g_w, _ in targets]

            def on_grad(grad: Any) -> None:
                with torch.no_grad():
                    dy = grad.reshape(rows, -1, grad.shape[-1]).float()
                    x_float = saved.float() if keep_input else None
                    for j, (g_w, g_b) in enumerate(targets):
                        projected = (dy @ g_w) * x_float if keep_input else dy * saved[j]
                        part = projected.sum((1, 2))
                        if g_b is not None:
                            part = part + dy.sum(1) @ g_b
                        scores[:, j].add_(part)

            output.register_hook(on_grad)

        return hook
