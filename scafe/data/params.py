"""Phantom parameter ranges and their sampling (CLINICAL.md, "Phantom parameters").

Class-informative variables have *overlapping* class ranges on purpose; nuisance variables are
drawn from the same distribution for both classes, so any classifier that relies on them is at
chance. ``--profile hard`` widens the nuisance ranges (never the class ranges).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scafe.data.phantom_format import PROFILES, check_profile

LABELS = ("keloid", "hypertrophic")
__all__ = ["CLASS_RANGES", "LABELS", "NUISANCE_RANGES", "PROFILES", "LesionParams", "SceneParams",
           "check_profile", "sample_lesion", "sample_scene"]
KELOID_SHAPES = ("ovoid", "dumbbell", "nodular")

# (low, high) per class. Units: ratio, count, fraction of equivalent radius, mm, a* units, /cm^2.
CLASS_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "hypertrophic": {
        "extension_ratio": (0.9, 2.1),  # log-uniform; irregular hypertrophic scars spread a little
        "pseudopod_count": (0, 2),  # P(0, 1, 2) = 0.5, 0.35, 0.15: a stray lobe is not rare
        "pseudopod_length": (0.10, 0.35),
        "solidity": (0.70, 0.96),
        "height_mm": (0.5, 5.0),
        "gloss": (0.03, 0.40),
        "central_delta_a": (2.0, 15.0),
        "rim_delta_a": (0.0, 5.0),
        "rim_width_mm": (1.0, 5.0),
        "melanin_scale": (0.65, 1.35),
        "telangiectasia_density": (0.0, 3.0),
        "relief": (0.02, 0.40),  # RMS height of the surface bumps, mm (nodular, irregular surfaces)
    },
    "keloid": {
        "extension_ratio": (1.05, 2.8),  # log-uniform; early keloids are barely past the wound
        "pseudopod_count": (0, 3),
        "pseudopod_length": (0.10, 0.55),
        "solidity": (0.78, 0.97),
        "height_mm": (1.0, 7.0),
        "gloss": (0.10, 0.55),
        "central_delta_a": (2.0, 15.0),
        "rim_delta_a": (1.0, 8.0),
        "rim_width_mm": (1.0, 5.0),
        "melanin_scale": (0.8, 1.7),
        "telangiectasia_density": (0.0, 5.0),
        "relief": (0.0, 0.25),  # stretched, smoother surfaces
    },
}

# Nuisance ranges per profile. px_per_mm is quoted at the 512 px reference resolution (the
# exported value is scaled to the rendered size); blur sigma at 256 px, likewise scaled.
NUISANCE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "default": {
        "ita": (-50.0, 70.0),
        "hb_baseline": (0.15, 0.30),
        "color_temp_k": (3000.0, 6500.0),
        "wb": (0.90, 1.10),
        "illum_gradient": (0.0, 0.40),
        "vignette": (0.0, 0.40),
        "light_elevation_deg": (30.0, 80.0),
        "hair_density": (0.0, 40.0),
        "skin_texture": (0.0, 1.0),
        "px_per_mm_ref": (5.0, 20.0),
        "tilt_deg": (0.0, 25.0),
        "blur_sigma_ref": (0.0, 2.0),
        "noise_sigma": (0.0, 0.03),
        "jpeg_quality": (50.0, 95.0),
        "n_distractors": (0, 3),
    },
    "hard": {
        "ita": (-58.0, 74.0),  # 75 deg is the lightest renderable skin (no melanin)
        "hb_baseline": (0.10, 0.40),
        "color_temp_k": (2700.0, 8000.0),
        "wb": (0.80, 1.20),
        "illum_gradient": (0.0, 0.60),
        "vignette": (0.0, 0.60),
        "light_elevation_deg": (20.0, 85.0),
        "hair_density": (0.0, 60.0),
        "skin_texture": (0.0, 1.5),
        "px_per_mm_ref": (4.0, 24.0),
        "tilt_deg": (0.0, 35.0),
        "blur_sigma_ref": (0.0, 3.0),
        "noise_sigma": (0.0, 0.05),
        "jpeg_quality": (30.0, 95.0),
        "n_distractors": (0, 5),
    },
}

REFERENCE_SIZE = 512  # px_per_mm ranges are quoted at this image size
BLUR_REFERENCE_SIZE = 256


@dataclass(frozen=True)
class LesionParams:
    """Target values of the class-informative variables for one phantom (before rendering)."""

    label: str
    shape: str
    extension_ratio: float
    pseudopod_count: int
    pseudopod_lengths: tuple[float, ...]
    solidity: float
    height_mm: float
    gloss: float
    central_delta_a: float
    rim_delta_a: float
    rim_width_mm: float
    melanin_scale: float
    telangiectasia_density: float
    relief: float


@dataclass(frozen=True)
class SceneParams:
    """Nuisance values for one phantom (camera, light, skin); independent of the class."""

    ita: float
    hb_baseline: float
    color_temp_k: float
    wb: tuple[float, float, float]
    illum_gradient: float
    vignette: float
    light_elevation_deg: float
    light_azimuth_deg: float
    hair_density: float
    skin_texture: float
    px_per_mm: float
    rotation_deg: float
    tilt_deg: float
    blur_sigma: float
    noise_sigma: float
    jpeg_quality: int
    n_distractors: int
    wound_framing: float  # wound length / field of view, the photographer's framing
    wound_aspect: float  # wound length / width, 3-15 (CLINICAL.md; class-independent)


def _u(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def sample_lesion(rng: np.random.Generator, label: str) -> LesionParams:
    """Draw the class-informative targets of one lesion of class ``label``."""
    r = CLASS_RANGES[label]
    if label == "keloid":
        shape = str(rng.choice(KELOID_SHAPES))
        count = int(rng.integers(int(r["pseudopod_count"][0]), int(r["pseudopod_count"][1]) + 1))
    else:
        shape = "band"
        count = int(np.searchsorted([0.5, 0.85], rng.random()))
    # extension is log-uniform: doubling is as likely as going from 1.2 to 2.4
    ext = float(np.exp(rng.uniform(np.log(r["extension_ratio"][0]), np.log(r["extension_ratio"][1]))))
    lengths = tuple(_u(rng, r["pseudopod_length"]) for _ in range(count))
    return LesionParams(
        label=label,
        shape=shape,
        extension_ratio=ext,
        pseudopod_count=count,
        pseudopod_lengths=lengths,
        solidity=_u(rng, r["solidity"]),
        height_mm=_u(rng, r["height_mm"]),
        gloss=_u(rng, r["gloss"]),
        central_delta_a=_u(rng, r["central_delta_a"]),
        rim_delta_a=_u(rng, r["rim_delta_a"]),
        rim_width_mm=_u(rng, r["rim_width_mm"]),
        melanin_scale=_u(rng, r["melanin_scale"]),
        telangiectasia_density=_u(rng, r["telangiectasia_density"]),
        relief=_u(rng, r["relief"]),
    )


def sample_scene(rng: np.random.Generator, profile: str, size: int) -> SceneParams:
    """Draw the nuisance variables of one phantom rendered at ``size`` x ``size`` pixels."""
    n = NUISANCE_RANGES[profile]
    return SceneParams(
        ita=_u(rng, n["ita"]),
        hb_baseline=_u(rng, n["hb_baseline"]),
        color_temp_k=_u(rng, n["color_temp_k"]),
        wb=(_u(rng, n["wb"]), _u(rng, n["wb"]), _u(rng, n["wb"])),
        illum_gradient=_u(rng, n["illum_gradient"]),
        vignette=_u(rng, n["vignette"]),
        light_elevation_deg=_u(rng, n["light_elevation_deg"]),
        light_azimuth_deg=_u(rng, (0.0, 360.0)),
        hair_density=_u(rng, n["hair_density"]) if rng.random() < 0.6 else 0.0,
        skin_texture=_u(rng, n["skin_texture"]),
        px_per_mm=_u(rng, n["px_per_mm_ref"]) * size / REFERENCE_SIZE,
        rotation_deg=_u(rng, (0.0, 360.0)),
        tilt_deg=_u(rng, n["tilt_deg"]),
        blur_sigma=_u(rng, n["blur_sigma_ref"]) * size / BLUR_REFERENCE_SIZE,
        noise_sigma=_u(rng, n["noise_sigma"]),
        jpeg_quality=int(rng.integers(int(n["jpeg_quality"][0]), int(n["jpeg_quality"][1]) + 1)),
        n_distractors=int(rng.integers(int(n["n_distractors"][0]), int(n["n_distractors"][1]) + 1)),
        wound_framing=_u(rng, (0.35, 0.60)),
        wound_aspect=float(np.exp(rng.uniform(np.log(3.0), np.log(15.0)))),
    )
