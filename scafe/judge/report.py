"""``DIR/metrics.json`` and ``DIR/report.html`` of the judge benchmark.

The HTML is one self-contained file (PNG overlays embedded as data URLs): the method table,
per-failure-mode recall per method, timing, and example overlays - ground truth in magenta,
the judged mask in green - with each method's verdict, one example per failure mode.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from scafe.judge.bench import Benchmark
from scafe.judge.overlay import overlay_png
from scafe.judge.perturb import MODES


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def metrics_document(bench: Benchmark, results: dict[str, Any], skipped: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON written to ``metrics.json`` (no per-case predictions)."""
    return {
        "benchmark": {
            "n_phantoms": len(bench.images),
            "seed": bench.seed,
            "size": bench.size,
            "counts": bench.counts,
            "left_out_grey_zone": bench.left_out,
            "labels": "acceptable if Dice >= 0.85, unacceptable if Dice < 0.70, between left out",
            "split": "first half of the phantoms train (learned QC only), second half test (all methods)",
        },
        "methods": results["methods"],
        "sample": {k: v for k, v in results.get("sample", {}).items() if k != "indices"} | (
            {"n": len(results["sample"]["indices"])} if results.get("sample") else {}),
        "timing": results["timing"],
        "skipped": skipped or {},
        "calibration": results.get("calibration", {}),
        "ensemble": results.get("ensemble", {}),
        "protocol": ("rule thresholds, reference ranges, the learned QC and its threshold (5-fold cross-validation "
                     "grouped by phantom) are all fitted on the train phantoms; the test phantoms are only scored"),
    }


