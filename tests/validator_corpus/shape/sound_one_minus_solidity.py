"""Shape: 1 - solidity (lesion area / convex hull area).

Empty mask: NaN.
"""

import numpy as np
from skimage import morphology


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    hull = morphology.convex_hull_image(mask)
    return {"shape_irregularity": float(1.0 - mask.sum() / max(float(hull.sum()), 1.0))}
