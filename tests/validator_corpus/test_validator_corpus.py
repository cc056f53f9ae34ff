"""The validator on its labelled corpus (issue 11 item 5).

Default run: a quick subset (one sound and one wrong extractor for a colour, a shape, a size and
a shading item) through the real battery and criterion tests on family A; the same on family B is
marked slow. The whole corpus, with its
sensitivity and specificity per item, is ``benchmarks/validator.py`` (figures, not a gate here);
``test_whole_corpus_is_labelled`` only checks the corpus is complete.
"""

from __future__ import annotations

import ast

import pytest
from corpus import judge, load_corpus

from scafe.criteria import find_item

ALL = load_corpus()
QUICK = {
    "vascularity/delta_a_edt_ring", "vascularity/absolute_a",
    "shape/one_minus_solidity", "shape/solidity_sign_inverted",
    "height/opposite_sides_range", "height/signed_x_gradient",
    "size/area_fraction", "size/horizontal_extent",
}  # fmt: skip


def test_whole_corpus_is_labelled() -> None:
    """Every observable item has >= 3 sound and >= 3 wrong formulations; each documents itself."""
    from scafe.criteria import all_criteria

    observable = {f"{c.scale}/{i.id}" for c in all_criteria() for i in c.items if i.observable_in_photo}
    covered = {ref for entry in ALL for ref in entry.items}
    assert covered == observable
    for ref in observable:
        find_item(ref)
        sound = {e.label for e in ALL if ref in e.items and e.sound}
        wrong = {e.label for e in ALL if ref in e.items and not e.sound}
        assert len(sound) >= 3, (ref, sound)
        assert len(wrong) >= 3, (ref, wrong)
    for entry in ALL:
        doc = ast.get_docstring(ast.parse(entry.path.read_text(encoding="utf-8"))) or ""
        assert "Empty mask: NaN" in doc
        assert ("flawed" in doc) == (not entry.sound), entry.label  # a wrong one names its flaw


FAMILIES = [pytest.param("a", id="a"), pytest.param("b", id="b", marks=pytest.mark.slow)]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("entry", [e for e in ALL if e.label in QUICK], ids=lambda e: e.label)
def test_quick_subset_is_judged_right(entry, family) -> None:
    """Family A in the default suite; family B (rendered once, then cached) with ``-m slow``."""
    [verdict] = judge(entry, (family,), items=entry.items[:1])
    reasons = [f for fam in verdict.families.values() for f in (fam.get("failures") or [])]
    assert verdict.accepted == entry.sound, reasons
