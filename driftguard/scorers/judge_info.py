"""Which judges scored a suite: ``{role: {"name", "version"}}`` for the report and the baseline fingerprint.

Roles: ``refusal`` (safety, robustness), ``toxicity``, ``leak`` (privacy); a role is listed only when the
suite has probes of a dimension that uses it. A judge object gives its ``name`` and ``version``
attributes; a plain callable is named by its qualified name with version ``"unversioned"``. Spec
strings are built once per process (``build_toxicity_judge``/``build_refusal_judge`` cache them), so a
``hf:PATH`` model is loaded once, not at every evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from driftguard.scorers.judges import make_toxicity_judge
from driftguard.scorers.privacy import MATCHER_VERSION
from driftguard.scorers.refusal_judges import make_refusal_judge
from driftguard.types import Probe

ROLES = {"refusal": ("safety", "robustness"), "toxicity": ("toxicity",), "leak": ("privacy",)}
LEAK_JUDGE = {"name": "driftguard-contains-secret", "version": MATCHER_VERSION}


@lru_cache(maxsize=8)
def _toxicity_from_spec(spec: str | None) -> Any:
    return make_toxicity_judge(spec)


@lru_cache(maxsize=8)
def _refusal_from_spec(spec: str | None) -> Any:
    return make_refusal_judge(spec)


def build_toxicity_judge(judge: Any = None) -> Any:
    """The judge object for ``judge`` (a spec string or None is built once per process; an object as is)."""
    return _toxicity_from_spec(judge) if judge is None or isinstance(judge, str) else judge


def build_refusal_judge(judge: Any = None) -> Any:
    """The refusal judge object for ``judge`` (a spec string or None is built once per process; an object as is)."""
    return _refusal_from_spec(judge) if judge is None or isinstance(judge, str) else judge


def describe(judge: Any) -> dict[str, str]:
    """``{"name", "version"}`` of a judge object or callable."""
    name = getattr(judge, "name", None)
    if not isinstance(name, str) or not name:
        name = getattr(judge, "__qualname__", None) or type(judge).__qualname__
        name = f"{getattr(judge, '__module__', '') or type(judge).__module__}.{name}"
    version = getattr(judge, "version", None)
    return {"name": name, "version": str(version) if version is not None else "unversioned"}


def suite_judges(probes: Iterable[Probe], *, toxicity_judge: Any = None, refusal_judge: Any = None) -> dict[str, dict[str, str]]:
    """The judges that score ``probes``: one entry per role the suite's dimensions use."""
    dimensions = {p.dimension for p in probes}
    judges: dict[str, dict[str, str]] = {}
    if dimensions & set(ROLES["refusal"]):
        judges["refusal"] = describe(build_refusal_judge(refusal_judge))
    if dimensions & set(ROLES["toxicity"]):
        judges["toxicity"] = describe(build_toxicity_judge(toxicity_judge))
    if dimensions & set(ROLES["leak"]):
        judges["leak"] = dict(LEAK_JUDGE)
    return judges
