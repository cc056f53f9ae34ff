"""Data: phantom scar photographs with ground truth (:mod:`scafe.data.phantoms`) and user
folder datasets (:mod:`scafe.data.dataset`).

The common entry points are re-exported lazily, so ``import scafe.data`` stays cheap:
``read_image``, ``read_mask``, ``load_dataset``, ``check_dataset``, ``render_phantom``,
``generate_phantoms``, ``cached_phantom_set``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "read_image": "scafe.data.images",
    "read_mask": "scafe.data.images",
    "load_dataset": "scafe.data.dataset",
    "check_dataset": "scafe.data.dataset",
    "render_phantom": "scafe.data.phantoms",
    "generate_phantoms": "scafe.data.phantoms",
    "cached_phantom_set": "scafe.data.phantoms",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scafe.data' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
