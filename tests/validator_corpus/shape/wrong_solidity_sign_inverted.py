"""Shape (flawed: sign inverted, falls as the shape gets more irregular): solidity.

Empty mask: NaN.
"""

import numpy as np
from skimage import morphology


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    hull = morphology.convex_hull_image(mask)
    return {"shape_irregularity": float(mask.sum() / max(float(hull.sum()), 1.0))}