def write_metrics(path: Path, document: dict[str, Any]) -> Path:
    """Write ``metrics.json`` (NaN as null)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(document), indent=2), encoding="utf-8")
    return path


def _method_table(methods: dict[str, Any]) -> str:
    cols = ("n", "accuracy", "balanced_accuracy", "auc", "sensitivity", "specificity", "uncertain_rate")
    head = "".join(f"<th>{c}</th>" for c in ("method", *cols[:2], "accuracy 95% CI (phantom bootstrap)", *cols[2:]))
    rows = "".join(
        "<tr><td>" + html.escape(name) + "</td>" + "".join(f"<td>{_fmt(m[c])}</td>" for c in cols[:2])
        + f"<td>[{_fmt(m['accuracy_ci95'][0])}, {_fmt(m['accuracy_ci95'][1])}]</td>"
        + "".join(f"<td>{_fmt(m[c])}</td>" for c in cols[2:]) + "</tr>"
        for name, m in methods.items()
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _contrast_table(methods: dict[str, Any]) -> str:
    rows = []
    for name, m in methods.items():
        cells = "".join(
            f"<td>{_fmt(v['accuracy'])} (n={v['n']}, {v['phantoms']} phantoms)</td>"
            for v in (m.get("by_lesion_contrast", {}).get(k) or {"accuracy": None, "n": 0, "phantoms": 0}
                      for k in ("high_contrast", "low_contrast"))
        )
        rows.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    return "<table><tr><th>method</th><th>accuracy, &Delta;E &ge; 10</th><th>accuracy, &Delta;E &lt; 10</th></tr>" + "".join(rows) + "</table>"


def _mode_table(methods: dict[str, Any]) -> str:
    names = list(methods)
    head = "<th>failure mode</th>" + "".join(
        f"<th>{html.escape(n)}<br>recall of unacceptable</th><th>{html.escape(n)}<br>acceptable passed</th>" for n in names
    )
    rows = []
    for mode in MODES:
        first = methods[names[0]]["per_mode"][mode]
        cells = [f"<td>{mode} ({first['n_unacceptable']} bad / {first['n_acceptable']} ok)</td>"]
        for n in names:
            pm = methods[n]["per_mode"][mode]
            cells.append(f"<td>{_fmt(pm['recall_unacceptable'])}</td><td>{_fmt(pm['passed_acceptable'])}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _crop(region: np.ndarray, margin: int) -> tuple[slice, slice]:
    """Bounding box of ``region`` plus ``margin`` px (the whole image when empty): smaller, clearer figures."""
    if not region.any():
        return slice(None), slice(None)
    ys, xs = np.nonzero(region)
    h, w = region.shape
    return (slice(max(ys.min() - margin, 0), min(ys.max() + margin + 1, h)),
            slice(max(xs.min() - margin, 0), min(xs.max() + margin + 1, w)))


def _examples(bench: Benchmark, results: dict[str, Any], per_mode: int = 1) -> str:
    test = bench.split("test")
    predictions = results.get("predictions", {})
    blocks = []
    for mode in MODES:
        for label in ("unacceptable", "acceptable"):
            picked = [k for k, c in enumerate(test) if c.mode == mode and c.label == label][:per_mode]
            for k in picked:
                case = test[k]
                image, mask = bench.image_and_mask(case)
                truth = bench.truths[case.phantom]
                rows, cols = _crop(mask | truth, margin=16)
                png = overlay_png(image[rows, cols], mask[rows, cols], truth=truth[rows, cols])
                verdicts = ", ".join(
                    f"{html.escape(name)}: {html.escape(v[k]['verdict'])}" for name, v in predictions.items() if k < len(v)
                )
                blocks.append(
                    "<figure><img src='data:image/png;base64," + base64.b64encode(png).decode("ascii") + "'>"
                    f"<figcaption>{html.escape(case.case_id)}<br>{mode}, severity {case.severity:g}, "
                    f"Dice {case.dice:.2f} → <b>{label}</b><br>{verdicts}</figcaption></figure>"
                )
    return "".join(blocks)


def write_report(
    out_dir: Path, bench: Benchmark, results: dict[str, Any], skipped: dict[str, str] | None = None
) -> Path:
    """Write ``out_dir/report.html`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    timing = results["timing"]
    skipped_html = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in (skipped or {}).items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>scafe judge benchmark</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child{{text-align:left}}
figure{{display:inline-block;margin:6px;width:260px;vertical-align:top;font-size:12px}}img{{width:256px;image-rendering:pixelated}}</style>
</head><body>
<h1>Segmentation judge benchmark</h1>
<p>{len(bench.images)} phantoms (seed {bench.seed}, {bench.size}px); test split
{bench.counts.get('test_acceptable', 0)} acceptable / {bench.counts.get('test_unacceptable', 0)} unacceptable masks;
{bench.left_out} grey-zone masks (0.70 &le; Dice &lt; 0.85) left out. Labels come from Dice against the phantom
ground truth; the learned QC is trained on the train phantoms only.</p>
<h2>Methods (test split; positive class = unacceptable; <i>uncertain</i> counts as an error)</h2>
{_method_table(results['methods'])}
{('<p>Skipped:</p><ul>' + skipped_html + '</ul>') if skipped_html else ''}
<h2>By lesion contrast</h2>
<p>Ground-truth colour difference of lesion vs skin (CIE76 &Delta;E &ge; 10: the edge is plainly visible). Low-contrast
scars have no visible edge where the ground-truth mask ends, so no image-based judge can place the boundary to a pixel there.</p>
{_contrast_table(results['methods'])}
<h2>Per failure mode</h2>
{_mode_table(results['methods'])}
<h2>Timing</h2>
<p>Descriptors {timing['descriptors_ms_mean']:.1f} ms mean ({timing['descriptors_ms_p95']:.1f} ms p95) per case at
{timing['image_size']}px; rule reasoner {timing['rules_ms_mean']:.2f} ms; judge overhead without LLM latency
{timing['judge_overhead_ms_mean']:.1f} ms per case.</p>
<h2>Examples (magenta: ground truth; green: judged mask)</h2>
{_examples(bench, results)}
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
