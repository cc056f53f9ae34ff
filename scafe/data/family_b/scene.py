"""Family B parameter ranges and sampling (docs/PHANTOMS.md, "Family B"; own ranges, not family A's).

Class variables overlap between the classes as they do clinically; the nuisance variables are
drawn from one stream that the class never touches. Each phantom's streams come from
``SeedSequence([seed, index, 0xB0B])``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CLASS_RANGES_B: dict[str, dict[str, tuple[float, float]]] = {
    "hypertrophic": {
        "extension_ratio": (1.0, 2.1),
        "solidity": (0.80, 0.98),
        "height_mm": (0.4, 4.5),
        "gloss": (0.02, 0.35),
        "hb_excess": (0.3, 7.0),  # haemoglobin absorption at 545 nm over the surrounding skin
        "rim_hb": (0.0, 2.0),
        "rim_width_mm": (1.0, 4.0),
        "melanin_scale": (0.6, 1.4),
        "telangiectasia_density": (0.0, 3.0),
        "relief": (0.02, 0.30),
    },
    "keloid": {
        "extension_ratio": (1.1, 3.2),
        "solidity": (0.68, 0.95),
        "height_mm": (1.0, 6.5),
        "gloss": (0.08, 0.50),
        "hb_excess": (0.3, 7.0),
        "rim_hb": (0.6, 4.0),
        "rim_width_mm": (1.0, 4.0),
        "melanin_scale": (0.8, 1.8),
        "telangiectasia_density": (0.0, 5.0),
        "relief": (0.0, 0.20),
    },
}
NUISANCE_RANGES_B: dict[str, dict[str, tuple[float, float]]] = {
    "default": {
        "ita": (-50.0, 60.0), "hb_baseline": (1.2, 2.4), "color_temp_k": (3000.0, 6500.0), "wb": (0.92, 1.08),
        "illum_gradient": (0.0, 0.35), "vignette": (0.0, 0.5), "light_elevation_deg": (30.0, 80.0),
        "hair_density": (0.0, 35.0), "skin_texture": (0.0, 1.0), "px_per_mm_512": (5.0, 18.0),
        "tilt_deg": (0.0, 25.0), "defocus_px_256": (0.0, 1.6), "read_noise": (0.002, 0.012),
        "jpeg_quality": (55.0, 95.0), "n_distractors": (0.0, 3.0),
    },
    "hard": {
        "ita": (-60.0, 61.0), "hb_baseline": (1.0, 2.8), "color_temp_k": (2700.0, 8000.0), "wb": (0.82, 1.18),
        "illum_gradient": (0.0, 0.55), "vignette": (0.0, 0.7), "light_elevation_deg": (20.0, 85.0),
        "hair_density": (0.0, 55.0), "skin_texture": (0.0, 1.5), "px_per_mm_512": (4.0, 22.0),
        "tilt_deg": (0.0, 35.0), "defocus_px_256": (0.0, 2.5), "read_noise": (0.002, 0.04),
        "jpeg_quality": (35.0, 95.0), "n_distractors": (0.0, 5.0),
    },
}


def _u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(*lo_hi))


def sample_lesion(rng: np.random.Generator, label: str) -> dict[str, Any]:
    r = CLASS_RANGES_B[label]
    out: dict[str, Any] = {k: _u(rng, v) for k, v in r.items()}
    ext = r["extension_ratio"]
    out["extension_ratio"] = float(np.exp(rng.uniform(np.log(ext[0]), np.log(ext[1]))))
    if label == "keloid":
        count = int(rng.integers(0, 5))
    else:
        count = int(np.searchsorted([0.65, 0.92], rng.random()))
    out["pseudopod_count"] = count
    out["pseudopod_lengths"] = tuple(float(v) for v in rng.uniform(0.1, 0.5 if label == "keloid" else 0.3, count))
    out["label"] = label
    return out


def sample_scene(rng: np.random.Generator, profile: str, size: int) -> dict[str, Any]:
    n = NUISANCE_RANGES_B[profile]
    s: dict[str, Any] = {k: _u(rng, v) for k, v in n.items() if k not in ("wb", "jpeg_quality", "n_distractors")}
    s["wb"] = tuple(_u(rng, n["wb"]) for _ in range(3))
    s["jpeg_quality"] = int(rng.integers(int(n["jpeg_quality"][0]), int(n["jpeg_quality"][1]) + 1))
    s["n_distractors"] = int(rng.integers(int(n["n_distractors"][0]), int(n["n_distractors"][1]) + 1))
    s["hair_density"] = s["hair_density"] if rng.random() < 0.55 else 0.0
    s["px_per_mm"] = s.pop("px_per_mm_512") * size / 512.0
    s["defocus_px"] = s.pop("defocus_px_256") * size / 256.0
    s["light_azimuth_deg"] = _u(rng, (0.0, 360.0))
    s["rotation_deg"] = _u(rng, (0.0, 360.0))
    s["tilt_azimuth_deg"] = _u(rng, (0.0, 360.0))
    s["fov_deg"] = _u(rng, (18.0, 45.0))
    s["lens_k1"] = _u(rng, (-0.08, 0.05))
    s["framing"] = _u(rng, (0.35, 0.6))
    s["wound_aspect"] = float(np.exp(rng.uniform(np.log(3.0), np.log(14.0))))
    s["ring_distractors"] = bool(rng.random() < 0.35)
    return s
