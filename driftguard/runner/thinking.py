"""Budgeted thinking, then a forced answer: how the probe pass lets a reasoning model decide.

Phase 1 is one batched greedy ``generate`` per length-sorted batch with a per-row stopping rule
(:class:`ThoughtBudget`): a row that opens a thought (or whose prompt opened it) may think for
``think_budget`` tokens; a row whose thought closes, or that answers without thinking, may then write
``answer_budget`` answer tokens (mode ``"answer"``) or stops at the answer position (mode ``"prefix"``,
for option scoring). Phase 2 takes the rows still inside a thought (cut by the budget, or ended while
thinking), appends the close marker and the template's separator (only the rest of the marker when the
cut fell inside a marker of several tokens), and generates their answers, batched and length-sorted again.
A thought the model closed itself gets only the part of the separator it did not write with the marker
(a tokenizer that merges ``>\n\n`` writes it with the marker's last token). A row that never thinks
(an instruct model) is generated exactly as a plain greedy completion of ``answer_budget`` tokens.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from driftguard.runner.batching import cut_at_eos, generate_ids
from driftguard.runner.reasoning import ReasoningFormat, prompt_opens_thought

Mode = Literal["answer", "prefix"]


@dataclass
class ThinkingRow:
    """Phase-1 state of one row, advanced token by token by :class:`ThoughtBudget`."""

    opened: bool
    ids: list[int] = field(default_factory=list)
    phase: Literal["start", "think", "answer"] = "start"
    think_start: int = 0
    answer_start: int = 0
    stop_len: int | None = None

    def __post_init__(self) -> None:
        if self.opened:
            self.phase = "think"


@dataclass
class Completion:
    """A row's result: every generated token (forced closing included) and where its answer starts.

    ``prefix_ids``: the tokens between the prompt and the answer (the thought, its close marker and
    separator; empty when the model answered directly): the answer position for option scoring.
    """

    ids: list[int]
    prefix_ids: list[int]
    thought_cut: bool
    thought_tokens: int


@dataclass
class ThinkingStats:
    """Cost of one budgeted pass: tokens generated and seconds spent in each phase."""

    rows: int = 0
    forced: int = 0
    phase1_tokens: int = 0
    phase2_tokens: int = 0
    phase1_seconds: float = 0.0
    phase2_seconds: float = 0.0

    def add(self, other: ThinkingStats) -> None:
        for name in self.to_dict():
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class ThoughtBudget:
    """Per-row stopping rule of phase 1 (a transformers ``StoppingCriteria``: returns one bool per row).

    Markers are found in decoded text (they may be special tokens or several ordinary ones): the start
    of a completion is decoded whole until it is clearly a thought or an answer, a thought only over a
    short tail window while looking for the close marker.
    """

    def __init__(self, tokenizer: Any, fmt: ReasoningFormat, rows: list[ThinkingRow], *, mode: Mode,
                 think_budget: int, answer_budget: int, eos_ids: Sequence[int]) -> None:
        self.tokenizer, self.fmt, self.rows, self.mode = tokenizer, fmt, rows, mode
        self.think_budget, self.answer_budget, self.eos = think_budget, answer_budget, set(eos_ids)
        marker_len = max(len(tokenizer(m, add_special_tokens=False)["input_ids"]) for m in fmt.markers)
        self.window = marker_len + 2
        self.start_limit = marker_len + 4

    def _decode(self, ids: Sequence[int]) -> str:
        return _decode(self.tokenizer, ids)

    def _advance(self, row: ThinkingRow) -> bool:
        """Update ``row`` after its newest token; True when it must stop."""
        n = len(row.ids)
        if row.ids[-1] in self.eos:
            return True
        if row.phase == "start":
            head = self._decode(row.ids).lstrip()
            if head.startswith(self.fmt.open):
                row.phase, row.think_start = "think", n
            elif not (self.fmt.open.startswith(head) and n < self.start_limit):
                row.phase, row.answer_start = "answer", 0
        elif row.phase == "think":
            tail = self._decode(row.ids[max(row.think_start, n - self.window):])
            if self.fmt.close in tail:
                row.phase, row.answer_start = "answer", n
            elif n - row.think_start >= self.think_budget:
                return True
        if row.phase == "answer":
            return self.mode == "prefix" or n - row.answer_start >= self.answer_budget
        return False

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        last = input_ids[:, -1].tolist()
        done = []
        for row, token in zip(self.rows, last, strict=True):
            if row.stop_len is None:
                row.ids.append(int(token))
                if self._advance(row):
                    row.stop_len = len(row.ids)
            done.append(row.stop_len is not None)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def _decode(tokenizer: Any, ids: Sequence[int]) -> str:
    return tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)


def _missing_closing(tokenizer: Any, fmt: ReasoningFormat, ids: Sequence[int], think_start: int, window: int) -> str:
    """What closes a thought cut after ``ids``: ``fmt.closing``, less the start of the close marker when the
    cut fell inside a close marker of several tokens (``...</`` gets ``think>``, not a second ``</think>``)."""
    tail = _decode(tokenizer, ids[max(think_start, len(ids) - window):])
    for k in range(min(len(fmt.close) - 1, len(tail)), 0, -1):
        if tail.endswith(fmt.close[:k]):
            return fmt.closing[k:]
    return fmt.closing


def _missing_separator(tokenizer: Any, fmt: ReasoningFormat, ids: Sequence[int], think_start: int,
                       window: int) -> str:
    """The part of ``fmt.separator`` not yet written after the close marker that ends ``ids`` (a tokenizer
    that merges ``>\n\n`` writes the separator with the marker's last token)."""
    if not fmt.separator:
        return ""
    tail = _decode(tokenizer, ids[max(think_start, len(ids) - window):])
    at = tail.rfind(fmt.close)
    after = tail[at + len(fmt.close):] if at >= 0 else ""
    if after.startswith(fmt.separator) or not fmt.separator.startswith(after):
        return ""
    return fmt.separator[len(after):]


def _finish(row: ThinkingRow, tokenizer: Any, fmt: ReasoningFormat, eos: set[int], window: int) -> tuple[list[int], bool]:
    """(tokens kept from phase 1, with the closing of a cut thought; needs a forced answer)."""
    ids = row.ids[:row.stop_len] if row.stop_len is not None else list(row.ids)
    if row.phase != "think":
        return ids, False
    if ids and ids[-1] in eos:  # ended the turn inside its thought: close it and ask for the answer
        ids = ids[:-1]
    return ids + _encode(tokenizer, _missing_closing(tokenizer, fmt, ids, row.think_start, window)), True


def think_then_answer(model: Any, tokenizer: Any, prompts: Sequence[Sequence[int]], fmt: ReasoningFormat, *,
                      mode: Mode, think_budget: int, answer_budget: int, batch_size: int, pad_id: int,
                      eos_ids: Sequence[int], synced_gpus: bool = False) -> tuple[list[Completion], ThinkingStats]:
    """Budgeted two-phase greedy generation of ``prompts`` (see the module docstring), in the order given.

    Callers must be in :func:`probing_mode`. Mode ``"prefix"`` generates no answer: each result's
    ``prefix_ids`` is the answer position (its ``ids`` end there too).
    """
    stats = ThinkingStats(rows=len(prompts))
    closing = _encode(tokenizer, fmt.closing)
    window = max(len(_encode(tokenizer, m)) for m in fmt.markers) + 4  # tokens that hold a marker and its separator
    eos = set(eos_ids)
    opened = [prompt_opens_thought(_decode(tokenizer, p), fmt.markers) for p in prompts]
    pre_closed = [o and think_budget == 0 for o in opened]
    phase1_prompts = [list(p) + (closing if c else []) for p, c in zip(prompts, pre_closed, strict=True)]

    def fresh(i: int) -> ThinkingRow:
        row = ThinkingRow(opened=opened[i])
        if pre_closed[i]:
            row.phase = "answer"
        return row

    def budget(batch: list[int]) -> ThoughtBudget:
        for i in batch:  # a batch run again (after an out-of-memory retry) starts from scratch
            rows[i] = fresh(i)
        return ThoughtBudget(tokenizer, fmt, [rows[i] for i in batch], mode=mode, think_budget=think_budget,
                             answer_budget=answer_budget, eos_ids=eos_ids)

    rows = [fresh(i) for i in range(len(prompts))]
    t0 = time.perf_counter()
    cap = answer_budget if think_budget == 0 else think_budget + answer_budget + 2 * len(closing) + 8
    generate_ids(model, phase1_prompts, max_new_tokens=cap,
                 batch_size=batch_size, pad_id=pad_id, eos_ids=eos_ids, synced_gpus=synced_gpus, stopping=budget)
    stats.phase1_seconds = time.perf_counter() - t0
    stats.phase1_tokens = sum(len(r.ids[:r.stop_len]) if r.stop_len else len(r.ids) for r in rows)

    kept, forced = [], []
    for i, row in enumerate(rows):
        ids, force = _finish(row, tokenizer, fmt, eos, window)
        kept.append((closing if pre_closed[i] else []) + ids)
        forced.append(force or pre_closed[i])
    stats.forced = sum(forced)
    prefixes = []
    for i, row in enumerate(rows):
        if pre_closed[i]:
            prefixes.append(list(closing))
        elif forced[i]:
            prefixes.append(list(kept[i]))
        elif row.phase == "answer" and row.answer_start > 0:
            own = row.ids[:row.answer_start]
            prefixes.append(own + _encode(tokenizer, _missing_separator(tokenizer, fmt, own, row.think_start, window)))
        else:
            prefixes.append([])
    if mode == "prefix":
        return [Completion(p, p, f, _thought_len(rows[i])) for i, (p, f) in enumerate(zip(prefixes, forced, strict=True))], stats

    todo = [i for i, f in enumerate(forced) if f and not pre_closed[i]]
    t0 = time.perf_counter()
    # Under synced generation every rank runs phase 2, with as many batches as the rank with most cut thoughts
    # (generate_ids agrees on the count; a rank with none runs dummies of its first prompt, closed).
    filler = list(prompts[0]) + closing if prompts else None
    answers = generate_ids(model, [list(prompts[i]) + kept[i] for i in todo], max_new_tokens=answer_budget,
                           batch_size=batch_size, pad_id=pad_id, eos_ids=eos_ids, synced_gpus=synced_gpus,
                           filler=filler) if todo or synced_gpus else []
    stats.phase2_seconds = time.perf_counter() - t0
    stats.phase2_tokens = sum(len(a) for a in answers)
    for i, answer in zip(todo, answers, strict=True):
        kept[i] = kept[i] + answer
    results = []
    for i, row in enumerate(rows):
        ids = cut_at_eos(kept[i], eos_ids) if not forced[i] else kept[i]
        results.append(Completion(ids, prefixes[i], forced[i], _thought_len(row)))
    return results, stats


def _thought_len(row: ThinkingRow) -> int:
    if row.phase == "start":
        return 0
    end = row.answer_start if row.phase == "answer" and row.answer_start else (row.stop_len or len(row.ids))
    return max(0, end - row.think_start)
