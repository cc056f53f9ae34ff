"""VSS pigmentation: melanin of the scar relative to the surrounding normal skin.

Criterion: VSS / pigmentation — "Colour of the scar due to melanin, compared with the surrounding
normal skin: normal, lighter (hypopigmentation) or darker (hyperpigmentation)."
Measures (medians of the lesion minus medians of reference skin):
  pigmentation_delta_mel_takiwaki = -1.06 * delta_a* - 1.44 * delta_L*
      Takiwaki's linear separation of melanin from haemoglobin in CIELAB (CLINICAL.md);
      positive = darker than the skin after discounting redness, negative = hypopigmented.
  pigmentation_melanin_log_ratio  = ln(c_mel(lesion core) / c_mel(skin))   (0 = as skin)
      c_mel from a per-pixel optical-density unmixing, OD_c = -ln(linear sRGB_c) =
      M [c_mel, c_hb, c_grey], with broad-band extinction vectors shaped like the published
      spectra (melanin ~ lambda^-3.5 folded into R, G, B: 1.0, 1.6, 2.6; oxy-haemoglobin, peaking
      in green: 0.05, 1.0, 0.5; grey = shading and exposure: 1, 1, 1); a ratio because the scar's
      melanin scales with the patient's own. Its partial correlation with light elevation sat at
      the 0.30 limit on the validation phantoms, so it is the secondary output.
  pigmentation_delta_l            = delta L*                                (L* units)
Lesion core: pixels 2 px or more inside the border (edge blur); reference skin: outside pixels
beyond the 60th percentile of outside distances. Median c_mel is floored at 1e-3.
Speed: images larger than 191 px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor f = round(long side / WORK_SIZE), WORK_SIZE = 128: a 256 px image
is reduced 2x, a 512 px one 4x; the mask keeps blocks that are at least half lesion, or any lesion
block when that would leave none). Region medians barely move (criterion rho within 0.01 of the
256 px version on the validation phantoms) and a 512 px photograph costs ~3x less than with
WORK_SIZE = 256 (v2).
Range: delta Mel about -80..80; log ratio about -2..2; delta L* about -60..60. Empty mask: NaN. Mask covering the whole image (no skin to compare with): 0.
v3: same features as v2, faster: the distance transforms by cv2 (exact L2, the squared
distances rounded back to integers) instead of scipy.ndimage; identical values.
"""
import math

import cv2
import numpy as np
from skimage import color

FAR_QUANTILE = 0.6
WORK_SIZE = 128
UNMIX = np.linalg.inv(np.array([[1.0, 0.05, 1.0], [1.6, 1.0, 1.0], [2.6, 0.5, 1.0]]))
KEYS = ("pigmentation_delta_mel_takiwaki", "pigmentation_melanin_log_ratio", "pigmentation_delta_l")


def edt(region):
    """scipy.ndimage.distance_transform_edt(region), exactly: cv2's exact L2 transform, with the
    squared distances (integers) rounded back before the square root."""
    d32 = cv2.distanceTransform(np.ascontiguousarray(region, dtype=np.uint8), cv2.DIST_L2,
                                cv2.DIST_MASK_PRECISE)
    return np.sqrt(np.rint(d32.astype(np.float64) ** 2))


def optical_density(rgb):
    v = rgb
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return -np.log(np.maximum(lin, 1.0 / 4096.0))


def median_melanin(od):
    melanin = od @ UNMIX[0]  # first row of M^-1: per-pixel melanin concentration
    return max(float(np.median(melanin)), 1e-3)


def reduce(image, mask):
    """Block-average the image (float RGB 0..1) and mask down to about WORK_SIZE px."""
    height, width = mask.shape
    factor = max(1, int(round(max(height, width) / WORK_SIZE)))
    if factor == 1 or height < 2 * factor or width < 2 * factor:
        return np.asarray(image).astype("float64") / 255.0, mask
    h = (height // factor) * factor
    w = (width // factor) * factor
    size = (w // factor, h // factor)
    # INTER_AREA with an integer factor is an exact block mean (and fast on uint8)
    small = cv2.resize(np.ascontiguousarray(image[:h, :w]), size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(mask[:h, :w].astype("float32"), size, interpolation=cv2.INTER_AREA)
    small_mask = share >= 0.5
    if not small_mask.any():
        small_mask = share > 0
    return small.astype("float64") / 255.0, small_mask


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    outside = ~lesion
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    if not outside.any():  # the mask fills the image: no skin to compare with, no contrast
        return {key: 0.0 for key in KEYS}
    rgb, lesion = reduce(image, lesion)
    outside = ~lesion
    if not outside.any():
        return {key: 0.0 for key in KEYS}
    distance = edt(outside)
    cut = np.quantile(distance[outside], FAR_QUANTILE)
    skin = outside & (distance >= cut)
    core = lesion & (edt(lesion) >= 2)
    if np.count_nonzero(core) < 10:
        core = lesion
    ratio = math.log(median_melanin(optical_density(rgb[core]))
                     / median_melanin(optical_density(rgb[skin])))
    lab_in = color.rgb2lab(rgb[lesion][None])[0]
    lab_skin = color.rgb2lab(rgb[skin][None])[0]
    delta_l = float(np.median(lab_in[:, 0]) - np.median(lab_skin[:, 0]))
    delta_a = float(np.median(lab_in[:, 1]) - np.median(lab_skin[:, 1]))
    return {
        "pigmentation_delta_mel_takiwaki": -1.06 * delta_a - 1.44 * delta_l,
        "pigmentation_melanin_log_ratio": float(ratio),
        "pigmentation_delta_l": delta_l,
    }
