"""metrics.json's clinical block, what the data are called, and which manifest lacks which columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scafe.errors import DataError
from scafe.evaluation import evaluate
from tests.evaluation.test_cv import _dataset


def test_mixed_family_phantom_manifest_names_both_families(tmp_path: Path) -> None:
    manifest = _dataset(tmp_path / "d", n=24, extra={"family": ["a"] * 15 + ["b"] * 9})
    run = evaluate(manifest, None, sizes=[12], repeats=1, folds=3, methods=["oracle"])
    assert run.dataset["families"] == {"a": 15, "b": 9}
    kind = run.dataset["data_kind"]
    assert kind.startswith("synthetic phantoms")
    assert "family A" in kind
    assert "family B" in kind
    assert "15" in kind
    assert "9" in kind


def test_user_dataset_is_not_called_phantoms(tmp_path: Path) -> None:
    manifest = _dataset(tmp_path / "d", n=24)
    frame = pd.read_csv(manifest).drop(columns=["latent_x", "nuisance_y"])
    frame.to_csv(manifest, index=False)
    run = evaluate(manifest, None, sizes=[12], repeats=1, folds=3, methods=["oracle", "nuisance-only"])
    assert "phantom" not in run.dataset["data_kind"]
    assert run.dataset["synthetic"] is False
    assert run.dataset["families"] == {}


def test_skip_reason_names_the_manifest_that_lacks_the_columns(tmp_path: Path) -> None:
    pool = _dataset(tmp_path / "pool", n=24)
    test = _dataset(tmp_path / "test", n=24)
    pd.read_csv(test).drop(columns=["latent_x"]).to_csv(test, index=False)  # test keeps nuisance_y
    run = evaluate(pool, test, sizes=[12], repeats=1, methods=["oracle", "nuisance-only"])
    reasons = {s["method"]: s["reason"] for s in run.result.skipped}
    assert "nuisance-only" not in reasons  # both manifests have nuisance_* columns: it ran
    assert str(test) in reasons["oracle"]
    assert str(pool) not in reasons["oracle"]
    assert "test manifest" in reasons["oracle"]
    assert "latent_*" in reasons["oracle"]
    assert run.dataset["test_data_kind"].startswith("user dataset")


def test_metrics_json_carries_calibration_thresholds_and_subgroups(tmp_path: Path) -> None:
    tones = ["I", "II", "V", "VI"] * 6
    manifest = _dataset(tmp_path / "d", n=24, extra={"fitzpatrick": tones, "site": ["x", "y"] * 12})
    run = evaluate(manifest, None, sizes=[12], repeats=2, folds=3, methods=["oracle"], subgroups=["site"])
    doc = json.loads(json.dumps(run.metrics, allow_nan=False))
    clin = doc["clinical"]
    assert clin["n_train"] == 12
    rows = run.result.probas["oracle"][12]
    y = np.tile(run.result.y_test, len(rows))
    p = np.concatenate(rows)
    assert clin["calibration"]["oracle"]["brier"] == pytest.approx(float(np.mean((p - y) ** 2)))
    assert clin["calibration"]["oracle"]["n"] == len(p)
    default = clin["operating_points"]["oracle"][0]
    assert default["threshold"] == 0.5
    assert default["tp"] == int(np.sum((p >= 0.5) & (y == 1)))
    assert default["sensitivity"] == pytest.approx(np.mean(p[y == 1] >= 0.5))
    fitz = {r["group"]: r for r in clin["subgroups"]["skin tone (fitzpatrick)"]["oracle"]}
    assert set(fitz) == {"I", "II", "V", "VI"}
    assert sum(r["n"] for r in fitz.values()) == 24
    assert {r["group"] for r in clin["subgroups"]["site"]["oracle"]} == {"x", "y"}


def test_unknown_subgroup_column_is_refused_up_front(tmp_path: Path) -> None:
    from scafe.data.dataset import load_dataset

    manifest = _dataset(tmp_path / "d", n=24)
    with pytest.raises(DataError, match=r"'scanner' is not in .*manifest.csv.*--subgroup scanner"):
        evaluate(load_dataset(manifest), None, sizes=[12], repeats=1, folds=3, methods=["oracle"],
                 subgroups=["scanner"])


def test_evaluate_command_reports_declared_subgroups(tmp_path: Path, capsys) -> None:
    from scafe.cli import main

    manifest = _dataset(tmp_path / "d", n=24, extra={"site": ["north", "south"] * 12})
    out = tmp_path / "eval"
    code = main(["evaluate", "--data", str(manifest), "--sizes", "12", "--repeats", "1", "--folds", "3",
                 "--methods", "oracle", "--subgroup", "site", "--out", str(out), "--no-llm", "--cv"])
    assert code == 0
    doc = json.loads((out / "metrics.json").read_text())
    assert {r["group"] for r in doc["clinical"]["subgroups"]["site"]["oracle"]} == {"north", "south"}
    assert "<h3>site</h3>" in (out / "report.html").read_text()
    capsys.readouterr()
    assert main(["evaluate", "--data", str(manifest), "--sizes", "12", "--repeats", "1", "--folds", "3",
                 "--methods", "oracle", "--subgroup", "scanner", "--out", str(out), "--no-llm", "--cv"]) != 0
    assert "scanner" in capsys.readouterr().err
