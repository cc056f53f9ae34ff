"""Shape: 1 - circularity, circularity = 4 pi A / P^2 (Crofton perimeter).

Empty mask: NaN.
"""
import math

import numpy as np
from skimage import measure


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    per = measure.perimeter_crofton(mask, directions=4)
    if per <= 0:
        return {"shape_irregularity": 0.0}
    return {"shape_irregularity": float(1.0 - min(4.0 * math.pi * float(mask.sum()) / (per * per), 1.0))}
