"""Height (flawed: orientation-dependent): mean signed horizontal derivative of L* in the border band.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    inside_d = ndimage.distance_transform_edt(mask)
    outside_d = ndimage.distance_transform_edt(~mask)
    lab_l = color.rgb2lab(image)[..., 0]
    gx = ndimage.sobel(lab_l, axis=1)
    band = (inside_d <= 4) & mask | ((outside_d > 0) & (outside_d <= 4))
    return {"elevation_cue": float(gx[band].mean())}
