"""Size (flawed: shape instead of size): perimeter^2 / (4 pi area).

Empty mask: NaN.
"""
import math

import numpy as np
from skimage import measure


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"lesion_size": float("nan")}
    per = measure.perimeter(mask)
    return {"lesion_size": float(per * per / (4.0 * math.pi * max(float(mask.sum()), 1.0)))}
