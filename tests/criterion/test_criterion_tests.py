"""Criterion tests: right extractors pass, subtly wrong ones fail with precise wording.

The validation phantoms (96 at 256 px) are rendered once into the test cache by the phantom
module; each run_criterion_tests call then takes a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from wrong_extractors import ORIENTED_SHAPE, SKIN_TONE_REDNESS, WRONG_RING_RIM

from scafe.criteria import find_item
from scafe.criterion_tests import CriterionReport, partial_spearman, run_criterion_tests
from scafe.errors import ScafeError
from scafe.library import Library


def _reference(name: str) -> str:
    library = Library.open()
    return library.source(library.get(name))


@pytest.fixture(scope="module")
def vascularity_item():
    return find_item("vss/vascularity")[1]


@pytest.fixture(scope="module")
def rim_item():
    return find_item("jsw_keloid/rim_erythema")[1]


def test_partial_correlation_removes_chance_nuisance_link():
    """A perfect extractor must not inherit the latent's chance correlation with a nuisance."""
    rng = np.random.default_rng(3)
    truth = rng.normal(size=96)
    nuisance = 0.6 * truth + rng.normal(size=96)  # linked to the latent in this sample
    feature = truth + 0.1 * rng.normal(size=96)  # measures only the latent
    assert abs(np.corrcoef(feature, nuisance)[0, 1]) > 0.4
    assert abs(partial_spearman(feature, nuisance, truth)) < 0.2


def test_partial_correlation_flags_a_feature_that_adds_the_nuisance():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=96)
    nuisance = rng.normal(size=96)
    feature = truth + nuisance
    assert partial_spearman(feature, nuisance, truth) > 0.6


def test_constant_inputs_give_zero_not_nan():
    x = np.arange(10.0)
    assert partial_spearman(np.ones(10), x, x[::-1].copy()) == 0.0


def test_reference_vascularity_passes(vascularity_item):
    report = run_criterion_tests(_reference("vss_vascularity"), vascularity_item)
    assert report.passed, report.repair_text()
    assert report.rho >= 0.5
    assert report.n_phantoms >= 64
    assert report.invariance_max_rel_change <= 0.02
    assert all(check.passed for _, check in report.checks())
    assert "passed" in report.repair_text()
    assert "Passing checks" in report.repair_text()


def test_skin_tone_instead_of_lesion_fails(vascularity_item):
    report = run_criterion_tests(SKIN_TONE_REDNESS, vascularity_item)
    assert not report.passed
    text = report.repair_text()
    assert "tracking the haemoglobin excess of the scar over the surrounding skin" in text
    required = vascularity_item.ground_truth.min_rho
    assert f"rank correlation {report.rho:+.2f}, required >= {required:+.2f}" in text
    assert "latent_" not in text
    assert "nuisance_" not in text


def test_wrong_ring_fails_while_the_right_ring_passes(rim_item):
    right = run_criterion_tests(_reference("rim_erythema"), rim_item)
    wrong = run_criterion_tests(WRONG_RING_RIM, rim_item)
    assert right.passed, right.repair_text()
    assert not wrong.passed
    assert wrong.rho < 0.5
    assert wrong.failures[0].startswith("tracking the redness")


def test_orientation_dependent_output_fails_invariance():
    report = run_criterion_tests(ORIENTED_SHAPE, find_item("jsw_keloid/shape")[1])
    assert not report.passed
    assert report.invariance_max_rel_change > 0.02
    message = next(f for f in report.failures if f.startswith("orientation:"))
    assert "under rotation/flip" in message
    assert "allowed change <= 2%" in message
    assert any(t in message for t in ("rot90", "rot270", "flip_lr", "flip_ud", "rot180"))


def test_crashing_extractor_reports_the_phantom(vascularity_item):
    source = '"""Crashes (fixture).\n\nEmpty mask: NaN.\n"""\n\n\ndef extract(image, mask):\n    raise ValueError("boom")\n'
    report = run_criterion_tests(source, vascularity_item)
    assert not report.passed
    assert "ph000" in report.failures[0]
    assert "boom" in report.failures[0]


def test_unobservable_item_cannot_be_tested():
    item = find_item("vss/pliability")[1]
    with pytest.raises(ScafeError, match="not observable"):
        run_criterion_tests("def extract(image, mask):\n    return {}\n", item)


def test_report_serialises():
    report = CriterionReport(item="x", output_key="k", column="latent_gloss", direction="+",
                             passed=False, rho=0.1, required=0.5,
                             worst_nuisance=("nuisance_ita", 0.4), max_nuisance_rho=0.3,
                             failures=["a"])
    data = report.to_dict()
    assert data["worst_nuisance"] == ["nuisance_ita", 0.4]
    assert "FAILED" in report.repair_text()
