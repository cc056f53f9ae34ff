"""Vascularity (flawed: absolute colour): mean a* inside the lesion, no reference skin.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_contrast": float("nan")}
    lab = color.rgb2lab(image)
    return {"redness_contrast": float(lab[..., 1][mask].mean())}
