"""Shape: perimeter over convex-hull perimeter minus 1.

Empty mask: NaN.
"""

import numpy as np
from skimage import measure, morphology


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    hull = morphology.convex_hull_image(mask)
    ph = measure.perimeter(hull)
    if ph <= 0:
        return {"shape_irregularity": 0.0}
    return {"shape_irregularity": float(measure.perimeter(mask) / ph - 1.0)}
