"""Phantom scar photographs with full ground truth: the embedded dataset of scafe.

Two independent families (docs/PHANTOMS.md): ``"a"``, the procedural renderer
(:mod:`scafe.data.family_a` with :mod:`scafe.data.render`, :mod:`scafe.data.geometry`,
:mod:`scafe.data.optics`, :mod:`scafe.data.params`), and ``"b"`` (:mod:`scafe.data.family_b`), which
shares no rendering code with it. This module only dispatches and writes files.

``render_phantom`` is a pure function of its arguments (each family seeds every phantom from
``(seed, index)`` alone), so any phantom can be rendered alone, in any order, in any process, and
the same arguments give byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image
from threadpoolctl import ThreadpoolController

from scafe.data.params import CLASS_RANGES
from scafe.data.phantom_format import (
    LATENT_COLUMNS,
    MANIFEST_COLUMNS,
    NUISANCE_COLUMNS,
    PROFILES,
    SKIN_AND_ILLUMINATION,
    VSS_COLUMNS,
    Phantom,
    check_profile,
    vss_scores,
)
from scafe.errors import DataError, UsageError

FAMILIES = ("a", "b")
#: Source files whose bytes key the cache of each family (besides this module and phantom_format).
_FAMILY_CODE = {
    "a": ("family_a", "render", "geometry", "optics", "params", "texture", "distractors"),
    "b": tuple(f"family_b/{p.stem}" for p in sorted((Path(__file__).parent / "family_b").glob("*.py"))),
}
MIN_SIZE = 32
MAX_SIZE = 4096


def check_family(family: str) -> None:
    """Raise ``UsageError`` unless ``family`` is one of :data:`FAMILIES`."""
    if family not in FAMILIES:
        raise UsageError(f"Unknown phantom family {family!r}; use one of {', '.join(FAMILIES)}.")


def check_args(size: int, profile: str, keloid_fraction: float, family: str = "a") -> None:
    """Raise ``UsageError`` naming the bad value and the fix for any argument of a phantom set."""
    check_family(family)
    check_profile(profile)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UsageError(f"Phantom size {size} px is outside {MIN_SIZE}..{MAX_SIZE}; pick e.g. 256.")
    if not 0.0 <= keloid_fraction <= 1.0:
        raise UsageError(f"keloid_fraction {keloid_fraction} must lie in 0..1 (e.g. 0.5).")


def render_phantom(
    index: int, *, seed: int, size: int = 256, profile: str = "default", keloid_fraction: float = 0.5,
    family: str = "a",
) -> Phantom:
    """Render phantom number ``index`` of the set ``seed`` of ``family`` at ``size`` x ``size`` px.

    BLAS runs on one thread meanwhile: a phantom's matrices are small, and on a busy machine BLAS
    threads spend more time waiting for each other than computing (100 family-B phantoms on 2 loaded
    cores: 45 s with the default threads, 19-27 s with one). The pixels do not depend on the thread
    count. (OpenCV's pool is left alone: ``cv2.setNumThreads`` in a forked worker whose parent has
    already run OpenCV hangs.)
    """
    check_args(size, profile, keloid_fraction, family)
    if family == "b":
        from scafe.data.family_b import render_phantom_b as render
    else:
        from scafe.data.family_a import render_phantom_a as render
    with _blas().limit(limits=1, user_api="blas"):
        return render(index, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """One controller per process (building it scans the loaded libraries)."""
    return ThreadpoolController()


#: zlib level of the written PNGs. Level 1 encodes a 256 px phantom in ~5 ms instead of ~18 ms at
#: level 6 (a tenth of family A's whole CPU cost per phantom) for files ~20 % larger.
PNG_COMPRESS_LEVEL = 1


def _save_png(path: Path, array: np.ndarray) -> None:
    # fixed compression settings and no metadata: the bytes depend only on the pixels
    Image.fromarray(array).save(path, format="PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)


def _fmt(value: float) -> str:
    return repr(float(round(value, 6)))


def _write_one(args: tuple[Path, int, int, int, str, float, str]) -> dict[str, str]:
    out, index, seed, size, profile, keloid_fraction, family = args
    ph = render_phantom(index, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction,
                        family=family)
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
    row["family"] = ph.family
    return row


def generate_phantoms(
    out: Path,
    *,
    n: int,
    seed: int,
    size: int = 256,
    profile: str = "default",
    keloid_fraction: float = 0.5,
    family: str = "a",
    workers: int | None = None,
    contact_sheet: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render ``n`` phantoms into ``out`` (images/, masks/, wounds/, distractors/, manifest.csv).

    Parameters
    ----------
    family : ``"a"`` (procedural renderer) or ``"b"`` (the independent one), see docs/PHANTOMS.md.
    workers : processes to use (default: every core); 1 renders in this process.
    progress : called as ``progress(done, n)`` after each phantom.

    Returns
    -------
    Path of ``out/manifest.csv`` (rows in index order, whatever the completion order).
    """
    check_args(size, profile, keloid_fraction, family)
    if n < 1:
        raise UsageError(f"n={n} phantoms requested; ask for at least 1.")
    out = Path(out)
    for sub in ("images", "masks", "wounds", "distractors"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    jobs = [(out, i, seed, size, profile, keloid_fraction, family) for i in range(n)]
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


def cache_key(n: int, seed: int, size: int, profile: str, keloid_fraction: float = 0.5, family: str = "a") -> str:
    """Folder name of a cached set; includes the family and a hash of that family's rendering code."""
    check_family(family)
    code = hashlib.sha256()
    for name in ("phantoms", "phantom_format", *_FAMILY_CODE[family]):
        code.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return f"{family}_n{n}_s{seed}_px{size}_{profile}_k{keloid_fraction:g}_{code.hexdigest()[:10]}"


def cached_phantom_set(
    n: int,
    seed: int,
    size: int,
    profile: str = "default",
    keloid_fraction: float = 0.5,
    *,
    family: str = "a",
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

    check_args(size, profile, keloid_fraction, family)
    root = cache_dir() / "phantoms"
    final = root / cache_key(n, seed, size, profile, keloid_fraction, family)
    if (final / "manifest.csv").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        generate_phantoms(tmp, n=n, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction,
                          family=family, workers=workers or (1 if n <= 8 else None), progress=progress)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "manifest.csv").is_file():
                raise DataError(f"Could not move the phantom set into {final}; remove it and retry.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


__all__ = ["CLASS_RANGES", "FAMILIES", "LATENT_COLUMNS", "MANIFEST_COLUMNS", "NUISANCE_COLUMNS", "Phantom",
           "PROFILES", "SKIN_AND_ILLUMINATION", "VSS_COLUMNS", "cache_key", "cached_phantom_set", "check_family", "generate_phantoms",
           "render_phantom", "vss_scores"]
