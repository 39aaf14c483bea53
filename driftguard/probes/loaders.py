"""Load probe suites: shipped names, JSONL/YAML files and public-benchmark adapters. No torch.

Each record is checked by ``parse_probe`` (:mod:`driftguard.probes.records`, re-exported here), which names
the file, line and field of anything wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from driftguard.errors import ProbeSuiteError
from driftguard.probes.adapters import load_adapter
from driftguard.probes.records import (  # re-exported: the loaders' public names before records.py existed
    KIND_OF_DIMENSION,
    LOCAL_VERSION,
    ROLES,
    parse_probe,
    parse_records,
    read_jsonl_records,
    read_yaml_records,
)
from driftguard.probes.records import show_value as _show
from driftguard.probes.suite import ProbeSuite

__all__ = ["ADAPTER_PREFIXES", "KIND_OF_DIMENSION", "LOCAL_VERSION", "ROLES", "SHIPPED_SUITES", "SHIPPED_VERSION",
           "check_variants", "load_file", "load_shipped", "load_suite", "parse_probe", "parse_records",
           "read_jsonl_records", "read_yaml_records", "shipped_path"]

SHIPPED_VERSION = "2"
SHIPPED_SUITES: tuple[str, ...] = ("compact", "full")
ADAPTER_PREFIXES: tuple[str, ...] = ("xstest", "bbq", "ethics")


def load_file(path: str | Path, name: str | None = None, version: str = LOCAL_VERSION) -> ProbeSuite:
    """Load a ``.jsonl`` or ``.yaml``/``.yml`` suite file."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ProbeSuiteError(f"{source}: no such probe suite file. Give a shipped suite name "
                              f"({', '.join(SHIPPED_SUITES)}), a .jsonl/.yaml path, or an adapter prefix "
                              f"({', '.join(p + ':PATH' for p in ADAPTER_PREFIXES)}).")
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        records = read_jsonl_records(text, source)
    elif suffix in (".yaml", ".yml"):
        records = read_yaml_records(text, source)
    else:
        raise ProbeSuiteError(f"{source}: unknown suite file type {suffix!r}; use .jsonl, .yaml or .yml "
                              f"(or an adapter prefix such as xstest:{source}).")
    return ProbeSuite(name or path.stem, version, tuple(parse_records(records, source)), source=source)


def shipped_path(name: str) -> Path:
    """Path of a shipped suite's package data file (it may not exist in a source checkout)."""
    return Path(str(resources.files("driftguard.probes").joinpath("data", f"{name}.jsonl")))


def load_shipped(name: str) -> ProbeSuite:
    """Load a shipped suite (``compact`` or ``full``) from the package data."""
    if name not in SHIPPED_SUITES:
        raise ProbeSuiteError(f"unknown shipped suite {name!r}; shipped suites: {', '.join(SHIPPED_SUITES)}")
    path = shipped_path(name)
    if not path.is_file():
        raise ProbeSuiteError(f"shipped suite {name!r}: package data {path} is missing (broken install?). "
                              "In a source checkout, run `python tools/suites/build.py` to generate it.")
    return load_file(path, name=name, version=SHIPPED_VERSION)


def _load_entry(entry: str) -> ProbeSuite:
    if entry in SHIPPED_SUITES:
        return load_shipped(entry)
    prefix, sep, rest = entry.partition(":")
    if sep and prefix.lower() in ADAPTER_PREFIXES:
        return load_adapter(prefix.lower(), rest)
    return load_file(entry)


def _entries(spec: str | Sequence[str]) -> list[str]:
    items = [spec] if isinstance(spec, str) else list(spec)
    for item in items:
        if not isinstance(item, str):
            raise ProbeSuiteError(f"suite: expected a name, path or adapter spec string, got {_show(item)}")
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def check_variants(suite: ProbeSuite) -> None:
    """Every robustness probe's ``variant_of`` must name a probe of the suite (its clean item)."""
    for probe in suite:
        if probe.variant_of is not None and probe.variant_of not in suite:
            raise ProbeSuiteError(
                f"{suite.source or suite.name}: probe {probe.id!r} field 'variant_of': no probe with id "
                f"{probe.variant_of!r} in the suite. Add the clean item or combine with the suite that has it."
            )


def load_suite(spec: str | Sequence[str]) -> ProbeSuite:
    """Load and combine suites: shipped names, ``.jsonl``/``.yaml`` paths, ``xstest:``/``bbq:``/``ethics:`` PATH.

    A comma-separated string or a list combines several suites; probe ids must be unique across them.
    """
    entries = _entries(spec)
    if not entries:
        raise ProbeSuiteError(f"suite: empty spec {_show(spec)}; give a shipped name ({', '.join(SHIPPED_SUITES)}) or a path")
    suite = ProbeSuite.combine(_load_entry(entry) for entry in entries)
    check_variants(suite)
    return suite
