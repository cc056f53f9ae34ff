"""Surface: 99.5th percentile of luminance inside over the 99.5th percentile in the ring 3-20 px (log ratio).

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"gloss": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 20)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"gloss": 0.0}
    lum = color.rgb2gray(image) + 0.01
    return {"gloss": float(math.log(np.percentile(lum[mask], 99.5) / np.percentile(lum[ring], 99.5)))}
