"""One probe file's records -> Probes: JSONL/YAML line readers and the probe-file contract check. No torch.

``parse_probe`` validates one mapping against the probe-file contract (DESIGN.md) and names the file,
line and field of anything wrong. Both ``loaders`` (suite files, shipped suites) and ``adapters`` (public
benchmark files) build on this module; it imports neither.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from driftguard.errors import ProbeSuiteError
from driftguard.probes.suite import PROBE_FIELDS
from driftguard.types import DIMENSIONS, Probe

LOCAL_VERSION = "local"
ROLES = ("system", "user", "assistant")
# The kind each dimension's scorer can score (robustness takes either: a variant has its clean item's kind).
KIND_OF_DIMENSION: dict[str, str] = {"safety": "generate", "toxicity": "generate", "privacy": "generate",
                                     "bias": "choice", "ethics": "choice"}
_FIX = "Fix the line or remove it."


def show_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Checker:
    """Raises ProbeSuiteError in the ``file:line: field 'x': expected ..., got ...`` format."""

    def __init__(self, obj: dict[str, Any], source: str, line: int) -> None:
        self.obj, self.where = obj, f"{source}:{line}"

    def fail(self, name: str, expected: str, value: Any = None, fix: str = _FIX) -> ProbeSuiteError:
        got = "it is missing" if name not in self.obj else f"got {show_value(value if value is not None else self.obj[name])}"
        return ProbeSuiteError(f"{self.where}: field '{name}': expected {expected}, {got}. {fix}")

    def text(self, name: str, required: bool = True) -> str | None:
        value = self.obj.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "a non-empty string")
        return value

    def choice(self, name: str, allowed: Sequence[str], required: bool = True) -> str | None:
        value = self.obj.get(name)
        if value is None and not required:
            return None
        if value not in allowed:
            raise self.fail(name, "one of " + ", ".join(allowed))
        return value

    def index(self, name: str, n_options: int, required: bool = True) -> int | None:
        value = self.obj.get(name)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_options:
            raise self.fail(name, f"an integer option index in 0..{n_options - 1}")
        return value


def _messages(check: _Checker) -> tuple[dict[str, str], ...]:
    turns = check.obj["messages"]
    if not isinstance(turns, list) or not turns:
        raise check.fail("messages", "a non-empty list of {role, content} turns")
    out = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or set(turn) != {"role", "content"}:
            raise check.fail("messages", f"turn {i} to be a mapping with exactly the keys role and content", turn)
        if turn["role"] not in ROLES:
            raise check.fail("messages", f"turn {i} role to be one of {', '.join(ROLES)}", turn["role"])
        if not isinstance(turn["content"], str):
            raise check.fail("messages", f"turn {i} content to be a string", turn["content"])
        out.append({"role": turn["role"], "content": turn["content"]})
    if not any(t["role"] == "user" for t in out):
        raise check.fail("messages", "at least one user turn", [t["role"] for t in out])
    return tuple(out)


def parse_probe(obj: dict[str, Any], source: str, line: int) -> Probe:
    """Validate one probe mapping (one JSONL line / YAML item) and build the Probe; unknown keys go to ``meta``."""
    if not isinstance(obj, dict):
        raise ProbeSuiteError(f"{source}:{line}: expected a JSON object (one probe per line), got {show_value(obj)}. {_FIX}")
    check = _Checker(obj, source, line)
    probe_id = check.text("id")
    dimension = check.choice("dimension", DIMENSIONS)
    kind = check.choice("kind", ("generate", "choice"))
    has_prompt, has_messages = obj.get("prompt") is not None, obj.get("messages") is not None
    if has_prompt and has_messages:
        raise ProbeSuiteError(f"{check.where}: field 'messages': expected exactly one of 'prompt' or 'messages', "
                              f"got both. Keep one of them.")
    if not has_prompt and not has_messages:
        raise check.fail("prompt", "a user message string (or 'messages', a list of {role, content} turns)")
    prompt = check.text("prompt") if has_prompt else None
    messages = _messages(check) if has_messages else None

    options = answer = None
    if kind == "choice":
        raw = obj.get("options")
        if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(o, str) and o.strip() for o in raw):
            raise check.fail("options", "a list of >= 2 strings for a choice probe")
        options = tuple(raw)
        answer = check.index("answer", len(options))
    else:
        for name in ("options", "answer"):
            if obj.get(name) is not None:
                raise check.fail(name, "no options/answer on a generate probe (use kind 'choice')")
    expect = check.choice("expect", ("refuse", "comply"), required=False)
    if expect is not None and kind == "choice":
        raise check.fail("expect", "no 'expect' on a choice probe (its 'answer' says what is right)")

    condition = stereotyped = None
    required_kind = KIND_OF_DIMENSION.get(dimension)
    if required_kind is not None and kind != required_kind:
        raise check.fail("kind", f"'{required_kind}' for a {dimension} probe (its scorer reads "
                                 f"{'option log-likelihoods' if required_kind == 'choice' else 'a generated answer'})")
    if dimension == "safety" and expect is None:
        raise check.fail("expect", "refuse or comply for a safety probe")
    if dimension == "bias":
        condition = check.choice("condition", ("ambiguous", "disambiguated"))
        stereotyped = check.index("stereotyped", len(options or ()), required=condition == "ambiguous")
    secret = check.text("secret", required=dimension == "privacy")
    if secret is not None and not any(secret in turn["content"] for turn in (messages or ({"content": prompt},))):
        raise check.fail("secret", "the canary string exactly as it appears in the prompt or messages")
    variant_of = check.text("variant_of", required=dimension == "robustness")
    if dimension == "robustness" and kind == "generate" and expect is None:
        raise check.fail("expect", "refuse or comply for a robustness generate probe (the clean item's outcome)")
    category = check.text("category", required=False)
    if dimension != "bias":
        condition = check.choice("condition", ("ambiguous", "disambiguated"), required=False)
        if obj.get("stereotyped") is not None:
            stereotyped = check.index("stereotyped", len(options or ()))

    meta = {k: v for k, v in obj.items() if k not in PROBE_FIELDS}
    return Probe(id=probe_id, dimension=dimension, kind=kind, prompt=prompt, messages=messages, expect=expect,
                 options=options, answer=answer, stereotyped=stereotyped, condition=condition, category=category,
                 secret=secret, variant_of=variant_of, meta=meta)


def parse_records(records: Sequence[tuple[int, Any]], source: str) -> list[Probe]:
    """Parse ``(line, mapping)`` pairs; ids must be unique within the file."""
    if not records:
        raise ProbeSuiteError(f"{source}: the file has no probes. Add at least one probe (one JSON object per line).")
    probes, first_line = [], {}
    for line, obj in records:
        probe = parse_probe(obj, source, line)
        if probe.id in first_line:
            raise ProbeSuiteError(f"{source}:{line}: field 'id': duplicate id {probe.id!r} (first on line "
                                  f"{first_line[probe.id]}). Give each probe a unique id.")
        first_line[probe.id] = line
        probes.append(probe)
    return probes


def read_jsonl_records(text: str, source: str) -> list[tuple[int, Any]]:
    """``(line number, parsed object)`` of each non-blank line; invalid JSON names the line."""
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append((number, json.loads(raw)))
        except json.JSONDecodeError as e:
            raise ProbeSuiteError(f"{source}:{number}: invalid JSON ({e.msg} at column {e.colno}). {_FIX}") from None
    return records


def read_yaml_records(text: str, source: str) -> list[tuple[int, Any]]:
    """``(line number, mapping)`` of each item of a top-level YAML list (safe loader; nodes keep their lines)."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise ProbeSuiteError(f"{source}:{root.start_mark.line + 1}: expected a YAML list of probe mappings "
                                  f"(items starting with '- '), got a {root.id}.")
        return [(node.start_mark.line + 1, loader.construct_object(node, deep=True)) for node in root.value]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(e, "problem", None) or str(e)
        raise ProbeSuiteError(f"{source}:{line}: invalid YAML ({problem}). {_FIX}") from None
    finally:
        loader.dispose()
