"""Colour (flawed: absolute colour): mean L* inside the lesion.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"colour_mismatch": float("nan")}
    lab = color.rgb2lab(image)
    return {"colour_mismatch": float(lab[..., 0][mask].mean())}
