"""Benign extractors pass and give exactly what plain Python gives for the same text."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sandbox import ExtractorRunner, check_source, validate
from sandbox.battery_inputs import battery_inputs
from tests.sandbox.benign_programs import BENIGN
from tests.sandbox.helpers import RELAXED

NAMES = sorted(BENIGN)


def _plain(source: str, image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    namespace: dict = {}
    exec(compile(source, "<benign>", "exec"), namespace)  # our own trusted test text
    return namespace["extract"](image, mask)


def _equal(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


def test_there_are_at_least_ten_benign_extractors() -> None:
    assert len(BENIGN) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_benign_values_equal_plain_python(name: str) -> None:
    source = BENIGN[name]
    assert check_source(source).ok, check_source(source)
    cases = [c for c in battery_inputs() if c.name in ("multi_component_128x128", "empty_mask_64x64",
                                                         "border_touching_96x128", "noncontiguous_120x160")]
    with ExtractorRunner(source, limits=RELAXED) as runner:
        for case in cases:
            got = runner.run(case.image, case.mask, noncontiguous=case.noncontiguous)
            assert got.ok, (name, case.name, got)
            assert _equal(got.features, _plain(source, case.image, case.mask)), (name, case.name)


@pytest.mark.parametrize("name", ["rim_delta_a", "cv2_solidity", "glcm_contrast", "redness_float"])
def test_benign_passes_the_battery(name: str) -> None:
    report = validate(BENIGN[name], limits=RELAXED)
    assert report.ok, report.repair_text()
    assert report.keys == sorted(_plain(BENIGN[name], *_typical()))
    assert _equal(report.features, _plain(BENIGN[name], *_typical()))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_benign_passes_the_battery(name: str) -> None:
    report = validate(BENIGN[name], limits=RELAXED)
    assert report.ok, report.repair_text()


def _typical() -> tuple[np.ndarray, np.ndarray]:
    case = next(c for c in battery_inputs() if c.name == "typical_512x512")
    return case.image, case.mask
