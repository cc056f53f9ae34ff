"""Prompt templates: every stage renders for every item, StrictUndefined, API list = sandbox policy."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scafe import prompting
from scafe.criteria import all_criteria, find_item
from scafe.errors import CriteriaError


@pytest.fixture(scope="module")
def vascularity():
    return find_item("vss/vascularity")


def test_every_template_renders_for_every_item() -> None:
    assert prompting.check_templates(all_criteria()) == []


def test_plan_prompt_quotes_the_item(vascularity) -> None:
    criteria, item = vascularity
    text = prompting.render("plan", item=item, criteria=criteria)
    assert item.definition in text
    assert "vss/vascularity" in text
    for meaning in item.anchors.values():
        assert meaning in text
    assert '{"features": [' in text


def test_write_prompt_has_contract_api_quirks_and_example(vascularity) -> None:
    criteria, item = vascularity
    spec = {**prompting.SAMPLE_SPEC, "name": "redness", "output_key": "redness_delta_a"}
    text = prompting.render("write", item=item, criteria=criteria, spec=spec)
    assert "The main key is `redness_delta_a`" in text
    assert "arr[i] = arr[i] + x" in text  # RestrictedPython quirk
    assert "starting with an underscore" in text
    assert "def extract(image, mask):" in text  # the worked example
    assert "must rise as vascularity gets more pronounced" in text


def test_allowed_api_is_read_from_the_sandbox_policy(vascularity) -> None:
    from sandbox import policy

    criteria, item = vascularity
    text = prompting.render("write", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC)
    for module, names in policy.ALLOWED_MODULES.items():
        if names:
            assert f"`{module}`" in text
    assert "distance_transform_edt" in text
    # documented helpers only for names the policy really allows
    for entry in prompting.allowed_api():
        assert set(entry["docs"]) <= set(entry["names"])
    assert "imread" not in text  # cv2.imread is not in the policy


def test_repair_prompt_shows_failure_and_previous_code(vascularity) -> None:
    criteria, item = vascularity
    text = prompting.render("repair", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC,
                            previous_code="def extract(image, mask):\n    return {}\n",
                            failure="check: finite\ngot: nan", attempt=2)  # fmt: skip
    assert "check: finite\ngot: nan" in text
    assert "return {}" in text
    assert "attempt 2" in text
    no_code = prompting.render("repair", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC,
                               previous_code=None, failure="no code", attempt=1)  # fmt: skip
    assert "no usable code from your previous reply" in no_code


def test_worked_example_passes_the_sandbox_battery(vascularity) -> None:
    import sandbox

    criteria, item = vascularity
    text = prompting.render("write", item=item, criteria=criteria, spec=prompting.SAMPLE_SPEC)
    example = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    report = sandbox.validate(example)
    assert report.ok, report.repair_text()


def test_missing_variable_is_an_error_not_an_empty_string(vascularity) -> None:
    criteria, item = vascularity
    with pytest.raises(CriteriaError, match="undefined"):
        prompting.render("write", item=item, criteria=criteria)  # no spec
    with pytest.raises(CriteriaError, match="unknown prompt stage"):
        prompting.render("judge", item=item, criteria=criteria)


def test_broken_template_is_reported_by_check(tmp_path: Path, project_root: Path) -> None:
    shutil.copytree(project_root / "prompts", tmp_path / "prompts")
    plan = tmp_path / "prompts" / "templates" / "plan.j2"
    plan.write_text(plan.read_text() + "\n{{ item.no_such_field }}\n")
    problems = prompting.check_templates(all_criteria(tmp_path), root=tmp_path)
    assert problems
    assert any("plan.j2" in p and "no_such_field" in p for p in problems)


def test_classification_templates() -> None:
    image = prompting.render("classify_image", item=None, criteria=None)
    assert '["keloid", "hypertrophic"]' in image
    features = prompting.render("classify_features", item=None, criteria=None,
                                features=[{"name": "rim_delta_a", "value": 3.14159, "description": "rim redness"}])  # fmt: skip
    assert "rim_delta_a = 3.142  (rim redness)" in features
