"""Render one phantom scene: geometry -> chromophore maps -> relief shading -> camera.

Stages (each a function below):

1. camera frame: pixel (u, v) -> physical (x, y) mm by ``phys = R(-rot) D^-1 (p - c) / ppm`` with
   ``D = diag(1, cos tilt)`` (foreshortening of a tilted camera);
2. height map: the lesion mask blurred (no medial-axis creases), zero at the border and rising
   inwards (a rounded dome for hypertrophic scars, steep sides and a plateau for keloids), scaled
   to ``H = min(H_target, 1.5 * half-width)`` (scars are domes, not fins), plus relief noise;
   wrapped-Lambert shading ``(max(n.l + w, 0) / (1 + w)) / ((sin(elev) + w) / (1 + w))`` (w = 0.5
   for subsurface scattering; flat skin = 1) with a 30 % ambient term; a cast shadow (a pixel is
   shadowed when the surface towards the light rises above the ray ``h(p) + t tan(elev)``) with a
   penumbra growing with its length; Blinn-Phong highlights ``1.6 gloss (n.h)^60``;
3. chromophores: skin melanin from ITA, haemoglobin baseline, texture; lesion melanin scale, central
   and rim haemoglobin solved for the target a* differences, telangiectasia, hair, distractors;
4. camera: illuminant colour (partly corrected by auto white balance), white-balance error,
   gradient and vignette, sRGB, blur, noise, 8-bit, JPEG round trip.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from scafe.data import optics, texture
from scafe.data.distractors import add_distractors
from scafe.data.geometry import Lesion, Wound, build_lesion, measure
from scafe.data.params import LesionParams, SceneParams

RELIEF_SCALE_MM = 0.4  # correlation length of the scar's surface bumps: nodules about 1 mm across
RELIEF_EDGE_MM = 0.5  # the bumps fade in over the outer 0.5 mm of the scar
PORE_DEPTH_MM = 0.03  # skin micro-relief rendered as height: pores are pits ...
CREASE_DEPTH_MM = 0.03  # ... the crease network grooves (times the skin-texture nuisance) ...
MICRO_RELIEF_MM = 0.025  # ... and the fine plateaus between them an RMS height of 0.025 x (0.5 + texture) mm
MICRO_SCALE_MM = 0.4  # correlation length of that fine micro-relief (the skin's finest visible texture)
PIGMENT_SCALES_MM = (3.0, 12.0)  # melanin texture of the skin: freckle/mottle scales, none finer
PIGMENT_OLD_STD = float(np.sqrt(1 + 1 / 4 + 1 / 9))  # std of the sessions-1/2 three-octave pigment sum
RING_DISTRACTOR_SHARE = 0.35
AMBIENT = 0.30
WRAP = 0.5  # subsurface-scattering wrap term of the diffuse shading
SKIN_GLOSS = 0.03
SHININESS = 60.0
AWB_CORRECTION = 0.6  # the camera's auto white balance removes 60 % of the illuminant cast
MAX_HEIGHT_PER_HALF_WIDTH = 1.5  # mean wall slope <= 56 deg: a raised scar is a dome, not a fin
VESSEL_HB = 1.4  # haemoglobin load of a telangiectatic vessel (bright red)


@dataclass
class Rendered:
    """Everything ``render_scene`` produces."""

    image: np.ndarray
    mask: np.ndarray
    wound: np.ndarray
    distractors: dict[str, np.ndarray]
    measured: dict[str, float]
    color_delta_e: float
    n_distractors: int


def camera_frame(size: int, scene: SceneParams, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Physical coordinates (mm) of every pixel centre, shape ``(size, size)`` each."""
    v, u = np.mgrid[:size, :size].astype(np.float64)
    cx, cy = size / 2 + offset[0], size / 2 + offset[1]
    du = (u + 0.5 - cx) / scene.px_per_mm
    dv = (v + 0.5 - cy) / scene.px_per_mm / np.cos(np.radians(scene.tilt_deg))
    rot = np.radians(scene.rotation_deg)
    x = np.cos(rot) * du + np.sin(rot) * dv
    y = -np.sin(rot) * du + np.cos(rot) * dv
    return x, y


