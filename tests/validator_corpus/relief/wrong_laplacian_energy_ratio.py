"""Relief (flawed: a fixed-pixel band-pass on the scar reads the shading of its dome and walls, which
at the camera's scale span the same few pixels as the bumps, so it measures the scar's thickness and
curvature, not its surface irregularity): mean |Laplacian of Gaussian (sigma 1.5)| of L* inside the
eroded lesion over the ring 5-25 px.

Empty mask: NaN.
"""

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
    lab_l = color.rgb2lab(image)[..., 0]
    log = np.abs(ndimage.gaussian_laplace(lab_l, 1.5))
    inner = ndimage.binary_erosion(mask, iterations=3)
    inner = inner if inner.sum() > 10 else mask
    return {"relief": float(log[inner].mean() / (log[ring].mean() + 1e-3))}
