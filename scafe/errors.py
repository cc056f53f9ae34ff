"""The one error hierarchy of the application layer.

Every error says what was wrong (naming the bad value) and how to fix it. The CLI turns a
``ScafeError`` into a one-line message and exits with ``exit_code``:
2 = usage or configuration, 1 = failure. (3 = partial success is returned by commands, not raised.)
"""

from __future__ import annotations


class ScafeError(Exception):
    """Base class of every error scafe raises on purpose."""

    exit_code = 1


class UsageError(ScafeError):
    """Bad arguments or configuration (exit code 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """Configuration missing or invalid: an LLM endpoint, a config file, a required sandbox layer."""


class DataError(ScafeError):
    """A dataset, image, mask or manifest that cannot be used."""


class CriteriaError(ScafeError):
    """A criteria file or prompt template that does not validate."""

    exit_code = 1


class LibraryError(ScafeError):
    """The feature library is missing, corrupt, locked, or asked for something it does not hold."""


class ExtractionError(ScafeError):
    """Feature extraction could not run at all (per-cell failures are reported, not raised)."""


class ModelError(ScafeError):
    """Training, prediction or evaluation failed (e.g. a feature table from another library)."""


class LLMError(ScafeError):
    """The LLM endpoint failed after retries, or replied with something unusable."""
