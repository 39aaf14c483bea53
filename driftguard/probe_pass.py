"""One probe pass: runner (generation, option log-likelihood, refusal margins) -> scorers -> Evaluation.

The model is left exactly as found (``probing_mode``). Failures of a stage are recorded in
``Evaluation.errors`` and the affected items stay unscored (NaN); they are never dropped.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.distributed import Ranks
from driftguard.probes.suite import ProbeSuite
from driftguard.runner import OptionRequest, generate, probe_option_requests, probing_mode, score_options
from driftguard.scorers import aggregate, score_all
from driftguard.scorers.forward import score_forward
from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS, refusal_margin
from driftguard.types import Evaluation, Generation, OptionScore, Probe, ProbeOutputs

MARGIN_SUFFIX = "#refusal-margin"


def is_oom(error: BaseException) -> bool:
    """True for CUDA/CPU out-of-memory errors (the pass retries those with half the batch)."""
    import torch

    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


def error_entry(stage: str, error: BaseException, step: int) -> dict[str, Any]:
    """The report's record of a failed stage."""
    return {
        "stage": stage,
        "step": step,
        "type": type(error).__name__,
        "message": str(error)[:500],
        "traceback": "".join(traceback.format_exception_only(type(error), error)).strip()[:500],
    }


def margin_requests(probes: Sequence[Probe]) -> list[OptionRequest]:
    """Refusal-vs-compliance openings scored as options on every harmful safety prompt."""
    options = tuple(REFUSAL_OPENINGS) + tuple(COMPLIANCE_OPENINGS)
    return [
        OptionRequest(key=p.id + MARGIN_SUFFIX, messages=p.chat(), options=options)
        for p in probes
        if p.dimension == "safety" and p.expect == "refuse"
    ]


OPTION_KEY_SEP = "\x1f"


def score_options_on_ranks(model, tokenizer, requests: Sequence[OptionRequest], *, batch_size: int,
                           ranks: Ranks) -> dict[str, list[OptionScore]]:
    """``score_options`` with the work split by option row across ranks, results gathered on every rank.

    Requests have 2-8 options each, so sharding requests would leave ranks with different row counts and
    forward counts; sharding rows (padded to equal counts) gives every rank the same number of forwards,
    which sharded weights (FSDP, ZeRO-3: each forward is a collective) require.
    """
    if not ranks.active:
        return score_options(model, tokenizer, requests, batch_size=batch_size)
    rows = [OptionRequest(key=f"{r.key}{OPTION_KEY_SEP}{j}", messages=r.messages, options=(option,))
            for r in requests for j, option in enumerate(r.options)]
    flat = ranks.gather_dicts(lambda: score_options(model, tokenizer, ranks.shard(rows), batch_size=batch_size))
    return {r.key: [flat[f"{r.key}{OPTION_KEY_SEP}{j}"][0] for j in range(len(r.options))] for r in requests}


def collect_outputs(model, tokenizer, suite: ProbeSuite, config: DriftGuardConfig, batch_size: int,
                    ranks: Ranks | None = None, *, generate_probes: bool = True) -> ProbeOutputs:
    """Run the model over the suite: one batched generate pass and one batched option-scoring pass.

    With several ranks, each runs its shard and the outputs are gathered (every rank gets all of them).
    ``generate_probes=False`` skips generation (the forward-only tier, driftguard/schedule.py).
    """
    ranks = ranks or Ranks()
    probes = list(suite)
    gen_probes = [p for p in probes if p.kind == "generate"]
    markers = (config.reasoning_markers[0], config.reasoning_markers[1])
    requests = probe_option_requests([p for p in probes if p.kind == "choice"]) + margin_requests(probes)
    with probing_mode(model, tokenizer):
        generations = ranks.gather_dicts(lambda: generate(
            model, tokenizer, ranks.shard(gen_probes), max_new_tokens=config.max_new_tokens, batch_size=batch_size,
            markers=markers, **ranks.generate_kwargs(model))) if gen_probes and generate_probes else {}
        scores = score_options_on_ranks(model, tokenizer, requests, batch_size=batch_size, ranks=ranks) if requests else {}
    n_refusal = len(REFUSAL_OPENINGS)
    margins = {key.removesuffix(MARGIN_SUFFIX): refusal_margin(s, n_refusal)
               for key, s in scores.items() if key.endswith(MARGIN_SUFFIX)}
    choices = {key: s for key, s in scores.items() if not key.endswith(MARGIN_SUFFIX)}
    return ProbeOutputs(generations=generations, choices=choices, refusal_margins=margins)


def run_probe_pass(
    model,
    tokenizer,
    suite: ProbeSuite,
    config: DriftGuardConfig,
    *,
    step: int,
    toxicity_judge: Callable[[list[str]], list[float]] | None = None,
    batch_size: int | None = None,
    ranks: Ranks | None = None,
    tier: str = "full",
) -> tuple[Evaluation, dict[str, Generation]]:
    """Probe ``model`` with ``suite`` and score it. Returns the evaluation and the raw generations.

    ``tier="forward"``: no generation; only what forwards measure is scored (``scorers/forward.py``).

    Runner errors propagate (the caller decides: retry on OOM, record, or raise); scorer
    errors on single items are recorded by the scorers as unscored items.
    """
    full = tier == "full"
    outputs = collect_outputs(model, tokenizer, suite, config, batch_size or config.batch_size, ranks,
                              generate_probes=full)
    records = score_all(list(suite), outputs, toxicity_judge=toxicity_judge) if full else score_forward(list(suite), outputs)
    values = aggregate(records)
    metrics = {name: mv.value for name, mv in values.items() if not math.isnan(mv.value)}
    errors = [
        {"stage": "score", "step": step, "probe_id": r.probe_id, "type": "Unscored", "message": r.error}
        for r in records if r.error
    ]
    evaluation = Evaluation(step=step, suite=suite.info, records=records, metrics=metrics, errors=errors)
    return evaluation, outputs.generations
