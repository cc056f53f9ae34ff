"""A tiny user dataset (8 photographs of 64 px, 4 keloid / 4 hypertrophic), its features and a model."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.cli import main


def write_dataset(root: Path, n: int = 8, size: int = 64, extra: list[dict] | None = None) -> Path:
    """``root/manifest.csv`` with ``n`` redder-or-paler lesions on skin; ``extra`` rows appended as given."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:size, :size]
    rows = []
    for i in range(n):
        image = rng.uniform(150, 200, (size, size, 3)).astype(np.uint8)
        radius = size // 5 + (i % 3)
        mask = ((yy - size // 2) ** 2 + (xx - size // 2) ** 2 < radius**2).astype(np.uint8) * 255
        keloid = i % 2 == 0
        image[mask > 0] = (190, 90 + 5 * i, 90) if keloid else (175, 130, 120)
        Image.fromarray(image).save(root / "images" / f"c{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"c{i}.png")
        rows.append({"id": f"c{i}", "image": f"images/c{i}.png", "mask": f"masks/c{i}.png",
                     "label": "keloid" if keloid else "hypertrophic"})
    rows += extra or []
    with (root / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "image", "mask", "label"])
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The dataset, its feature table (committed library) and a model trained on it."""
    root = write_dataset(tmp_path_factory.mktemp("tiny") / "data")
    features = root.parent / "features.csv"
    model = root.parent / "model"
    assert main(["extract", "--data", str(root), "--out", str(features)]) in (0, 3)
    assert main(["train", "--features", str(features), "--labels", str(root), "--out", str(model)]) == 0
    return {"data": root, "features": features, "model": model}
