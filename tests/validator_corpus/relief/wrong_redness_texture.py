"""Relief (flawed: hue, not shading): spread of CIELAB a* inside the lesion over the spread in the
ring 5-25 px around it. Redness varies with vessels and blotchy haemoglobin, which say nothing about
how irregular the surface is; shading, which shows relief, changes brightness, not hue.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"relief": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 5) & (far <= 25)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"relief": 0.0}
    a_star = color.rgb2lab(image)[..., 1]
    return {"relief": float(a_star[mask].std() / (a_star[ring].std() + 1e-3))}
