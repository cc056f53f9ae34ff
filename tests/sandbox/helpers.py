"""Helpers of the sandbox tests: small inputs, a canary extractor and its reference values."""

from __future__ import annotations

import socket

import numpy as np

from sandbox import Limits

# Deadlines far above any honest run, for tests that are not about deadlines: they stay green on a
# loaded or slow machine (issue 13 s1). None of the programs run under them loops, so they cost no time.
RELAXED = Limits(per_image_seconds=300.0, total_seconds=1200.0, startup_seconds=300.0)

CANARY_SOURCE = '''"""Canary: mean red and green inside the mask (reference values are computed by the host)."""
import numpy as np


def extract(image, mask):
    rgb = image.astype(np.float64)
    return {"canary_r": float(rgb[..., 0][mask].mean()), "canary_g": float(rgb[..., 1][mask].mean())}
'''


def small_pair(seed: int = 0, h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A random uint8 image and a rectangular mask."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), dtype=bool)
    mask[h // 4: 3 * h // 4, w // 5: 4 * w // 5] = True
    return image, mask


def connection_attempted(sock: socket.socket) -> bool:
    """True when someone connected to ``sock``."""
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def canary_reference(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """What the canary extractor must return (plain host computation)."""
    rgb = image.astype(np.float64)
    return {"canary_r": float(rgb[..., 0][mask].mean()), "canary_g": float(rgb[..., 1][mask].mean())}
