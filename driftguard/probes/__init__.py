"""driftguard.probes: the probe-suite model, loaders (JSONL, YAML, benchmark adapters) and the shipped suites."""

from __future__ import annotations

from driftguard.probes.loaders import SHIPPED_SUITES, load_file, load_shipped, load_suite, parse_probe
from driftguard.probes.suite import ProbeSuite
from driftguard.types import DIMENSIONS

__all__ = ["SHIPPED_SUITES", "ProbeSuite", "format_suites", "load_file", "load_shipped", "load_suite", "parse_probe",
           "print_suites", "templates_per_dimension"]


def templates_per_dimension(suite: ProbeSuite) -> dict[str, int]:
    """Independent units per dimension: distinct ``template`` values (an item without one is its own unit)."""
    units: dict[str, set[str]] = {d: set() for d in DIMENSIONS}
    for p in suite:
        units.setdefault(p.dimension, set()).add(str(p.meta.get("template", f"item:{p.id}")))
    return {d: len(u) for d, u in units.items()}


def format_suites(suites: list[ProbeSuite]) -> str:
    """A table of suites: version, sha256 prefix, total and, per dimension, items/templates (safety: refuse/comply)."""
    header = ["suite", "version", "sha256", "total", *DIMENSIONS]
    rows = [header]
    for suite in suites:
        counts, units = suite.counts(), templates_per_dimension(suite)
        refuse = sum(1 for p in suite if p.dimension == "safety" and p.expect == "refuse")
        safety = f"{counts['safety']}/{units['safety']} ({refuse}/{counts['safety'] - refuse})"
        rows.append([suite.name, suite.version, suite.sha256[:12], str(len(suite)), safety,
                     *(f"{counts[d]}/{units[d]}" for d in DIMENSIONS[1:])])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("Per dimension: items/templates (templates = independent units; items of one template are not "
                 "independent). safety: (refuse/comply) items. Use a name with --suite (default: compact).")
    return "\n".join(lines)


def print_suites() -> int:
    """Print the shipped suites with items per dimension (``driftguard suites``); returns the exit code 0."""
    print(format_suites([load_shipped(name) for name in SHIPPED_SUITES]))
    return 0
