"""Issue 11 items 2-3: every prompt states the test's own direction, in clinical words only.

For every observable item of every shipped criteria file, the plan, write and repair prompts are
rendered (the repair one with a real criterion-test failure text and advice) and checked:
- each states the direction sentence the criterion test uses (``criterion_words.item_trend``),
  and none states the opposite ("fall" where the test wants "rise" with the quantity);
- the failure text of the test wants the same direction as the prompts;
- no phantom generator name (``latent_*``, ``nuisance_*``) appears in any prompt or feedback.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from scafe import prompting
from scafe.criteria import all_criteria
from scafe.criterion_tests.advice import advice_for
from scafe.criterion_tests.checks import evaluate_tracking
from scafe.criterion_tests.report import CriterionReport, FamilyResult
from scafe.criterion_words import item_trend, quantity_trend, trend

ITEMS = [(c, i) for c in all_criteria() for i in c.items if i.observable_in_photo]
INTERNAL = re.compile(r"\b(latent|nuisance)_[a-z]")
CODE = "import numpy as np\n\ndef extract(image, mask):\n    gx = np.diff(image[..., 0], axis=1)\n    return {'x': 0.0}\n"


def _frame(item, rng):
    """A fake phantom frame with the item's truth and nuisance columns."""
    gt = item.ground_truth
    cols = {gt.column: rng.normal(size=64)}
    for nuisance in gt.nuisances:
        cols[nuisance.column] = rng.normal(size=64)
    return pd.DataFrame(cols)


def _failing_report(item) -> CriterionReport:
    """A report whose output moves the wrong way and follows every nuisance: every check fails."""
    gt = item.ground_truth
    frame = _frame(item, np.random.default_rng(0))
    sign = 1.0 if gt.direction == "+" else -1.0
    values = -sign * frame[gt.column].to_numpy() + sum(frame[n.column].to_numpy() for n in gt.nuisances) * 3
    tracking = evaluate_tracking(values, frame, gt)
    family = FamilyResult("a", passed=False, rho=tracking.rho, checks=tracking.checks, n_phantoms=64)
    report = CriterionReport(item=item.id, output_key="x", column=gt.column, direction=gt.direction, passed=False,
                             rho=tracking.rho, required=gt.min_rho, worst_nuisance=None, max_nuisance_rho=None,
                             item_name=item.name, quantity=gt.quantity, families={"a": family})
    return report.finish()


@pytest.mark.parametrize(("criteria", "item"), ITEMS, ids=[f"{c.scale}/{i.id}" for c, i in ITEMS])
def test_prompts_and_test_agree_on_the_direction(criteria, item) -> None:
    gt = item.ground_truth
    wanted = item_trend(item)
    opposite = f"{trend('-' if gt.direction == '+' else '+')} as {gt.quantity} increases"
    report = _failing_report(item)
    texts = {
        "plan": prompting.render("plan", item=item, criteria=criteria),
        "write": prompting.render("write", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC),
        "repair": prompting.render("repair", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC,
                                   previous_code=CODE, failure=report.repair_text(), attempt=1,
                                   history=["attempt 1: criterion; family a: rho +0.12"],
                                   advice=advice_for(report, CODE, item)),
    }
    for stage, text in texts.items():
        flat = " ".join(text.split())
        assert wanted in flat, f"{stage} prompt does not state the test's direction"
        assert opposite not in flat, f"{stage} prompt states the opposite direction"
        assert "less pronounced" not in flat
    # the test's own failure text asks for the same movement as the prompts
    # with several criterion families each failure names its family first: "[family a] tracking ..."
    tracking_failure = next(t for t in report.failures if re.sub(r"^\[family \w+\] ", "", t).startswith("tracking"))
    if not gt.two_sided:
        assert f"the output must {quantity_trend(gt)}" in tracking_failure
        assert quantity_trend(gt) in wanted


@pytest.mark.parametrize(("criteria", "item"), ITEMS, ids=[f"{c.scale}/{i.id}" for c, i in ITEMS])
def test_no_generator_names_in_prompts_or_feedback(criteria, item) -> None:
    report = _failing_report(item)
    advice = advice_for(report, CODE, item)
    texts = [
        prompting.render("system", item=item, criteria=criteria),
        prompting.render("plan", item=item, criteria=criteria),
        prompting.render("write", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC),
        prompting.render("repair", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC, previous_code=CODE,
                         failure=report.repair_text(), attempt=1, advice=advice),
        report.repair_text(),
        *advice,
    ]
    for text in texts:
        assert not INTERNAL.search(text), INTERNAL.search(text).group(0)  # type: ignore[union-attr]
    # and the prompt names each tested nuisance and the threshold in words
    write = " ".join(texts[2].split())
    for nuisance in item.ground_truth.nuisances:
        assert nuisance.words in write
        assert nuisance.allowed in write
    assert f"at least {item.ground_truth.min_rho:.2f}" in write


def test_repair_feedback_lists_every_check_and_keyed_advice() -> None:
    criteria, item = next((c, i) for c, i in ITEMS if (c.scale, i.id) == ("vss", "vascularity"))
    report = _failing_report(item)
    text = report.repair_text()
    assert "Failing checks (found vs required):" in text
    failing, _, passing = text.partition("Passing checks (keep these):")
    assert failing.count("\n- ") == len(report.failures) >= 2  # every failing check, not only the first
    assert passing.count("\n- ") == sum(c.passed for _, c in report.checks())  # and every passing one
    ring_code = "from scipy import ndimage\nring = ndimage.distance_transform_edt(~mask)\n"
    with_ring = " ".join(advice_for(report, ring_code, item))
    without = " ".join(advice_for(report, "x = image.mean()", item))
    assert "already compares the lesion with the surrounding skin" in with_ring
    assert "compare the lesion with a ring of skin" in without
    assert "compare the lesion with a ring of skin" not in with_ring


def test_wrong_way_advice_says_when_flipping_the_sign_applies() -> None:
    """A lightness contrast offered for redness falls with it: flipping it would name a lightness 'redness'."""
    _, item = next((c, i) for c, i in ITEMS if (c.scale, i.id) == ("vss", "vascularity"))
    report = _failing_report(item)  # moves the wrong way
    lightness = "lab = color.rgb2lab(image)\nvalue = lab[..., 0][mask].mean()\n"
    redness = "lab = color.rgb2lab(image)\nvalue = lab[..., 1][mask].mean()\n"
    with_l = " ".join(advice_for(report, lightness, item))
    with_a = " ".join(advice_for(report, redness, item))
    for text in (with_l, with_a):
        assert "The output moves the wrong way" in text
        assert "flipping the sign will not make it a measure of this item" in text
    assert "L* (lightness)" in with_l
    assert "L* (lightness)" not in with_a
    # a shape item is not a redness: no channel hint even for code reading L*
    _, shape = next((c, i) for c, i in ITEMS if (c.scale, i.id) == ("jsw_keloid", "shape"))
    assert "L* (lightness)" not in " ".join(advice_for(_failing_report(shape), lightness, shape))


def test_repair_header_counts_phantoms_per_family() -> None:
    _, item = next((c, i) for c, i in ITEMS if (c.scale, i.id) == ("vss", "vascularity"))
    assert "64 validation phantoms per family" in _failing_report(item).repair_text()
