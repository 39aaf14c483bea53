"""driftguard.mechanism: a forward-only refusal-direction monitor (see direction.py for the formulas)."""

from driftguard.mechanism.direction import (
    DIRECTION_COSINE,
    HARMFUL_PROJECTION,
    MECHANISM_METRICS,
    RECORD_SUFFIX,
    REFUSAL_DPRIME,
    MechanismError,
    RefusalDirection,
    split_folds,
)

__all__ = [
    "DIRECTION_COSINE",
    "HARMFUL_PROJECTION",
    "MECHANISM_METRICS",
    "RECORD_SUFFIX",
    "REFUSAL_DPRIME",
    "MechanismError",
    "RefusalDirection",
    "split_folds",
]
