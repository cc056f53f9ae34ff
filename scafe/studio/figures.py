"""The studio's one figure of its own: an extractor's criterion-test scatter (feature vs ground truth).

The values are the criterion tests' own: the validation phantoms of
``scafe.criterion_tests.validation_set`` run through ``scafe.extraction.extract_items`` (sandbox,
cached by the bytes that ran), the tested output key from the entry's recorded validation, and
the item's current ``ground_truth`` column. Drawn with the report's style and PNG encoder
(``scafe.report.figures``).
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import numpy as np

from scafe.errors import UsageError

_CACHE: dict[tuple[str, str, str], bytes] = {}
_LOCK = threading.Lock()


def _output_column(entry: Any, frame_columns: list[str], key: str) -> str:
    """The feature-table column of ``key`` (namespaced ``<extractor>.<key>`` once that lands)."""
    try:
        from scafe.extraction.table import column_name  # type: ignore[attr-defined]

        name = column_name(entry.name, key)
        if name in frame_columns:
            return str(name)
    except ImportError:
        pass
    return key if key in frame_columns else frame_columns[0]


def criterion_values(library: Any, entry: Any) -> tuple[np.ndarray, np.ndarray, str, str, Any]:
    """``(feature, ground truth, output key, column, item)`` on the validation phantoms."""
    from scafe.criteria import find_item
    from scafe.criterion_tests import validation_set
    from scafe.extraction import ExtractorSpec, WorkItem, extract_items

    _, item = find_item(entry.criterion.ref, directory=library.criteria_dir)
    if item.ground_truth is None:
        raise UsageError(f"{entry.criterion.ref} is not observable in a photo; it has no ground truth to plot")
    key = (entry.validation.get("criterion") or {}).get("output_key") or entry.outputs[0]
    vs = validation_set()
    spec = ExtractorSpec(name=entry.name, version=int(entry.version), sha256=entry.sha256,
                         source=library.source(entry), outputs=tuple(entry.outputs),
                         scale=entry.criterion.scale, item=entry.criterion.item)
    items = [WorkItem(pid, image=img, mask=msk) for pid, img, msk in zip(vs.ids, vs.images, vs.masks, strict=True)]
    table = extract_items(items, [spec], library_version="studio-scatter")
    column = _output_column(entry, list(table.frame.columns), key)
    feature = table.frame[column].reindex(vs.ids).to_numpy(float)
    truth = vs.frame[item.ground_truth.column].reindex(vs.ids).to_numpy(float)
    return feature, truth, key, item.ground_truth.column, item


def criterion_scatter(library: Any, entry: Any) -> bytes:
    """PNG bytes of the scatter for ``entry`` (cached per source and criteria column)."""
    import matplotlib.pyplot as plt
    from scipy import stats

    from scafe.report.figures import OURS, color, to_data_uri

    feature, truth, key, column, item = criterion_values(library, entry)
    cache_key = (entry.sha256, key, column)
    with _LOCK:
        if cache_key in _CACHE:
            return _CACHE[cache_key]
    ok = np.isfinite(feature) & np.isfinite(truth)
    rho = float(stats.spearmanr(feature[ok], truth[ok]).statistic) if ok.sum() > 2 else float("nan")
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    ax.scatter(truth[ok], feature[ok], s=16, color=color(OURS), alpha=0.75, lw=0)
    ax.set_xlabel(f"{column} (phantom ground truth)")
    ax.set_ylabel(key)
    gt = item.ground_truth
    ax.set_title(f"{entry.label}: Spearman ρ {rho:+.2f} (needs {gt.direction}{gt.min_rho:g}), n={int(ok.sum())}",
                 fontsize=9.5)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    png = base64.b64decode(to_data_uri(fig).split(",", 1)[1])
    with _LOCK:
        _CACHE[cache_key] = png
    return png
