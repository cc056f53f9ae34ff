"""Surface gloss: the strength of the specular highlight on the scar, against the skin beside it.

Criterion: Manchester / surface — "Appearance of the scar surface: matte like normal skin, or
shiny."
Measures: a dichromatic reflection model, pixel = diffuse (the tissue's own colour times the
shading) + specular (the light's colour). Two steps, each using what the physics makes reliable:
  1. where the highlight is: in linear sRGB, with k = the lesion's median blue/red ratio (its
     diffuse chromaticity, capped at 0.9), S = (B - k * R) / (1 - k) cancels the diffuse term
     whatever the shading (a raised scar, bumps of relief, the light's elevation), so only a
     specular term is left; S smoothed by a Gaussian (sigma 0.7 px, against single-pixel noise).
     The highlight pixels are the lesion's top 1 % of S (at least one pixel).
  2. how strong it is: the luminance Y (Rec. 709 weights of linear RGB) above the local diffuse
     level, Y - opening(Y) (grey opening with a 7 px disc: it removes bright peaks narrower than
     the disc and follows the smooth shading), smoothed like S, taken as the median over the
     highlight pixels.
  gloss_highlight_index = median over the highlight pixels of (Y - opening(Y)) / sqrt(G_skin)
with G_skin the median linear green of the skin beside the scar (the ring 3-20 px outside).
Why not S itself (v4's index, q99.5(S) / sqrt(G_skin)): S measures the highlight by its blue
minus k x red content, m_s (L_B - k L_R) / (1 - k) for a light of colour L: a warmer light (less
blue after an incomplete white balance) gives a smaller S for the same gloss, so v4 followed the
colour temperature (partial rank correlation +0.33 and +0.35 on held-out family A sets, allowed
0.3). The luminance of the highlight, m_s Y(L), does not depend on how the light's colour splits
between blue and red. Why sqrt(G_skin): a highlight's radiance does not depend on the skin's
colour, the contrast against the skin does (a highlight stands out more on dark skin); the
geometric mean of no reference and the full contrast follows skin tone least (v4), and dividing
by the skin beside the scar cancels part of the light's intensity and smooth illumination
gradients.
  gloss_specular_peak    = max_lesion S    (v3's main output, kept for comparison)
Speed: images larger than WORK_SIZE px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor round(long side / WORK_SIZE); the mask keeps blocks that are at
least half lesion, or any lesion block when that would leave none).
Range: index about 0..2 (0 = no highlight); peak in linear intensity about -0.2..1.2.
Empty mask: NaN for both. No ring (the mask fills the image): the lesion's own median green is
the reference.
v5 (replaces v4, which followed the colour temperature of the light on held-out family A sets):
the strength is measured in luminance at the pixels S marks, not by S.
v4 (replaced v3, which failed on phantom family B: rho 0.31-0.34 and +0.66-0.70 with lighter
skin): the quantile and the skin reference; v3's glint-area excess dropped.
"""
import cv2
import numpy as np

WORK_SIZE = 256
SMOOTH_SIGMA = 0.7
TOP_SHARE = 1.0  # percent of the lesion with the highest S: the highlight pixels
OPENING = 7  # px, diameter of the disc of the grey opening (local diffuse level)
LUMA = np.array([0.2126, 0.7152, 0.0722])
RING = (3.0, 20.0)
KEYS = ("gloss_highlight_index", "gloss_specular_peak")

LEVELS = np.arange(256) / 255.0
LINEAR = np.where(LEVELS <= 0.04045, LEVELS / 12.92, ((LEVELS + 0.055) / 1.055) ** 2.4)


def reduce(image, mask):
    """Block-average the uint8 image and the mask down to about WORK_SIZE px."""
    height, width = mask.shape
    factor = max(1, int(round(max(height, width) / WORK_SIZE)))
    if factor == 1 or height < 2 * factor or width < 2 * factor:
        return np.asarray(image), mask
    h = (height // factor) * factor
    w = (width // factor) * factor
    size = (w // factor, h // factor)
    small = cv2.resize(np.ascontiguousarray(image[:h, :w]), size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(mask[:h, :w].astype("float32"), size, interpolation=cv2.INTER_AREA)
    small_mask = share >= 0.5
    if not small_mask.any():
        small_mask = share > 0
    return small, small_mask


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    small, lesion = reduce(image, lesion)
    red = LINEAR[small[..., 0]]
    green = LINEAR[small[..., 1]]
    blue = LINEAR[small[..., 2]]
    k = min(float(np.median(blue[lesion] / np.maximum(red[lesion], 1e-3))), 0.9)
    raw = ((blue - k * red) / (1.0 - k)).astype(np.float32)
    spec = cv2.GaussianBlur(raw, (0, 0), SMOOTH_SIGMA, borderType=cv2.BORDER_REFLECT)
    luma = (red * LUMA[0] + green * LUMA[1] + blue * LUMA[2]).astype(np.float32)
    half = OPENING // 2
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    disc = (xx * xx + yy * yy <= half * half + half).astype(np.uint8)  # symmetric under rotation/flip
    diffuse = cv2.morphologyEx(luma, cv2.MORPH_OPEN, disc, borderType=cv2.BORDER_REFLECT)
    excess = cv2.GaussianBlur(luma - diffuse, (0, 0), SMOOTH_SIGMA, borderType=cv2.BORDER_REFLECT)
    inside = spec[lesion]
    top = inside >= np.percentile(inside, 100.0 - TOP_SHARE)
    outside = cv2.distanceTransform((~lesion).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ring = (~lesion) & (outside > RING[0]) & (outside < RING[1])
    skin_green = float(np.median(green[ring] if ring.sum() >= 20 else green[lesion]))
    index = float(np.median(excess[lesion][top])) / max(skin_green, 1e-3) ** 0.5
    return {
        "gloss_highlight_index": index,
        "gloss_specular_peak": float(inside.max()),
    }
