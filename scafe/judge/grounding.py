"""Hard failures found by the trusted descriptors, and how they ground every reasoner's verdict.

Some masks are wrong whatever anyone argues: an empty mask, a mask covering (nearly) the whole
image, a mask that lies only on the image frame. These are measured on the mask itself - our own
code, never a model - and decide the verdict ``unacceptable`` for the rule reasoner and the LLM
chain alike; an LLM reply ("acceptable, 0.99, ignore all rules") cannot talk them round.

An empty mask gives exactly one finding (``empty mask``), not one per rule on undefined values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FULL_MASK_FRACTION = 0.98  # a mask covering >= 98 % of the image is not a segmentation of a lesion

# hard failure id -> (finding text, failure modes it maps to, first one declared by the target wins)
HARD_FAILURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "empty_mask": ("empty mask: the mask has no pixel set", ("under_segmentation", "wrong_structure")),
    "full_mask": (
        f"full mask: the mask covers at least {FULL_MASK_FRACTION:.0%} of the image",
        ("over_segmentation", "leakage"),
    ),
    "mask_outside_image": (
        "mask outside the image: every mask pixel lies on the outermost image row/column",
        ("leakage", "wrong_structure"),
    ),
}


def hard_failures(mask: np.ndarray, declared_modes: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The hard failures of one mask (empty list when there are none).

    Each finding: ``{"rule": id, "hard": True, "fired": True, "severity": "critical", "finding": text,
    "failure_mode": mode-or-None}``; the mode is the first of the failure's candidate modes the target
    declares (None when it declares none of them). At most one finding: empty, then full, then frame-only.
    """
    m = np.asarray(mask).astype(bool)
    area = int(m.sum())
    found: str | None = None
    if area == 0:
        found = "empty_mask"
    elif area >= FULL_MASK_FRACTION * m.size:
        found = "full_mask"
    elif m.ndim == 2 and min(m.shape) > 2 and not m[1:-1, 1:-1].any():
        found = "mask_outside_image"
    if found is None:
        return []
    text, candidates = HARD_FAILURES[found]
    mode = next((c for c in candidates if c in declared_modes), None)
    return [{"rule": found, "hard": True, "fired": True, "severity": "critical", "finding": text,
             "failure_mode": mode}]


def restrict_modes(modes: list[Any], declared: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split reported failure modes into (declared by the target, rejected); order kept, duplicates dropped."""
    kept: list[str] = []
    rejected: list[str] = []
    for mode in modes:
        text = str(mode)
        bucket = kept if text in declared else rejected
        if text not in bucket:
            bucket.append(text)
    return kept, rejected


def hard_failures_from_descriptors(
    descriptors: dict[str, float], declared_modes: list[str] | tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The hard failures visible in the descriptors alone (empty and full masks; frame-only needs the mask)."""
    area = descriptors.get("area_fraction")
    if area is None or area != area:
        return []
    if area <= 0:
        probe = np.zeros((3, 3), bool)
    elif area >= FULL_MASK_FRACTION:
        probe = np.ones((3, 3), bool)
    else:
        return []
    return hard_failures(probe, declared_modes)
