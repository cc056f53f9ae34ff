"""VSS vascularity: redness of the scar against the surrounding normal skin.

Criterion: VSS / vascularity — "Presence of blood vessels, judged by the colour of the scar
relative to the surrounding normal skin (blanching aside)."
Measures (CIELAB, D65, scikit-image's sRGB -> Lab):
  vascularity_delta_a  = median(a* in the lesion) - median(a* of the reference skin)  (a* units)
  vascularity_delta_ei = median(EI in the lesion) - median(EI of the reference skin)  (EI units)
with the erythema index EI = 100 * (log10(1/G) - log10(1/R)) on linearised sRGB (G, R in 0..1).
Main output: the a* contrast, which passes the criterion tests on both phantom families. The EI
contrast is a log ratio of two channels, so shading and shadows cancel in it (a distractor in the
reference skin moved it by at most 6 % of its spread, the a* contrast by up to 27 %), but on
phantom family B (spectral skin under Planck light, camera bands integrated over the
haemoglobin spectrum) it follows the colour temperature of the light (partial rank correlation
-0.35, allowed 0.3): a warmer light moves the green band towards haemoglobin's 577 nm peak.
Reference skin (v4): the far outside pixels (at or beyond the 60th percentile of outside
distances, beyond any halo of rim erythema), cleaned of what is not skin. Clinical photographs
have rulers, skin-marker dots, moles, tattoos, hair and cast shadows next to the lesion, and each
is an outlier in colour against the patient's own skin:
  1. clipped pixels (a channel >= 0.98 or <= 0.02: glare, white plastic, black ink, ruler ticks)
     carry no colour and are dropped;
  2. so are grey ones, chroma C*ab below 0.4 x the region's median (skin always has chroma from
     its melanin and haemoglobin; white or grey rulers and black ink have almost none), and those
     whose CIELAB hue is more than 25 degrees from the skin's typical hue (hue of the median a*,
     b*: a yellow ruler, violet skin-marker dye, blue-black tattoo ink);
  3. skin-coloured distractors (cast shadows, moles, hair) only darken the skin, and the scar is
     photographed in the light, so the search starts at the lit skin's lightness (the 75th
     percentile of L* over all usable outside pixels) and keeps the pixels within 2.5 robust
     standard deviations (1.4826 x MAD, floored at 1.5 L* and 0.75 a*/b* units for texture and
     noise) of the kept pixels' median L*, a*, b*, iterated up to 4 times. A median over the
     region instead would follow a shadow or ruler that covers a good part of it.
The reference value is the median over the kept pixels. Lesion pixels are never distractors, so
the lesion side stays a plain median. (A planar fit of the skin colour across the image, tried to
follow the illumination gradient, extrapolated badly when a distractor hid one side of the
lesion, and was dropped.)

v4 (against v3): this reference replaces v3's plain median of the far skin, which a ruler or a
cast shadow in that region moved (criterion check "reference skin").
Speed: images larger than 191 px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor f = round(long side / WORK_SIZE), WORK_SIZE = 128).
Range: delta EI about -20..60 EI units, delta a* about -20..40 a* units. Empty mask: NaN. Mask covering the whole image (no skin to compare with): 0.
"""
import cv2
import numpy as np
from skimage import color

FAR_QUANTILE = 0.6
WORK_SIZE = 128
KEYS = ("vascularity_delta_a", "vascularity_delta_ei")
K_MAD = 2.5
FLOOR = np.array([1.5, 0.75, 0.75])  # smallest robust scale of L*, a*, b* (skin texture, noise)
MIN_PIXELS = 10
MAX_HUE_STEP = 25.0  # degrees of CIELAB hue from the region's typical skin hue
LIT_QUANTILE = 0.75


