"""Per-metric patience on the scheduled cadence, the evidence window, and the alpha spent on FAIL. No torch.

Schedule: only *scheduled* evaluations (every ``eval_steps`` optimizer steps) move a counter; a metric's
counter moves only at scheduled evaluations that measured it (a forward-only evaluation leaves the
generation metrics alone). The alpha spent on FAIL is counted per metric too: ``tests[m]`` is the number
of evaluations, scheduled or not, that tested ``m`` (its k in the spending sequence). Flagged -> +1,
measured and clean -> 0. Blind evaluations (a stage failed, or a
metric present in the records had no scored item) count under ``driftguard/errors``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from driftguard.errors import DriftGuardError
from driftguard.types import Verdict

ERRORS_KEY = "driftguard/errors"
_SPENDING = 6 / math.pi ** 2  # sum over k >= 1 of 6 / (pi^2 k^2) = 1


def spent_alpha(alpha: float, k: int) -> float:
    """The k-th term of the spending sequence: ``alpha * 6 / (pi^2 k^2)`` (the terms sum to alpha)."""
    if k < 1:
        raise ValueError(f"k = {k}: scheduled evaluations are counted from 1")
    return alpha * _SPENDING / k ** 2


@dataclass
class PatienceState:
    """Streaks per metric, the count of scheduled evaluations, and the evidence window's past columns."""

    streaks: dict[str, int] = field(default_factory=dict)
    scheduled: int = 0
    history: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # metric -> [newest, ...]
    tests: dict[str, int] = field(default_factory=dict)  # metric -> evaluations that tested it (its k in the spending)
    k_floor: int = 0  # k already spent by every metric (a state of an older driftguard counted k per run, not per metric)

    def next_k(self, name: str) -> int:
        """The k of ``name``'s next test: one more than the evaluations that already tested it."""
        return max(self.tests.get(name, 0), self.k_floor) + 1

    def spend(self, names: set[str]) -> None:
        """Record that this evaluation (scheduled or not) tested ``names``: each consumed its k-th term."""
        for name in names:
            self.tests[name] = self.next_k(name)

    @property
    def longest(self) -> int:
        return max(self.streaks.values(), default=0)

    def update(self, measured: set[str], flagged: set[str], confirmed: set[str], blind: bool, *, errored: bool,
               patience: int, scheduled: bool, fail_on_errors: bool) -> Verdict:
        """Move the counters (scheduled evaluations only) and return the verdict.

        FAIL: a flagged metric whose streak reached ``patience`` and that is ``confirmed`` (significant at the
        spent level, or a KL budget), or ``patience`` blind scheduled evaluations in a row (``fail_on_errors``).
        WARN: anything flagged, a streak held by a metric this evaluation did not measure (a forward-only
        evaluation between generation ones), or any error (``errored``: even one unscored item; a gate must
        not pass on errors).
        """
        if scheduled:
            self.scheduled += 1
            for name in measured | flagged:
                self.streaks[name] = self.streaks.get(name, 0) + 1 if name in flagged else 0
            self.streaks[ERRORS_KEY] = self.streaks.get(ERRORS_KEY, 0) + 1 if blind else 0
            self.streaks = {k: v for k, v in self.streaks.items() if v > 0}
        fail = any(self.streaks.get(m, 0) >= patience and m in confirmed for m in flagged)
        fail |= fail_on_errors and blind and self.streaks.get(ERRORS_KEY, 0) >= patience
        if fail:
            return Verdict.FAIL
        held = any(v > 0 and m != ERRORS_KEY and m not in measured for m, v in self.streaks.items())
        return Verdict.WARN if flagged or held or blind or errored else Verdict.PASS

    def remember(self, columns: dict[str, dict[str, float]], keep: int) -> None:
        """Push this scheduled evaluation's per-item values; keep the ``keep`` newest per metric."""
        for name, column in columns.items():
            self.history[name] = [column, *self.history.get(name, [])][:keep] if keep > 0 else []
        self.history = {k: v for k, v in self.history.items() if v}

    def to_dict(self) -> dict[str, Any]:
        return {"streaks": dict(self.streaks), "scheduled": self.scheduled,
                "history": {m: [dict(c) for c in cols] for m, cols in self.history.items()},
                "tests": dict(self.tests), "k_floor": self.k_floor}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, legacy_consecutive: int = 0) -> PatienceState:
        """Inverse of :meth:`to_dict`; a state of an older driftguard (no per-metric streaks) keeps its count."""
        if data is None:
            return cls(streaks={"driftguard/verdict": legacy_consecutive} if legacy_consecutive else {})
        try:
            streaks = {str(k): int(v) for k, v in data.get("streaks", {}).items()}
            history = {str(m): [{str(p): float(v) for p, v in col.items()} for col in cols]
                       for m, cols in data.get("history", {}).items()}
            scheduled = int(data.get("scheduled", 0))
            tests = {str(m): int(k) for m, k in data.get("tests", {}).items()}
            # no per-metric counts (an older state): every metric may have been tested at every scheduled one
            k_floor = int(data.get("k_floor", 0)) if "tests" in data else scheduled
            return cls(streaks=streaks, scheduled=scheduled, history=history, tests=tests, k_floor=k_floor)
        except (TypeError, ValueError, AttributeError) as e:
            raise DriftGuardError(f"detector state: field 'patience' is malformed ({type(e).__name__}: {e}); "
                                  "expected {'streaks': {metric: int}, 'scheduled': int, 'history': {...}}. "
                                  "Fix: pass a dict produced by DriftDetector.state_dict().") from None
