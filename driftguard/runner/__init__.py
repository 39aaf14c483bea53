"""driftguard.runner: batched greedy generation, option log-likelihood, probing_mode, reasoning split.

The runner knows nothing of scoring: it takes probes or option requests and returns
``Generation`` and ``OptionScore`` values (driftguard.types).
"""

from driftguard.runner.chat import render_prompt_ids
from driftguard.runner.choice import OptionRequest, probe_option_requests, score_options
from driftguard.runner.generate import generate
from driftguard.runner.modes import probing_mode
from driftguard.runner.reasoning import split_reasoning

__all__ = [
    "OptionRequest",
    "generate",
    "probe_option_requests",
    "probing_mode",
    "render_prompt_ids",
    "score_options",
    "split_reasoning",
]
