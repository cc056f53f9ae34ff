"""VSS pigmentation: melanin of the scar relative to the surrounding normal skin.

Criterion: VSS / pigmentation — "Colour of the scar due to melanin, compared with the surrounding
normal skin: normal, lighter (hypopigmentation) or darker (hyperpigmentation)."
Measures: optical density OD_c = -ln(linear sRGB_c) per channel is unmixed into melanin,
haemoglobin and a grey term (shading, exposure) with broad-band extinction vectors shaped like the
published spectra (melanin ~ lambda^-3.5 folded into R, G, B bands: 1.0, 1.6, 2.6; oxy-haemoglobin,
peaking in green: 0.05, 1.0, 0.5; grey: 1, 1, 1):  [c_mel, c_hb, c_grey] = M^-1 OD.
  pigmentation_melanin_log_ratio = ln(c_mel(lesion) / c_mel(skin))   (0 = same as skin, >0 darker)
  pigmentation_delta_l           = median L*(lesion) - median L*(skin)           (L* units)
  pigmentation_delta_mel_takiwaki = -1.06 * delta_a* - 1.44 * delta_L*   (Takiwaki's melanin shift)
A ratio, not a difference, because the scar's melanin scales with the patient's own: the same
relative change is a bigger absolute one in dark skin. Haemoglobin (redness) is unmixed out, so
erythema is not read as pigment. The unmixing is done per pixel, so each pixel's own shading
(the grey term: relief, shadow, uneven light) is removed before the median c_mel of the region is
taken. Lesion pixels 2 px or more inside the border (edge blur); reference skin = outside pixels
beyond the 60th percentile of outside distances. Median c_mel is floored at 1e-3.
Range: log ratio about -2..2; delta L* about -60..60. Empty mask: NaN. Mask covering the whole image (no skin to compare with): 0.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color

FAR_QUANTILE = 0.6
UNMIX = np.linalg.inv(np.array([[1.0, 0.05, 1.0], [1.6, 1.0, 1.0], [2.6, 0.5, 1.0]]))
KEYS = ("pigmentation_melanin_log_ratio", "pigmentation_delta_l", "pigmentation_delta_mel_takiwaki")


def optical_density(rgb):
    v = rgb.astype("float64") / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return -np.log(np.maximum(lin, 1.0 / 4096.0))


def median_melanin(od):
    melanin = od @ UNMIX[0]  # first row of M^-1: per-pixel melanin concentration
    return max(float(np.median(melanin)), 1e-3)


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
    ratio = math.log(median_melanin(optical_density(image[core]))
                     / median_melanin(optical_density(image[skin])))
    lab_in = color.rgb2lab(image[lesion][None])[0]
    lab_skin = color.rgb2lab(image[skin][None])[0]
    delta_l = float(np.median(lab_in[:, 0]) - np.median(lab_skin[:, 0]))
    delta_a = float(np.median(lab_in[:, 1]) - np.median(lab_skin[:, 1]))
    return {
        "pigmentation_melanin_log_ratio": float(ratio),
        "pigmentation_delta_l": delta_l,
        "pigmentation_delta_mel_takiwaki": -1.06 * delta_a - 1.44 * delta_l,
    }
