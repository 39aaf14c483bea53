"""driftguard: catch alignment regressions while post-training LLMs.

Public API (imported lazily so that ``driftguard gate`` never imports torch)::

    from driftguard import DriftGuardCallback, DriftGuardConfig, load_suite, audit
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "DriftGuardCallback": "driftguard.callback",
    "DriftGuardConfig": "driftguard.config",
    "load_suite": "driftguard.probes",
    "audit": "driftguard.audit",
    "Verdict": "driftguard.types",
    "Probe": "driftguard.types",
    "DriftGuardError": "driftguard.errors",
}
__all__ = [*_EXPORTS, "__version__"]

if TYPE_CHECKING:
    from driftguard.audit import audit
    from driftguard.callback import DriftGuardCallback
    from driftguard.config import DriftGuardConfig
    from driftguard.errors import DriftGuardError
    from driftguard.probes import load_suite
    from driftguard.types import Probe, Verdict


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'driftguard' has no attribute {name!r}")
