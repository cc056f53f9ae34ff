"""Shape (flawed: size-dependent): perimeter in pixels.

Empty mask: NaN.
"""

import numpy as np
from skimage import measure


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    return {"shape_irregularity": float(measure.perimeter(mask))}
