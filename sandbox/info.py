"""What the sandbox enforces on this machine (``scafe sandbox info``)."""

from __future__ import annotations

import platform
import sys
from typing import Any

from sandbox import policy

PROBE_SOURCE = '''"""Probe extractor used by layers_info(): the pixel count of the mask."""
import numpy as np


def extract(image, mask):
    return {"probe_mask_pixels": float(np.count_nonzero(mask))}
'''


def layers_info() -> dict[str, Any]:
    """Start one jailed child and report every layer as active or not, with the reason.

    Returns
    -------
    dict
        ``{"layers": {name: {"active": bool, "detail": str}}, "platform": {...}, "policy": {...}}``
        with layers in the order of ``sandbox.policy.LAYERS``.
    """
    from sandbox.runner import ExtractorRunner

    with ExtractorRunner(PROBE_SOURCE) as runner:
        found = dict(runner.layers or {})
        start_ms = runner.start_ms
    layers = {
        name: found.get(name, {"active": False, "detail": "not reported by the child"}) for name in policy.LAYERS
    }
    return {
        "layers": layers,
        "platform": {
            "system": platform.system(),
            "kernel": platform.release(),
            "machine": platform.machine(),
            "python": sys.version.split()[0],
            "child_start_ms": round(start_ms or 0.0, 1),
        },
        "policy": {
            "modules": {name: len(names) for name, names in policy.ALLOWED_MODULES.items()},
            "builtins": len(policy.SAFE_BUILTIN_NAMES),
            "max_source_bytes": policy.MAX_SOURCE_BYTES,
        },
    }
