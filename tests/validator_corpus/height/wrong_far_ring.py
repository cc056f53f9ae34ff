"""Height (flawed: wrong ring, the band misses the scar's shoulder): range of mean log luminance
over 16 angular sectors of a ring 20-35 px outside the lesion, where the skin is flat.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    outside_d = ndimage.distance_transform_edt(~mask)
    lum = np.log(color.rgb2gray(image) + 0.01)
    band = (outside_d > 20) & (outside_d <= 35)
    if band.sum() < 16:
        return {"elevation_cue": 0.0}
    cy, cx = ndimage.center_of_mass(mask)
    yy, xx = np.nonzero(band)
    ang = np.arctan2(yy - cy, xx - cx)
    bins = np.floor((ang + math.pi) / (2 * math.pi) * 16).astype(int) % 16
    vals = lum[yy, xx]
    means = [vals[bins == b].mean() for b in range(16) if np.any(bins == b)]
    return {"elevation_cue": float(max(means) - min(means))}
