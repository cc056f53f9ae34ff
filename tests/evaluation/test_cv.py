"""Cross-validation on one user dataset: grouped by patient, split column, leakage refused."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.data.dataset import load_dataset
from scafe.errors import DataError
from scafe.evaluation import evaluate
from scafe.evaluation.cv import describe_rows, make_splits


def _dataset(root: Path, n: int = 24, *, per_patient: int = 3, extra: dict[str, list[str]] | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(1)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    rows = []
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(root / "images" / f"c{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"c{i}.png")
        patient = i // per_patient
        label = "keloid" if patient % 2 else "hypertrophic"  # one label per patient
        rows.append({"id": f"c{i}", "image": f"images/c{i}.png", "mask": f"masks/c{i}.png", "label": label,
                     "patient_id": f"p{patient}", "latent_x": f"{(patient % 2) + rng.normal(0, 0.3):.3f}",
                     "nuisance_y": f"{rng.normal():.3f}"})
    for column, values in (extra or {}).items():
        for row, value in zip(rows, values, strict=True):
            row[column] = value
    with (root / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root / "manifest.csv"


def _splits(manifest: Path, **kw):
    ds = load_dataset(manifest)
    frame = describe_rows(ds)
    y = (frame["label"] == "keloid").to_numpy().astype(int)
    return frame, make_splits(frame, y, **kw)


def test_grouped_cv_never_puts_a_patient_in_train_and_test(tmp_path: Path) -> None:
    frame, (splits, info) = _splits(_dataset(tmp_path / "d"), folds=4, repeats=3, seed=0)
    assert info["grouped_by"] == "patient_id"
    assert info["n_patients"] == 8
    patients = frame["patient_id"].to_numpy()
    for split in splits:
        assert not set(patients[split.train]) & set(patients[split.test])
    for r in range(3):  # every case is tested exactly once per repeat
        tested = np.concatenate([s.test for s in splits if s.repeat == r])
        assert sorted(tested) == list(range(len(frame)))


def test_without_patient_ids_the_same_code_would_leak_patients(tmp_path: Path) -> None:
    # the check above can fail: ungrouped folds split the three images of a patient
    manifest = _dataset(tmp_path / "d")
    frame, _ = _splits(manifest, folds=4, repeats=1, seed=0)
    from sklearn.model_selection import StratifiedKFold

    y = (frame["label"] == "keloid").to_numpy().astype(int)
    patients = frame["patient_id"].to_numpy()
    leaks = [set(patients[tr]) & set(patients[te])
             for tr, te in StratifiedKFold(4, shuffle=True, random_state=0).split(np.zeros(len(y)), y)]
    assert any(leaks)


def test_split_column_is_honoured_and_checked(tmp_path: Path) -> None:
    split = ["test" if i >= 18 else "train" for i in range(24)]
    frame, (splits, info) = _splits(_dataset(tmp_path / "a", extra={"split": split}), folds=4, repeats=2, seed=0)
    assert info["protocol"] == "fixed split (split column)"
    assert list(splits[0].test) == list(range(18, 24))
    split[17] = "test"  # patient p5 (rows c15-c17) now on both sides
    with pytest.raises(DataError, match=r"Patients \['p5'\] are in both"):
        _splits(_dataset(tmp_path / "b", extra={"split": split}), folds=4, repeats=1, seed=0)


def test_leakage_is_refused_naming_the_rows(tmp_path: Path) -> None:
    manifest = _dataset(tmp_path / "d")
    shutil.copy(tmp_path / "d" / "images" / "c0.png", tmp_path / "d" / "images" / "c5.png")  # c0 = p0, c5 = p1
    with pytest.raises(DataError, match=r"different labels.*row 1 \(id c0\), row 6 \(id c5\)"):
        _splits(manifest, folds=4, repeats=1, seed=0)
    manifest = _dataset(tmp_path / "e")
    shutil.copy(tmp_path / "e" / "images" / "c0.png", tmp_path / "e" / "images" / "c6.png")  # p0 and p2, same label
    with pytest.raises(DataError, match=r"different patients.*row 1 \(id c0\), row 7 \(id c6\)"):
        _splits(manifest, folds=4, repeats=1, seed=0)


def test_evaluate_cross_validates_one_dataset(tmp_path: Path) -> None:
    manifest = _dataset(tmp_path / "d", n=48)
    run = evaluate(manifest, None, sizes=[12, 1000], repeats=2, folds=4, methods=["oracle", "nuisance-only"])
    assert run.dataset["protocol"] == "cross-validation"
    assert run.dataset["grouped_by"] == "patient_id"
    assert run.dataset["synthetic"] is True  # it has latent_* columns
    assert run.result.sizes == [12]
    assert any("exceeds the smallest training fold" in s["reason"] for s in run.result.skipped)
    assert len(run.result.probas["oracle"][12]) == 2  # one out-of-fold vector per repeat
    assert not np.isnan(run.result.probas["oracle"][12][0]).any()
    assert run.result.summary("oracle", 12)["auc"].mean > 0.8  # latent_x separates the classes
    metrics = run.metrics
    assert metrics["dataset"]["n_test"] == 48


def test_user_dataset_is_described_and_skips_name_the_manifest(tmp_path: Path) -> None:
    manifest = _dataset(tmp_path / "d", n=48)
    text = manifest.read_text().replace("latent_x", "score_x").replace("nuisance_y", "other_y")
    manifest.write_text(text)
    run = evaluate(manifest, None, sizes=[12], repeats=1, folds=4, methods=["oracle", "nuisance-only"])
    assert run.dataset["synthetic"] is False
    assert run.dataset["data_kind"].startswith("user dataset")
    reasons = {s["method"]: s["reason"] for s in run.result.skipped}
    assert str(manifest) in reasons["oracle"]
    assert "latent_*" in reasons["oracle"]
    assert "nuisance_*" in reasons["nuisance-only"]


def test_metrics_carry_goals_and_provenance(tmp_path: Path) -> None:
    manifest = _dataset(tmp_path / "d", n=48)
    run = evaluate(manifest, None, sizes=[12], repeats=1, folds=4, methods=["oracle", "nuisance-only"])
    metrics = run.metrics
    assert {g["goal"] for g in metrics["goals"]} >= {"≥ 0.95 × oracle"}
    prov = metrics["provenance"]
    assert prov["scafe_version"]
    assert "numpy" in prov["packages"]
    assert len(prov["datasets"]["data"]["manifest_sha256"]) == 64
    assert prov["active_extractors"]
    assert {"name", "version", "origin", "criterion", "criterion_test"} <= set(
        prov["active_extractors"][0])


def test_fail_on_goal_gates_ci(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scafe.cli import main

    manifest = _dataset(tmp_path / "d", n=48)  # random images: the library cannot reach 0.95 x oracle
    args = ["evaluate", "--data", str(manifest), "--cv", "--methods", "library+xgboost,oracle", "--sizes", "12",
            "--repeats", "1", "--folds", "4", "--out", str(tmp_path / "out"), "--no-llm"]
    assert main(args) == 0
    metrics = __import__("json").loads((tmp_path / "out" / "metrics.json").read_text())
    oracle_goal = next(g for g in metrics["goals"] if g["goal"] == "≥ 0.95 × oracle")
    assert oracle_goal["passed"] is False
    assert main([*args, "--fail-on-goal"]) == 1
    assert "goal(s) missed" in capsys.readouterr().err
