"""The criterion check "reference skin": distractors next to the scar must not move colour outputs.

Extractors run only inside the sandbox. The old library versions (before the robust reference
skin) are read from their files in ``feature_library/extractors``; they are not active any more.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scafe.criteria import find_item
from scafe.criterion_tests import run_criterion_tests
from scafe.criterion_tests.distractors import (
    DISTRACTOR_PHANTOMS,
    MAX_SHIFT,
    MAX_WORST_SHIFT,
    applies,
    judge,
    ring_pairs,
)
from scafe.data.distractors import RING_KINDS
from scafe.library import Library

EXTRACTORS = Path(__file__).resolve().parents[2] / "feature_library" / "extractors"

#: Compares the scar with the plain mean of every pixel outside it: rulers and shadows there count.
NAIVE_OUTSIDE_MEAN = '''"""Vascularity (naive: the mean a* of everything outside the lesion is the reference).

Criterion: VSS / vascularity. delta_a = median a* inside - mean a* of all outside pixels.
Range: about -20..40. Empty mask: NaN.
"""
import numpy as np
from skimage import color


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return {"naive_delta_a": float("nan")}
    if lesion.all():
        return {"naive_delta_a": 0.0}
    a = color.rgb2lab(np.asarray(image))[..., 1]
    return {"naive_delta_a": float(np.median(a[lesion]) - np.mean(a[~lesion]))}
'''


def _item(ref: str):
    return find_item(ref)[1]


def _check(report, family: str = "a"):
    found = [c for c in report.families[family].checks if c.name == "distractors"]
    assert len(found) == 1, [c.name for c in report.families[family].checks]
    return found[0]


def test_only_colour_and_rim_items_get_the_check():
    for ref in ("vss/vascularity", "vss/pigmentation", "jsw_keloid/rim_erythema", "manchester/colour",
                "posas_observer/vascularity"):
        assert applies(_item(ref)), ref
    for ref in ("jsw_keloid/shape", "vss/height", "manchester/surface"):
        assert not applies(_item(ref)), ref


def test_judge_passes_small_shifts_and_fails_a_large_one():
    labels = [(i, kind) for i in range(4) for kind in RING_KINDS]
    values = np.linspace(0.0, 10.0, 40)  # spread (5-95 %) = 9
    base = values[[i for i, _ in labels]]
    quiet = judge(values, base + 0.05, labels, [f"ph{i}" for i in range(40)])
    assert quiet.passed
    assert quiet.found == pytest.approx(0.05 / 9.0)
    moved = base.copy()
    moved[3] += 0.5 * 9.0  # one ruler moves one photo by half the spread
    loud = judge(values, moved, labels, [f"ph{i}" for i in range(40)])
    assert not loud.passed
    assert "worst 50%" in loud.text
    assert "next to photo ph0" in loud.text
    assert "Leave pixels that are not skin out" in loud.text
    assert f"allowed {100 * MAX_SHIFT:.0f}% (worst {100 * MAX_WORST_SHIFT:.0f}%)" in loud.text
    assert "latent_" not in loud.text
    assert "nuisance_" not in loud.text


def test_ring_pairs_cover_every_kind_on_the_first_phantoms():
    from scafe.criterion_tests.phantom_sets import validation_set

    vs = validation_set()
    pairs, labels = ring_pairs(vs)
    assert len(pairs) == DISTRACTOR_PHANTOMS * len(RING_KINDS)
    assert {kind for _, kind in labels} == set(RING_KINDS)
    for (image, mask), (i, _kind) in zip(pairs, labels, strict=True):
        np.testing.assert_array_equal(mask, vs.masks[i])
        np.testing.assert_array_equal(image[mask], vs.images[i][mask])
    assert ring_pairs(vs)[0] is pairs  # built once per set


def test_naive_outside_mean_fails_the_reference_skin_check():
    report = run_criterion_tests(NAIVE_OUTSIDE_MEAN, _item("vss/vascularity"))
    check = _check(report)
    assert not check.passed, check.text
    assert any(f.startswith("reference skin:") for f in report.failures)


@pytest.mark.slow
@pytest.mark.parametrize(("old", "key", "item"), [
    ("vss_pigmentation/v3.py", "pigmentation_delta_mel_takiwaki", "vss/pigmentation"),
    ("rim_erythema/v3.py", "rim_erythema_delta_a", "jsw_keloid/rim_erythema"),
])
def test_old_versions_fail_and_the_active_ones_pass(old, key, item):
    """Before the robust reference skin, a shadow or ruler next to the scar moved these outputs."""
    name = old.split("/")[0]
    before = run_criterion_tests((EXTRACTORS / old).read_text(), _item(item), output_key=key)
    assert not _check(before).passed, _check(before).text
    library = Library.open()
    entry = library.get(name)
    after = run_criterion_tests(library.source(entry), _item(item),
                                output_key=entry.validation["criterion"]["output_key"])
    assert _check(after).passed, _check(after).text
    assert after.passed, after.repair_text()


@pytest.mark.slow
def test_active_colour_extractors_pass_the_check_on_family_b():
    library = Library.open()
    for name, item in (("vss_pigmentation", "vss/pigmentation"), ("rim_erythema", "jsw_keloid/rim_erythema"),
                       ("colour_mismatch", "manchester/colour"), ("vss_vascularity", "vss/vascularity")):
        entry = library.get(name)
        report = run_criterion_tests(library.source(entry), _item(item), families=("b",),
                                     output_key=entry.validation["criterion"]["output_key"])
        assert _check(report, "b").passed, (name, _check(report, "b").text)
