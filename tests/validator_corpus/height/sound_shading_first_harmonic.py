"""Height: lit-versus-shaded asymmetry of the border: magnitude of the first angular harmonic of log luminance in the band 6 px inside the border (|sum of lum * exp(i theta)| / count), orientation-free.

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
    band = mask & (inside_d <= 6)
    if band.sum() < 8:
        return {"elevation_cue": 0.0}
    cy, cx = ndimage.center_of_mass(mask)
    yy, xx = np.nonzero(band)
    ang = np.arctan2(yy - cy, xx - cx)
    vals = lum[yy, xx] - lum[yy, xx].mean()
    re = float((vals * np.cos(ang)).sum())
    im = float((vals * np.sin(ang)).sum())
    return {"elevation_cue": float(math.hypot(re, im) / band.sum())}
