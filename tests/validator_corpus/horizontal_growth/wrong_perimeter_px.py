"""Horizontal growth (flawed: perimeter grows with size): perimeter in pixels.

Empty mask: NaN.
"""

import numpy as np
from skimage import measure


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"projection_count": float("nan")}
    return {"projection_count": float(measure.perimeter(mask))}
