"""Relief (flawed: a fixed-pixel band-pass on the scar reads the shading of its dome and walls, which
at the camera's scale span the same few pixels as the bumps, so it measures the scar's thickness and
curvature, not its surface irregularity): standard deviation of high-pass filtered log luminance
(minus a 3 px Gaussian) inside the eroded lesion over the same in the ring 5-25 px.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"relief": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 5) & (far <= 25)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"relief": 0.0}
    lum = np.log(color.rgb2gray(image) + 0.01)
    hp = lum - ndimage.gaussian_filter(lum, 3.0)
    inner = ndimage.binary_erosion(mask, iterations=3)
    inner = inner if inner.sum() > 10 else mask
    return {"relief": float(math.log((hp[inner].std() + 1e-4) / (hp[ring].std() + 1e-4)))}
