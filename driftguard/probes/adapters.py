"""Adapters: public benchmark files in their original format -> probe suites. No torch.

- ``xstest:PATH``  XSTest prompts CSV (id,prompt,type,label,focus,note): safe -> comply, unsafe -> refuse.
- ``bbq:PATH``     a BBQ category JSONL: context + question, three options, the stereotyped option derived
                   from ``answer_info`` and ``additional_metadata.stereotyped_groups``.
- ``ethics:PATH``  an ETHICS commonsense CSV (label,input,is_short,edited; label 1 = wrong).

Every item goes through ``parse_probe``, so the contract checks and error format are those of suite files
(:mod:`driftguard.probes.records`).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from driftguard.errors import ProbeSuiteError
from driftguard.probes.formats import ETHICS_OPTIONS, choice_prompt, ethics_prompt
from driftguard.probes.records import LOCAL_VERSION, parse_probe, read_jsonl_records
from driftguard.probes.suite import ProbeSuite
from driftguard.types import Probe

BBQ_CONDITIONS = {"ambig": "ambiguous", "disambig": "disambiguated"}
# BBQ writes gender groups both as "F"/"M" (stereotyped_groups, name prefixes like "M-Black") and as words.
_GROUP_ALIASES = {"f": "female", "woman": "female", "women": "female", "girl": "female",
                  "m": "male", "man": "male", "men": "male", "boy": "male"}


def _read_text(path: Path, spec: str) -> str:
    if not path.is_file():
        raise ProbeSuiteError(f"{spec}: no such file {str(path)!r}. Give the path of the benchmark file in its original format.")
    return path.read_text(encoding="utf-8-sig")


def _csv_rows(path: Path, spec: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for each CSV data row; the header must have the ``required`` columns."""
    reader = csv.DictReader(io.StringIO(_read_text(path, spec), newline=""))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ProbeSuiteError(f"{path}:1: header: missing column(s) {', '.join(missing)}, got {reader.fieldnames}. "
                              f"Expected the original columns {', '.join(required)}.")
    end = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        yield start, row


def _suite(name: str, probes: list[Probe], source: str) -> ProbeSuite:
    if not probes:
        raise ProbeSuiteError(f"{source}: the file has no items.")
    return ProbeSuite(name, LOCAL_VERSION, tuple(probes), source=source)


def load_xstest(path: str | Path) -> ProbeSuite:
    """XSTest prompts: 250 safe prompts (expect comply) and 200 unsafe contrast prompts (expect refuse)."""
    path = Path(path)
    expects = {"safe": "comply", "unsafe": "refuse"}
    probes = []
    for line, row in _csv_rows(path, f"xstest:{path}", ("id", "prompt", "type", "label")):
        label = (row["label"] or "").strip()
        if label not in expects:
            raise ProbeSuiteError(f"{path}:{line}: field 'label': expected safe or unsafe, got {label!r}. Fix the row.")
        obj = {"id": f"xstest-{(row['id'] or '').strip()}", "dimension": "safety", "kind": "generate",
               "prompt": row["prompt"], "expect": expects[label], "type": row["type"]}
        obj.update({k: row[k] for k in ("focus", "note") if row.get(k) is not None})
        probes.append(parse_probe(obj, str(path), line))
    return _suite("xstest", probes, str(path))


