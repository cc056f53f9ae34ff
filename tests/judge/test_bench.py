"""The judge benchmark: deterministic for a seed, split by phantom, metrics that can fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scafe.errors import UsageError
from scafe.judge.bench import BenchCase, build_benchmark, run_benchmark, score
from scafe.judge.report import metrics_document, write_metrics, write_report


@pytest.fixture(scope="module")
def bench():
    return build_benchmark(4, seed=11, size=128)


def test_same_seed_same_benchmark(bench) -> None:
    again = build_benchmark(4, seed=11, size=128)
    assert [c.case_id for c in bench.cases] == [c.case_id for c in again.cases]
    assert [c.label for c in bench.cases] == [c.label for c in again.cases]
    assert all(np.array_equal(a.packed_mask, b.packed_mask) for a, b in zip(bench.cases, again.cases, strict=True))
    assert [c.descriptors for c in bench.cases] == [c.descriptors for c in again.cases]


def test_other_seed_other_benchmark(bench) -> None:
    other = build_benchmark(2, seed=12, size=128)
    assert not np.array_equal(other.images[0], bench.images[0])


def test_splits_are_by_phantom_and_grey_zone_left_out(bench) -> None:
    train = {c.phantom for c in bench.split("train")}
    test = {c.phantom for c in bench.split("test")}
    assert train == {0, 1}
    assert test == {2, 3}
    assert all(c.dice >= 0.85 or c.dice < 0.70 for c in bench.cases)
    assert bench.left_out > 0
    assert sum(bench.counts.values()) == len(bench.cases)


def test_run_benchmark_scores_both_offline_methods_and_an_extra(bench) -> None:
    calls = []

    def always_unacceptable(image, mask, descriptors):
        calls.append(mask.shape)
        return {"verdict": "unacceptable", "confidence": 0.9, "failure_modes": []}

    results = run_benchmark(bench, extra_methods={"constant": always_unacceptable}, extra_limit=5)
    methods = results["methods"]
    assert set(methods) == {"rules", "descriptors+xgboost", "constant"}
    assert methods["constant"]["n"] == 5
    assert len(calls) == 5
    assert not methods["constant"]["specificity"] > 0  # 0, or NaN when no acceptable case is in the 5
    for name in ("rules", "descriptors+xgboost"):
        assert 0.0 <= methods[name]["accuracy"] <= 1.0
        low, high = methods[name]["accuracy_ci95"]
        assert low <= methods[name]["accuracy"] <= high
        strata = methods[name]["by_lesion_contrast"]
        assert sum(v["n"] for v in strata.values()) == methods[name]["n"]
        assert set(methods[name]["per_mode"]) >= {"erosion", "wrong_structure", "near_correct"}
    assert len(bench.lesion_contrast) == 4
    assert results["timing"]["judge_overhead_ms_mean"] > 0


def test_score_counts_uncertain_as_error() -> None:
    def case(label: str, mode: str = "erosion") -> BenchCase:
        return BenchCase("c", 0, "test", mode, 1.0, "", 0.5, label, np.zeros(1, np.uint8), {}, 0.0)

    cases = [case("unacceptable"), case("unacceptable"), case("acceptable", "near_correct"), case("acceptable", "near_correct")]
    verdicts = [
        {"verdict": "unacceptable", "confidence": 0.9},
        {"verdict": "uncertain", "confidence": 0.0},
        {"verdict": "acceptable", "confidence": 0.8},
        {"verdict": "unacceptable", "confidence": 0.6},
    ]
    m = score(cases, verdicts)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["sensitivity"] == pytest.approx(0.5)
    assert m["specificity"] == pytest.approx(0.5)
    assert m["uncertain_rate"] == pytest.approx(0.25)
    assert m["per_mode"]["erosion"]["recall_unacceptable"] == pytest.approx(0.5)
    assert m["per_mode"]["near_correct"]["passed_acceptable"] == pytest.approx(0.5)


def test_report_and_metrics_files(bench, tmp_path: Path) -> None:
    results = run_benchmark(bench)
    doc = metrics_document(bench, results, {"llm": "no endpoint"})
    path = write_metrics(tmp_path / "metrics.json", doc)
    loaded = json.loads(path.read_text())
    assert loaded["methods"]["rules"]["n"] == len(bench.split("test"))
    assert loaded["skipped"]["llm"] == "no endpoint"
    html = write_report(tmp_path, bench, results, {"llm": "no endpoint"}).read_text()
    assert "descriptors+xgboost" in html
    assert "data:image/png;base64," in html


def test_too_few_phantoms_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="at least 2 phantoms"):
        build_benchmark(1)


def test_extra_methods_on_a_stratified_sample_and_every_method_scored_on_it(bench) -> None:
    test = bench.split("test")
    seen = []

    def extra(image, mask, descriptors):
        seen.append(descriptors)
        return {"verdict": "unacceptable", "confidence": 0.9, "failure_modes": []}

    results = run_benchmark(bench, extra_methods={"extra": extra}, extra_sample=6)
    chosen = results["sample"]["indices"]
    assert len(chosen) == len(seen) == 6
    assert results["sample"]["how"] == "stratified"
    assert results["positions"]["extra"] == chosen
    assert results["positions"]["rules"] == list(range(len(test)))
    assert set(results["sample"]["methods"]) == {"rules", "descriptors+xgboost", "extra"}
    assert all(m["n"] == 6 for m in results["sample"]["methods"].values())
    assert len({test[k].mode for k in chosen}) == min(6, len({c.mode for c in test}))
    again = run_benchmark(bench, extra_methods={"extra": extra}, extra_sample=6)
    assert again["sample"]["indices"] == chosen
