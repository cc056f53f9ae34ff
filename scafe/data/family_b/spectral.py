"""Family B skin optics: a spectral two-layer skin and a three-band camera (shares nothing with family A).

Per wavelength ``lam`` (400-700 nm, 10 nm steps):

* epidermis: transmittance ``T_e = exp(-c_mel * mu_mel(lam))`` with eumelanin absorption
  ``mu_mel = 2.2 * (lam / 500)^-3.48`` (the power law of Jacques 1996), traversed twice;
* dermis: Kubelka-Munk reflectance of an optically thick layer,
  ``R_d = 1 + K/S - sqrt((K/S)^2 + 2 K/S)`` with absorption ``K = c_hb * mu_hb(lam) + k0(lam)``
  (oxy-haemoglobin: Soret band at 415 nm and the Q bands at 542/577 nm as Gaussians, normalised
  so that ``mu_hb(545 nm) = 1``; ``k0`` a weak carotene-like blue background) and scattering
  ``S = 12 (lam / 500)^-1.3`` (reduced scattering of collagen falls with wavelength);
* skin: ``R = T_e^2 * R_d``.

The camera integrates ``R * E(lam)`` against three Gaussian channel sensitivities (R 600 nm,
G 540 nm, B 455 nm) and divides by the same integral for a white surface, so a white card is
(1, 1, 1) under any light before white balance. ``E`` is Planck's law at the colour
temperature. Concentrations are looked up through a 2-D table (melanin x haemoglobin) per
illuminant (the spectra once, only the camera integral per light), so a full image costs one
``cv2.remap``.

``c_hb`` is haemoglobin *absorption at 545 nm* (optical density per unit path, the units of
``latent_hb_excess``); ``c_mel`` is melanin absorption at 500 nm.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from skimage import color

LAMBDA = np.arange(400.0, 701.0, 10.0)
MEL_MAX, HB_MAX, LUT_N = 6.0, 14.0, 160
CAMERA_PEAKS = ((600.0, 32.0), (540.0, 38.0), (455.0, 28.0))
HB_BASELINE = 1.8  # typical dermal blood of normal skin in these units


def mu_mel(lam: np.ndarray) -> np.ndarray:
    return 0.5 * (lam / 500.0) ** -3.48


def mu_hb(lam: np.ndarray) -> np.ndarray:
    def g(c: float, w: float) -> np.ndarray:
        return np.exp(-(((lam - c) / w) ** 2))

    raw = 4.0 * g(420, 30) + 1.0 * g(542, 14) + 1.1 * g(577, 11) + 0.35 * g(560, 30) + 0.01
    return raw / float(np.interp(545.0, LAMBDA, raw))


def _k0(lam: np.ndarray) -> np.ndarray:
    return 0.04 + 0.15 * np.exp(-(((lam - 465.0) / 40.0) ** 2))


def _scatter(lam: np.ndarray) -> np.ndarray:
    return 2.5 * (lam / 500.0) ** -1.3


def mu_ink(lam: np.ndarray) -> np.ndarray:
    """Carbon/blue-green tattoo ink: absorbs red and green more than blue."""
    return 1.2 + 1.8 * np.clip((lam - 450.0) / 250.0, 0, 1)


def skin_reflectance(c_mel: np.ndarray, c_hb: np.ndarray) -> np.ndarray:
    """Spectral reflectance, shape ``c_mel.shape + (len(LAMBDA),)``."""
    mel = np.asarray(c_mel, float)[..., None]
    hb = np.asarray(c_hb, float)[..., None]
    ks = (hb * mu_hb(LAMBDA) + _k0(LAMBDA)) / _scatter(LAMBDA)
    r_d = 1.0 + ks - np.sqrt(ks * ks + 2.0 * ks)
    return np.exp(-2.0 * mel * mu_mel(LAMBDA)) * r_d


def planck(lam_nm: np.ndarray, t_k: float) -> np.ndarray:
    lam = lam_nm * 1e-9
    return 1.0 / (lam**5 * (np.exp(1.4388e-2 / (lam * t_k)) - 1.0))


def _sensitivity() -> np.ndarray:
    return np.stack([np.exp(-(((LAMBDA - c) / w) ** 2)) for c, w in CAMERA_PEAKS], axis=1)


def camera_rgb(spectra: np.ndarray, t_k: float) -> np.ndarray:
    """Camera-linear RGB of reflectance ``spectra`` under Planck light at ``t_k``; white -> E's colour."""
    e = planck(LAMBDA, t_k)
    sens = _sensitivity()
    white_d65 = planck(LAMBDA, 6504.0)[:, None] * sens
    weights = e[:, None] * sens / white_d65.sum(0) * (planck(LAMBDA, 6504.0).sum() / e.sum())
    return spectra @ weights


