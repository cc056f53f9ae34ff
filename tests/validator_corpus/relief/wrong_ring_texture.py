"""Relief (flawed: wrong region, reads the surrounding skin): standard deviation of high-pass
filtered log luminance (minus a 3 px Gaussian) in the ring 5-25 px around the lesion only, which
follows the skin's own micro-relief and the light, not the scar's surface.

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
        return {"relief": 0.0}
    lum = np.log(color.rgb2gray(image) + 0.01)
    hp = lum - ndimage.gaussian_filter(lum, 3.0)
    return {"relief": float(hp[ring].std())}
