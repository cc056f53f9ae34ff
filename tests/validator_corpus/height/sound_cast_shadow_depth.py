"""Height: depth of the darkest part of the ring 1-8 px outside (where the scar casts its shadow, on the side away from the light): 1 - (5th percentile of luminance there / median luminance of the farther skin).

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    outside_d = ndimage.distance_transform_edt(~mask)
    lum = color.rgb2gray(image) + 0.01
    near = (outside_d > 0) & (outside_d <= 8)
    far = (outside_d > 15) & (outside_d <= 35)
    if not near.any() or not far.any():
        return {"elevation_cue": 0.0}
    ref = np.median(lum[far])
    return {"elevation_cue": float(1.0 - np.percentile(lum[near], 5) / ref)}