def _norm_group(label: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", label.lower())
    return _GROUP_ALIASES.get(key, key)


def _group_matches(answer_group: str, stereotyped_groups: list[str]) -> bool:
    """Whether an answer's group label (e.g. "old", "M-Black", "lowSES") is one of the stereotyped groups.

    Labels are compared lowercased without punctuation ("low SES" == "lowSES"), gender letters as words
    ("F" == "woman"); a compound label such as "F-Black" matches on any of its parts. "nonOld" never matches "old".
    """
    targets = {_norm_group(g) for g in stereotyped_groups}
    parts = {_norm_group(answer_group), *(_norm_group(p) for p in re.split(r"[-_/]", answer_group) if p)}
    return bool(parts & targets)


def bbq_stereotyped_index(item: dict[str, Any]) -> int | None:
    """Index of the biased answer as the BBQ bias score counts it, or None when the data does not single one out.

    Negative question ("Who was forgetful?"): the option whose group is a stereotyped group.
    Non-negative question: the non-unknown option whose group is not a stereotyped group.
    """
    info, groups = item["answer_info"], item["additional_metadata"]["stereotyped_groups"]
    candidates = [i for i in range(3) if info[f"ans{i}"][1] != "unknown"]
    in_group = [i for i in candidates if _group_matches(info[f"ans{i}"][1], groups)]
    picked = in_group if item["question_polarity"] == "neg" else [i for i in candidates if i not in in_group]
    return picked[0] if len(picked) == 1 else None


def _bbq_field(item: dict[str, Any], path: Path, line: int) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        node: Any = item
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ProbeSuiteError(f"{path}:{line}: field '{name}': missing. Is this a BBQ category JSONL?")
            node = node[part]
        return node

    return get


def load_bbq(path: str | Path) -> ProbeSuite:
    """A BBQ category file: bias/choice probes for both context conditions, ``stereotyped`` derived per item.

    Ambiguous items whose biased answer cannot be singled out are skipped with a warning (they cannot
    enter the bias score); disambiguated ones are kept with ``stereotyped`` unset.
    """
    path = Path(path)
    probes, skipped = [], []
    for line, item in read_jsonl_records(_read_text(path, f"bbq:{path}"), str(path)):
        get = _bbq_field(item, path, line)
        condition = BBQ_CONDITIONS.get(get("context_condition"))
        if condition is None:
            raise ProbeSuiteError(f"{path}:{line}: field 'context_condition': expected ambig or disambig, "
                                  f"got {get('context_condition')!r}. Fix the line.")
        if get("question_polarity") not in ("neg", "nonneg"):
            raise ProbeSuiteError(f"{path}:{line}: field 'question_polarity': expected neg or nonneg, "
                                  f"got {get('question_polarity')!r}. Fix the line.")
        for i in range(3):
            group = get(f"answer_info.ans{i}")
            if not isinstance(group, list) or len(group) < 2:
                raise ProbeSuiteError(f"{path}:{line}: field 'answer_info.ans{i}': expected [text, group], got {group!r}.")
        get("additional_metadata.stereotyped_groups")
        if get("label") not in (0, 1, 2) or isinstance(item["label"], bool):
            raise ProbeSuiteError(f"{path}:{line}: field 'label': expected the answer index 0, 1 or 2, "
                                  f"got {item['label']!r}. Fix the line.")
        stereotyped = bbq_stereotyped_index(item)
        if stereotyped is None and condition == "ambiguous":
            skipped.append(line)
            continue
        category = str(get("category"))
        options = [get(f"ans{i}") for i in range(3)]
        unknown = [i for i in range(3) if item["answer_info"][f"ans{i}"][1] == "unknown"]
        obj = {"id": f"bbq-{category.lower()}-{get('example_id')}", "dimension": "bias", "kind": "choice",
               "prompt": choice_prompt(get("context"), get("question"), options), "options": options,
               "answer": get("label"), "condition": condition, "category": category.lower(),
               "question_polarity": item["question_polarity"], "question_index": item.get("question_index"),
               "unknown_option": unknown[0] if len(unknown) == 1 else None,
               "subcategory": item["additional_metadata"].get("subcategory")}
        if stereotyped is not None:
            obj["stereotyped"] = stereotyped
        probes.append(parse_probe(obj, str(path), line))
    if skipped:
        warnings.warn(f"{path}: skipped {len(skipped)} ambiguous item(s) whose biased answer cannot be derived "
                      f"from answer_info/stereotyped_groups (lines {skipped[:10]}).", stacklevel=2)
    return _suite(f"bbq-{path.stem.lower()}", probes, str(path))


def _parse_bool(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


def load_ethics(path: str | Path) -> ProbeSuite:
    """ETHICS commonsense: ethics/choice probes, options ("wrong", "not wrong"), answer 0 when label is 1."""
    path = Path(path)
    probes = []
    for number, (line, row) in enumerate(_csv_rows(path, f"ethics:{path}", ("label", "input")), start=1):
        label = (row["label"] or "").strip()
        if label not in ("0", "1"):
            raise ProbeSuiteError(f"{path}:{line}: field 'label': expected 0 (not wrong) or 1 (wrong), "
                                  f"got {label!r}. Fix the row.")
        obj = {"id": f"ethics-{path.stem.lower()}-{number}", "dimension": "ethics", "kind": "choice",
               "prompt": ethics_prompt(row["input"] or ""), "options": list(ETHICS_OPTIONS),
               "answer": 0 if label == "1" else 1}
        if not (row["input"] or "").strip():
            raise ProbeSuiteError(f"{path}:{line}: field 'input': expected the scenario text, got an empty value. Fix the row.")
        for key in ("is_short", "edited"):
            if row.get(key) is not None:
                obj[key] = _parse_bool(row[key])
        probes.append(parse_probe(obj, str(path), line))
    return _suite(f"ethics-{path.stem.lower()}", probes, str(path))


ADAPTERS: dict[str, Callable[[str | Path], ProbeSuite]] = {"xstest": load_xstest, "bbq": load_bbq, "ethics": load_ethics}


def load_adapter(prefix: str, path: str) -> ProbeSuite:
    """Dispatch ``prefix:PATH`` to its adapter."""
    if not path.strip():
        raise ProbeSuiteError(f"{prefix}:: missing path after the prefix; e.g. {prefix}:data/{prefix}.csv")
    return ADAPTERS[prefix](path.strip())
