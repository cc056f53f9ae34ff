"""Sandbox for LLM-written feature extractors (imports nothing from ``scafe`` or ``agents``).

Public API (see docs/CONTRACTS.md): :class:`Outcome`, :class:`Limits`, :class:`RunResult`,
:class:`ExtractorRunner`, :func:`validate` -> :class:`ValidationReport`, :func:`layers_info`.
"""

from __future__ import annotations

from sandbox.errors import (
    InputError,
    LayerUnavailable,
    SandboxConfigError,
    SandboxError,
    ServerError,
    TransportError,
)
from sandbox.runner import ExtractorRunner, Limits, Outcome, RunResult
from sandbox.static import StaticResult, check_source

__all__ = [
    "CheckFailure",
    "ExtractorRunner",
    "InputError",
    "LayerUnavailable",
    "Limits",
    "Outcome",
    "RunResult",
    "SandboxConfigError",
    "SandboxError",
    "ServerError",
    "StaticResult",
    "TransportError",
    "ValidationReport",
    "check_source",
    "layers_info",
    "validate",
]


def __getattr__(name: str):
    # battery/info import numpy-heavy helpers; load them on first use only
    if name in ("validate", "ValidationReport", "CheckFailure"):
        from sandbox import battery

        return getattr(battery, name)
    if name == "layers_info":
        from sandbox.info import layers_info

        return layers_info
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
