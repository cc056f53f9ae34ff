"""Sandbox for LLM-written feature extractors (imports nothing from ``scafe`` or ``agents``).

Public API (see docs/CONTRACTS.md): :class:`Outcome`, :class:`Limits`, :class:`RunResult`,
:class:`ExtractorRunner`, :func:`validate` -> :class:`ValidationReport`, :func:`layers_info`,
:func:`check_source`. Names that need numpy are loaded on first use, so ``sandbox.server`` can
start the fork server before the host has paid for its own numpy import.
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import (
    InputError,
    LayerUnavailable,
    SandboxConfigError,
    SandboxError,
    ServerError,
    TransportError,
)
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

_LAZY = {
    "ExtractorRunner": "sandbox.runner",
    "Limits": "sandbox.runner",
    "Outcome": "sandbox.runner",
    "RunResult": "sandbox.runner",
    "validate": "sandbox.battery",
    "ValidationReport": "sandbox.battery",
    "CheckFailure": "sandbox.battery",
    "layers_info": "sandbox.info",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups are plain attribute reads
    return value