@lru_cache(maxsize=1)
def _lut_spectra() -> np.ndarray:
    """Reflectance spectra over the (melanin x haemoglobin) table: the same under every light."""
    mel = np.linspace(0, MEL_MAX, LUT_N)
    hb = np.linspace(0, HB_MAX, LUT_N)
    mm, hh = np.meshgrid(mel, hb, indexing="ij")
    spectra = skin_reflectance(mm, hh)
    spectra.setflags(write=False)
    return spectra


@lru_cache(maxsize=16)
def lut(t_k: float) -> np.ndarray:
    """(LUT_N, LUT_N, 3) float32 camera RGB over melanin (rows, 0..MEL_MAX) x haemoglobin (cols)."""
    return camera_rgb(_lut_spectra(), t_k).astype(np.float32)


def lookup(c_mel: np.ndarray, c_hb: np.ndarray, t_k: float) -> np.ndarray:
    """Camera RGB of every pixel of the concentration maps (bilinear in the table)."""
    table = lut(round(float(t_k), -1))
    mx = np.clip(c_hb / HB_MAX * (LUT_N - 1), 0, LUT_N - 1).astype(np.float32)
    my = np.clip(c_mel / MEL_MAX * (LUT_N - 1), 0, LUT_N - 1).astype(np.float32)
    return cv2.remap(table, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def lab(c_mel: float | np.ndarray, c_hb: float | np.ndarray) -> np.ndarray:
    """CIELAB of the skin under daylight (6504 K), camera RGB taken as linear sRGB."""
    rgb = camera_rgb(skin_reflectance(np.atleast_1d(c_mel), np.atleast_1d(c_hb)), 6504.0)
    enc = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.clip(rgb, 0, None) ** (1 / 2.4) - 0.055)
    return color.rgb2lab(np.clip(enc, 0, 1).reshape(-1, 1, 3)).reshape(-1, 3)


def ita(lab_values: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(lab_values[..., 0] - 50.0, lab_values[..., 2]))


@lru_cache(maxsize=1)
def _ita_curve() -> tuple[np.ndarray, np.ndarray]:
    mel = np.linspace(0.0, MEL_MAX, 600)
    values = ita(lab(mel, np.full_like(mel, HB_BASELINE)))
    return values[::-1].copy(), mel[::-1].copy()


def melanin_for_ita(target: float) -> float:
    values, mel = _ita_curve()
    return float(np.interp(target, values, mel))


def ita_range() -> tuple[float, float]:
    values, _ = _ita_curve()
    return float(values[0]), float(values[-1])


def hb_for_delta_a(c_mel: float, c_hb: float, delta_a: float) -> float:
    """Extra haemoglobin over ``c_hb`` that raises a* by ``delta_a`` (daylight, flat)."""
    steps = np.linspace(0.0, HB_MAX - c_hb, 200)
    a_vals = lab(np.full_like(steps, c_mel), c_hb + steps)[:, 1]
    a_vals = a_vals - a_vals[0]
    return float(np.interp(delta_a, np.maximum.accumulate(a_vals), steps))
