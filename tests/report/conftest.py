"""A small finished evaluation with hostile manifest text, rendered to a report, for the report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.evaluation.conftest import tiny_phantoms  # noqa: F401  (re-exported fixture)

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def small_report(tiny_phantoms, tmp_path_factory) -> dict:  # noqa: F811
    """``{"run", "html", "path", "manifest"}``: 24 phantoms (families A and B in the manifest, a hostile
    ``group_site`` value, a folder name with markup), a library-feature table with real extractor
    columns, library+xgboost / oracle / nuisance-only at n = 8, 12 with 2 repeats."""
    from scafe.data.dataset import load_dataset
    from scafe.evaluation import EvaluationRun, describe_data
    from scafe.evaluation.inputs import load_case_set
    from scafe.evaluation.methods import build_groups
    from scafe.evaluation.protocol import run_learning_curves
    from scafe.evaluation.provenance import provenance
    from scafe.extraction import FeatureTable
    from scafe.report import write_report

    root = tmp_path_factory.mktemp("rep") / "data <b>bold"
    root.mkdir()
    frame = pd.read_csv(tiny_phantoms / "manifest.csv")
    for col in ("image", "mask", "wound", "distractors"):
        frame[col] = [str((tiny_phantoms / v).resolve()) if isinstance(v, str) and v else v for v in frame[col]]
    frame["family"] = ["a", "b"] * (len(frame) // 2)
    frame["group_site"] = [HOSTILE if i % 2 else "clinic south" for i in range(len(frame))]
    manifest = root / "manifest.csv"
    frame.to_csv(manifest, index=False)
    ds = load_dataset(manifest)
    ids = [c.id for c in ds.cases]
    y = np.array([c.label == "keloid" for c in ds.cases], int)
    features = pd.DataFrame({"rim_erythema.rim_erythema_delta_a": y * 3.0 + np.linspace(0, 1, len(ids)),
                             "lesion_size.size_area_fraction": np.cos(np.arange(len(ids))) * 0.1 + 0.2},
                            index=pd.Index(ids, name="id"))
    meta = {"rim_erythema.rim_erythema_delta_a": {"extractor": "rim_erythema", "version": 3, "scale": "jsw_keloid",
                                                  "item": "rim_erythema", "item_name": "Erythema around the scar"},
            "lesion_size.size_area_fraction": {"extractor": "lesion_size", "version": 1, "scale": "jsw_keloid",
                                               "item": "size", "item_name": "Size"}}
    table = FeatureTable(frame=features, meta={"library_version": "lib-T", "features": meta})
    side = load_case_set(ds, features=table, radiomics=False, cnn=False)
    groups, skipped = build_groups(side.cases, side.cases, methods=["library+xgboost", "oracle", "nuisance-only"])
    result = run_learning_curves(groups, side.cases, side.cases, sizes=[8, 12], repeats=2, skipped=skipped)
    info = {"n_test": len(ids), "n_train_pool": len(ids), "train": str(root), "test": str(root),
            "radiomics_backend": None, **describe_data(side)}
    run = EvaluationRun(result=result, pool=side, test=side, library_version="lib-T", dataset=info,
                        provenance=provenance(datasets={"pool": ds}, library_version="lib-T",
                                              settings={"classifier": "XGBoost", "max_depth": 3}))
    path = write_report(run, root.parent / "report.html")
    return {"run": run, "path": path, "html": path.read_text(encoding="utf-8"), "manifest": manifest}
