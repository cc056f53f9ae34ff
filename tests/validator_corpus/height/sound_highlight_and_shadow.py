"""Height: dome highlight plus cast shadow in log luminance: (99th percentile minus median inside the lesion) plus (median of the far skin minus the 5th percentile of the ring 1-6 px).

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
    lum = np.log(color.rgb2gray(image) + 0.01)
    near = (outside_d > 0) & (outside_d <= 6)
    far = (outside_d > 10) & (outside_d <= 30)
    if not near.any() or not far.any():
        return {"elevation_cue": 0.0}
    highlight = np.percentile(lum[mask], 99) - np.median(lum[mask])
    shadow = np.median(lum[far]) - np.percentile(lum[near], 5)
    return {"elevation_cue": float(highlight + shadow)}
