"""Family B: an independent phantom renderer (docs/PHANTOMS.md, "Family B").

It shares no rendering code with family A (``scafe.data.render`` and friends): its own spectral
skin (:mod:`.spectral`), metaball lesion geometry (:mod:`.shape`), world-space surface and
shading (:mod:`.surface`), hair and distractors (:mod:`.extras`) and camera (:mod:`.camera`).
What it shares is the output: :class:`scafe.data.phantom_format.Phantom` with the same
ground-truth and nuisance keys, written by :mod:`scafe.data.phantoms`.

Skin texture is procedural. scikit-image ships no photograph of skin (``skimage.data.skin`` is a
microscopy slide fetched from the internet, and the face in ``astronaut`` is ~100 px of make-up
lit from one side), so a bundled photograph would bring its own lighting and hair into every
phantom as an unlabelled nuisance; B's skin instead comes from its own physical model.
"""

from __future__ import annotations

import cv2
import numpy as np

from scafe.data.family_b import camera, extras, shape, spectral, surface
from scafe.data.family_b.scene import sample_lesion, sample_scene
from scafe.data.phantom_format import Phantom, vss_scores

VESSEL_HB = 5.0
#: specular weight per unit of gloss: a stretched, sebum-coated scar epidermis reflects several
#: times more than the Fresnel term of dry skin alone (F0 = 0.028), so its highlight stands out
GLOSS_WEIGHT = 10.0
SEED_TAG = 0xB0B


def _signed_mm(mask: np.ndarray, sp: float) -> np.ndarray:
    m = mask.astype(np.uint8)
    inside = cv2.distanceTransform(m, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - m, cv2.DIST_L2, 5)
    return (inside - outside) * sp


def _vessels(rng: np.random.Generator, lat: surface.Lattice, mask: np.ndarray, density: float) -> np.ndarray:
    area = mask.sum() * lat.sp**2
    count = int(rng.poisson(density * area / 100.0))
    canvas = np.zeros(mask.shape, np.uint8)
    if count and mask.any():
        ys, xs = np.nonzero(mask)
        for k in rng.integers(0, ys.size, count):
            ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.5, 8))
            step = rng.uniform(0.3, 0.8) / lat.sp
            pts = np.stack([xs[k] + np.cumsum(np.cos(ang) * step), ys[k] + np.cumsum(np.sin(ang) * step)], 1)
            cv2.polylines(canvas, [np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)], False, 255,
                          max(1, int(round(0.08 / lat.sp))), cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255 * mask


def render_phantom_b(index: int, *, seed: int, size: int, profile: str, keloid_fraction: float) -> Phantom:
    """Render phantom ``index`` of set ``seed`` (arguments already checked by the caller, which also
    keeps BLAS on one thread: ``scafe.data.phantoms.render_phantom``)."""
    return _render(index, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction)


