"""Vascularity (flawed: wrong ring): lesion core a* minus a* of a band just inside the border.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_contrast": float("nan")}
    depth = ndimage.distance_transform_edt(mask)
    core = depth > 6
    band = mask & (depth <= 3)
    if not core.any() or not band.any():
        return {"redness_contrast": 0.0}
    lab = color.rgb2lab(image)
    return {"redness_contrast": float(lab[..., 1][core].mean() - lab[..., 1][band].mean())}
