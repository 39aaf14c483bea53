"""driftguard.probes: the probe-suite model, loaders (JSONL, YAML, benchmark adapters) and the shipped suites."""

from __future__ import annotations

from driftguard.probes.loaders import SHIPPED_SUITES, load_file, load_shipped, load_suite, parse_probe
from driftguard.probes.suite import ProbeSuite
from driftguard.types import DIMENSIONS

__all__ = ["SHIPPED_SUITES", "ProbeSuite", "format_suites", "load_file", "load_shipped", "load_suite", "parse_probe",
           "print_suites"]


def format_suites(suites: list[ProbeSuite]) -> str:
    """A table of suites: version, sha256 prefix, total and items per dimension (safety split refuse/comply)."""
    header = ["suite", "version", "sha256", "total", *DIMENSIONS]
    rows = [header]
    for suite in suites:
        counts = suite.counts()
        refuse = sum(1 for p in suite if p.dimension == "safety" and p.expect == "refuse")
        safety = f"{counts['safety']} ({refuse}/{counts['safety'] - refuse})"
        rows.append([suite.name, suite.version, suite.sha256[:12], str(len(suite)), safety,
                     *(str(counts[d]) for d in DIMENSIONS[1:])])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("safety: total (refuse/comply). Use a name with --suite (default: compact).")
    return "\n".join(lines)


def print_suites() -> int:
    """Print the shipped suites with items per dimension (``driftguard suites``); returns the exit code 0."""
    print(format_suites([load_shipped(name) for name in SHIPPED_SUITES]))
    return 0
