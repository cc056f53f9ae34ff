"""The sandbox's own error hierarchy (the sandbox imports nothing from ``scafe``).

Outcomes of untrusted code (rejected, failed, timeout, ...) are *results*, not exceptions: they
come back as :class:`sandbox.RunResult` / :class:`sandbox.ValidationReport`. These exceptions are
for the host's own problems: a required isolation layer is missing, the fork server cannot start,
a caller passes arrays of the wrong shape.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base class of every error the sandbox raises on purpose (CLI exit code 1)."""

    exit_code = 1


class SandboxConfigError(SandboxError):
    """Bad limits or configuration, e.g. a negative time limit (CLI exit code 2)."""

    exit_code = 2


class LayerUnavailable(SandboxConfigError):
    """A layer listed in ``Limits.require_layers`` is not active on this machine."""


class ServerError(SandboxError):
    """The pre-imported fork server died or answered something unexpected."""


class InputError(SandboxError):
    """An image or mask handed to the runner does not follow the extractor contract."""


class TransportError(SandboxError):
    """A frame on the host/child pipe is malformed or larger than its cap."""
