"""Relief: median |derivative of L* along the scar's contour lines| over median |derivative across them|, on the scar core.

A smooth raised scar shades across its contour lines only (lit wall, dark wall, top between);
bumps shade in every direction. Contour direction from the smoothed signed distance to the border.
Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any() or mask.all():
        return {"relief": float("nan")}
    inside = ndimage.distance_transform_edt(mask)
    signed = ndimage.gaussian_filter(inside - ndimage.distance_transform_edt(~mask), 2.0)
    sy, sx = np.gradient(signed)
    steep = np.hypot(sx, sy)
    nx = sx / (steep + 1e-6)
    ny = sy / (steep + 1e-6)
    core = mask & (inside > 2.5) & (steep > 0.3)
    if core.sum() < 5:
        core = mask
    lab_l = ndimage.gaussian_filter(color.rgb2lab(image)[..., 0], 1.0)
    ly, lx = np.gradient(lab_l)
    along = np.abs(ly * nx - lx * ny)[core]
    across = np.abs(lx * nx + ly * ny)[core]
    return {"relief": float(np.median(along) / (np.median(across) + 1e-6))}
