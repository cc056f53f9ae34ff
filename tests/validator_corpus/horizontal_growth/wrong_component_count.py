"""Horizontal growth (flawed: counts separate lesions, not projections): connected components of the mask.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"projection_count": float("nan")}
    labels, n = ndimage.label(mask)
    return {"projection_count": float(n)}
