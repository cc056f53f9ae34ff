"""Colour mismatch between the scar and the surrounding skin.

Criterion: Manchester / colour — "Colour of the scar compared with the surrounding skin: perfect,
slight, obvious or gross mismatch."
Measures (CIELAB, D65; medians of the lesion core and of reference skin):
  colour_mismatch_delta_ab = sqrt(delta_a*^2 + delta_b*^2)            (chromatic mismatch)
  colour_mismatch_delta_e  = sqrt(delta_L*^2 + delta_a*^2 + delta_b*^2) (CIE76 Delta E*ab)
  colour_mismatch_delta_l  = delta_L*                                   (lightness, signed)
The first (main) output leaves lightness out because on a raised scar L* is dominated by the
shading and glare of its relief, not by its colour; Delta E*ab is kept as the second output for
comparison with the literature (Manchester grades 1-4 ~ Delta E 4.4 / 9.6 / 17.8 / 29.1).
Lesion core: pixels 2 px or more inside the border (edge blur); reference skin: outside pixels
at or beyond the 60th percentile of outside distances (beyond any halo of rim erythema).
Range: 0..~60 (Lab units); delta L* -100..100. Empty mask: NaN. Mask covering the whole image (no skin to compare with): 0.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color

FAR_QUANTILE = 0.6
KEYS = ("colour_mismatch_delta_ab", "colour_mismatch_delta_e", "colour_mismatch_delta_l")


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    outside = ~lesion
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    if not outside.any():  # the mask fills the image: no skin to compare with, no contrast
        return {key: 0.0 for key in KEYS}
    distance = ndimage.distance_transform_edt(outside)
    cut = np.quantile(distance[outside], FAR_QUANTILE)
    skin = outside & (distance >= cut)
    core = lesion & (ndimage.distance_transform_edt(lesion) >= 2)
    if np.count_nonzero(core) < 10:
        core = lesion
    lab_in = np.median(color.rgb2lab(image[core][None])[0], axis=0)
    lab_skin = np.median(color.rgb2lab(image[skin][None])[0], axis=0)
    dl = float(lab_in[0] - lab_skin[0])
    da = float(lab_in[1] - lab_skin[1])
    db = float(lab_in[2] - lab_skin[2])
    return {
        "colour_mismatch_delta_ab": math.hypot(da, db),
        "colour_mismatch_delta_e": math.sqrt(dl * dl + da * da + db * db),
        "colour_mismatch_delta_l": dl,
    }
