"""The model commands through the real CLI entry point, and the report on a small real dataset."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from scafe.cli import main
from tests.evaluation.conftest import separable_table


@pytest.fixture
def table_and_manifest(tmp_path):
    from scafe.extraction import FeatureTable

    frame, y, meta = separable_table(80, seed=4)
    # feature tables on disk have namespaced columns <extractor>.<key> (issue 11)
    names = {c: f"{meta[c]['extractor']}.{c}" for c in frame.columns}
    frame, meta = frame.rename(columns=names), {names[c]: m for c, m in meta.items()}
    table = FeatureTable(frame=frame, meta={"library_version": "lib-A", "features": meta})
    path = table.save(tmp_path / "X.csv")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"id": frame.index, "image": "i.png", "mask": "m.png",
                  "label": np.where(y == 1, "keloid", "hypertrophic")}).to_csv(manifest, index=False)
    return path, manifest, frame, meta


def test_train_predict_explain(table_and_manifest, tmp_path, capsys) -> None:
    features, manifest, frame, meta = table_and_manifest
    assert main(["train", "--features", str(features), "--labels", str(manifest), "--out", str(tmp_path / "m")]) == 0
    assert "library lib-A" in capsys.readouterr().out
    out_csv = tmp_path / "pred.csv"
    code = main(["predict", "--model", str(tmp_path / "m"), "--features", str(features), "--explain",
                 "--out", str(out_csv)])
    assert code == 0
    pred = pd.read_csv(out_csv)
    assert list(pred.columns) == ["id", "p_keloid", "prediction", "explanation"]
    assert pred["p_keloid"].between(0, 1).all()
    assert pred["explanation"].str.contains(r"rim erythema \(JSW\) [+-]\d\.\d\d → (?:keloid|hypertrophic)").any()


def test_predict_refuses_an_incompatible_table_then_continues(table_and_manifest, tmp_path, capsys) -> None:
    from scafe.extraction import FeatureTable

    features, manifest, frame, meta = table_and_manifest
    main(["train", "--features", str(features), "--labels", str(manifest), "--out", str(tmp_path / "m")])
    other = FeatureTable(frame=frame.drop(columns="shape.solidity"), meta={"library_version": "lib-B", "features": meta})
    path = other.save(tmp_path / "Y.csv")
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "m"), "--features", str(path)]) == 1
    err = capsys.readouterr().err
    assert "incompatible" in err
    assert "solidity" in err
    assert "--allow-missing" in err
    assert main(["predict", "--model", str(tmp_path / "m"), "--features", str(path), "--allow-missing"]) == 3


def test_train_refuses_unlabelled_rows(table_and_manifest, tmp_path, capsys) -> None:
    features, manifest, _, _ = table_and_manifest
    pd.read_csv(manifest).iloc[:10].to_csv(manifest, index=False)
    assert main(["train", "--features", str(features), "--labels", str(manifest), "--out", str(tmp_path / "m")]) == 1
    assert "have no label" in capsys.readouterr().err


def test_similar_command(table_and_manifest, capsys) -> None:
    features, _, frame, _ = table_and_manifest
    assert main(["similar", "--features", str(features), "--id", frame.index[0], "-k", "3",
                 "--item", "jsw/erythema"]) == 0
    out = capsys.readouterr().out
    assert "(query)" in out
    assert "rim_delta_a" in out
    assert len(re.findall(r"\bc00\d\d\b", out)) >= 4  # the query and its three neighbours


def test_report_on_a_real_small_dataset(tiny_phantoms, tmp_path) -> None:
    """Full report path: real phantoms (64 px), synthetic library table, every section renders."""
    from scafe.data.dataset import load_dataset
    from scafe.evaluation import EvaluationRun
    from scafe.evaluation.inputs import load_case_set
    from scafe.evaluation.methods import build_groups
    from scafe.evaluation.protocol import run_learning_curves
    from scafe.extraction import FeatureTable
    from scafe.report import write_report

    ds = load_dataset(tiny_phantoms)
    ids = [c.id for c in ds.cases]
    y = np.array([c.label == "keloid" for c in ds.cases], int)
    frame = pd.DataFrame({"rim_delta_a": y * 3.0 + np.linspace(0, 1, len(ids)),
                          "noise": np.cos(np.arange(len(ids)))}, index=pd.Index(ids, name="id"))
    meta = {"rim_delta_a": {"extractor": "rim", "version": 1, "scale": "jsw", "item": "erythema",
                            "item_name": "rim erythema"}}
    table = FeatureTable(frame=frame, meta={"library_version": "lib-T", "features": meta})
    side = load_case_set(ds, features=table, radiomics=False, cnn=False)
    groups, skipped = build_groups(side.cases, side.cases, methods=["library+xgboost", "oracle", "nuisance-only",
                                                                    "cnn"])
    result = run_learning_curves(groups, side.cases, side.cases, sizes=[8, 12], repeats=2, skipped=skipped)
    run = EvaluationRun(result=result, pool=side, test=side, library_version="lib-T",
                        dataset={"n_test": len(ids), "radiomics_backend": side.radiomics_backend})
    path = write_report(run, tmp_path / "report.html")
    html = path.read_text()
    for heading in ("Learning curves", "ROC curves", "What the classifier relies on", "Per-feature class",
                    "Example test cases", "Provenance"):
        assert heading in html
    assert html.count("data:image/png;base64,") >= 5 + 8  # figures + gallery thumbnails
    assert "rim erythema (JSW)" in html
    assert "lib-T" in html
    assert "src='http" not in html
    assert 'src="http' not in html
    doc = run.metrics
    json.dumps(doc, allow_nan=False)
    assert [s["method"] for s in doc["skipped"]] == ["cnn"]  # asked for, but no image arrays were prepared


def test_evaluate_command_writes_metrics_and_report(tiny_phantoms, tmp_path, capsys) -> None:
    out = tmp_path / "eval"
    code = main(["evaluate", "--data", str(tiny_phantoms), "--test", str(tiny_phantoms), "--sizes", "8,12,99",
                 "--repeats", "2", "--methods", "oracle,nuisance-only", "--out", str(out), "--no-llm"])
    assert code == 0
    doc = json.loads((out / "metrics.json").read_text())
    assert {r["method"] for r in doc["results"]} == {"oracle", "nuisance-only"}
    assert {r["n_train"] for r in doc["results"]} == {8, 12}
    assert any("99 exceeds the pool" in s["reason"] for s in doc["skipped"])
    assert (out / "report.html").stat().st_size > 10_000
    assert "report:" in capsys.readouterr().out


def test_evaluate_command_rejects_bad_sizes(tiny_phantoms, capsys) -> None:
    assert main(["evaluate", "--data", str(tiny_phantoms), "--test", str(tiny_phantoms), "--sizes", "a,b"]) == 2
    assert "--sizes must be" in capsys.readouterr().err


def test_evaluate_runs_llm_image_when_an_endpoint_is_configured(tiny_phantoms, tmp_path, monkeypatch) -> None:
    """Wiring only: the endpoint is the scripted test server (fixed replies, not a model)."""
    from tests.support.fake_llm import FakeLLMServer, routed

    script = routed([("photograph", ['{"label": "keloid", "confidence": 0.7, "reason": "scripted"}'])])
    with FakeLLMServer(script) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
        monkeypatch.setenv("SCAFE_MODEL", "scripted-fixture")
        out = tmp_path / "eval"
        code = main(["evaluate", "--data", str(tiny_phantoms), "--test", str(tiny_phantoms), "--sizes", "8",
                     "--repeats", "1", "--methods", "llm-image,oracle", "--out", str(out)])
        n_requests = len(srv.requests)
    assert code == 0
    doc = json.loads((out / "metrics.json").read_text())
    rows = {(r["method"], r["metric"]): r for r in doc["results"]}
    assert rows[("llm-image", "sensitivity")]["n_train"] == 0  # zero-shot
    assert rows[("llm-image", "sensitivity")]["mean"] == 1.0  # always "keloid" in the script
    assert rows[("llm-image", "specificity")]["mean"] == 0.0
    assert n_requests == 24  # one per test case (24 ≤ the 100-case cap)
    assert "llm-image" not in {s["method"] for s in doc["skipped"]}