def edt(region):
    """scipy.ndimage.distance_transform_edt(region), exactly: cv2's exact L2 transform, with the
    squared distances (integers) rounded back before the square root."""
    d32 = cv2.distanceTransform(np.ascontiguousarray(region, dtype=np.uint8), cv2.DIST_L2,
                                cv2.DIST_MASK_PRECISE)
    return np.sqrt(np.rint(d32.astype(np.float64) ** 2))


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


def usable(rgb, lab, region):
    """Pixels of ``region`` that can be skin at all: not clipped, not grey, skin hue (module docstring)."""
    px = rgb[region]
    ok = (px.max(axis=1) < 0.98) & (px.min(axis=1) > 0.02)  # clipped: glare, white plastic, black ink
    if ok.sum() >= MIN_PIXELS:
        values = lab[region]
        chroma = np.hypot(values[:, 1], values[:, 2])
        ok &= chroma >= 0.4 * np.median(chroma[ok])  # grey or white objects (rulers), black ink
    if ok.sum() >= MIN_PIXELS:
        hue = np.degrees(np.arctan2(values[:, 2], values[:, 1]))
        typical = np.degrees(np.arctan2(np.median(values[ok, 2]), np.median(values[ok, 1])))
        ok &= np.abs((hue - typical + 180.0) % 360.0 - 180.0) <= MAX_HUE_STEP  # yellow ruler, violet ink
    return ok if ok.sum() >= MIN_PIXELS else np.ones(len(px), bool)


def lit_lightness(rgb, lab, pool):
    """Where the lit skin's lightness lies: the LIT_QUANTILE quantile of the usable pixels of
    ``pool`` (all visible skin). Skin-coloured distractors (cast shadows, moles, hair) only darken
    the skin, and the scar itself is photographed in the light."""
    return float(np.quantile(lab[pool][usable(rgb, lab, pool), 0], LIT_QUANTILE))


def robust_skin(rgb, lab, region, lit):
    """The pixels of ``region`` that are the patient's skin (module docstring): usable pixels
    within K_MAD robust standard deviations of the skin's typical L*, a*, b*, iterated from the
    lit skin's lightness ``lit``."""
    coords = np.argwhere(region)
    values = lab[region]
    ok = usable(rgb, lab, region)
    # start at the lit skin's lightness, not at the region's median, which a shadow covering part
    # of the region drags towards itself
    near = ok & (np.abs(values[:, 0] - lit) <= 2.0 * K_MAD * FLOOR[0])
    keep = near if near.sum() >= MIN_PIXELS else ok
    for _ in range(4):
        centre = np.median(values[keep], axis=0)
        scale = np.maximum(1.4826 * np.median(np.abs(values[keep] - centre), axis=0), FLOOR)
        new = ok & np.all(np.abs(values - centre) <= K_MAD * scale, axis=1)
        if new.sum() < MIN_PIXELS or np.array_equal(new, keep):
            break
        keep = new
    skin = np.zeros(region.shape, bool)
    skin[tuple(coords[keep].T)] = True
    return skin


def erythema_index(rgb):
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lin = np.maximum(lin, 1.0 / 4096.0)  # 8-bit floor: keeps log10 finite on black pixels
    return 100.0 * (np.log10(lin[..., 0]) - np.log10(lin[..., 1]))


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    if lesion.all():  # the mask fills the image: no skin to compare with, no contrast
        return {key: 0.0 for key in KEYS}
    rgb, lesion = reduce(image, lesion)
    outside = ~lesion
    if not outside.any():
        return {key: 0.0 for key in KEYS}
    distance = edt(outside)
    far = outside & (distance >= np.quantile(distance[outside], FAR_QUANTILE))
    lab = color.rgb2lab(rgb)
    lit = lit_lightness(rgb, lab, outside)
    skin = robust_skin(rgb, lab, far, lit)
    ei = erythema_index(rgb)
    return {
        "vascularity_delta_a": float(np.median(lab[lesion][:, 1]) - np.median(lab[skin][:, 1])),
        "vascularity_delta_ei": float(np.median(ei[lesion]) - np.median(ei[skin])),
    }
