"""Family A: the procedural phantom renderer (docs/PHANTOMS.md, "Family A").

The random generators of phantom ``index`` are spawned from ``SeedSequence([seed, index, 0x5CAFE])``
(separate streams for the label, the lesion, the nuisance scene and the rendering), so the
nuisance values of ``(seed, index)`` are the same whichever class is drawn. The physics and the
parameter ranges are in :mod:`scafe.data.render`, :mod:`scafe.data.geometry`,
:mod:`scafe.data.optics` and :mod:`scafe.data.params`.
"""

from __future__ import annotations

import numpy as np

from scafe.data.params import sample_lesion, sample_scene
from scafe.data.phantom_format import Phantom, vss_scores
from scafe.data.render import render_scene


def render_phantom_a(index: int, *, seed: int, size: int, profile: str, keloid_fraction: float) -> Phantom:
    """Render phantom ``index`` of set ``seed`` (arguments already checked by the caller)."""
    root = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index), 0x5CAFE])
    label_rng, lesion_rng, scene_rng, render_rng = (np.random.default_rng(s) for s in root.spawn(4))
    label = "keloid" if label_rng.random() < keloid_fraction else "hypertrophic"
    lesion = sample_lesion(lesion_rng, label)
    scene = sample_scene(scene_rng, profile, size)
    out = render_scene(render_rng, lesion, scene, size)
    m = out.measured
    lengths = lesion.pseudopod_lengths
    latents = {
        "latent_extension_ratio": m["extension_ratio"],
        "latent_pseudopod_count": float(lesion.pseudopod_count),
        "latent_pseudopod_length": float(np.mean(lengths)) if lengths else 0.0,
        "latent_solidity": m["solidity"],
        "latent_aspect_ratio": m["aspect_ratio"],
        "latent_height_mm": m["height_mm"],  # the target, capped at 1.5 x the half-width
        "latent_gloss": lesion.gloss,
        "latent_central_delta_a": lesion.central_delta_a,
        "latent_rim_delta_a": lesion.rim_delta_a,
        "latent_rim_width_mm": lesion.rim_width_mm,
        "latent_melanin_scale": lesion.melanin_scale,
        "latent_telangiectasia_density": lesion.telangiectasia_density,
        "latent_relief": m["relief_rms_mm"],
        "latent_color_delta_e": out.color_delta_e,
        "latent_area_mm2": m["area_mm2"],
        "latent_hb_excess": m["hb_excess"],
        "latent_melanin_log_ratio": float(np.log(lesion.melanin_scale)),
    }
    nuisance = {
        "nuisance_ita": scene.ita,
        "nuisance_hb_baseline": scene.hb_baseline,
        "nuisance_color_temp_k": scene.color_temp_k,
        "nuisance_wb_r": scene.wb[0],
        "nuisance_wb_g": scene.wb[1],
        "nuisance_wb_b": scene.wb[2],
        "nuisance_illum_gradient": scene.illum_gradient,
        "nuisance_vignette": scene.vignette,
        "nuisance_light_elevation_deg": scene.light_elevation_deg,
        "nuisance_light_azimuth_deg": scene.light_azimuth_deg,
        "nuisance_hair_density": scene.hair_density,
        "nuisance_skin_texture": scene.skin_texture,
        "nuisance_px_per_mm": scene.px_per_mm,
        "nuisance_rotation_deg": scene.rotation_deg,
        "nuisance_tilt_deg": scene.tilt_deg,
        "nuisance_blur_sigma": scene.blur_sigma,
        "nuisance_noise_sigma": scene.noise_sigma,
        "nuisance_jpeg_quality": float(scene.jpeg_quality),
        "nuisance_n_distractors": float(out.n_distractors),
    }
    return Phantom(
        id=f"ph{index:05d}", label=label, image=out.image, mask=out.mask, wound=out.wound,
        distractors=out.distractors, latents=latents, nuisance=nuisance,
        vss=vss_scores(lesion.central_delta_a, lesion.melanin_scale, m["height_mm"]), family="a",
    )
