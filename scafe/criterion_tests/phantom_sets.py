"""The validation phantoms of the criterion tests, per phantom family.

Each family is an independent renderer (``scafe.data.phantoms``); an extractor is kept only if it
passes on every family in :data:`CRITERION_FAMILIES`, so the quirks of one generator cannot become
the ground truth. The sets are rendered once per (n, seed, size, family) and cached on disk by
``cached_phantom_set`` (its key includes a hash of the family's rendering code) and in memory here.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe.errors import DataError, UsageError

#: The phantom families an extractor must pass on. h15 flips this to ("a", "b") in the commit
#: that makes the committed library pass on family B (docs: team OWNERS, "Interfaces").
CRITERION_FAMILIES: tuple[str, ...] = ("a", "b")
VALIDATION_SEED = 7_2024
VALIDATION_N = 96
VALIDATION_SIZE = 256


@dataclass(frozen=True)
class ValidationSet:
    """The validation phantoms of one family: arrays plus a frame of their latent/nuisance columns."""

    family: str
    ids: list[str]
    images: list[np.ndarray]
    masks: list[np.ndarray]
    frame: pd.DataFrame  # index: id; columns: latent_*, nuisance_*, vss_*


def available_families() -> tuple[str, ...]:
    """The families the installed renderer offers (``scafe.data.phantoms.FAMILIES``, else ``("a",)``)."""
    from scafe.data import phantoms

    return tuple(getattr(phantoms, "FAMILIES", ("a",)))


def check_families(families: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate family names against :func:`available_families`; ``UsageError`` names the list."""
    known = available_families()
    bad = [f for f in families if f not in known]
    if bad or not families:
        raise UsageError(f"unknown phantom family {bad[0] if bad else '(none)'!r}; "
                         f"families are: {', '.join(known)}")
    return tuple(families)


def _phantom_folder(n: int, seed: int, size: int, family: str) -> Path:
    from scafe.data import phantoms

    # until every renderer takes ``family`` (h15), call it only where the signature has it
    cached_phantom_set: Any = phantoms.cached_phantom_set
    if "family" in inspect.signature(cached_phantom_set).parameters:
        return Path(cached_phantom_set(n, seed, size, family=family))
    check_families([family])  # a renderer without families only has family "a"
    return Path(cached_phantom_set(n, seed, size))


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")), dtype=np.uint8)


def _read_mask(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("L")) > 0)


def add_derived_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the physical ground-truth columns a manifest lacks from the columns it has.

    TEMPORARY, for family-A manifests rendered before ``latent_hb_excess`` and
    ``latent_melanin_log_ratio`` were exported (both families export them now; a manifest that
    has them is returned unchanged):

    - ``latent_melanin_log_ratio = ln(latent_melanin_scale)`` (family A's lesion melanin is the
      skin's times that scale);
    - ``latent_hb_excess``: the haemoglobin increment family A's renderer solved for the target
      lesion Delta a* on that skin (``optics.hb_increment_for_delta_a`` with the melanin of the
      skin tone and the lesion's melanin shift removed, exactly as ``render.py`` does).
    """
    frame = frame.copy()
    if "latent_melanin_log_ratio" not in frame and "latent_melanin_scale" in frame:
        frame["latent_melanin_log_ratio"] = np.log(frame["latent_melanin_scale"].clip(lower=1e-6))
    needed = {"latent_central_delta_a", "latent_melanin_scale", "nuisance_ita", "nuisance_hb_baseline"}
    if "latent_hb_excess" not in frame and needed <= set(frame.columns):
        from scafe.data import optics

        values = []
        for _, row in frame.iterrows():
            mel_s = optics.melanin_for_ita(float(row["nuisance_ita"]))
            hb_s = float(row["nuisance_hb_baseline"])
            mel_l = mel_s * float(row["latent_melanin_scale"])
            shift_a = optics.lab_of(mel_l, hb_s)[0, 1] - optics.lab_of(mel_s, hb_s)[0, 1]
            values.append(optics.hb_increment_for_delta_a(mel_l, hb_s, float(row["latent_central_delta_a"]) - shift_a))
        frame["latent_hb_excess"] = values
    return frame


@lru_cache(maxsize=6)
def validation_set(n: int = VALIDATION_N, seed: int = VALIDATION_SEED, size: int = VALIDATION_SIZE,
                   family: str = "a") -> ValidationSet:
    """The seeded validation phantoms of ``family``, rendered once (cached on disk) and loaded once.

    PNG is lossless: the arrays read back are exactly the rendered ones.
    """
    folder = _phantom_folder(n, seed, size, family)
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str})
    if len(manifest) < n:
        raise DataError(f"The cached validation set {folder} has {len(manifest)} rows, expected "
                        f"{n}; delete that folder so it is rendered again.")
    ids = [str(i) for i in manifest["id"]]
    images = [_read_rgb(folder / rel) for rel in manifest["image"]]
    masks = [_read_mask(folder / rel) for rel in manifest["mask"]]
    columns = [c for c in manifest.columns if c.startswith(("latent_", "nuisance_", "vss_"))]
    frame = add_derived_columns(manifest.set_index("id")[columns].astype(float))
    return ValidationSet(family, ids, images, masks, frame)
