"""Pigmentation (two-sided magnitude): |ITA(ring) - ITA(lesion)| with ITA = atan((L*-50)/b*) in degrees.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"pigment_contrast": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 15)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"pigment_contrast": 0.0}
    lab = color.rgb2lab(image)
    def ita(sel):
        return math.degrees(math.atan2(float(lab[..., 0][sel].mean()) - 50.0, max(float(lab[..., 2][sel].mean()), 1e-3)))
    return {"pigment_contrast": float(abs(ita(ring) - ita(mask)))}
