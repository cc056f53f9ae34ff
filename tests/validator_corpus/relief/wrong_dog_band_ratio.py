"""Relief (flawed: a fixed-pixel band-pass on the scar reads the shading of its dome and walls, which
at the camera's scale span the same few pixels as the bumps, so it measures the scar's thickness and
curvature, not its surface irregularity): std of a difference of Gaussians (1 and 4 px) of log
luminance, lesion interior over ring 4-20 px.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"relief": float("nan")}
    outer = ndimage.binary_dilation(mask, iterations=20)
    inner = ndimage.binary_dilation(mask, iterations=4)
    ring = outer & ~inner
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"relief": 0.0}
    lum = np.log(color.rgb2gray(image) + 0.01)
    dog = ndimage.gaussian_filter(lum, 1.0) - ndimage.gaussian_filter(lum, 4.0)
    inner = ndimage.binary_erosion(mask, iterations=4)
    inner = inner if inner.sum() > 10 else mask
    return {"relief": float(dog[inner].std() / (dog[ring].std() + 1e-4))}
