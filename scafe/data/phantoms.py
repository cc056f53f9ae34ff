"""Phantom scar photographs with full ground truth: the embedded dataset of scafe.

``render_phantom`` is a pure function of its arguments: the random generators of phantom ``index``
are spawned from ``SeedSequence([seed, index, 0x5CAFE])`` (separate streams for the label, the
lesion, the nuisance scene and the rendering), so any phantom can be rendered alone, in any order,
in any process, and the same arguments give byte-identical files. The physics and the parameter
ranges are documented in :mod:`scafe.data.render`, :mod:`scafe.data.geometry`,
:mod:`scafe.data.optics` and :mod:`scafe.data.params`.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from scafe.data.params import CLASS_RANGES, check_profile, sample_lesion, sample_scene
from scafe.data.render import render_scene
from scafe.errors import DataError, UsageError

LATENT_COLUMNS = (
    "latent_extension_ratio", "latent_pseudopod_count", "latent_pseudopod_length", "latent_solidity",
    "latent_aspect_ratio", "latent_height_mm", "latent_gloss", "latent_central_delta_a",
    "latent_rim_delta_a", "latent_rim_width_mm", "latent_melanin_scale",
    "latent_telangiectasia_density", "latent_relief", "latent_color_delta_e", "latent_area_mm2",
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
                    *NUISANCE_COLUMNS, *VSS_COLUMNS)
SKIN_AND_ILLUMINATION = ("nuisance_ita", "nuisance_color_temp_k", "nuisance_illum_gradient",
                         "nuisance_light_elevation_deg")
MIN_SIZE = 32
MAX_SIZE = 4096


@dataclass
class Phantom:
    """One rendered phantom and its ground truth (see docs/CONTRACTS.md)."""

    id: str
    label: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    mask: np.ndarray  # (H, W) bool, the lesion
    wound: np.ndarray  # (H, W) bool, the original wound
    distractors: dict[str, np.ndarray]  # "<kind>_<k>" -> (H, W) bool
    latents: dict[str, float]
    nuisance: dict[str, float]
    vss: dict[str, float]


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


def _check_args(size: int, profile: str, keloid_fraction: float) -> None:
    check_profile(profile)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UsageError(f"Phantom size {size} px is outside {MIN_SIZE}..{MAX_SIZE}; pick e.g. 256.")
    if not 0.0 <= keloid_fraction <= 1.0:
        raise UsageError(f"keloid_fraction {keloid_fraction} must lie in 0..1 (e.g. 0.5).")


def render_phantom(
    index: int, *, seed: int, size: int = 256, profile: str = "default", keloid_fraction: float = 0.5
) -> Phantom:
    """Render phantom number ``index`` of the set ``seed`` at ``size`` x ``size`` pixels."""
    _check_args(size, profile, keloid_fraction)
    # one seed sequence per phantom, split into independent streams: the nuisance values of
    # (seed, index) are the same whichever class is drawn, so they cannot carry the class
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
        "latent_relief": lesion.relief,
        "latent_color_delta_e": out.color_delta_e,
        "latent_area_mm2": m["area_mm2"],
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
        vss=vss_scores(lesion.central_delta_a, lesion.melanin_scale, m["height_mm"]),
    )


def _save_png(path: Path, array: np.ndarray) -> None:
    # fixed compression settings and no metadata: the bytes depend only on the pixels
    Image.fromarray(array).save(path, format="PNG", compress_level=6, optimize=False)


def _fmt(value: float) -> str:
    return repr(float(round(value, 6)))


def _write_one(args: tuple[Path, int, int, int, str, float]) -> dict[str, str]:
    out, index, seed, size, profile, keloid_fraction = args
    ph = render_phantom(index, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction)
    _save_png(out / "images" / f"{ph.id}.png", ph.image)
    _save_png(out / "masks" / f"{ph.id}.png", ph.mask.astype(np.uint8) * 255)
    _save_png(out / "wounds" / f"{ph.id}.png", ph.wound.astype(np.uint8) * 255)
    for stale in (out / "distractors").glob(f"{ph.id}_*.png"):  # left by an earlier run in this folder
        stale.unlink()
    distractor_paths = []
    for key, dmask in sorted(ph.distractors.items()):
        rel = f"distractors/{ph.id}_{key}.png"
        _save_png(out / rel, dmask.astype(np.uint8) * 255)
        distractor_paths.append(rel)
    row = {"id": ph.id, "image": f"images/{ph.id}.png", "mask": f"masks/{ph.id}.png", "label": ph.label,
           "wound": f"wounds/{ph.id}.png", "distractors": ";".join(distractor_paths)}
    for values in (ph.latents, ph.nuisance, ph.vss):
        row.update({k: _fmt(v) for k, v in values.items()})
    return row


def generate_phantoms(
    out: Path,
    *,
    n: int,
    seed: int,
    size: int = 256,
    profile: str = "default",
    keloid_fraction: float = 0.5,
    workers: int | None = None,
    contact_sheet: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render ``n`` phantoms into ``out`` (images/, masks/, wounds/, distractors/, manifest.csv).

    Parameters
    ----------
    workers : processes to use (default: every core); 1 renders in this process.
    progress : called as ``progress(done, n)`` after each phantom.

    Returns
    -------
    Path of ``out/manifest.csv`` (rows in index order, whatever the completion order).
    """
    _check_args(size, profile, keloid_fraction)
    if n < 1:
        raise UsageError(f"n={n} phantoms requested; ask for at least 1.")
    out = Path(out)
    for sub in ("images", "masks", "wounds", "distractors"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    jobs = [(out, i, seed, size, profile, keloid_fraction) for i in range(n)]
    workers = max(1, min(workers or os.cpu_count() or 1, n))
    rows: list[dict[str, str]] = []
    if workers == 1:
        for done, job in enumerate(jobs, 1):
            rows.append(_write_one(job))
            if progress:
                progress(done, n)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(1, min(16, n // (workers * 4)))
            for done, row in enumerate(pool.map(_write_one, jobs, chunksize=chunk), 1):
                rows.append(row)
                if progress:
                    progress(done, n)
    manifest = out / "manifest.csv"
    with manifest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    if contact_sheet:
        from scafe.data.contact_sheet import write_contact_sheet

        write_contact_sheet(manifest, out / "contact_sheet.png")
    return manifest


def cache_key(n: int, seed: int, size: int, profile: str, keloid_fraction: float = 0.5) -> str:
    """Folder name of a cached set; includes a hash of this package's rendering code."""
    code = hashlib.sha256()
    for name in ("phantoms", "render", "geometry", "optics", "params", "texture", "distractors"):
        code.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return f"n{n}_s{seed}_px{size}_{profile}_k{keloid_fraction:g}_{code.hexdigest()[:10]}"


def cached_phantom_set(
    n: int,
    seed: int,
    size: int,
    profile: str = "default",
    keloid_fraction: float = 0.5,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Generate a phantom set once under ``cache_dir()/phantoms/<key>/`` and return that folder.

    The set is built in a temporary sibling folder and renamed into place, so a reader never sees
    a half-written set; when two processes race, the loser discards its copy and uses the winner's.
    The key includes a hash of the rendering code, so a renderer change never serves stale phantoms.
    ``workers`` and ``progress`` are passed to ``generate_phantoms`` (``progress`` is not called
    when the set is already cached).
    """
    from scafe.paths import cache_dir

    _check_args(size, profile, keloid_fraction)
    root = cache_dir() / "phantoms"
    final = root / cache_key(n, seed, size, profile, keloid_fraction)
    if (final / "manifest.csv").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        generate_phantoms(tmp, n=n, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction,
                          workers=workers or (1 if n <= 8 else None), progress=progress)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "manifest.csv").is_file():
                raise DataError(f"Could not move the phantom set into {final}; remove it and retry.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


__all__ = ["CLASS_RANGES", "LATENT_COLUMNS", "MANIFEST_COLUMNS", "NUISANCE_COLUMNS", "Phantom",
           "SKIN_AND_ILLUMINATION", "VSS_COLUMNS", "cached_phantom_set", "generate_phantoms",
           "render_phantom", "vss_scores"]
