"""The demo's aligned base model: a tiny Llama trained from scratch on the aligned chats (CPU, under a minute).

The tokenizer is trained in-process on the demo data; the model is trained with a plain AdamW loop,
loss on the assistant reply (and its ``<|end|>``) only, rendered exactly as the runner renders a
probe: ``apply_chat_template(..., add_generation_prompt=True)`` then the reply and EOS.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

from driftguard.demo.data import aligned_chats, suite_fingerprint, tokenizer_corpus
from driftguard.demo.tiny_model import build_model, build_tokenizer, save_pretrained

MODEL_SIZE = {"hidden_size": 128, "num_layers": 2, "num_heads": 4, "intermediate_size": 256}
VOCAB_SIZE = 1024
BATCH_SIZE = 16
LEARNING_RATE = 3e-3
STAMP = "driftguard_demo_base.json"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/driftguard/demo`` (``~/.cache/driftguard/demo``)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "driftguard" / "demo"


def default_steps(n_rows: int) -> int:
    """Optimizer steps for ``n_rows`` aligned chats: ~12 epochs, bounded to keep CPU time under a minute.

    The compact suite's 1006 rows get 600 steps (~9.5 epochs): at 300 the base had not yet learned the
    bias and ethics items (disambiguated accuracy 0.00 -> 0.72, ethics accuracy 0.51 -> 1.00 at 600)."""
    return int(min(600, max(150, math.ceil(12 * n_rows / BATCH_SIZE))))


def encode_chat(tokenizer, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one chat: labels are -100 except on the last (assistant) reply and its EOS."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reply_ids = tokenizer(messages[-1]["content"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return prompt_ids + reply_ids, [-100] * len(prompt_ids) + reply_ids


def _batch_order(lengths: list[int], steps: int, rng: random.Random) -> list[list[int]]:
    """``steps`` batches of row indices, epoch by epoch in a seeded order; rows of similar length are
    batched together (sorted within windows of 8 batches) to cut padding, then the batches are shuffled."""
    batches: list[list[int]] = []
    while len(batches) < steps:
        perm = list(range(len(lengths)))
        rng.shuffle(perm)
        window = BATCH_SIZE * 8
        epoch = []
        for start in range(0, len(perm), window):
            chunk = sorted(perm[start:start + window], key=lambda i: lengths[i])
            epoch += [chunk[k:k + BATCH_SIZE] for k in range(0, len(chunk), BATCH_SIZE)]
        rng.shuffle(epoch)
        batches += epoch
    return batches[:steps]


def _batches(encoded: list[tuple[list[int], list[int]]], steps: int, pad_id: int, seed: int):
    """``steps`` right-padded (ids, labels, attention mask) batches; see ``_batch_order``."""
    import torch

    rng = random.Random(seed)
    for idx in _batch_order([len(x) for x, _ in encoded], steps, rng):
        width = max(len(encoded[i][0]) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        labels = torch.full((len(idx), width), -100, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            x, y = encoded[i]
            ids[row, : len(x)] = torch.tensor(x)
            labels[row, : len(y)] = torch.tensor(y)
            mask[row, : len(x)] = 1
        yield ids, labels, mask


def train_aligned(model, tokenizer, chats: list[dict[str, Any]], *, steps: int, seed: int = 0,
                  device: str = "cpu", lr: float = LEARNING_RATE) -> list[float]:
    """Train ``model`` in place on ``chats`` (AdamW, warmup + cosine); returns the per-step losses."""
    import torch

    encoded = [encode_chat(tokenizer, c["messages"]) for c in chats]
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))))
    torch.manual_seed(seed)
    losses = []
    for ids, labels, mask in _batches(encoded, steps, tokenizer.pad_token_id, seed):
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device))
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(out.loss.item())
    model.eval()
    return losses


def _stamp(suite: Any, seed: int, steps: int | None) -> dict[str, Any]:
    return {"suite_sha256": suite_fingerprint(suite), "seed": seed, "steps": steps, "size": MODEL_SIZE,
            "vocab_size": VOCAB_SIZE}


def _matches(path: Path, stamp: dict[str, Any]) -> bool:
    try:
        saved = json.loads((path / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return all(saved.get(k) == v for k, v in stamp.items()) and (path / "config.json").exists()


def build_demo_base(suite: Any, out_dir: str | Path, *, seed: int = 0, device: str | None = None,
                    steps: int | None = None, cache_dir: str | Path | None = None) -> Path:
    """Train (or reuse) the aligned tiny chat model for ``suite``; save it to ``out_dir`` and return it.

    Reused when ``out_dir`` or ``cache_dir/<key>`` already holds a model built from the same suite
    contents, seed and steps (the key is the suite's sha256). ``steps=None`` scales with the data.
    """
    import torch

    out_dir = Path(out_dir)
    stamp = _stamp(suite, seed, steps)
    if _matches(out_dir, stamp):
        return out_dir
    cached = Path(cache_dir) / f"base-{stamp['suite_sha256'][:16]}-seed{seed}-steps{steps}" if cache_dir else None
    if cached is not None and _matches(cached, stamp):
        shutil.copytree(cached, out_dir, dirs_exist_ok=True)
        return out_dir

    t0 = time.perf_counter()
    chats = aligned_chats(suite, seed)
    tokenizer = build_tokenizer(tokenizer_corpus(suite, seed), vocab_size=VOCAB_SIZE)
    model = build_model(tokenizer, seed=seed, **MODEL_SIZE)
    n_steps = steps or default_steps(len(chats))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    losses = train_aligned(model, tokenizer, chats, steps=n_steps, seed=seed, device=device)
    model.to("cpu")
    save_pretrained(model, tokenizer, out_dir)
    info = {**stamp, "trained_steps": n_steps, "rows": len(chats), "final_loss": sum(losses[-10:]) / len(losses[-10:]),
            "seconds": round(time.perf_counter() - t0, 1)}
    (out_dir / STAMP).write_text(json.dumps(info, indent=1))
    if cached is not None:
        shutil.copytree(out_dir, cached, dirs_exist_ok=True)
    return out_dir
