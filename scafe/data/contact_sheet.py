"""A PNG grid of phantoms (or any manifest) with the lesion mask outlined, for looking at."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from scafe.data.images import read_image, read_mask
from scafe.errors import DataError

LESION_RGB = (40, 255, 40)
WOUND_RGB = (60, 160, 255)
DISTRACTOR_RGB = (255, 220, 0)


def outline(mask: np.ndarray) -> np.ndarray:
    """One-pixel inner boundary of a boolean mask."""
    return mask & ~ndimage.binary_erosion(mask)


def _load(path: Path, size: int, binary: bool) -> np.ndarray:
    """Image (RGB) or mask (bool) resized to ``size`` x ``size``; any format ``read_image`` takes."""
    if binary:
        small = Image.fromarray(read_mask(path).astype(np.uint8) * 255).resize((size, size), Image.Resampling.NEAREST)
        return np.asarray(small) > 127
    return np.asarray(Image.fromarray(read_image(path)).resize((size, size), Image.Resampling.BILINEAR))


def write_contact_sheet(manifest: Path, out: Path, *, limit: int = 48, tile: int = 192, columns: int = 8) -> Path:
    """Tile the first ``limit`` rows of ``manifest`` into ``out`` with outlines and labels.

    Lesion outline green, wound outline blue (phantoms only), distractor outlines yellow; a row
    whose image or mask cannot be read is a dark red tile.
    """
    root = Path(manifest).parent  # relative paths are relative to the manifest, as in datasets
    with Path(manifest).open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    if not rows:
        raise DataError(f"{manifest} has no rows to show.")
    columns = max(1, min(columns, len(rows)))
    n_rows = -(-len(rows) // columns)
    sheet = Image.new("RGB", (columns * tile, n_rows * (tile + 14)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for k, row in enumerate(rows):
        try:
            img = _load(root / row["image"], tile, False).copy()
            if row.get("mask"):
                img[outline(_load(root / row["mask"], tile, True))] = LESION_RGB
        except DataError:  # a bad row is shown as a red tile; `scafe data check` says why
            img = np.zeros((tile, tile, 3), np.uint8)
            img[...] = (120, 0, 0)
        if row.get("wound"):
            img[outline(_load(root / row["wound"], tile, True))] = WOUND_RGB
        for rel in filter(None, (row.get("distractors") or "").split(";")):
            img[outline(_load(root / rel, tile, True))] = DISTRACTOR_RGB
        x, y = (k % columns) * tile, (k // columns) * (tile + 14)
        sheet.paste(Image.fromarray(img), (x, y + 14))
        draw.text((x + 3, y + 1), f"{row.get('id', k)} {row.get('label', '')}", fill=(230, 230, 230))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