def _render(index: int, *, seed: int, size: int, profile: str, keloid_fraction: float) -> Phantom:
    root = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index), SEED_TAG])
    label_rng, lesion_rng, scene_rng, world_rng, cam_rng = (np.random.default_rng(s) for s in root.spawn(5))
    label = "keloid" if label_rng.random() < keloid_fraction else "hypertrophic"
    p = sample_lesion(lesion_rng, label)
    s = sample_scene(scene_rng, profile, size)

    # the wound and lesion, in mm on the skin plane
    fov_mm = size / s["px_per_mm"]
    length = s["framing"] * fov_mm
    layout = shape.build(world_rng, p, length, length / s["wound_aspect"] / 2)
    offset = world_rng.uniform(-0.07, 0.07, 2) * size
    px, py, view_cos = camera.pixel_to_plane(size, s, offset)
    lat = surface.Lattice(px, py, size)
    F = layout.lesion.field(lat.X, lat.Y)
    W = layout.wound.field(lat.X, lat.Y)
    lesion_lat = F > shape.LEVEL
    signed = _signed_mm(lesion_lat, lat.sp)
    w = np.clip(0.5 + signed / 0.5, 0, 1)  # soft 0.5 mm edge of the scar's colour

    # chromophores
    mel_s = spectral.melanin_for_ita(s["ita"])
    hb_s = s["hb_baseline"]
    tex = s["skin_texture"]
    mel = mel_s * (1 + 0.12 * tex * lat.noise(world_rng, 2.0) + 0.06 * tex * lat.noise(world_rng, 0.4))
    hb = hb_s * (1 + 0.25 * tex * lat.noise(world_rng, 5.0))
    mel_l = mel_s * p["melanin_scale"]
    mottle = 1 + 0.15 * lat.noise(world_rng, 1.0)
    vessels = _vessels(world_rng, lat, lesion_lat, p["telangiectasia_density"])
    rim = np.where(signed < 0, 0.5 * (1 + np.cos(np.pi * np.clip(-signed / p["rim_width_mm"], 0, 1))), 0.0)
    mel = mel + (mel_l - mel_s) * w * mottle
    hb_add = p["hb_excess"] * w * mottle + VESSEL_HB * vessels
    hb = hb + hb_add + p["rim_hb"] * rim

    # relief and light
    height = min(p["height_mm"], 0.8 * layout.measures["inscribed_mm"])
    h_scar = surface.elevation(F, label, height)
    bumps = surface.papules(world_rng, lat, lesion_lat, signed, p["relief"])
    furrows = surface.skin_furrows(world_rng, lat, tex) * (1 - w)
    h = h_scar + bumps - furrows
    raised = np.clip(h_scar / max(0.3 * height, 1e-6), 0, 1) * w
    gloss = 0.02 + (p["gloss"] - 0.02) * raised
    rough = 0.45 - 0.7 * gloss
    ex = extras.place(world_rng, lat, s["n_distractors"], signed, p["rim_width_mm"], s["ring_distractors"])
    hair = extras.hair(world_rng, lat, s["hair_density"])
    if label == "keloid":
        hair = hair * (1 - w)
    view = camera.view_vector(s)
    diffuse, sky, spec = surface.shade(h, lat.sp, s["light_elevation_deg"], s["light_azimuth_deg"], view,
                                       rough, gloss * GLOSS_WEIGHT)
    illum = spectral.camera_rgb(np.ones((1, spectral.LAMBDA.size)), s["color_temp_k"])[0].astype(np.float32)
    albedo = spectral.lookup(mel + ex.melanin, hb, s["color_temp_k"])
    ink = np.exp(-2 * ex.ink[..., None] * np.array([2.6, 2.3, 1.5], np.float32))
    albedo = albedo * ink * ex.tint
    direct = (diffuse * ex.direct_shade)[..., None]
    lin = albedo * (direct + sky[..., None]) + (spec * ex.direct_shade)[..., None] * illum
    hair_rgb = spectral.lookup(np.full((1, 1), 5.5), np.full((1, 1), 0.3), s["color_temp_k"])[0, 0]
    lin = lin * (1 - hair[..., None]) + hair[..., None] * hair_rgb * (direct + sky[..., None])
    lin = lin * (1 - ex.opaque[..., None]) + ex.opaque[..., None] * ex.opaque_rgb * illum * (direct + 0.2)

    # the camera
    image_lin = np.stack([lat.to_pixels(lin[..., c]) for c in range(3)], -1)
    image = camera.develop(image_lin, view_cos, illum, s, cam_rng)
    mask = lat.to_pixels(F) > shape.LEVEL
    wound = lat.to_pixels(W) > shape.LEVEL
    dmasks = {}
    for key, cover in ex.masks.items():
        dm = (lat.to_pixels(cover.astype(np.float32)) > 0.5) & ~mask
        if dm.any():
            dmasks[key] = dm

    # ground truth from the clean maps (daylight, flat, no nuisance)
    inside = lesion_lat
    meas = layout.measures
    base_lab = spectral.lab(mel_s, hb_s)[0]
    centre_lab = spectral.lab(mel_l, hb_s + p["hb_excess"])[0]
    rim_lab = spectral.lab(mel_s, hb_s + p["rim_hb"])[0]
    pick = np.flatnonzero(inside.ravel())[:: max(1, int(inside.sum()) // 400)]
    clean_mel = (mel_s + (mel_l - mel_s) * w).ravel()[pick]
    clean_hb = (hb_s + p["hb_excess"] * w + VESSEL_HB * vessels).ravel()[pick]
    mean_lab = spectral.lab(clean_mel, clean_hb).mean(0) if pick.size else base_lab
    hb_excess = float(hb_add[inside].mean()) if inside.any() else 0.0
    relief_rms = float(np.sqrt(np.mean(bumps[inside] ** 2))) if inside.any() else 0.0
    lengths = p["pseudopod_lengths"]
    central_da = float(centre_lab[1] - base_lab[1])
    latents = {
        "latent_extension_ratio": meas["extension_ratio"],
        "latent_pseudopod_count": float(p["pseudopod_count"]),
        "latent_pseudopod_length": float(np.mean(lengths)) if lengths else 0.0,
        "latent_solidity": meas["solidity"],
        "latent_aspect_ratio": meas["aspect_ratio"],
        "latent_height_mm": float(height),
        "latent_gloss": p["gloss"],
        "latent_central_delta_a": central_da,
        "latent_rim_delta_a": float(rim_lab[1] - base_lab[1]),
        "latent_rim_width_mm": p["rim_width_mm"],
        "latent_melanin_scale": p["melanin_scale"],
        "latent_telangiectasia_density": p["telangiectasia_density"],
        "latent_relief": relief_rms,
        "latent_color_delta_e": float(np.linalg.norm(mean_lab - base_lab)),
        "latent_area_mm2": meas["area_mm2"],
        "latent_hb_excess": hb_excess,
        "latent_melanin_log_ratio": float(np.log(p["melanin_scale"])),
    }
    nuisance = {
        "nuisance_ita": s["ita"],
        "nuisance_hb_baseline": hb_s,
        "nuisance_color_temp_k": s["color_temp_k"],
        "nuisance_wb_r": s["wb"][0],
        "nuisance_wb_g": s["wb"][1],
        "nuisance_wb_b": s["wb"][2],
        "nuisance_illum_gradient": s["illum_gradient"],
        "nuisance_vignette": s["vignette"],
        "nuisance_light_elevation_deg": s["light_elevation_deg"],
        "nuisance_light_azimuth_deg": s["light_azimuth_deg"],
        "nuisance_hair_density": s["hair_density"],
        "nuisance_skin_texture": tex,
        "nuisance_px_per_mm": s["px_per_mm"],
        "nuisance_rotation_deg": s["rotation_deg"],
        "nuisance_tilt_deg": s["tilt_deg"],
        "nuisance_blur_sigma": s["defocus_px"] / 2.0,  # a disc of radius r has sigma r / 2
        "nuisance_noise_sigma": camera.noise_sigma(s),
        "nuisance_jpeg_quality": float(s["jpeg_quality"]),
        "nuisance_n_distractors": float(len(dmasks)),
    }
    return Phantom(
        id=f"ph{index:05d}", label=label, image=image, mask=mask, wound=wound, distractors=dmasks,
        latents=latents, nuisance=nuisance, vss=vss_scores(central_da, p["melanin_scale"], float(height)),
        family="b",
    )
