"""Parallel phantom generation, the phantoms/quality benchmark reports, and the demo's family (issue 15 items 2, 5)."""

from __future__ import annotations

import hashlib
import json
import runpy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.data.phantoms import generate_phantoms, render_phantom


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("family", ["a", "b"])
def test_any_worker_count_writes_byte_identical_sets(tmp_path: Path, family: str) -> None:
    one = generate_phantoms(tmp_path / "one", n=5, seed=7, size=64, workers=1, family=family)
    three = generate_phantoms(tmp_path / "three", n=5, seed=7, size=64, workers=3, family=family)
    assert _digest(one.parent) == _digest(three.parent)
    assert len(_digest(one.parent)) >= 16  # 5 x (image, mask, wound) + manifest, at least
    # a phantom depends only on (seed, index): rendered alone it has the same pixels as in the set
    alone = render_phantom(4, seed=7, size=64, family=family)
    assert np.array_equal(np.asarray(Image.open(one.parent / "images" / f"{alone.id}.png")), alone.image)
    other_seed = render_phantom(4, seed=8, size=64, family=family)
    assert not np.array_equal(other_seed.image, alone.image)


def test_phantom_benchmark_reports_the_goal_and_margin_per_family(tmp_path: Path, project_root: Path) -> None:
    module = runpy.run_path(str(project_root / "benchmarks" / "phantoms.py"))
    out = tmp_path / "bench.json"
    assert module["main"](["--n256", "2", "--n512", "0", "--workers", "1", "--families", "b", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    fam = doc["families"]["b"]
    projected = 400 / doc["rows"][0]["phantoms_per_s"]
    assert fam["projected_seconds_400_at_256"] == pytest.approx(projected, abs=0.1)
    assert fam["margin_s"] == pytest.approx(60.0 - projected, abs=0.2)
    assert fam["goal_met"] == (fam["margin_s"] >= 0)


def _metrics(family: str, ours: float, radiomics: float, cnn: float | None) -> dict:
    def row(method: str, mean: float) -> dict:
        return {"method": method, "n_train": 50, "metric": "balanced_accuracy", "mean": mean,
                "ci_low": mean - 0.02, "ci_high": mean + 0.02, "repeats": 3}

    results = [row("library+xgboost", ours), row("radiomics+mrmr+xgboost", radiomics), row("oracle", 0.9),
               row("nuisance-only", 0.5)]
    skipped = [{"method": "llm-image", "reason": "offline"}]
    if cnn is None:
        skipped.append({"method": "cnn", "reason": "torch is not installed"})
    else:
        results.append(row("cnn", cnn))
    return {"library_version": "v1", "dataset": {"family": family, "phantom_size": 64, "n_train_pool": 40,
                                                 "n_test": 40, "repeats": 3, "radiomics_backend": "scikit-image"},
            "results": results, "skipped": skipped}


def test_quality_markdown_gives_each_family_its_verdicts_and_margins(tmp_path: Path, project_root: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(project_root / "benchmarks" / "quality.py"))
    doc = {"profiles": {"a:default": _metrics("a", 0.80, 0.70, 0.72), "b:default": _metrics("b", 0.70, 0.68, None)}}
    path = tmp_path / "quality.json"
    path.write_text(json.dumps(doc))
    module["main"](["--markdown", "--out", str(path)])
    text = capsys.readouterr().out
    a_row = next(line for line in text.splitlines() if line.startswith("| a:default"))
    b_row = next(line for line in text.splitlines() if line.startswith("| b:default"))
    # a: 0.80 - (0.70 + 0.05) = +0.050 met; 0.80 - (0.72 + 0.10) = -0.020 missed; 0.80 - 0.95 * 0.9 = -0.055
    assert "| +0.050 (met) | -0.020 (MISSED) | -0.055 (MISSED) |" in a_row
    # b: 0.70 - 0.73 = -0.030 missed; no cnn -> not evaluated
    assert "| -0.030 (MISSED) | not evaluated |" in b_row
    assert "Learning curve b:default" in text
    assert "| cnn | skipped |" in text


def test_demo_refuses_an_unknown_family_with_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scafe.cli import main

    assert main(["demo", "--quick", "--no-llm", "--family", "z", "--out", str(tmp_path / "d")]) == 2
    assert "'z'" in capsys.readouterr().err.replace("\n", " ")
    assert not (tmp_path / "d").exists()


@pytest.mark.slow  # ~30 s: sandboxed extraction of 28 phantoms
def test_demo_names_its_family_in_metrics_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scafe.demo import DemoConfig, run_demo

    monkeypatch.setenv("SCAFE_CACHE", str(tmp_path / "cache"))
    config = DemoConfig(n_pool=16, n_test=12, size=64, sizes=(12,), repeats=1, family="b",
                        methods=("library+xgboost", "nuisance-only"))
    outcome = run_demo(tmp_path / "demo", config=config)
    dataset = json.loads(outcome.metrics.read_text())["dataset"]
    assert dataset["family"] == "b"
    assert Path(dataset["train"]).name.startswith("b_")
    assert "family b" in outcome.report.read_text()


def test_quality_runs_split_by_method_merge_to_the_single_run(tmp_path: Path, project_root: Path) -> None:
    from scafe.evaluation import evaluate

    module = runpy.run_path(str(project_root / "benchmarks" / "quality.py"))
    pool = generate_phantoms(tmp_path / "pool", n=30, seed=11, size=48, workers=1).parent
    test = generate_phantoms(tmp_path / "test", n=30, seed=12, size=48, workers=1).parent

    def run(methods: list[str]) -> dict:
        return module["shaped"](evaluate(pool, test, sizes=[10, 20], repeats=3, methods=methods).metrics)

    both = run(["oracle", "nuisance-only"])
    merged = module["merge_methods"](run(["oracle"]), run(["nuisance-only"]), ["nuisance-only"])
    key = ("method", "n_train", "metric")
    assert sorted(both["results"], key=lambda r: [r[k] for k in key]) == \
        sorted(merged["results"], key=lambda r: [r[k] for k in key])
    assert {r["method"] for r in merged["results"]} == {"oracle", "nuisance-only"}
    assert set(merged) == {"library_version", "dataset", "results", "skipped"}
    assert [r["methods"] for r in merged["dataset"]["runs"]] == [["oracle"], ["nuisance-only"]]
    other = run(["nuisance-only"])
    other["dataset"]["provenance"]["datasets"]["test"]["files_sha256"] = "0" * 64  # other pixels
    with pytest.raises(SystemExit, match="dataset data differs"):
        module["merge_methods"](both, other, ["nuisance-only"])
