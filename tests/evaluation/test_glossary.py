"""The glossary: feature meaning from the extractor docstring (parsed, never run) and the criterion item."""

from __future__ import annotations

from pathlib import Path

from scafe.evaluation.glossary import TERMS, docstring_of, feature_glossary, key_definition

DOC = """Demo extractor.

Measures:
  demo_delta_a  = median(a* in) - median(a* out)   (a* units)
  demo_count    = notches deeper than
                  5 % of the radius
Range: about -10..25 a* units. Empty mask: NaN.
"""


def test_key_definition_reads_formula_unit_and_continuation() -> None:
    assert key_definition(DOC, "demo_delta_a") == ("median(a* in) - median(a* out) (a* units)", "a* units")
    formula, unit = key_definition(DOC, "demo_count")
    assert formula == "notches deeper than 5 % of the radius"
    assert unit == ""
    assert key_definition(DOC, "demo") == ("", "")  # a prefix of a key is not the key


def test_docstring_is_parsed_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = f'"""Hostile."""\nopen({str(marker)!r}, "w").write("x")\n'
    assert docstring_of(source) == "Hostile."
    assert not marker.exists()
    assert docstring_of("def broken(:\n") == ""


def test_feature_glossary_of_the_committed_library() -> None:
    from scafe.library import Library

    lib = Library.open()
    entry = lib.get("rim_erythema")
    column = f"rim_erythema.{entry.outputs[0]}"
    meta = {column: {"extractor": "rim_erythema", "version": entry.version, "scale": entry.criterion.scale,
                     "item": entry.criterion.item}}
    rows = feature_glossary([column, "bare_column", "ghost.key"], meta, lib)
    assert [r.column for r in rows] == [column, "ghost.key"]  # bare (un-namespaced) columns are skipped
    rim = rows[0]
    assert rim.item == f"{entry.criterion.scale}/{entry.criterion.item}"
    assert rim.item_name
    assert len(rim.item_definition) > 20
    assert rim.summary.lower().startswith("jsw rim erythema")
    assert rim.unit == "a* units"
    assert "a*" in rim.axis_label()
    ghost = rows[1]
    assert ghost.summary == ""
    assert ghost.axis_label() == "key (unit not stated by the extractor)"


def test_terms_explain_log_odds() -> None:
    terms = dict(TERMS)
    assert "p / (1 − p)" in terms["log-odds"]
    assert {"Brier score", "sensitivity", "specificity", "AUC"} <= set(terms)
