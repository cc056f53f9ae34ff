"""What every phantom family writes: the manifest columns, the in-memory ``Phantom`` and the VSS bands.

This module is the one thing the phantom families share besides file I/O (``scafe.data.phantoms``):
family A (``scafe.data.render`` and friends) and family B (``scafe.data.family_b``) render
independently and hand back a :class:`Phantom` with the same ground-truth and nuisance keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scafe.errors import UsageError

PROFILES = ("default", "hard")  # "hard" widens each family's nuisance ranges, never its class ranges

LATENT_COLUMNS = (
    "latent_extension_ratio", "latent_pseudopod_count", "latent_pseudopod_length", "latent_solidity",
    "latent_aspect_ratio", "latent_height_mm", "latent_gloss", "latent_central_delta_a",
    "latent_rim_delta_a", "latent_rim_width_mm", "latent_melanin_scale",
    "latent_telangiectasia_density", "latent_relief", "latent_color_delta_e", "latent_area_mm2",
    # physical ground truth shared by both families (docs/PHANTOMS.md, "Ground truth"):
    "latent_hb_excess", "latent_melanin_log_ratio",
)
NUISANCE_COLUMNS = (
    "nuisance_ita", "nuisance_hb_baseline", "nuisance_color_temp_k", "nuisance_wb_r", "nuisance_wb_g",
    "nuisance_wb_b", "nuisance_illum_gradient", "nuisance_vignette", "nuisance_light_elevation_deg",
    "nuisance_light_azimuth_deg", "nuisance_hair_density", "nuisance_skin_texture", "nuisance_px_per_mm",
    "nuisance_rotation_deg", "nuisance_tilt_deg", "nuisance_blur_sigma", "nuisance_noise_sigma",
    "nuisance_jpeg_quality", "nuisance_n_distractors",
)
VSS_COLUMNS = ("vss_vascularity", "vss_pigmentation", "vss_height", "vss_observable_total")
MANIFEST_COLUMNS = ("id", "image", "mask", "label", "wound", "distractors", *LATENT_COLUMNS,
                    *NUISANCE_COLUMNS, *VSS_COLUMNS, "family")
SKIN_AND_ILLUMINATION = ("nuisance_ita", "nuisance_color_temp_k", "nuisance_illum_gradient",
                         "nuisance_light_elevation_deg")


@dataclass
class Phantom:
    """One rendered phantom and its ground truth (see docs/CONTRACTS.md and docs/PHANTOMS.md)."""

    id: str
    label: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    mask: np.ndarray  # (H, W) bool, the lesion
    wound: np.ndarray  # (H, W) bool, the original wound
    distractors: dict[str, np.ndarray]  # "<kind>_<k>" -> (H, W) bool
    latents: dict[str, float]
    nuisance: dict[str, float]
    vss: dict[str, float]
    family: str = "a"


def vss_scores(central_delta_a: float, melanin_scale: float, height_mm: float) -> dict[str, float]:
    """VSS-like sub-scores from ground truth (Sullivan 1990 bands; pliability is not observable).

    vascularity: 0 normal (Delta a* < 2), 1 pink (< 6), 2 red (< 11), 3 purple (>= 11);
    pigmentation: 0 normal (melanin scale 0.85-1.15), 1 hypo (< 0.85), 2 hyper (> 1.15);
    height: 0 flat (< 0.5 mm), 1 (< 2 mm), 2 (2-5 mm), 3 (> 5 mm).
    """
    vasc = float(np.searchsorted([2.0, 6.0, 11.0], central_delta_a, side="right"))
    pig = 1.0 if melanin_scale < 0.85 else (2.0 if melanin_scale > 1.15 else 0.0)
    height = float(np.searchsorted([0.5, 2.0, 5.0], height_mm, side="right"))
    return {"vss_vascularity": vasc, "vss_pigmentation": pig, "vss_height": height,
            "vss_observable_total": vasc + pig + height}


def check_profile(profile: str) -> None:
    """Raise ``UsageError`` unless ``profile`` is one of ``PROFILES``."""
    if profile not in PROFILES:
        raise UsageError(f"Unknown phantom profile {profile!r}; use one of {', '.join(PROFILES)}.")
