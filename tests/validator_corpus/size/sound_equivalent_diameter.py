"""Size: diameter of the disc with the lesion's area (px).

Empty mask: NaN.
"""
import math

import numpy as np


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"lesion_size": float("nan")}
    return {"lesion_size": float(2.0 * math.sqrt(float(mask.sum()) / math.pi))}
