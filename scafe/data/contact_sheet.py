"""A PNG grid of phantoms (or any manifest) with the lesion mask outlined, for looking at."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

LESION_RGB = (40, 255, 40)
WOUND_RGB = (60, 160, 255)
DISTRACTOR_RGB = (255, 220, 0)


def outline(mask: np.ndarray) -> np.ndarray:
    """One-pixel inner boundary of a boolean mask."""
    return mask & ~ndimage.binary_erosion(mask)


def _load(path: Path, size: int, binary: bool) -> np.ndarray:
    with Image.open(path) as img:
        resample = Image.Resampling.NEAREST if binary else Image.Resampling.BILINEAR
        arr = np.asarray(img.convert("L" if binary else "RGB").resize((size, size), resample))
    return arr > 127 if binary else arr


def write_contact_sheet(manifest: Path, out: Path, *, limit: int = 48, tile: int = 192, columns: int = 8) -> Path:
    """Tile the first ``limit`` rows of ``manifest`` into ``out`` with outlines and labels.

    Lesion outline green, wound outline blue (phantoms only), distractor outlines yellow.
    """
    root = Path(manifest).parent
    with Path(manifest).open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    columns = max(1, min(columns, len(rows)))
    n_rows = -(-len(rows) // columns)
    sheet = Image.new("RGB", (columns * tile, n_rows * (tile + 14)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for k, row in enumerate(rows):
        img = _load(root / row["image"], tile, False).copy()
        img[outline(_load(root / row["mask"], tile, True))] = LESION_RGB
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
