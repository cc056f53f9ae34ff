"""The report's clinical sections: present, computed from the run, and untrusted text escaped."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from tests.report.conftest import HOSTILE


def _section(html: str, anchor: str) -> str:
    match = re.search(rf"<section id='{anchor}'>(.*?)</section>", html, re.S)
    assert match, f"section #{anchor} missing"
    return match.group(1)


def test_every_new_section_is_there(small_report) -> None:
    html = small_report["html"]
    for anchor in ("headline", "data", "roc", "calibration", "thresholds", "subgroups", "importances",
                   "distributions", "gallery", "provenance", "glossary"):
        _section(html, anchor)


def test_untrusted_text_is_escaped(small_report) -> None:
    html = small_report["html"]
    assert HOSTILE not in html
    assert "<b>bold" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in _section(html, "subgroups")
    assert "data &lt;b&gt;bold" in _section(html, "data")
    assert "<script" not in html


def test_data_section_names_phantom_families(small_report) -> None:
    data = _section(small_report["html"], "data")
    assert "synthetic phantoms" in data
    assert "family A (procedural renderer): 12" in data
    assert "family B (independent spectral renderer): 12" in data


def test_calibration_and_threshold_figures_come_from_the_run(small_report) -> None:
    from scafe.evaluation.calibration import brier_score

    run = small_report["run"]
    rows = run.result.probas["library+xgboost"][12]
    y = np.tile(run.result.y_test, len(rows))
    brier = brier_score(y, np.concatenate(rows))
    cal = _section(small_report["html"], "calibration")
    assert f"{brier:.3f}" in cal
    assert cal.count("data:image/png;base64,") == 1
    thresholds = _section(small_report["html"], "thresholds")
    for rule in ("p ≥ 0.5 (default)", "Youden", "optimistic"):
        assert rule in thresholds


def test_subgroups_cover_skin_tone_family_and_declared_columns(small_report) -> None:
    sub = _section(small_report["html"], "subgroups")
    assert "skin tone (ITA band, nuisance_ita)" in sub
    assert "phantom family" in sub
    assert "group_site" in sub
    clin = small_report["run"].clinical()
    bands = clin["subgroups"]["skin tone (ITA band, nuisance_ita)"]["library+xgboost"]
    assert sum(r["n"] for r in bands) == 24
    for row in bands:
        assert f"<td>{html.escape(row['group'])}</td>" in sub


def test_provenance_lists_versions_hashes_and_extractors(small_report) -> None:
    from scafe import __version__
    from scafe.library import Library

    prov = _section(small_report["html"], "provenance")
    assert __version__ in prov
    assert "git commit" in prov
    run = small_report["run"]
    assert run.provenance["datasets"]["pool"]["manifest_sha256"][:16] in prov
    assert "numpy" in prov
    assert "max_depth" in prov
    for entry in Library.open().active():
        assert f"<td>{entry.name}</td>" in prov
        assert entry.criterion.ref in prov


def test_glossary_explains_shown_features_and_log_odds(small_report) -> None:
    gloss = _section(small_report["html"], "glossary")
    assert "rim_erythema.rim_erythema_delta_a" in gloss
    assert "a* units" in gloss
    assert "lesion_size.size_area_fraction" in gloss
    assert "log-odds" in gloss
    assert "p / (1 − p)" in gloss
    assert "ln(p / (1 − p))" in _section(small_report["html"], "importances")


def test_glossary_section_escapes_docstring_text() -> None:
    from scafe.evaluation.glossary import FeatureEntry
    from scafe.report.sections import glossary_section

    entry = FeatureEntry(column="x.k", extractor="x", key="k", item="s/i", item_name="<i>name</i>",
                         item_definition="def", summary="<img src=x onerror=alert(1)>", formula="a<b", unit="",
                         value_range="")
    html = glossary_section([entry], (("<t>", "<d>"),))
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<i>name" not in html
    assert "a&lt;b" in html
    assert "&lt;t&gt;" in html


def test_user_data_report_says_user_dataset(small_report, tmp_path) -> None:
    import dataclasses

    from scafe.report import write_report

    run = small_report["run"]
    user = dataclasses.replace(run, dataset={**run.dataset, "synthetic": False,
                                             "data_kind": "user dataset: 24 labelled images"})
    html = write_report(user, tmp_path / "u.html").read_text()
    assert "synthetic phantoms" not in html.split("<main>")[0]  # header
    assert "user dataset: 24 labelled images" in _section(html, "data")


def test_roc_legend_auc_is_the_pooled_curve_area() -> None:
    from scafe.report.figures import pooled_auc

    y = np.array([0, 0, 1, 1])
    # two repeats: first ranks perfectly (AUC 1), second has one swapped pair (AUC 0.75); pooled by hand:
    # negatives 0.1 0.4 0.2 0.6, positives 0.8 0.9 0.5 0.7 -> 15 of 16 pairs ordered right
    rows = [np.array([0.1, 0.4, 0.8, 0.9]), np.array([0.2, 0.6, 0.5, 0.7])]
    assert pooled_auc(y, rows) == pytest.approx(15 / 16)
