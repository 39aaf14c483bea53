"""Exception hierarchy. Every error a user can cause names the file, line or field and the fix."""

from __future__ import annotations


class DriftGuardError(Exception):
    """Base class of every error raised by driftguard."""


class ConfigError(DriftGuardError, ValueError):
    """An invalid configuration value (names the field, the value and the fix)."""


class ProbeSuiteError(DriftGuardError, ValueError):
    """A malformed probe suite file (names the file, the line and the field)."""


class BaselineMismatchError(DriftGuardError):
    """A stored baseline was measured on a different suite (fingerprint mismatch)."""


class ReportError(DriftGuardError, ValueError):
    """A missing or invalid report file (``driftguard gate`` fails closed on it)."""


class ModelSetupError(DriftGuardError, ValueError):
    """A model or tokenizer that cannot be probed as given (e.g. no chat template)."""
