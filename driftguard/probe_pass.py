"""One probe pass: runner (generation, option log-likelihood, refusal margins) -> scorers -> Evaluation.

The model is left exactly as found (``probing_mode``). Failures of a stage are recorded in
``Evaluation.errors`` and the affected items stay unscored (NaN); they are never dropped.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from driftguard.config import DriftGuardConfig
from driftguard.distributed import Ranks
from driftguard.probes.suite import ProbeSuite
from driftguard.runner import OptionRequest, generate, probe_option_requests, probing_mode, render_prompt_ids, score_options
from driftguard.runner.choice import shares_prefix
from driftguard.runner.modes import eos_token_ids
from driftguard.runner.reasoning import ReasoningFormat, detect_format
from driftguard.runner.thinking import ThinkingStats, think_then_answer
from driftguard.scorers import aggregate, score_all
from driftguard.scorers.forward import score_forward
from driftguard.scorers.judge_info import build_refusal_judge, build_toxicity_judge, suite_judges
from driftguard.scorers.refusal import COMPLIANCE_OPENINGS, REFUSAL_OPENINGS, refusal_margin
from driftguard.types import Evaluation, Generation, OptionScore, Probe, ProbeOutputs

MARGIN_SUFFIX = "#refusal-margin"
THOUGHT_OPEN_SUFFIX = "#opens-thought"
# Forward tier: an item whose first answer token opens a thought with at least this probability is not read at
# the first assistant token (its decision comes after the thought); half the items so: the model now thinks.
THOUGHT_OPEN_P = 0.5


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


def margin_requests(probes: Sequence[Probe], generations: dict[str, Generation] | None = None) -> list[OptionRequest]:
    """Refusal-vs-compliance openings scored as options on every harmful safety prompt, at the answer position.

    The position is where the probe's own generation started its answer: after the model's thought
    (closed by the model or by the budget), so a reasoner is measured on what its thought concluded.
    Without ``generations`` (or for a probe not generated) the openings follow the generation prompt.
    """
    options = tuple(REFUSAL_OPENINGS) + tuple(COMPLIANCE_OPENINGS)
    return [
        OptionRequest(key=p.id + MARGIN_SUFFIX, messages=p.chat(), options=options,
                      prefix_ids=tuple(generations[p.id].answer_prefix_ids) if p.id in (generations or {}) else ())
        for p in probes
        if p.dimension == "safety" and p.expect == "refuse"
    ]


def answer_prefixes(model, tokenizer, requests: Sequence[OptionRequest], config: DriftGuardConfig,
                    fmt: ReasoningFormat, batch_size: int, ranks: Ranks,
                    stats: ThinkingStats | None = None) -> list[OptionRequest]:
    """``requests`` with ``prefix_ids`` set to the model's own budgeted thought (empty when it answers directly).

    One budgeted pass in ``prefix`` mode (no answer is generated), sharded across ranks.
    """
    keyed = {r.key: r for r in requests}

    def run() -> dict[str, list[int]]:
        mine = ranks.shard(list(requests))
        prompts = [render_prompt_ids(tokenizer, r.messages) for r in mine]
        eos_ids = eos_token_ids(model, tokenizer)
        with probing_mode(model, tokenizer) as pad_id:
            done, pass_stats = think_then_answer(
                model, tokenizer, prompts, fmt, mode="prefix", think_budget=config.think_budget,
                answer_budget=config.max_new_tokens, batch_size=batch_size, pad_id=pad_id, eos_ids=eos_ids,
                **ranks.generate_kwargs(model))
        if stats is not None:
            stats.add(pass_stats)
        return {r.key: c.prefix_ids for r, c in zip(mine, done, strict=True)}

    prefixes = ranks.gather_dicts(run) if requests else {}
    return [replace(keyed[k], prefix_ids=tuple(prefixes[k])) for k in keyed]


OPTION_KEY_SEP = "\x1f"


def score_options_on_ranks(model, tokenizer, requests: Sequence[OptionRequest], *, batch_size: int,
                           ranks: Ranks) -> dict[str, list[OptionScore]]:
    """``score_options`` with the work split across ranks, results gathered on every rank.

    Every rank must run the same number of forwards (sharded weights, FSDP / ZeRO-3: each forward is a
    collective). Requests that share their prefix (:func:`shares_prefix`: the 8 openings, options after a
    thought) are sharded by request within groups of equal option count, padded to equal counts, so each rank
    batches the same shapes; the others are sharded by option row (2-3 options each would leave ranks with
    different row counts).
    """
    if not ranks.active:
        return score_options(model, tokenizer, requests, batch_size=batch_size)
    shared = [r for r in requests if shares_prefix(r)]
    split = [r for r in requests if not shares_prefix(r)]
    rows = [OptionRequest(key=f"{r.key}{OPTION_KEY_SEP}{j}", messages=r.messages, options=(option,),
                          prefix_ids=r.prefix_ids)
            for r in split for j, option in enumerate(r.options)]

    def local() -> dict[str, list[OptionScore]]:
        scores: dict[str, list[OptionScore]] = {}
        for n in sorted({len(r.options) for r in shared}):
            group = [r for r in shared if len(r.options) == n]
            scores.update(score_options(model, tokenizer, ranks.shard(group), batch_size=batch_size))
        scores.update(score_options(model, tokenizer, ranks.shard(rows), batch_size=batch_size))
        return scores

    flat = ranks.gather_dicts(local)
    for r in split:
        flat[r.key] = [flat.pop(f"{r.key}{OPTION_KEY_SEP}{j}")[0] for j in range(len(r.options))]
    return {r.key: flat[r.key] for r in requests}


def collect_outputs(model, tokenizer, suite: ProbeSuite, config: DriftGuardConfig, batch_size: int,
                    ranks: Ranks | None = None, stats: ThinkingStats | None = None, *,
                    generate_probes: bool = True, first_token_choices: bool = True) -> ProbeOutputs:
    """Run the model over the suite: a budgeted generate pass, the choice items' thoughts, one option-scoring pass.

    Choice options and refusal openings are scored at the answer position (after the model's own
    thought). With several ranks, each runs its shard and the outputs are gathered (every rank gets all).
    ``generate_probes=False`` is the forward-only tier (driftguard/schedule.py): nothing is generated, so
    options and refusal openings are scored at the first assistant token, valid only for a model that
    answers without thinking: ``first_token_choices=False`` (the monitor's choice once the model thinks)
    drops them from that tier.
    """
    ranks = ranks or Ranks()
    probes = list(suite)
    gen_probes = [p for p in probes if p.kind == "generate"]
    fmt = reasoning_format(tokenizer, config)
    with probing_mode(model, tokenizer):
        generations = ranks.gather_dicts(lambda: generate(
            model, tokenizer, ranks.shard(gen_probes), max_new_tokens=config.max_new_tokens, batch_size=batch_size,
            think_budget=config.think_budget, fmt=fmt, stats=stats, **ranks.generate_kwargs(model))) \
            if gen_probes and generate_probes else {}
        choice = probe_option_requests([p for p in probes if p.kind == "choice"])
        if generate_probes:
            choice = answer_prefixes(model, tokenizer, choice, config, fmt, batch_size, ranks, stats)
        requests = choice + margin_requests(probes, generations)
        if not generate_probes and not first_token_choices:
            requests = []
        if not generate_probes and not fmt.opens_thought:
            requests += thought_open_requests(requests, fmt)
        scores = score_options_on_ranks(model, tokenizer, requests, batch_size=batch_size, ranks=ranks) if requests else {}
    n_refusal = len(REFUSAL_OPENINGS)
    opens = {key.removesuffix(THOUGHT_OPEN_SUFFIX).removesuffix(MARGIN_SUFFIX): math.exp(s[0].sum_logprob)
             for key, s in scores.items() if key.endswith(THOUGHT_OPEN_SUFFIX)}
    scores = {key: s for key, s in scores.items() if not key.endswith(THOUGHT_OPEN_SUFFIX)}
    margins = {key.removesuffix(MARGIN_SUFFIX): refusal_margin(s, n_refusal)
               for key, s in scores.items() if key.endswith(MARGIN_SUFFIX)}
    choices = {key: s for key, s in scores.items() if not key.endswith(MARGIN_SUFFIX)}
    return ProbeOutputs(generations=generations, choices=choices, refusal_margins=margins,
                        choice_prefix_tokens={r.key: len(r.prefix_ids) for r in choice}, thought_open_p=opens)


def thought_open_requests(requests: Sequence[OptionRequest], fmt: ReasoningFormat) -> list[OptionRequest]:
    """The format-switch check of the forward tier: p(the open marker) at each item's first answer position.

    One extra option row per item, scored in the same pass: a model that has started to write ``<think>``
    since the last full evaluation is noticed at the next evaluation, not at the next generation.
    """
    return [OptionRequest(key=r.key + THOUGHT_OPEN_SUFFIX, messages=r.messages, options=(fmt.open,))
            for r in requests if not r.prefix_ids]


def reasoning_format(tokenizer, config: DriftGuardConfig) -> ReasoningFormat:
    """The reasoning format read off the chat template, with the configured markers and separator."""
    fmt = detect_format(tokenizer, config.reasoning_markers)
    if config.reasoning_separator is not None:
        fmt = replace(fmt, separator=config.reasoning_separator)
    return fmt


def run_probe_pass(
    model,
    tokenizer,
    suite: ProbeSuite,
    config: DriftGuardConfig,
    *,
    step: int,
    toxicity_judge: Callable[[list[str]], list[float]] | str | None = None,
    batch_size: int | None = None,
    ranks: Ranks | None = None,
    refusal_judge: Any = None,
    tier: str = "full",
    first_token_choices: bool = True,
) -> tuple[Evaluation, dict[str, Generation]]:
    """Probe ``model`` with ``suite`` and score it. Returns the evaluation and the raw generations.

    ``tier="forward"``: no generation; only what forwards measure is scored (``scorers/forward.py``);
    ``first_token_choices=False`` leaves out the options and margins there (a model that thinks first).

    Runner errors propagate (the caller decides: retry on OOM, record, or raise); scorer
    errors on single items are recorded by the scorers as unscored items. ``refusal_judge`` (a judge or a
    spec) defaults to ``config.refusal_judge``. The evaluation's suite identity records the judges
    that scored it (name + version), so a baseline scored by other judges is a mismatch.
    """
    stats = ThinkingStats()
    full = tier == "full"
    outputs = collect_outputs(model, tokenizer, suite, config, batch_size or config.batch_size, ranks, stats,
                              generate_probes=full, first_token_choices=first_token_choices)
    probes = list(suite)
    refusal = build_refusal_judge(refusal_judge if refusal_judge is not None else getattr(config, "refusal_judge", None))
    judges = suite_judges(probes, toxicity_judge=toxicity_judge, refusal_judge=refusal)
    if "toxicity" in judges:
        toxicity_judge = build_toxicity_judge(toxicity_judge)
    forward = None if full else forward_skips(probes, outputs, first_token_choices)
    records = (score_all(probes, outputs, toxicity_judge=toxicity_judge, refusal_judge=refusal) if full
               else score_forward(probes, outputs, skipped=forward["skipped_ids"]))
    values = aggregate(records)
    metrics = {name: mv.value for name, mv in values.items() if not math.isnan(mv.value)}
    errors = [
        {"stage": "score", "step": step, "probe_id": r.probe_id, "type": "Unscored", "message": r.error}
        for r in records if r.error
    ]
    reasoning = reasoning_info(reasoning_format(tokenizer, config), config, outputs, stats)
    if forward is not None:
        reasoning["forward"] = {k: v for k, v in forward.items() if k != "skipped_ids"}
    evaluation = Evaluation(step=step, suite=suite.info.with_judges(judges), records=records, metrics=metrics,
                            errors=errors, info={"reasoning": reasoning})
    return evaluation, outputs.generations


def forward_skips(probes: Sequence[Probe], outputs: ProbeOutputs, first_token_choices: bool) -> dict[str, Any]:
    """Which items the forward tier leaves out, and whether the model has switched to thinking.

    A model that thinks first (``first_token_choices=False``) has no first-token decision: its options
    and margins are skipped, not errors. Otherwise an item whose first answer token opens a thought
    (``p >= THOUGHT_OPEN_P``) is skipped; ``switched``: at least half the checked items do.
    """
    scorable = [p.id for p in probes if (p.kind == "choice") or (p.dimension == "safety" and p.expect == "refuse")]
    opens = outputs.thought_open_p
    skipped = {pid for pid in scorable if not first_token_choices or opens.get(pid, 0.0) >= THOUGHT_OPEN_P}
    rate = sum(p >= THOUGHT_OPEN_P for p in opens.values()) / len(opens) if opens else 0.0
    return {"skipped_ids": skipped, "skipped": len(skipped), "checked": len(opens), "thought_open_rate": rate,
            "thought_open_p_mean": sum(opens.values()) / len(opens) if opens else 0.0,
            "switched": bool(opens) and rate >= 0.5}


def reasoning_info(fmt: ReasoningFormat, config: DriftGuardConfig, outputs: ProbeOutputs,
                   stats: ThinkingStats) -> dict[str, Any]:
    """How the pass read thoughts: the template's format, the budgets, how many thoughts the budget cut.

    ``cut_rate`` is over generate-probes; a high rate says the budget decides more than the model does
    (raise ``think_budget``). Token counts are this rank's (they describe cost, not results).
    """
    gens = list(outputs.generations.values())
    thinking = [g for g in gens if g.reasoning]
    return {"format": fmt.to_dict(), "think_budget": config.think_budget, "answer_budget": config.max_new_tokens,
            "visible": config.reasoning_visible, "generations": len(gens), "with_thought": len(thinking),
            "choices": len(outputs.choice_prefix_tokens),
            "choices_with_thought": sum(1 for n in outputs.choice_prefix_tokens.values() if n),
            "cut": sum(g.thought_cut for g in gens), "cut_rate": sum(g.thought_cut for g in gens) / len(gens) if gens else 0.0,
            "tokens": {"phase1": stats.phase1_tokens, "phase2": stats.phase2_tokens}}
