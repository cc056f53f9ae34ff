"""JSW rim erythema: a red halo in the skin just around the scar.

Criterion: JSW / rim_erythema — "Redness of the skin surrounding the lesion (a red halo around an
actively growing keloid)."
Measures (linearised sRGB, CIELAB D65):
  rim_erythema_delta_ei = median(EI of the ring's skin) - median(EI of the reference skin)  (EI units)
  rim_erythema_delta_a  = the same with CIELAB a* of the relit pixels, see below  (a* units)
with the erythema index EI = 100 * (log10(1/G) - log10(1/R)) = 100 * log10(R/G) on linearised sRGB.
Main output: the EI contrast.
Rim ring: outside pixels at distance d from the lesion with NEAR * s < d <= FAR * s px, s =
min(H, W) / 256 (so the ring covers the same share of the field at any resolution); it starts a
little outside the border so blur of the lesion's own colour does not leak in. Lesion pixels never
count. Reference skin: the far outside pixels (at or beyond the 60th percentile of outside
distances, beyond any halo of rim erythema).
Which pixels are skin (the ring's and the reference's alike). Clinical photographs have rulers,
skin-marker dots, moles, tattoos, hair and cast shadows next to the lesion:
  1. clipped pixels (a channel >= 0.98 or <= 0.02: glare, white plastic, black ink, ruler ticks)
     carry no colour and are dropped;
  2. so are grey ones, chroma C*ab below 0.4 x the region's median (skin always has chroma from
     its melanin and haemoglobin; white or grey rulers and black ink have almost none), and those
     whose CIELAB hue is more than 25 degrees from the skin's typical hue (hue of the median a*,
     b*: a yellow ruler, violet skin-marker dye, blue-black tattoo ink);
  3. of the rest, the pixels within 2.5 robust standard deviations (1.4826 x MAD, floored at 1
     unit for texture and noise) of the region's median chromaticity (EI, 100 * log10(G/B)) are
     kept, iterated up to 4 times: moles and hair add melanin, tattoo ink and marker dye add their
     own absorption spectra, and each changes the channel ratios, not only the brightness.
Why chromaticity and not lightness (v5). A cast shadow is an object between the light and the
skin: it removes part of the light falling on the skin, at every wavelength alike, so the camera's
linear R, G and B are all multiplied by the same factor (1 - depth). Shading and an exposure
change do the same. A ratio of two linear channels is unchanged by that factor, so a shadowed
pixel has the same EI and the same log(G/B) as the lit skin next to it: it is still skin, of the
same redness, and is neither rejected nor does it move the medians. v4 rejected pixels by CIELAB
lightness instead (starting at the lit skin's lightness): with a shadow over most of the reference
region only the lit remainder, a different and smaller patch of skin, was kept and its EI median
differed (family B, ph00009: delta EI 3.17 -> 0.49 with a shadow in the skin next to the scar).
With chromaticity alone the shadow moves nothing but 8-bit rounding.
The a* output: a* depends on brightness (it scales with the cube root of luminance), so each kept
pixel's linear RGB is first scaled to one luminance, the upper quartile over the kept reference
pixels (the lit skin), and a* taken of that relit colour: the a* of its chromaticity, which a
uniform darkening also cancels.
The values are medians over the kept pixels; never fewer than 10 pixels are kept (else all usable
ones). (A planar fit of the skin colour across the image, tried to follow the illumination
gradient, extrapolated badly when a distractor hid one side of the lesion, and was dropped.)

v5 (against v4): skin pixels are chosen by chromaticity instead of CIELAB lightness (cast
shadows, criterion check "reference skin" on family B), and a* is taken of relit pixels.
v4 (against v3): the ring and the reference are cleaned of distractors; v3's plain medians moved
when a ruler or a cast shadow lay next to the scar.
Speed: images larger than 191 px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor f = round(long side / WORK_SIZE), WORK_SIZE = 128).
Range: delta EI about -10..30 EI units, delta a* about -10..25 a* units. Empty mask: NaN. Mask covering the whole image (no skin to compare with): 0.
"""
import cv2
import numpy as np
from skimage import color

NEAR = 2.0
FAR = 6.0
FAR_QUANTILE = 0.6
WORK_SIZE = 128
KEYS = ("rim_erythema_delta_ei", "rim_erythema_delta_a")
K_MAD = 2.5
FLOOR = np.array([1.0, 1.0])  # smallest robust scale of the two log ratios (skin texture, noise)
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


def chromaticity(rgb):
    """Per pixel (EI, 100 * log10(G/B)) on linearised sRGB: two log ratios of channels, in which
    a uniform darkening of all channels (a cast shadow, shading, exposure) cancels exactly."""
    lin = linear(rgb)
    return np.stack([100.0 * (np.log10(lin[..., 0]) - np.log10(lin[..., 1])),
                     100.0 * (np.log10(lin[..., 1]) - np.log10(lin[..., 2]))], axis=-1)


def robust_skin(rgb, lab, chroma, region):
    """The pixels of ``region`` that are the patient's skin (module docstring): usable pixels
    within K_MAD robust standard deviations of the region's typical chromaticity, iterated.
    Lightness plays no part: a cast shadow changes it, not the chromaticity."""
    coords = np.argwhere(region)
    values = chroma[region]
    ok = usable(rgb, lab, region)
    keep = ok
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


def linear(rgb):
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return np.maximum(lin, 1.0 / 4096.0)  # 8-bit floor: keeps log10 finite on black pixels


def relit_a(rgb, pixels, level):
    """CIELAB a* of ``pixels`` (boolean mask) after scaling each pixel's linear RGB to the
    luminance ``level``: a* of the pixel's chromaticity, which a uniform darkening cancels."""
    lin = linear(rgb[pixels])
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    lin = np.clip(lin * (level / lum)[:, None], 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return color.rgb2lab(srgb[None])[0][:, 1]


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
    scale = min(lesion.shape) / 256.0
    near = max(NEAR * scale, 0.5)
    far_d = max(FAR * scale, near + 1.0)
    distance = edt(outside)
    ring = outside & (distance > near) & (distance <= far_d)
    if not ring.any():  # a tiny image: fall back to every outside pixel next to the lesion
        ring = outside & (distance <= far_d)
    far = outside & (distance >= np.quantile(distance[outside], FAR_QUANTILE))
    lab = color.rgb2lab(rgb)
    chroma = chromaticity(rgb)
    skin = robust_skin(rgb, lab, chroma, far)
    ring_skin = robust_skin(rgb, lab, chroma, ring)
    ei = chroma[..., 0]
    # relight every kept pixel to the lit skin's luminance (the upper quartile over the reference)
    lum = linear(rgb[skin]) @ np.array([0.2126, 0.7152, 0.0722])
    level = float(np.quantile(lum, LIT_QUANTILE))
    return {
        "rim_erythema_delta_ei": float(np.median(ei[ring_skin]) - np.median(ei[skin])),
        "rim_erythema_delta_a": float(np.median(relit_a(rgb, ring_skin, level))
                                      - np.median(relit_a(rgb, skin, level))),
    }
