"""Surface (flawed: orientation-dependent): 99.5th percentile of luminance in the upper half of
the lesion over the same in the ring 3-20 px (log ratio), as if the light always came from above.

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
    rows = np.nonzero(mask.any(axis=1))[0]
    upper = mask.copy()
    upper[(rows[0] + rows[-1]) // 2 + 1:, :] = False
    if not ring.any() or not upper.any():
        return {"gloss": 0.0}
    lum = color.rgb2gray(image) + 0.01
    return {"gloss": float(math.log(np.percentile(lum[upper], 99.5) / np.percentile(lum[ring], 99.5)))}
