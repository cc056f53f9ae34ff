"""Colour (flawed: wrong ring): delta E between lesion core and a band just inside the border.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"colour_mismatch": float("nan")}
    depth = ndimage.distance_transform_edt(mask)
    core = depth > 6
    band = mask & (depth <= 3)
    if not core.any() or not band.any():
        return {"colour_mismatch": 0.0}
    lab = color.rgb2lab(image)
    d = lab[core].mean(axis=0) - lab[band].mean(axis=0)
    return {"colour_mismatch": float(np.sqrt((d * d).sum()))}
