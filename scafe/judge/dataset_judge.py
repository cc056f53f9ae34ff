"""``scafe judge --data MANIFEST``: judge every mask of a dataset, write a table and a summary report.

Outputs in the chosen folder:

* ``judgements.csv`` - one row per manifest row: ``id, image, mask, verdict, confidence,
  failure_modes`` (``;``-separated), ``reasoner, verdict_source, hard_failure, error``; a row whose
  image or mask cannot be read gets ``verdict = error`` and the reason, the run goes on;
* ``summary.json`` - counts per verdict and per failure mode, and the worst cases;
* ``report.html`` - the same counts and a gallery of the worst cases (photograph with the mask
  outline): unacceptable masks, most confident first, then uncertain ones.

Ids, paths, failure modes and reasons come from the user's files (or a model) and are escaped in
the HTML and neutralised in the CSV (a leading ``= + - @`` gets an apostrophe).
"""

from __future__ import annotations

import base64
import csv
import html
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

JUDGEMENT_COLUMNS = ("id", "image", "mask", "verdict", "confidence", "failure_modes", "reasoner",
                     "verdict_source", "hard_failure", "error")
GALLERY_SIZE = 12

Judge = Callable[[np.ndarray, np.ndarray], dict[str, Any]]


def manifest_rows(manifest: str | os.PathLike[str]) -> tuple[Path, list[dict[str, str]]]:
    """``(manifest path, rows)``: each row's ``id`` (row number when absent) and resolved ``image``/``mask``."""
    import pandas as pd

    from scafe.data.dataset import resolve_manifest
    from scafe.errors import DataError

    path = resolve_manifest(manifest)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"manifest {path} is not a readable CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("image", "mask") if c not in frame.columns]
    if missing:
        raise DataError(f"manifest {path} lacks the column(s) {missing}; scafe judge --data needs image and mask.")
    rows = []
    for k, row in enumerate(frame.to_dict("records"), start=1):
        rid = str(row.get("id") or "").strip() or f"row{k}"
        rows.append({"id": rid, "image": _resolve(path.parent, row["image"]), "mask": _resolve(path.parent, row["mask"])})
    if not rows:
        raise DataError(f"manifest {path} has no rows; add rows with image and mask columns.")
    return path, rows


def _resolve(root: Path, value: str) -> str:
    p = Path(str(value).strip()).expanduser()
    return str(p if p.is_absolute() else root / p)


def judge_dataset(
    manifest: str | os.PathLike[str],
    out: Path,
    judge: Judge,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Judge every row of ``manifest`` with ``judge(image, mask)``; write the three outputs; return the summary."""
    from scafe.data.images import read_image, read_mask
    from scafe.errors import ScafeError

    manifest_path, rows = manifest_rows(manifest)
    results: list[dict[str, Any]] = []
    for k, row in enumerate(rows, start=1):
        record: dict[str, Any] = {**row, "error": ""}
        try:
            image, mask = read_image(row["image"]), read_mask(row["mask"])
            if image.shape[:2] != mask.shape:
                raise ValueError(f"mask {mask.shape[1]}x{mask.shape[0]} differs from image {image.shape[1]}x{image.shape[0]}")
            record["result"] = judge(image, mask)
        except (ScafeError, OSError, ValueError) as exc:
            record["error"] = str(exc)
        results.append(record)
        if progress is not None:
            progress(k, len(rows))
    out.mkdir(parents=True, exist_ok=True)
    _write_table(out / "judgements.csv", results)
    summary = _summary(manifest_path, results)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "report.html").write_text(_report_html(summary, results), encoding="utf-8")
    return summary


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _write_table(path: Path, results: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(JUDGEMENT_COLUMNS)
        for r in results:
            res = r.get("result") or {}
            hard = ";".join(h["rule"] for h in res.get("hard_failures", []))
            writer.writerow([_cell(r["id"]), _cell(r["image"]), _cell(r["mask"]), res.get("verdict", "error"),
                             f"{float(res.get('confidence', 0.0)):.4f}", _cell(";".join(res.get("failure_modes", []))),
                             _cell(res.get("reasoner", "")), res.get("verdict_source", res.get("reasoner", "")),
                             hard, _cell(r["error"])])
    tmp.replace(path)


def _worst(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple[int, float]:
        res = r["result"]
        rank = {"unacceptable": 0, "uncertain": 1}.get(res["verdict"], 2)
        return rank, -float(res["confidence"])

    judged = [r for r in results if "result" in r and r["result"]["verdict"] != "acceptable"]
    return sorted(judged, key=key)[:GALLERY_SIZE]


def _summary(manifest: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    verdicts = Counter(r["result"]["verdict"] if "result" in r else "error" for r in results)
    modes = Counter(m for r in results if "result" in r for m in r["result"]["failure_modes"])
    return {
        "manifest": str(manifest),
        "n": len(results),
        "verdicts": dict(sorted(verdicts.items())),
        "failure_modes": dict(modes.most_common()),
        "errors": [{"id": r["id"], "error": r["error"]} for r in results if r["error"]],
        "worst": [{"id": r["id"], "verdict": r["result"]["verdict"], "confidence": r["result"]["confidence"],
                   "failure_modes": r["result"]["failure_modes"]} for r in _worst(results)],
    }


def _report_html(summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    from scafe.data.images import read_image, read_mask
    from scafe.judge.overlay import overlay_png

    e = html.escape
    counts = "".join(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in summary["verdicts"].items())
    modes = "".join(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in summary["failure_modes"].items()) or \
        "<tr><td colspan=2>none</td></tr>"
    cards = []
    for r in _worst(results):
        res = r["result"]
        try:
            png = overlay_png(read_image(r["image"]), read_mask(r["mask"]))
            img = f'<img alt="mask outline" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        except Exception as exc:  # noqa: BLE001 - a gallery image is optional; say why it is missing
            img = f"<p>(image unavailable: {e(str(exc))})</p>"
        cards.append(
            f"<figure>{img}<figcaption><b>{e(r['id'])}</b>: {e(res['verdict'])} "
            f"({float(res['confidence']):.2f}) {e(', '.join(res['failure_modes']))}</figcaption></figure>"
        )
    return (
        "<!doctype html><meta charset=utf-8><title>scafe judge --data</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}figure{display:inline-block;width:14em;"
        "margin:.5em;vertical-align:top}figure img{width:100%}table{border-collapse:collapse}"
        "td{border:1px solid #ccc;padding:.2em .6em}</style>"
        f"<h1>Segmentation judge: {summary['n']} masks</h1><p>{e(summary['manifest'])}</p>"
        f"<h2>Verdicts</h2><table>{counts}</table><h2>Failure modes</h2><table>{modes}</table>"
        f"<h2>Worst cases</h2>{''.join(cards) or '<p>none: every mask acceptable</p>'}"
    )
