"""Studio page loads on a 400-case dataset with cached features.

What is measured: wall time of one HTTP GET (or the live-validation POST) against a real
uvicorn server on 127.0.0.1, from sending the request to reading the whole body, with a
keep-alive connection and the token cookie; after one warm-up request per page, ``--repeats``
requests each. The dataset is 400 cached phantoms (seed 0, 256 px); its features come from the
extraction cache (a first run fills it), and a model trained on them is loaded so the case page
shows the prediction and TreeSHAP explanation. Works on temp copies of prompts/ and
feature_library/. Goal: every page's p95 <= 300 ms.

Keys written to ``benchmarks/results/studio.json``: ``pages`` (per page: ``median_ms``, ``p95_ms``,
``max_ms``, ``bytes``), ``first_view_60_thumbnails_ms`` (a gallery page's thumbnails rendered the
first time, sequentially), ``startup_seconds`` (dataset read + cached extraction), ``goal_ms``,
``goal_met``, ``worst`` (page and p95), machine details.

Run: ``python benchmarks/studio.py [--n 400 --repeats 20]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOAL_MS = 300.0
TOKEN = "benchmark"


def _prepare(tmp: Path, n: int) -> tuple[Path, Path, Path]:
    from scafe.classifier import ScarClassifier
    from scafe.data.dataset import load_dataset
    from scafe.data.phantoms import cached_phantom_set
    from scafe.extraction import extract
    from scafe.library import Library

    root = tmp / "project"
    root.mkdir()
    shutil.copytree(REPO / "prompts", root / "prompts")
    shutil.copytree(REPO / "feature_library", root / "feature_library")
    data = Path(cached_phantom_set(n, 0, 256))
    dataset = load_dataset(data)
    table = extract(dataset, library=Library.open(root / "feature_library"), progress=False)  # fills the cache
    model = ScarClassifier().fit(table.frame, [c.label for c in dataset.cases], feature_meta=table.meta["features"],
                                 library_version=table.meta["library_version"])
    # grades go next to the dataset: work on a copy of the manifest so the cache stays untouched
    copy = tmp / "data"
    copy.mkdir()
    shutil.copy(data / "manifest.csv", copy / "manifest.csv")
    for sub in ("images", "masks"):
        (copy / sub).symlink_to(data / sub)
    return root, copy, model.save(tmp / "model")


def _timed(conn: http.client.HTTPConnection, method: str, url: str, body: bytes | None = None) -> tuple[float, int]:
    headers = {"Cookie": f"scafe_studio={TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    conn.request(method, url, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - start) * 1000.0
    if response.status != 200:
        raise RuntimeError(f"{method} {url} answered {response.status}: {data[:300]!r}")
    return elapsed, len(data)


def main() -> None:
    """Measure every page and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    from scafe.studio import StudioConfig, create_app
    from scafe.studio.server import BackgroundServer

    with tempfile.TemporaryDirectory(prefix="scafe-bench-studio-") as tmpdir:
        tmp = Path(tmpdir)
        root, data, model = _prepare(tmp, args.n)
        started = time.perf_counter()
        app = create_app(StudioConfig(root=root, data=data, model=model, token=TOKEN))
        studio = app.app.state.studio
        studio.wait_loaded(900)
        startup = time.perf_counter() - started
        cases = studio.cases
        assert cases is not None, studio.cases_error
        column = next(c for c, m in cases.meta["features"].items() if m["item"] == "vascularity")
        case = str(cases.frame.index[len(cases.frame) // 2])
        ids = list(cases.frame.index[:5])
        for cid, grade in zip(ids, ["0", "1", "2", "3", "1"], strict=True):  # a graded item, as in use
            studio_grade(studio, cid, grade)
        vss = (root / "prompts/criteria/vss.yaml").read_text()
        pages: list[tuple[str, str, str, bytes | None]] = [
            ("overview", "GET", "/", None),
            ("criteria list", "GET", "/criteria", None),
            ("criteria item editor", "GET", "/criteria/vss/vascularity", None),
            ("live validation + prompt (POST)", "POST", "/api/criteria/vss/check",
             json.dumps({"text": vss, "item": "vascularity", "stage": "write"}).encode()),
            ("stale extractors", "GET", "/stale", None),
            ("extractors of an item (+ diff)", "GET", "/extractors/vss/vascularity?show=vss_vascularity@v3&a=2&b=3", None),
            ("case gallery (sorted by a feature)", "GET", f"/cases?sort={column}&order=desc", None),
            ("case gallery, last page", "GET", f"/cases?sort={column}&page=7", None),
            ("case (prediction + TreeSHAP)", "GET", f"/cases/{case}", None),
            ("case + nearest by item", "GET", f"/cases/{case}?near=vss/vascularity", None),
            ("grading (+ correlations)", "GET", "/grading/vss/vascularity", None),
            ("judge (rule reasoner)", "GET", f"/judge/{case}", None),
            ("thumbnail PNG (cached)", "GET", f"/img/case/{case}.png?s=160", None),
        ]
        results = {}
        with BackgroundServer(app) as server:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            for name, method, url, body in pages:
                _timed(conn, method, url, body)  # warm-up (first-use imports, thumbnail render)
                times, size = [], 0
                for _ in range(args.repeats):
                    elapsed, size = _timed(conn, method, url, body)
                    times.append(elapsed)
                times.sort()
                p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
                results[name] = {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
                                 "max_ms": round(times[-1], 1), "bytes": size, "url": url}
            # a gallery page seen for the first time: its 60 thumbnails rendered from the images
            fresh = [str(i) for i in cases.frame.index[-60:]]
            start = time.perf_counter()
            for cid in fresh:
                _timed(conn, "GET", f"/img/case/{cid}.png?s=160")
            first_view_ms = (time.perf_counter() - start) * 1000.0
            conn.close()
    worst = max(results, key=lambda k: results[k]["p95_ms"])
    goal_met = all(r["p95_ms"] <= GOAL_MS for r in results.values())
    print(f"studio page loads, {args.n} cases (cached features), {args.repeats} requests each after a warm-up")
    print(f"{'page':<40} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'KiB':>7}")
    for name, r in results.items():
        print(f"{name:<40} {r['median_ms']:>10.1f} {r['p95_ms']:>8.1f} {r['max_ms']:>8.1f} {r['bytes'] / 1024:>7.1f}")
    print(f"first view of a gallery page: its 60 thumbnails rendered in {first_view_ms:.0f} ms in total "
          f"({first_view_ms / 60:.1f} ms each; later views are cached)")
    print(f"startup (read 400-case manifest + cached extraction): {startup:.1f} s")
    margin = GOAL_MS - results[worst]["p95_ms"]
    print(f"goal p95 <= {GOAL_MS:.0f} ms on every page: {'met' if goal_met else 'MISSED'} "
          f"(worst {worst}: {results[worst]['p95_ms']:.1f} ms, margin {margin:+.1f} ms)")
    out = REPO / "benchmarks" / "results" / "studio.json"
    out.write_text(json.dumps({
        "n_cases": args.n, "repeats": args.repeats, "pages": results, "startup_seconds": round(startup, 2),
        "first_view_60_thumbnails_ms": round(first_view_ms, 1),
        "goal_ms": GOAL_MS, "goal_met": goal_met, "worst": {"page": worst, "p95_ms": results[worst]["p95_ms"],
                                                           "margin_ms": round(margin, 1)},
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
    }, indent=2) + "\n")
    print(f"wrote {out}")


def studio_grade(studio: object, case_id: str, grade: str) -> None:
    """Store one grade the way the grading page does (``scafe.studio.case_pages.grade_store``)."""
    from scafe.studio.case_pages import grade_store

    grade_store(studio).set(case_id, "vss/vascularity", grade)


if __name__ == "__main__":
    main()
