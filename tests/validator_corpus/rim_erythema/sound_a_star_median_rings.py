"""Rim erythema: median a* 2-6 px outside minus median a* 30-50 px outside (medians ignore hair and
moles). The near ring hugs the border: the halo is 1-4 mm wide and fades outwards, so a ring
reaching 15 px out (up to 6 mm) mostly averages unaffected skin; it starts 2 px out so camera
blur does not bring the lesion's own colour in (corpus fix, session 2).

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"rim_redness": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    near = (far > 2) & (far <= 6)
    away = (far > 30) & (far <= 50)
    if not near.any() or not away.any():
        near = (far > 0) & (far <= max(float(far.max()) / 2.0, 1.0))
        away = far > max(float(far.max()) / 2.0, 1.0)
    if not near.any() or not away.any():
        return {"rim_redness": 0.0}
    lab = color.rgb2lab(image)
    return {"rim_redness": float(np.median(lab[..., 1][near]) - np.median(lab[..., 1][away]))}
