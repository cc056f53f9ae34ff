"""Pigmentation (flawed: wrong ring, the reference lies inside the lesion): minus (mean L* of the
lesion core minus mean L* of the lesion's own outer 4 px band).

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"pigment_contrast": float("nan")}
    inside = ndimage.distance_transform_edt(mask)
    band = mask & (inside <= 4)
    core = mask & (inside > 4)
    if not core.any() or not band.any():
        return {"pigment_contrast": 0.0}
    lab = color.rgb2lab(image)
    return {"pigment_contrast": float(lab[..., 0][band].mean() - lab[..., 0][core].mean())}
