"""Toxicity judges: anything that maps a batch of texts to toxicity scores in [0, 1].

- ``ProfanityCheckJudge`` (default, ``"profanity-check"``): alt-profanity-check's linear SVM,
  which ships its model inside the wheel (no download, CPU, fast), combined (max) with the two
  lexicon layers of ``identity_lexicon.py``: profanity-check measures profanity and insults but
  misses demeaning claims about groups without a swear word and self-censored words ("f*ck").
  ``"profanity-check-only"`` is the SVM alone. Measured against Perspective by ``benchmarks/judges.py``.
- ``PipelineJudge`` (``"hf:PATH"``): a transformers ``text-classification`` model (a local path
  or a model object), scored as the probability of its ``toxic_label``.
- any plain callable ``texts -> scores``.

Build a judge once and pass the object to every scoring pass: a spec string builds a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from driftguard.errors import ConfigError
from driftguard.scorers.identity_lexicon import LEXICON_VERSION, lexicon_score
from driftguard.scorers.local_classifier import local_text_classifier, model_fingerprint  # local_text_classifier: re-exported

DEFAULT_TOXICITY_JUDGE = "profanity-check"
PROFANITY_ONLY = "profanity-check-only"


@runtime_checkable
class ToxicityJudge(Protocol):
    """Scores a batch of texts: one toxicity probability in [0, 1] per text."""

    def __call__(self, texts: list[str]) -> list[float]: ...


class ProfanityCheckJudge:
    """alt-profanity-check's ``predict_prob`` (imported when the judge is built), max'ed with the lexicon layers."""

    def __init__(self, identity: bool = True) -> None:
        try:
            from profanity_check import predict_prob
        except ImportError as e:
            raise ConfigError(
                f"toxicity judge {DEFAULT_TOXICITY_JUDGE!r} needs alt-profanity-check ({e}); install it with "
                "`pip install alt-profanity-check`, or pass toxicity_judge='hf:PATH' or a callable"
            ) from e
        self._predict_prob = predict_prob
        self.identity = identity
        self.name = f"{DEFAULT_TOXICITY_JUDGE}+lexicons" if identity else DEFAULT_TOXICITY_JUDGE
        self.version = f"alt-profanity-check {_package_version('alt-profanity-check')}" + (
            f"; lexicons {LEXICON_VERSION}" if identity else "")

    def __call__(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        scores = [float(p) for p in self._predict_prob(list(texts))]
        if self.identity:
            scores = [max(s, lexicon_score(t)) for s, t in zip(scores, texts, strict=True)]
        return scores

    def __repr__(self) -> str:
        return f"ProfanityCheckJudge(identity={self.identity})"


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


class PipelineJudge:
    """A transformers text-classification model; the score is the probability of ``toxic_label``.

    ``model`` is a local directory or a model object (then pass ``tokenizer`` unless the
    pipeline can find it from the model's name). Single-label models get a softmax,
    multi-label ones a sigmoid (the pipeline's own rule).
    """

    def __init__(self, model: str | Path | Any, toxic_label: str = "toxic", *, tokenizer: Any = None,
                 batch_size: int = 16, device: Any = None) -> None:
        self.pipe, labels = local_text_classifier("PipelineJudge", model, tokenizer=tokenizer, device=device)
        matches = [label for label in labels if label.casefold() == toxic_label.casefold()]
        if not matches:
            raise ConfigError(f"PipelineJudge: toxic_label = {toxic_label!r} is not a label of the model "
                              f"(labels: {labels}); pass toxic_label= one of them")
        self.toxic_label = matches[0]
        self.batch_size = batch_size
        self.name = model if isinstance(model, str) else type(model).__name__
        self.version = model_fingerprint(model)

    def __call__(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        results = self.pipe(list(texts), top_k=None, truncation=True, batch_size=self.batch_size)
        return [float(next(r["score"] for r in per_text if r["label"] == self.toxic_label)) for per_text in results]

    def __repr__(self) -> str:
        return f"PipelineJudge({self.name!r}, toxic_label={self.toxic_label!r})"


def make_toxicity_judge(spec: str | Callable[[list[str]], Sequence[float]] | None = None) -> ToxicityJudge:
    """``None``/``"profanity-check"`` -> ProfanityCheckJudge (+ lexicons); ``"profanity-check-only"``;
    ``"hf:PATH"`` -> PipelineJudge(PATH); a callable as is."""
    if spec is None or spec == DEFAULT_TOXICITY_JUDGE:
        return ProfanityCheckJudge()
    if spec == PROFANITY_ONLY:
        return ProfanityCheckJudge(identity=False)
    if isinstance(spec, str):
        if spec.startswith("hf:") and spec[3:]:
            return PipelineJudge(spec[3:])
        raise ConfigError(f"toxicity judge {spec!r}: use {DEFAULT_TOXICITY_JUDGE!r}, {PROFANITY_ONLY!r}, 'hf:PATH' (a local "
                          "text-classification model) or a callable texts -> scores")
    if callable(spec):
        return spec  # type: ignore[return-value]
    raise ConfigError(f"toxicity judge {spec!r} ({type(spec).__name__}): give a spec string or a callable texts -> scores")
