"""Relief (flawed: border contrast, not surface relief): mean gradient magnitude on the lesion border.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"relief": float("nan")}
    lab_l = color.rgb2lab(image)[..., 0]
    grad = ndimage.gaussian_gradient_magnitude(lab_l, 1.0)
    edge = mask & ~ndimage.binary_erosion(mask)
    return {"relief": float(grad[edge].mean())}
