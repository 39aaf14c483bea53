"""Local classifier judges, shared by the toxicity judges (``judges.py``) and the refusal judges
(``refusal_judges.py``): a transformers ``text-classification`` pipeline on a local model, and the
fingerprint that versions it in reports. Imports neither judge module; transformers is imported on use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from driftguard.errors import ConfigError


def local_text_classifier(who: str, model: str | Path | Any, *, tokenizer: Any = None,
                          device: Any = None) -> tuple[Any, list[str]]:
    """A transformers text-classification pipeline on a local model (path or object) and its label names.

    A path that does not exist is a ConfigError naming ``who``: driftguard never downloads judges.
    """
    from transformers import pipeline

    if isinstance(model, Path):
        model = str(model)
    if isinstance(model, str) and not Path(model).exists():
        raise ConfigError(f"{who}: model path {model!r} does not exist; give a local directory of a "
                          "text-classification model (driftguard never downloads judges)")
    pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=device)
    return pipe, [str(v) for v in pipe.model.config.id2label.values()]


def model_fingerprint(model: Any) -> str:
    """A short fingerprint of a local model directory (names, sizes and config text of its files); 'object' otherwise."""
    if not isinstance(model, str):
        return "object"
    digest = hashlib.sha256()
    for path in sorted(Path(model).rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(model)}:{path.stat().st_size}\n".encode())
            if path.suffix == ".json" and path.stat().st_size < 1_000_000:
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
