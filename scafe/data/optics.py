"""Skin optics: chromophore concentrations -> colour, and the inverse look-ups the renderer needs.

Model (Beer-Lambert in optical density, per camera channel c in R, G, B)::

    OD_c(x)  = SIGMA_MEL[c] * c_mel(x) + SIGMA_HB[c] * c_hb(x) + BASE_OD[c]
    lin_c(x) = illuminant_c * shading(x) * exp(-OD_c(x)) + specular(x) * illuminant_c
    rgb      = sRGB_gamma(lin)

``c_mel`` and ``c_hb`` are dimensionless concentrations (1.0 = a dark dermis-equivalent load).
The extinction ratios follow the shape of the published spectra folded into broad camera bands:
melanin absorbs more towards blue (roughly lambda^-3 over 450-650 nm, flattened by the broad
channels), oxy-haemoglobin absorbs mostly green (542/576 nm peaks), some blue, little red.
``BASE_OD`` is the dermal scattering/carotene background. The constants were calibrated so that
``c_mel = 0.3, c_hb = 0.22`` under neutral light gives L* 75.5, a* 9.5, b* 16.3 (ITA 57 deg), the
facial skin of scikit-image's ``astronaut`` photo (L* 72-79, a* 8-11, b* 15-17, ITA 54-62 deg);
``c_mel`` 0.09 .. 2.5 spans ITA 70 .. -50 deg, all Fitzpatrick types.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from skimage import color

SIGMA_MEL = np.array([1.0, 1.35, 1.9])
SIGMA_HB = np.array([0.08, 1.0, 0.65])
BASE_OD = np.array([0.07, 0.17, 0.38])
HB_BASELINE = 0.22
# A dermal tattoo ink (carbon/blue-green): absorbs red most, so it looks blue-black.
SIGMA_INK = np.array([1.6, 1.2, 0.8])


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values in [0, 1] (IEC 61966-2-1 transfer curve)."""
    lin = np.clip(linear, 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)


def reflectance(c_mel: np.ndarray, c_hb: np.ndarray, c_ink: np.ndarray | None = None) -> np.ndarray:
    """Linear diffuse reflectance ``exp(-OD)`` with shape ``c_mel.shape + (3,)``."""
    od = c_mel[..., None] * SIGMA_MEL + c_hb[..., None] * SIGMA_HB + BASE_OD
    if c_ink is not None:
        od = od + c_ink[..., None] * SIGMA_INK
    return np.exp(-od)


def lab_of(c_mel: np.ndarray | float, c_hb: np.ndarray | float) -> np.ndarray:
    """CIELAB (D65) of skin with these concentrations under neutral light, flat, no nuisance."""
    mel = np.atleast_1d(np.asarray(c_mel, dtype=float))
    hb = np.broadcast_to(np.atleast_1d(np.asarray(c_hb, dtype=float)), mel.shape)
    rgb = srgb_encode(reflectance(mel, hb))
    return color.rgb2lab(rgb.reshape(-1, 1, 3)).reshape(mel.shape + (3,))


def ita_deg(lab: np.ndarray) -> np.ndarray:
    """Individual typology angle ITA = arctan((L* - 50) / b*) * 180 / pi, in degrees."""
    return np.degrees(np.arctan2(lab[..., 0] - 50.0, lab[..., 2]))


@lru_cache(maxsize=1)
def _ita_table() -> tuple[np.ndarray, np.ndarray]:
    mel = np.linspace(0.0, 4.0, 801)
    ita = ita_deg(lab_of(mel, HB_BASELINE))
    return ita[::-1].copy(), mel[::-1].copy()  # ITA falls with melanin: reverse for np.interp


def melanin_for_ita(ita: float) -> float:
    """Melanin concentration whose neutral-light skin colour has this ITA (degrees, -60..80)."""
    table_ita, table_mel = _ita_table()
    if not table_ita[0] <= ita <= table_ita[-1]:
        raise ValueError(f"ITA {ita:.1f} deg is outside the renderable range "
                         f"{table_ita[0]:.1f}..{table_ita[-1]:.1f}; choose a value inside it.")
    return float(np.interp(ita, table_ita, table_mel))


def hb_increment_for_delta_a(c_mel: float, c_hb: float, delta_a: float) -> float:
    """Extra haemoglobin that raises a* by ``delta_a`` over skin (c_mel, c_hb), neutral light.

    Solved by interpolation on a monotone grid (a* rises with c_hb over 0..3 for every melanin
    level used here). Negative ``delta_a`` gives a negative increment (blanched skin).
    """
    base_a = lab_of(c_mel, c_hb)[0, 1]
    steps = np.linspace(-min(c_hb, 0.2), 3.0, 321)
    a_vals = lab_of(np.full_like(steps, c_mel), c_hb + steps)[:, 1] - base_a
    order = np.argsort(a_vals)
    return float(np.interp(delta_a, a_vals[order], steps[order]))


def delta_e(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIE76 colour difference Delta E*ab = ||Lab1 - Lab2||_2."""
    return float(np.linalg.norm(np.asarray(lab1, float) - np.asarray(lab2, float)))


def illuminant_rgb(cct_k: float) -> np.ndarray:
    """Linear-sRGB white of a Planckian source at ``cct_k`` kelvin, normalised to G = 1.

    Chromaticity from the Kim et al. (2002) cubic approximation of the Planckian locus
    (valid 1667-25000 K), then xyY (Y = 1) -> XYZ -> linear sRGB, and divided by the same for
    D65 (6504 K) so that daylight is neutral.
    """
    return _planck_rgb(cct_k) / _planck_rgb(6504.0)


def _planck_rgb(t: float) -> np.ndarray:
    if not 1667.0 <= t <= 25000.0:
        raise ValueError(f"Colour temperature {t} K is outside 1667..25000 K.")
    if t <= 4000:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    xyz = np.array([x / y, 1.0, (1 - x - y) / y])
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    rgb = m @ xyz
    return rgb / rgb[1]
