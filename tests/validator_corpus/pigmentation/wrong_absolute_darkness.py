"""Pigmentation (flawed: absolute colour): 100 - mean L* inside the lesion.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"pigment_contrast": float("nan")}
    lab = color.rgb2lab(image)
    return {"pigment_contrast": float(100.0 - lab[..., 0][mask].mean())}