def _height_map(
    rng: np.random.Generator, mask: np.ndarray, depth: np.ndarray, lesion: LesionParams, ppm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Height in mm of the scar (a blurred mask shaped per class) and its fine relief (mm).

    The relief is Gaussian-correlated bumps of ``RELIEF_SCALE_MM`` with RMS height
    ``lesion.relief`` across the whole scar surface (top and walls alike), easing to 0 over the
    outer ``RELIEF_EDGE_MM`` so the outline stays where the mask says.
    """
    d_max = float(depth.max())  # mm, the half-width of the lesion's widest part
    if d_max <= 0 or not mask.any():
        return np.zeros(mask.shape), np.zeros(mask.shape)
    if lesion.label == "hypertrophic":  # a rounded dome along the band
        sigma, gain = rng.uniform(0.5, 0.8) * d_max * ppm, 1.0
    else:  # keloid: steep sides and a plateau that overhangs its base
        sigma, gain = rng.uniform(0.3, 0.5) * d_max * ppm, rng.uniform(1.0, 1.4)
    blurred = texture.blur(mask, max(sigma, 0.7)).astype(np.float64)
    # zero on the mask edge (where a blurred straight edge is 0.5), rising inwards: the slope,
    # its shading and its shadow start at the border of the lesion, not outside it
    top = max(float(blurred.max()), 0.51)
    profile = np.clip(gain * (blurred - 0.5) / (top - 0.5), 0, 1) * mask
    profile = 0.5 - 0.5 * np.cos(np.pi * profile)  # smooth shoulder at the top and the foot
    envelope = np.clip(depth / RELIEF_EDGE_MM, 0, 1) * mask
    relief = texture.smooth_noise(rng, mask.shape, max(RELIEF_SCALE_MM * ppm, 0.8)) * lesion.relief * envelope
    h = texture.blur(lesion.height_mm * profile, 0.8).astype(np.float64)
    return h, relief.astype(np.float64)


def _shading(
    h: np.ndarray, gloss: np.ndarray, scene: SceneParams
) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse shading factor (flat skin = 1) and specular term, from height ``h`` in mm."""
    ppm = scene.px_per_mm
    hy, hx = np.gradient(h)
    hx, hy = hx * ppm, hy * ppm  # mm of height per mm across
    norm = np.sqrt(hx * hx + hy * hy + 1.0)
    el, az = np.radians(scene.light_elevation_deg), np.radians(scene.light_azimuth_deg)
    light = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    n_dot_l = (-hx * light[0] - hy * light[1] + light[2]) / norm
    # wrapped Lambert (n.l + w) / (1 + w): light diffusing under the skin surface softens the
    # terminator of steep scar walls; normalised so that flat skin is 1
    wrap = (np.clip(n_dot_l + WRAP, 0, None) / (1 + WRAP)) / ((light[2] + WRAP) / (1 + WRAP))
    diffuse = AMBIENT + (1 - AMBIENT) * wrap
    half = light + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    n_dot_h = np.clip((-hx * half[0] - hy * half[1] + half[2]) / norm, 0, None)
    spec = 1.6 * gloss * n_dot_h**SHININESS
    return diffuse * _cast_shadow(h, scene), spec


def _cast_shadow(h: np.ndarray, scene: SceneParams) -> np.ndarray:
    """Multiplicative darkening where the relief hides the light (soft-edged)."""
    hmax = float(h.max())
    if hmax < 0.05:
        return np.ones_like(h)
    ppm = scene.px_per_mm
    tan_el = np.tan(np.radians(scene.light_elevation_deg))
    reach = hmax / tan_el * ppm  # longest possible shadow, px
    az = np.radians(scene.light_azimuth_deg)
    occluded = np.zeros_like(h)
    n = h.shape[0]
    for t in np.linspace(1.0, reach, int(min(max(reach, 2), 64))):
        dx, dy = int(round(t * np.cos(az))), int(round(t * np.sin(az)))
        if abs(dx) >= n or abs(dy) >= n:
            break
        shifted = np.zeros_like(h)  # h at p + t * light direction (zero outside the frame)
        shifted[max(0, -dy) : n - max(0, dy), max(0, -dx) : n - max(0, dx)] = h[
            max(0, dy) : n - max(0, -dy), max(0, dx) : n - max(0, -dx)
        ]
        occluded = np.maximum(occluded, shifted - t / ppm * tan_el - h)
    shadow = np.clip(occluded / 0.3, 0, 1)
    # penumbra: an extended light source blurs the shadow more the longer it is
    shadow = texture.blur(shadow, max(0.3 * ppm, 0.05 * reach, 0.7))
    return 1.0 - 0.6 * shadow


def _telangiectasia(
    rng: np.random.Generator, mask: np.ndarray, lesion: LesionParams, area_mm2: float, ppm: float
) -> np.ndarray:
    count = int(rng.poisson(lesion.telangiectasia_density * area_mm2 / 100.0))
    if count == 0 or not mask.any():
        return np.zeros(mask.shape, np.float32)
    ys, xs = np.nonzero(mask)
    pick = rng.integers(0, ys.size, count)
    starts = np.stack([xs[pick], ys[pick]], 1).astype(float)
    curves = texture.random_curves(rng, count, starts, rng.uniform(2.0, 6.0, count) * ppm, wiggle=0.6)
    widths = np.maximum(rng.uniform(0.08, 0.2, count) * ppm, 1.0)
    return texture.draw_curves(mask.shape, curves, widths) * mask


def _camera(lin: np.ndarray, rng: np.random.Generator, scene: SceneParams) -> np.ndarray:
    size = lin.shape[0]
    illum = optics.illuminant_rgb(scene.color_temp_k) ** (1 - AWB_CORRECTION) * np.array(scene.wb)
    yy, xx = (np.mgrid[:size, :size] + 0.5) / size - 0.5
    ang = rng.uniform(0, 2 * np.pi)
    field = 1.0 + scene.illum_gradient * (xx * np.cos(ang) + yy * np.sin(ang))
    field *= 1.0 - scene.vignette * np.clip((xx**2 + yy**2) / 0.5, 0, 1)
    lin = lin * field[..., None] * (illum / illum.max())[None, None, :] * 1.05
    img = optics.srgb_encode(lin)
    if scene.blur_sigma > 0.05:
        img = texture.blur(img, scene.blur_sigma).astype(np.float64)
    img = img + rng.normal(0, scene.noise_sigma, img.shape)
    u8 = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=scene.jpeg_quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def render_scene(rng: np.random.Generator, lesion: LesionParams, scene: SceneParams, size: int) -> Rendered:
    """Render one phantom (see module docstring); ``rng`` drives every random choice."""
    ppm = scene.px_per_mm
    fov = size / ppm
    length = scene.wound_framing * fov
    r0 = length / scene.wound_aspect / 2
    wound = Wound(length=length, r0=r0, sag=float(rng.uniform(-1, 1) * r0))
    shape: Lesion = build_lesion(rng, lesion, wound)
    measured = measure(shape)
    offset = rng.uniform(-0.06, 0.06, 2) * size
    x, y = camera_frame(size, scene, offset)
    field = shape.field(x, y)
    mask = field < 0
    wound_mask = wound.band_field(x, y) < 0
    edge_mm = max(0.6 / ppm, 0.15)
    w_lesion = np.clip(0.5 - field / (2 * edge_mm), 0, 1)

    # chromophores of the surrounding skin
    mel_s = optics.melanin_for_ita(scene.ita)
    hb_s = scene.hb_baseline
    tex = scene.skin_texture
    shp = (size, size)
    # the finest skin texture (0.4 mm) is surface micro-relief, shaded below; melanin varies only
    # at the freckle/mottle scales, with the amplitudes those octaves had when a 0.4 mm octave
    # (weight 1) was part of the pigment (weights 1/2, 1/3 of unit-variance fields, divided by the
    # old sum's standard deviation); drawn in the old order, so every later random draw is unchanged
    fine = texture.smooth_noise(rng, shp, MICRO_SCALE_MM * ppm)
    pigment = sum(texture.smooth_noise(rng, shp, s * ppm) / (i + 2) for i, s in enumerate(PIGMENT_SCALES_MM))
    mel = mel_s * (1 + 0.10 * tex * pigment / PIGMENT_OLD_STD)
    hb = hb_s * (1 + 0.25 * tex * texture.multiscale_noise(rng, shp, (1.0 * ppm, 6 * ppm)))

    # lesion colour: melanin scale, then haemoglobin solved for the target central delta a*
    mel_l = mel_s * lesion.melanin_scale
    shift_a = optics.lab_of(mel_l, hb_s)[0, 1] - optics.lab_of(mel_s, hb_s)[0, 1]
    dhb_c = optics.hb_increment_for_delta_a(mel_l, hb_s, lesion.central_delta_a - shift_a)
    dhb_r = optics.hb_increment_for_delta_a(mel_s, hb_s, lesion.rim_delta_a)
    outside = np.clip(field, 0, None)
    rim = np.where(field > 0, 0.5 * (1 + np.cos(np.pi * np.clip(outside / lesion.rim_width_mm, 0, 1))), 1.0)
    vessels = _telangiectasia(rng, mask, lesion, measured["area_mm2"], ppm)
    mottling = 1 + 0.12 * texture.smooth_noise(rng, shp, 1.5 * ppm)
    mel = mel + (mel_l - mel_s) * w_lesion * mottling
    hb = hb + dhb_c * w_lesion * mottling + dhb_r * rim * (1 - w_lesion) + VESSEL_HB * vessels

    # ground-truth colour difference: clean maps, neutral light, no shading or nuisance
    clean_mel = mel_s + (mel_l - mel_s) * w_lesion[mask]
    clean_hb = hb_s + dhb_c * w_lesion[mask] + VESSEL_HB * vessels[mask]
    # haemoglobin excess over the surrounding skin in optical density (green band, SIGMA_HB = 1)
    excess = (dhb_c * w_lesion * mottling + VESSEL_HB * vessels)[mask] * optics.SIGMA_HB[1]
    measured["hb_excess"] = max(float(excess.mean()), 0.0) if mask.any() else 0.0
    delta_e = (
        optics.delta_e(optics.lab_of(clean_mel, clean_hb).mean(0), optics.lab_of(mel_s, hb_s)[0])
        if mask.any() else float("nan")
    )

    # relief and light
    depth = np.clip(-field, 0, None)
    height = min(lesion.height_mm, MAX_HEIGHT_PER_HALF_WIDTH * measured["max_depth_mm"])
    measured["height_mm"] = height
    lesion = replace(lesion, height_mm=height)
    h, relief = _height_map(rng, mask, depth, lesion, ppm)
    measured["relief_rms_mm"] = float(np.sqrt(np.mean(relief[mask] ** 2))) if mask.any() else 0.0
    # pores, skin creases and the fine plateaus between them are height too (pits, grooves and
    # bumps of tens of micrometres), so the light shades the skin's micro-relief as it shades the
    # scar's bumps; scar tissue has none of them (its collagen is laid down without them)
    pore_map = texture.pores(rng, shp, ppm, 0.6 * tex)
    lines = texture.skin_lines(rng, shp, ppm)
    micro = (PORE_DEPTH_MM * pore_map + CREASE_DEPTH_MM * tex * lines
             + MICRO_RELIEF_MM * (0.5 + tex) * fine) * (1 - w_lesion)
    # the stretched, raised part of the scar is what shines; its flat fringes shine like skin
    raised = np.clip(h / max(0.3 * lesion.height_mm, 1e-6), 0, 1)
    gloss = SKIN_GLOSS + (lesion.gloss - SKIN_GLOSS) * w_lesion * raised
    diffuse, spec = _shading(h + relief - micro, gloss, scene)
    diffuse = diffuse * (1 - 0.15 * pore_map * (1 - w_lesion))  # pores are a little darker inside too

    # a third of the photos have rulers, moles, ink or shadows right next to the scar (in the
    # perilesional ring that colour and rim features compare against); the rest keep them 2 mm
    # beyond the erythema rim
    ring_ok = rng.random() < RING_DISTRACTOR_SHARE
    keep_out = field < (0.4 if ring_ok else lesion.rim_width_mm + 2.0)
    layers = add_distractors(rng, scene.n_distractors, keep_out, ppm)
    refl = optics.reflectance(mel + layers.melanin, hb, layers.ink)
    lin = refl * (diffuse * layers.shade)[..., None] + (spec * layers.shade)[..., None]

    hair = texture.hair(rng, shp, ppm, scene.hair_density, size)
    # scar tissue has no hair follicles (keloid and hypertrophic alike): hair grows around it only
    hair = hair * (1 - np.clip(w_lesion * 2, 0, 1))
    # blond .. black hair, never lighter than the skin it grows on
    hair_mel = rng.uniform(min(max(1.5, 1.5 * mel_s), 5.5), 6.0)
    hair_rgb = optics.reflectance(np.array(hair_mel), np.array(0.1)) * 0.9
    lin = lin * (1 - hair[..., None]) + hair[..., None] * hair_rgb * diffuse[..., None]
    a = layers.overlay_alpha[..., None]
    lin = lin * (1 - a) + a * layers.overlay_rgb * layers.shade[..., None]

    image = _camera(lin, rng, scene)
    return Rendered(
        image=image,
        mask=mask,
        wound=wound_mask,
        distractors=layers.masks,
        measured=measured,
        color_delta_e=delta_e,
        n_distractors=len(layers.masks),
    )
