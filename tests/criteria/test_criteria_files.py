"""Loading and validating criteria files: shipped files, clinician typos, look-ups."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from scafe.criteria import (
    GROUND_TRUTH_COLUMNS,
    all_criteria,
    find_item,
    load_criteria,
    validate_criteria_file,
)
from scafe.errors import CriteriaError

SHIPPED = {"vss", "posas_observer", "manchester", "jsw_keloid"}

MINIMAL = textwrap.dedent(
    """\
    title: Test scale
    items:
      - id: vascularity
        name: Vascularity
        definition: "Redness of the scar relative to normal skin."
        anchors:
          0: normal
          1: red
        observable_in_photo: true
        ground_truth:
          column: latent_hb_excess
          quantity: the haemoglobin excess of the scar
          direction: "+"
          nuisances:
            - column: nuisance_ita
              max_rho: 0.3
              why: the scar is compared with the skin around it
    """
)


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_files_validate_and_cover_the_scales(project_root: Path) -> None:
    files = all_criteria(project_root)
    assert {c.scale for c in files} == SHIPPED
    for criteria in files:
        for item in criteria.items:
            if item.observable_in_photo:
                assert item.ground_truth is not None
                assert item.ground_truth.column in GROUND_TRUTH_COLUMNS
                assert item.measurement_hint, f"{criteria.scale}/{item.id} needs a measurement_hint"
            else:
                assert item.ground_truth is None
                assert item.unobservable_reason


def test_palpation_items_are_declared_unobservable(project_root: Path) -> None:
    # pliability, and Manchester texture, whose anchors (just palpable, firm, hard) are firmness
    for ref in ("vss/pliability", "posas_observer/pliability", "manchester/texture"):
        _, item = find_item(ref, project_root)
        assert item.observable_in_photo is False
        assert "palpation" in (item.unobservable_reason or "")


def test_required_ground_truths(project_root: Path) -> None:
    expected = {
        "vss/vascularity": ("latent_hb_excess", "+"),
        "posas_observer/vascularity": ("latent_hb_excess", "+"),
        "vss/pigmentation": ("latent_melanin_log_ratio", "+"),
        "vss/height": ("latent_height_mm", "+"),
        "jsw_keloid/rim_erythema": ("latent_rim_delta_a", "+"),
        "jsw_keloid/shape": ("latent_solidity", "-"),
        "jsw_keloid/size": ("latent_area_mm2", "+"),
        "manchester/colour": ("latent_color_delta_e", "+"),
        "manchester/surface": ("latent_gloss", "+"),
        "posas_observer/relief": ("latent_relief", "+"),
    }
    for ref, (column, direction) in expected.items():
        _, item = find_item(ref, project_root)
        assert item.ground_truth is not None
        assert (item.ground_truth.column, item.ground_truth.direction) == (column, direction), ref


def test_non_default_thresholds_are_explained(project_root: Path) -> None:
    for criteria in all_criteria(project_root):
        for item in criteria.items:
            gt = item.ground_truth
            if gt is not None and (gt.min_rho != 0.5 or gt.within or gt.two_sided):
                assert gt.why, f"{criteria.scale}/{item.id} changes a threshold without saying why"
            for nuisance in gt.nuisances if gt is not None else []:
                assert len(nuisance.why.split()) >= 6, f"{criteria.scale}/{item.id}: say why for {nuisance.column}"


def test_minimal_file_loads_with_sha_and_string_anchor_keys(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    criteria = load_criteria(path)
    assert criteria.scale == "demo"
    assert criteria.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    item = criteria.item("vascularity")
    assert item.anchors == {"0": "normal", "1": "red"}
    assert item.ground_truth is not None
    assert item.ground_truth.min_rho == 0.5


def test_typo_in_key_names_file_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('direction: "+"', 'directon: "+"'))
    with pytest.raises(CriteriaError) as info:
        load_criteria(path)
    message = str(info.value)
    line = MINIMAL.splitlines().index('      direction: "+"') + 1
    assert f"unknown key 'directon' at demo.yaml:{line}" in message
    assert "did you mean 'direction'?" in message
    assert "missing key 'direction'" not in message  # the typo explains it: one message, not two


def test_typo_in_item_key_and_top_level_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("observable_in_photo", "observable_in_foto").replace("title:", "titel:")
    _, problems = validate_criteria_file(write(tmp_path, text))
    joined = "\n".join(problems)
    assert "unknown key 'observable_in_foto' at demo.yaml:9" in joined
    assert "did you mean 'observable_in_photo'?" in joined
    assert "unknown key 'titel' at demo.yaml:1" in joined
    assert "did you mean 'title'?" in joined


def test_unknown_ground_truth_column_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("latent_hb_excess", "latent_hb_exces"))
    with pytest.raises(CriteriaError, match=r"unknown phantom column 'latent_hb_exces'.*did you mean 'latent_hb_excess'\?.*demo.yaml:11"):
        load_criteria(path)


def test_bad_direction_and_out_of_range_rho(tmp_path: Path) -> None:
    text = MINIMAL.replace('direction: "+"', 'direction: up\n      min_rho: 1.5')
    _, problems = validate_criteria_file(write(tmp_path, text))
    assert any("direction" in p and "demo.yaml:13" in p for p in problems), problems
    assert any("min_rho" in p and "demo.yaml:14" in p for p in problems), problems


def test_nuisance_needs_a_bound_and_a_reason(tmp_path: Path) -> None:
    text = MINIMAL.replace("max_rho: 0.3", "max_rho: null")
    _, problems = validate_criteria_file(write(tmp_path, text))
    assert any("needs exactly one bound" in p for p in problems), problems
    text = MINIMAL.replace("nuisance_ita", "nuisance_itta")
    _, problems = validate_criteria_file(write(tmp_path, text))
    assert any("did you mean 'nuisance_ita'" in p for p in problems), problems
    text = MINIMAL.replace('direction: "+"', 'direction: "+"\n      within: nuisance_light_elevation_deg')
    _, problems = validate_criteria_file(write(tmp_path, text))
    assert any("must also be listed under nuisances" in p for p in problems), problems


def test_observable_item_needs_ground_truth_and_unobservable_needs_reason(tmp_path: Path) -> None:
    no_gt = MINIMAL.split("    ground_truth:")[0]
    with pytest.raises(CriteriaError, match="observable_in_photo but has no ground_truth"):
        load_criteria(write(tmp_path, no_gt, "a.yaml"))
    hidden = no_gt.replace("observable_in_photo: true", "observable_in_photo: false")
    with pytest.raises(CriteriaError, match="say why in unobservable_reason"):
        load_criteria(write(tmp_path, hidden, "b.yaml"))
    faked = MINIMAL.replace("observable_in_photo: true", "observable_in_photo: false\n    unobservable_reason: palpation")
    with pytest.raises(CriteriaError, match="cannot have a ground_truth"):
        load_criteria(write(tmp_path, faked, "c.yaml"))


def test_duplicate_keys_and_duplicate_item_ids(tmp_path: Path) -> None:
    dup_key = MINIMAL.replace("    name: Vascularity\n", "    name: Vascularity\n    name: Redness\n")
    with pytest.raises(CriteriaError, match=r"duplicate key 'name' at demo.yaml:5 \(first at line 4\)"):
        load_criteria(write(tmp_path, dup_key))
    item = MINIMAL.split("items:\n")[1]
    with pytest.raises(CriteriaError, match="item id 'vascularity' appears twice"):
        load_criteria(write(tmp_path, MINIMAL + item, "twice.yaml"))


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("    name: Vascularity", "    name: [Vascularity"))
    with pytest.raises(CriteriaError, match=r"YAML syntax error at demo.yaml:\d+"):
        load_criteria(path)


def test_non_snake_id_and_scale_mismatch(tmp_path: Path) -> None:
    text = "scale: other\n" + MINIMAL.replace("id: vascularity", "id: Vascular Ity")
    _, problems = validate_criteria_file(write(tmp_path, text))
    joined = "\n".join(problems)
    assert "must be snake_case, e.g. 'vascular_ity'" in joined
    assert "scale 'other' at demo.yaml:1 must equal the file name stem 'demo'" in joined


def test_subfolders_are_ignored_and_find_item_suggests(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "vss.yaml")
    (tmp_path / "segmentation").mkdir()
    (tmp_path / "segmentation" / "stages.yaml").write_text("not: [a criteria file")
    assert [c.scale for c in all_criteria(directory=tmp_path)] == ["vss"]
    criteria, item = find_item("vss/vascularity", directory=tmp_path)
    assert (criteria.scale, item.id) == ("vss", "vascularity")
    with pytest.raises(CriteriaError, match="did you mean 'vascularity'"):
        find_item("vss/vascularty", directory=tmp_path)
    with pytest.raises(CriteriaError, match="did you mean 'vss'"):
        find_item("vs/vascularity", directory=tmp_path)
    with pytest.raises(CriteriaError, match="must look like SCALE/ITEM"):
        find_item("vascularity", directory=tmp_path)


def test_sha_changes_when_file_is_edited(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    before = load_criteria(path).sha256
    path.write_text(MINIMAL.replace("Redness of the scar", "Redness of  the scar"))
    assert load_criteria(path).sha256 != before


@pytest.mark.parametrize(
    "key",
    ["title", "items", "id", "name", "definition", "anchors", "observable_in_photo", "ground_truth", "column", "direction"],
)
def test_every_misspelt_key_is_located_and_corrected(tmp_path: Path, key: str) -> None:
    # drop the third letter, as a hurried editor would (short keys: double the last letter)
    typo = key[:2] + key[3:] if len(key) > 3 else key + key[-1]
    lines = MINIMAL.splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.lstrip(" -").startswith(f"{key}:"))
    lines[number] = lines[number].replace(f"{key}:", f"{typo}:", 1)
    _, problems = validate_criteria_file(write(tmp_path, "".join(lines)))
    expected = f"unknown key '{typo}' at demo.yaml:{number + 1}"
    assert any(expected in p and f"did you mean '{key}'?" in p for p in problems), problems
