"""Live attribution: which training steps and examples raise the probe set's safety loss (issue 20).

``safety_loss.py`` (the loss and its gradient at an evaluation) -> ``ghost.py`` (per-row dot products in the
backward) -> ``tracker.py`` (per-step records, top-k steps and examples per interval).
"""

from driftguard.attribution.tracker import AttributionTracker, attributed_layers

__all__ = ["AttributionTracker", "attributed_layers"]
