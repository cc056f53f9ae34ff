"""The ring-distractor pairs are cached by pixels, not by phantom ids.

Every phantom set names its phantoms ``ph00000, ph00001, ...`` whatever its seed or size, so a cache
keyed by (family, ids) handed the validation set's distracted photos to a held-out set: the check
then compared each held-out photo with a different photo and reported 30-80 % shifts for every
extractor (benchmarks/criterion_holdout.py, before this fix).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scafe.criterion_tests.distractors import ring_pairs
from scafe.criterion_tests.phantom_sets import ValidationSet


def _set(level: int) -> ValidationSet:
    ids = [f"ph{i:05d}" for i in range(2)]
    images = [np.full((96, 96, 3), level + 10 * i, dtype=np.uint8) for i in range(2)]
    masks = []
    for _ in range(2):
        m = np.zeros((96, 96), dtype=bool)
        m[36:60, 36:60] = True
        masks.append(m)
    frame = pd.DataFrame({"nuisance_px_per_mm": [4.0, 4.0]}, index=ids)
    return ValidationSet(family="a", ids=ids, images=images, masks=masks, frame=frame)


def test_sets_with_the_same_ids_get_their_own_distracted_photos() -> None:
    first, second = _set(120), _set(170)
    pairs_1, _ = ring_pairs(first, k=2)
    pairs_2, labels = ring_pairs(second, k=2)
    for (image, _mask), (i, _kind) in zip(pairs_2, labels, strict=True):
        # away from the distractor the photo is the second set's own skin, not the first set's
        assert image[0, 0, 0] == second.images[i][0, 0, 0] or image[-1, -1, 0] == second.images[i][-1, -1, 0]
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(pairs_1, pairs_2, strict=True))
