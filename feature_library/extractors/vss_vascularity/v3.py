"""VSS vascularity: redness of the scar against the surrounding normal skin.

Criterion: VSS / vascularity — "Presence of blood vessels, judged by the colour of the scar
relative to the surrounding normal skin (blanching aside)."
Measures (CIELAB, D65, scikit-image's sRGB -> Lab):
  vascularity_delta_a  = median(a* in the lesion) - median(a* of reference skin)   (a* units)
  vascularity_delta_ei = median(EI in the lesion) - median(EI of reference skin)
with the erythema index EI = 100 * (log10(1/G) - log10(1/R)) on linearised sRGB (G, R in 0..1).
Reference skin: the outside pixels whose distance to the lesion is at or above the 60th
percentile of all outside distances, i.e. the far part of the visible skin, beyond any red halo
around the scar (rim erythema is a separate item). Medians make hair, moles and glare harmless.
Speed: images larger than 191 px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor f = round(long side / WORK_SIZE), WORK_SIZE = 128: a 256 px image
is reduced 2x, a 512 px one 4x; the mask keeps blocks that are at least half lesion, or any lesion
block when that would leave none). Region medians barely move (criterion rho within 0.01 of the
256 px version on the validation phantoms) and a 512 px photograph costs ~3x less than with
WORK_SIZE = 256 (v3).
Range: about -20..40 a* units. Empty mask: NaN. Mask covering the whole image (no skin to compare with): 0.
"""
import cv2
import numpy as np
from scipy import ndimage
from skimage import color

FAR_QUANTILE = 0.6
WORK_SIZE = 128
KEYS = ("vascularity_delta_a", "vascularity_delta_ei")


def erythema_index(rgb):
    v = rgb
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    lin = np.maximum(lin, 1.0 / 4096.0)  # 8-bit floor: keeps log10 finite on black pixels
    return 100.0 * (np.log10(lin[:, 0]) - np.log10(lin[:, 1]))


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
    distance = ndimage.distance_transform_edt(outside)
    cut = np.quantile(distance[outside], FAR_QUANTILE)
    skin = outside & (distance >= cut)
    inside_rgb = rgb[lesion]
    skin_rgb = rgb[skin]
    a_inside = color.rgb2lab(inside_rgb[None])[0][:, 1]
    a_skin = color.rgb2lab(skin_rgb[None])[0][:, 1]
    return {
        "vascularity_delta_a": float(np.median(a_inside) - np.median(a_skin)),
        "vascularity_delta_ei": float(np.median(erythema_index(inside_rgb))
                                      - np.median(erythema_index(skin_rgb))),
    }
