"""Height: range of mean log luminance over 16 angular sectors of the lesion border band (bright lit side vs dark far side), orientation-free as max minus min.

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
    inside_d = ndimage.distance_transform_edt(mask)
    lum = np.log(color.rgb2gray(image) + 0.01)
    band = mask & (inside_d <= 5)
    if band.sum() < 16:
        return {"elevation_cue": 0.0}
    cy, cx = ndimage.center_of_mass(mask)
    yy, xx = np.nonzero(band)
    ang = np.arctan2(yy - cy, xx - cx)
    bins = np.floor((ang + math.pi) / (2 * math.pi) * 16).astype(int) % 16
    vals = lum[yy, xx]
    means = [vals[bins == b].mean() for b in range(16) if np.any(bins == b)]
    return {"elevation_cue": float(max(means) - min(means))}
