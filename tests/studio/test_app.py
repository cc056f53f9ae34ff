"""The studio's pages and APIs through Starlette's TestClient (no browser): access control,
criteria editing with the CLI's messages, comment-keeping saves, conflicts, read-only mode,
escaping of untrusted text, bad dataset rows, grades and their correlation, explanations, judge."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from scafe.criteria import validate_criteria_file
from scafe.studio import StudioConfig

TOKEN = "test-token-123"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- access


def test_requests_without_the_token_are_refused(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN), cookie=False)
    for url in ("/", "/criteria", "/static/studio.js", "/api/criteria/vss/sha"):
        assert client.get(url).status_code == 403, url
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 403
    assert client.post("/api/criteria/vss/save", json={}).status_code == 403


def test_token_in_the_query_becomes_a_strict_httponly_cookie(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN), cookie=False)
    first = client.get(f"/criteria?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/criteria"  # the token leaves the address bar
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    page = client.get("/criteria")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_foreign_host_header_and_cross_origin_writes_are_refused(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 400
    refused = client.post("/api/grades", json={}, headers={"origin": "http://evil.example"})
    assert refused.status_code == 403
    remote = client_factory(StudioConfig(root=studio_root, token=TOKEN, allow_remote=True))
    assert remote.get("/", headers={"host": "studio.lan:8765"}).status_code == 200


# ----------------------------------------------------------------------------- criteria


def test_check_gives_the_same_messages_as_criteria_check(studio_root: Path, client_factory, tmp_path: Path) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    broken = path.read_text().replace('      direction: "+"', '      directon: "+"', 1)
    answer = client.post("/api/criteria/vss/check", json={"text": broken, "item": "vascularity"}).json()
    copy = tmp_path / "vss.yaml"
    copy.write_text(broken)
    _, expected = validate_criteria_file(copy)
    assert answer["problems"] == expected
    assert any("did you mean 'direction'" in p and "vss.yaml:" in p for p in answer["problems"])
    assert not answer["ok"]
    assert answer["prompt"] == ""


def test_prompt_preview_is_the_rendered_prompt_of_the_edited_text(studio_root: Path, client_factory) -> None:
    from scafe.criteria import load_criteria
    from scafe.prompting import render, sample_context

    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    edited = path.read_text().replace("Presence of blood vessels", "Presence of dilated blood vessels")
    for stage in ("plan", "write", "repair"):
        answer = client.post("/api/criteria/vss/check", json={"text": edited, "item": "vascularity", "stage": stage}).json()
        assert answer["ok"], answer["problems"]
        assert "Presence of dilated blood vessels" in answer["prompt"]
        # the same text the core renders for the saved file
        path.write_text(edited)
        criteria = load_criteria(path)
        assert answer["prompt"] == render(stage, item=criteria.item("vascularity"), criteria=criteria,
                                          root=studio_root, **sample_context(stage))


def _vasc_min_rho(text: str) -> str:
    """The vascularity threshold as the file has it (the form sends every field back unchanged)."""
    return str(yaml.safe_load(text)["items"][0]["ground_truth"].get("min_rho", 0.5))


def test_form_edit_keeps_comments_and_save_writes_atomically(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    before = path.read_text()
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments
    form = client.post("/api/criteria/vss/form", json={"text": before, "item": "vascularity", "fields": {
        "definition": "Blood vessels seen as redness of the scar against the surrounding skin.",
        "anchors": {"1": "pink (light red)"}, "observable_in_photo": True,
        "ground_truth": {"column": "latent_hb_excess", "direction": "+", "min_rho": _vasc_min_rho(before),
                         "max_nuisance_rho": "0.3"}}}).json()  # the whole form, as the page sends it
    text = form["text"]
    saved = client.post("/api/criteria/vss/save", json={"text": text, "base_sha256": _sha(before)})
    assert saved.status_code == 200, saved.text
    after = path.read_text()
    assert after == text
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == comments
    assert "Blood vessels seen as redness" in after
    assert "1: pink (light red)" in after
    changed = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert len(changed) == 2  # exactly the two edited lines; the rest of the file is byte-identical
    stale = {row["label"] for row in saved.json()["stale"]}
    assert "vss_vascularity@v5" in stale
    assert not list(path.parent.glob(".vss.yaml.*.tmp"))


def test_invalid_save_is_refused_with_the_messages(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    before = path.read_text()
    broken = before.replace("column: latent_hb_excess", "column: latent_hb_exces", 1)
    answer = client.post("/api/criteria/vss/save", json={"text": broken, "base_sha256": _sha(before)})
    assert answer.status_code == 422
    assert any("did you mean 'latent_hb_excess'" in p for p in answer.json()["problems"])
    assert path.read_text() == before


def test_a_file_changed_outside_the_studio_is_not_overwritten(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    loaded = path.read_text()
    outside = loaded.replace("Vancouver Scar Scale\n", "Vancouver Scar Scale (edited elsewhere)\n", 1)
    path.write_text(outside)
    assert client.get("/api/criteria/vss/sha").json()["sha256"] == _sha(outside)
    mine = loaded.replace("Presence of blood vessels", "Presence of vessels")
    answer = client.post("/api/criteria/vss/save", json={"text": mine, "base_sha256": _sha(loaded)})
    assert answer.status_code == 409
    assert "changed outside the studio" in answer.json()["error"]
    assert path.read_text() == outside


def test_read_only_refuses_every_write(studio_root: Path, phantom_data: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, data=phantom_data, token=TOKEN, read_only=True))
    path = studio_root / "prompts/criteria/vss.yaml"
    text = path.read_text()
    assert client.post("/api/criteria/vss/save", json={"text": text + "\n", "base_sha256": _sha(text)}).status_code == 403
    assert client.post("/api/refresh", json={"label": "vss_vascularity@v5"}).status_code == 403
    assert client.post("/api/grades", json={"item": "vss/vascularity", "case": "x", "grade": "1"}).status_code == 403
    page = client.get("/criteria/vss/vascularity").text
    assert 'id="save"' not in page
    assert "read-only" in page
    assert path.read_text() == text


def test_untrusted_criteria_text_is_escaped(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    path.write_text(path.read_text().replace("name: Vascularity", f"name: '{evil}'", 1))
    for url in ("/criteria", "/criteria/vss/vascularity"):
        html = client.get(url).text
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_item_page_shows_extra_item_fields_as_the_test_specification(studio_root: Path, client_factory) -> None:
    from scafe.studio.criteria_pages import extra_fields

    class Item:
        def model_dump(self, **_: object) -> dict[str, object]:
            return {"id": "x", "name": "X", "tests": {"families": ["a", "b"], "min_rho": 0.5}}

    assert extra_fields(Item()) == [("tests", "families:\n- a\n- b\nmin_rho: 0.5")]
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    assert 'id="spec-panel"' in client.get("/criteria/vss/vascularity").text


# ----------------------------------------------------------------------------- library


def test_extractors_page_shows_versions_source_and_diff(studio_root: Path, client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    html = client.get("/extractors/vss/vascularity?show=vss_vascularity@v3&a=2&b=3").text
    for label in ("vss_vascularity@v1", "vss_vascularity@v2", "vss_vascularity@v3"):
        assert label in html
    assert 'class="src"' in html
    assert '<span class="nf">extract</span>' in html
    assert 'id="version-diff"' in html
    assert "v2 → v3" in html
    assert "/img/scatter/vss_vascularity/3.png" in html


def test_extractor_source_is_escaped(studio_root: Path, client_factory) -> None:
    from scafe.studio.library_pages import highlight

    out = highlight('def extract(image, mask):\n    return {"k": 0.0}  # </pre><script>x</script>\n')
    assert "<script>" not in out
    assert "&lt;/pre&gt;&lt;script&gt;" in out


# ----------------------------------------------------------------------------- cases


def _loaded(client) -> None:
    assert client.studio.wait_loaded(300)
    assert client.studio.cases is not None, client.studio.cases_error


def test_gallery_sorts_by_any_feature_and_case_shows_percentiles(phantom_data: Path, studio_root: Path,
                                                                  client_factory) -> None:
    client = client_factory(StudioConfig(root=studio_root, data=phantom_data, token=TOKEN))
    _loaded(client)
    data = client.studio.cases
    column = data.frame.columns[0]
    html = client.get("/cases", params={"sort": column, "order": "desc"}).text
    order = [cid for cid in data.frame[column].sort_values(ascending=False).index]
    positions = [html.index(f'alt="{cid}"') for cid in order[:5]]
    assert positions == sorted(positions)
    case = order[0]
    page = client.get(f"/cases/{case}").text
    row = page[page.index(f'<a href="/cases?sort={column}">{column}</a>'):]
    row = row[:row.index("</tr>")]
    assert '<span class="pcttext">100</span>' in row  # the highest value is at the 100th percentile
    png = client.get(f"/img/case/{case}.png?s=160")
    assert png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_nearest_cases_by_one_item(phantom_data: Path, studio_root: Path, client_factory) -> None:
    from scafe.similar import nearest_cases

    client = client_factory(StudioConfig(root=studio_root, data=phantom_data, token=TOKEN))
    _loaded(client)
    data = client.studio.cases
    case = data.frame.index[0]
    expected = nearest_cases(data.frame, case, k=6, item="vss/vascularity", feature_meta=data.meta["features"])
    html = client.get(f"/cases/{case}", params={"near": "vss/vascularity"}).text
    section = html[html.index('id="nearest"'):]
    assert [section.index(f'alt="{cid}"') for cid in expected.index] == sorted(
        section.index(f'alt="{cid}"') for cid in expected.index)


def test_prediction_and_treeshap_explanation(phantom_data: Path, studio_root: Path, model_dir: Path,
                                             client_factory) -> None:
    from scafe.classifier import ScarClassifier

    client = client_factory(StudioConfig(root=studio_root, data=phantom_data, model=model_dir, token=TOKEN))
    _loaded(client)
    data = client.studio.cases
    case = data.frame.index[0]
    model = ScarClassifier.load(model_dir)
    X, _ = model.align(data.frame, feature_meta=data.meta["features"], allow_missing=True)
    p = float(model.predict_proba(X.loc[[case]])[0, 1])
    html = client.get(f"/cases/{case}").text
    assert 'id="explanation"' in html
    assert f"p(keloid) = {p:.3f}" in html
    phi = model.contributions(X.loc[[case]]).drop(columns="bias").iloc[0]
    top = phi.abs().idxmax()
    assert model.describe_feature(top) in html


def test_bad_rows_are_listed_and_the_rest_shown(phantom_data: Path, studio_root: Path, tmp_path: Path,
                                                client_factory) -> None:
    data = tmp_path / "mixed"
    shutil.copytree(phantom_data, data)
    manifest = pd.read_csv(data / "manifest.csv", dtype=str, keep_default_na=False)
    manifest.loc[1, "image"] = "images/<missing>.png"
    manifest.loc[2, "label"] = "melanoma"
    manifest.to_csv(data / "manifest.csv", index=False)
    client = client_factory(StudioConfig(root=studio_root, data=data, token=TOKEN))
    _loaded(client)
    html = client.get("/cases").text
    assert 'id="bad-rows"' in html
    assert "unknown label &#39;melanoma&#39;" in html
    assert "&lt;missing&gt;.png" in html
    assert len(client.studio.cases.frame) == len(manifest) - 2


def test_grades_go_next_to_the_dataset_and_correlate_with_the_extractors(phantom_data: Path, studio_root: Path,
                                                                         tmp_path: Path, client_factory) -> None:
    from scipy import stats

    data = tmp_path / "graded"
    shutil.copytree(phantom_data, data)
    client = client_factory(StudioConfig(root=studio_root, data=data, token=TOKEN))
    _loaded(client)
    frame = client.studio.cases.frame
    column = next(c for c, m in client.studio.cases.meta["features"].items() if m["item"] == "vascularity")
    ids = list(frame[column].sort_values().index[:5])
    grades = ["0", "1", "1", "2", "3"]
    answer = None
    for cid, grade in zip(ids, grades, strict=True):
        answer = client.post("/api/grades", json={"item": "vss/vascularity", "case": cid, "grade": grade}).json()
    stored = pd.read_csv(data / "grades.csv", dtype=str)
    assert sorted(stored["id"]) == sorted(ids)
    assert set(stored["criterion"]) == {"vss/vascularity"}
    row = next(r for r in answer["rows"] if r["column"] == column)
    expected = stats.spearmanr([float(g) for g in grades], frame.loc[ids, column]).statistic
    assert row["n"] == 5
    assert row["rho"] == pytest.approx(expected)
    bad = client.post("/api/grades", json={"item": "vss/vascularity", "case": ids[0], "grade": "7"})
    assert bad.status_code == 400
    assert "not an anchor" in bad.json()["error"]
    assert "Spearman" in client.get("/grading/vss/vascularity").text


def test_judge_page_shows_the_rule_reasoners_four_stages(phantom_data: Path, studio_root: Path,
                                                         client_factory) -> None:
    from scafe.judge.rules import judge_with_rules

    client = client_factory(StudioConfig(root=studio_root, data=phantom_data, token=TOKEN))
    _loaded(client)
    case = client.studio.cases.dataset.cases[0]
    expected = judge_with_rules(*case.load(), target="scar", root=studio_root)
    html = client.get(f"/judge/{case.id}").text
    assert f'id="verdict">{expected["verdict"]}<' in html
    for stage in ("knowledge recall", "visual feature analysis", "anatomical inference", "clinical synthesis"):
        assert stage in html
    assert 'id="descriptors"' in html
    assert "solidity" in html


def test_scatter_plots_the_criterion_tests_own_values(studio_root: Path, client_factory) -> None:
    from scipy import stats

    from scafe.criterion_tests import run_criterion_tests
    from scafe.library import Library
    from scafe.studio.figures import criterion_values

    library = Library.open(studio_root / "feature_library", criteria_dir=studio_root / "prompts/criteria")
    entry = library.get("vss_vascularity")
    feature, truth, key, column, item = criterion_values(library, entry)
    recorded = entry.validation["criterion"]
    assert (key, column) == (recorded["output_key"], item.ground_truth.column)  # the current test spec
    report = run_criterion_tests(library.source(entry), item, output_key=key)  # what verify runs today
    ok = np.isfinite(feature) & np.isfinite(truth)
    # the scatter shows family a's validation phantoms (validation_set's default); report.rho is the
    # worst over all criterion families
    assert stats.spearmanr(feature[ok], truth[ok]).statistic == pytest.approx(report.families["a"].rho, abs=1e-9)
    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    png = client.get(f"/img/scatter/{entry.name}/{entry.version}.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_job_reports_progress_and_accept_reuses_its_reports(studio_root: Path, client_factory) -> None:
    import time

    client = client_factory(StudioConfig(root=studio_root, token=TOKEN))
    path = studio_root / "prompts/criteria/vss.yaml"
    path.write_text(path.read_text().replace("Presence of blood vessels", "Presence of visible blood vessels", 1))
    states = {r.label: r.state for r in client.studio.status()}
    assert states["vss_vascularity@v5"] == "stale"
    job = client.post("/api/verify", json={"item": "vss/vascularity"}).json()
    assert job["total"] == 2  # one active extractor: battery, then criterion tests
    while job["state"] not in ("done", "failed"):
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    (result,) = job["result"]["results"]
    assert result["label"] == "vss_vascularity@v5"
    assert result["ok"]
    assert result["stale"]
    accept = client.post("/api/refresh", json={"label": "vss_vascularity@v5"}).json()
    while accept["state"] not in ("done", "failed"):
        time.sleep(0.1)
        accept = client.get(f"/api/jobs/{accept['id']}").json()
    assert accept["state"] == "done", accept
    assert accept["result"]["reused_reports"] is True
    states = {r.label: r.state for r in client.studio.status()}
    assert states["vss_vascularity@v5"] == "active"
    history = client.studio.library().history[-1]
    assert (history.action, history.name, history.version) == ("refresh", "vss_vascularity", 5)
