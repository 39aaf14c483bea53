"""Build a refusal judge from a spec: the default rules, the v1 markers, or a local classifier (``hf:PATH``).

``make_refusal_judge(spec)``: ``None``/``"behaviour"`` -> ``BehaviourRefusalJudge`` (default);
``"markers"`` -> ``MarkerRefusalJudge`` (v1); ``"hf:PATH"`` -> ``PipelineRefusalJudge(PATH)``; a
callable ``(prompts, answers) -> bools or labels`` as is. Nothing is ever downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftguard.errors import ConfigError
from driftguard.scorers.local_classifier import local_text_classifier, model_fingerprint  # model_fingerprint: re-exported
from driftguard.scorers.refusal import (
    COMPLIANCE,
    FULL_REFUSAL,
    REFUSAL_LABELS,
    BehaviourRefusalJudge,
    MarkerRefusalJudge,
    RefusalJudge,
    refuses,
)

DEFAULT_REFUSAL_JUDGE = "behaviour"
_ALIASES = {"refusal": FULL_REFUSAL, "refuse": FULL_REFUSAL, "refused": FULL_REFUSAL, "rejection": FULL_REFUSAL,
            "compliance": COMPLIANCE, "comply": COMPLIANCE, "complied": COMPLIANCE, "normal": COMPLIANCE}


class PipelineRefusalJudge:
    """A local transformers ``text-classification`` model whose labels name refusal behaviour.

    Each model label maps to one of ``REFUSAL_LABELS``: a label spelled like one of them (any case)
    maps to it, ``refusal``/``rejection`` to ``full_refusal``, ``compliance``/``normal`` to
    ``compliance``; pass ``label_map`` for other names. The model reads the answer, or the
    (prompt, answer) pair with ``with_prompt=True``; the top label wins.
    """

    def __init__(self, model: str | Path | Any, *, tokenizer: Any = None, label_map: dict[str, str] | None = None,
                 with_prompt: bool = False, batch_size: int = 16, device: Any = None) -> None:
        self.pipe, labels = local_text_classifier("PipelineRefusalJudge", model, tokenizer=tokenizer, device=device)
        given = {k.casefold(): v for k, v in (label_map or {}).items()}
        self.label_map: dict[str, str] = {}
        for label in labels:
            key = label.casefold()
            target = given.get(key) or (key if key in REFUSAL_LABELS else _ALIASES.get(key))
            if target not in REFUSAL_LABELS:
                raise ConfigError(f"PipelineRefusalJudge: model label {label!r} maps to no refusal label (labels: {labels});"
                                  f" pass label_map={{{label!r}: one of {REFUSAL_LABELS}}}")
            self.label_map[label] = target
        self.with_prompt = with_prompt
        self.batch_size = batch_size
        self.name = f"hf:{model}" if isinstance(model, str) else f"hf:{type(model).__name__}"
        self.version = model_fingerprint(model)

    def labels(self, prompts: Sequence[str], answers: Sequence[str],
               safe_completion: Sequence[bool] | None = None) -> list[str]:
        if not answers:
            return []
        inputs: list[Any] = ([{"text": p, "text_pair": a} for p, a in zip(prompts, answers, strict=True)]
                             if self.with_prompt else list(answers))
        results = self.pipe(inputs, truncation=True, batch_size=self.batch_size)
        return [self.label_map[str(r["label"])] for r in results]

    def __call__(self, prompts: Sequence[str], answers: Sequence[str]) -> list[bool]:
        return [refuses(label) for label in self.labels(prompts, answers)]

    def __repr__(self) -> str:
        return f"PipelineRefusalJudge({self.name!r})"


def make_refusal_judge(spec: str | RefusalJudge | None = None) -> RefusalJudge:
    """``None``/``"behaviour"`` -> default rules; ``"markers"`` -> v1 markers; ``"hf:PATH"`` -> classifier; a callable as is."""
    if spec is None or spec == DEFAULT_REFUSAL_JUDGE:
        return BehaviourRefusalJudge()
    if isinstance(spec, str):
        if spec == "markers":
            return MarkerRefusalJudge()
        if spec.startswith("hf:") and spec[3:]:
            return PipelineRefusalJudge(spec[3:])
        raise ConfigError(f"refusal judge {spec!r}: use {DEFAULT_REFUSAL_JUDGE!r}, 'markers', 'hf:PATH' (a local "
                          "text-classification model) or a callable (prompts, answers) -> bools or labels")
    if callable(spec):
        return spec
    raise ConfigError(f"refusal judge {spec!r} ({type(spec).__name__}): give a spec string or a callable "
                      "(prompts, answers) -> bools or labels")
