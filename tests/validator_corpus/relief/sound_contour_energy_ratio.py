"""Relief: shading energy along the contour lines over energy across them (mean squared
directional derivatives of log luminance) on the scar core.

A smooth dome's shading changes only across its contour lines; bumps add shading along them too,
so the ratio rises with relief (0 smooth, about 1 isotropic). Light intensity and skin tone cancel
on log luminance and in the ratio.
Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any() or mask.all():
        return {"relief": float("nan")}
    lum = np.log(np.asarray(image, dtype=float).mean(axis=2) + 2.0)
    gy = ndimage.gaussian_filter(lum, 1.0, order=(1, 0))
    gx = ndimage.gaussian_filter(lum, 1.0, order=(0, 1))
    inside = ndimage.distance_transform_edt(mask)
    level = ndimage.gaussian_filter(inside - ndimage.distance_transform_edt(~mask), 2.0)
    dy = ndimage.sobel(level, axis=0) / 8.0
    dx = ndimage.sobel(level, axis=1) / 8.0
    norm = np.hypot(dx, dy)
    keep = mask & (inside > 2.5) & (norm > 0.3)
    if keep.sum() < 5:
        keep = mask
    nx = dx / (norm + 1e-6)
    ny = dy / (norm + 1e-6)
    tangential = gy * nx - gx * ny
    radial = gx * nx + gy * ny
    return {"relief": float(np.mean(tangential[keep] ** 2) / (np.mean(radial[keep] ** 2) + 1e-12))}
