"""Shape (flawed: elongation, not irregularity): eccentricity of the moment ellipse.

Empty mask: NaN.
"""

import numpy as np
from skimage import measure


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    props = measure.regionprops(mask.astype(np.uint8))
    return {"shape_irregularity": float(props[0].eccentricity) if props else 0.0}
