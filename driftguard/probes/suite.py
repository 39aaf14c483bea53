"""The probe-suite model: an ordered, fingerprinted, immutable collection of probes. No torch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from driftguard.errors import ProbeSuiteError
from driftguard.types import DIMENSIONS, Probe, SuiteInfo

PROBE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Probe) if f.name != "meta")


def probe_to_dict(probe: Probe) -> dict[str, Any]:
    """The probe as one line of a suite file: set fields, then its metadata keys (unknown keys round-trip)."""
    out: dict[str, Any] = {}
    for name in PROBE_FIELDS:
        value = getattr(probe, name)
        if value is None:
            continue
        if name == "messages":
            value = [dict(m) for m in value]
        elif name == "options":
            value = list(value)
        out[name] = value
    for key, value in probe.meta.items():
        out.setdefault(key, value)
    return out


def _canonical(probe: Probe) -> dict[str, Any]:
    """Every field (None included) plus ``meta`` nested, so no two different probes serialise alike."""
    d = {name: getattr(probe, name) for name in PROBE_FIELDS}
    d["messages"] = None if probe.messages is None else [dict(m) for m in probe.messages]
    d["options"] = None if probe.options is None else list(probe.options)
    d["meta"] = dict(probe.meta)
    return d


@dataclass(frozen=True)
class ProbeSuite:
    """A named, versioned suite. ``sha256`` fingerprints the probes (all fields, meta included, in order).

    ``source`` says where the suite came from (a path, a shipped name); it is used in error messages
    and takes no part in equality or the fingerprint.
    """

    name: str
    version: str
    probes: tuple[Probe, ...]
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "probes", tuple(self.probes))
        seen: set[str] = set()
        for probe in self.probes:
            if probe.id in seen:
                raise ProbeSuiteError(f"{self.source or self.name}: duplicate probe id {probe.id!r}. "
                                      "Give each probe a unique id.")
            seen.add(probe.id)

    @cached_property
    def sha256(self) -> str:
        """Hex sha256 of the canonical JSON of the probes, in order (computed once)."""
        digest = hashlib.sha256()
        payload = [_canonical(p) for p in self.probes]
        digest.update(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode())
        return digest.hexdigest()

    @property
    def info(self) -> SuiteInfo:
        """The suite's identity, as pinned by a baseline and written to reports."""
        return SuiteInfo(name=self.name, version=self.version, sha256=self.sha256)

    @cached_property
    def _index(self) -> dict[str, Probe]:
        return {p.id: p for p in self.probes}

    def __len__(self) -> int:
        return len(self.probes)

    def __iter__(self) -> Iterator[Probe]:
        return iter(self.probes)

    def __contains__(self, probe_id: object) -> bool:
        return probe_id in self._index

    def get(self, probe_id: str) -> Probe | None:
        """The probe with this id, or None."""
        return self._index.get(probe_id)

    def by_dimension(self) -> dict[str, tuple[Probe, ...]]:
        """Probes grouped by dimension, every dimension present (possibly empty), in DIMENSIONS order."""
        groups: dict[str, list[Probe]] = {d: [] for d in DIMENSIONS}
        for probe in self.probes:
            groups[probe.dimension].append(probe)
        return {d: tuple(ps) for d, ps in groups.items()}

    def counts(self) -> dict[str, int]:
        """Number of probes per dimension (every dimension, zeros included)."""
        return {d: len(ps) for d, ps in self.by_dimension().items()}

    def select(self, ids: Iterable[str], name: str | None = None, version: str | None = None) -> ProbeSuite:
        """A sub-suite of the probes whose id is in ``ids``, in this suite's order."""
        wanted = set(ids)
        missing = wanted - set(self._index)
        if missing:
            raise ProbeSuiteError(f"{self.source or self.name}: no probes with ids {sorted(missing)[:5]}")
        probes = tuple(p for p in self.probes if p.id in wanted)
        return ProbeSuite(name or self.name, version or self.version, probes, source=self.source)

    def to_jsonl(self) -> str:
        """The suite as JSONL text (one probe per line), the format the loader reads back."""
        return "".join(json.dumps(probe_to_dict(p), ensure_ascii=False) + "\n" for p in self.probes)

    @staticmethod
    def combine(suites: Iterable[ProbeSuite]) -> ProbeSuite:
        """One suite of all probes in order; names (and differing versions) are joined with ``+``.

        A probe id present in two suites is a ProbeSuiteError naming both sources.
        """
        suites = list(suites)
        if not suites:
            raise ProbeSuiteError("no suites to combine; give at least one shipped name (compact, full) or path")
        if len(suites) == 1:
            return suites[0]
        owner: dict[str, str] = {}
        for suite in suites:
            where = suite.source or suite.name
            for probe in suite.probes:
                if probe.id in owner:
                    raise ProbeSuiteError(
                        f"probe id {probe.id!r} is in both {owner[probe.id]} and {where}; "
                        "rename one of them or drop one suite from the combination."
                    )
                owner[probe.id] = where
        versions = list(dict.fromkeys(s.version for s in suites))
        return ProbeSuite(
            name="+".join(s.name for s in suites),
            version="+".join(versions),
            probes=tuple(p for s in suites for p in s.probes),
            source="+".join(s.source or s.name for s in suites),
        )
