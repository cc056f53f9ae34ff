"""Extraction speed: the active feature library (sandboxed) vs PyRadiomics, scaling, memory.

Same phantoms for both (``cached_phantom_set(n, seed, 512)``, 512x512 RGB and their masks):

- ``library_images_per_s``: every active extractor through ``sandbox.ExtractorRunner`` (one
  runner set, each image read from PNG once and streamed through every jailed child);
- ``pyradiomics_images_per_s``: PyRadiomics 3.0.1, shape2D + firstorder + glcm + glszm,
  ``force2D``, on the luminance image (``0.299 R + 0.587 G + 0.114 B``), default settings,
  reading the same PNGs; the two are timed on alternating 10-image chunks so that the load of
  the shared machine drifts equally over both (``extract`` end to end, with table assembly and
  child start-up, is reported in ``details.library_end_to_end_images_per_s``);
- ``speedup_vs_pyradiomics`` = library / pyradiomics (goal >= 2);
- ``scaling_2_workers`` = time(1 worker) / time(2 workers) (goal >= 1.7; the machine is shared:
  ``details.cpu_scaling_ceiling_before_after`` is what 2 processes of pure numpy work got over 1
  just before and after, the best any parallel code could show at that moment);
  ``details.workload_scaling_ceiling`` runs two independent single-worker extractions at once
  (separate processes, nothing shared) against one: the most this workload can scale here;
- ``rss_growth_5000``: streaming 5,000 images (the set reused cyclically under new ids), peak
  resident memory of this process plus its children over the run, relative to the level after
  the first 5 % of images: (peak - early) / early (goal <= 0.10).

Run: ``python benchmarks/extraction.py [--n 200] [--n-pyradiomics 200] [--stream 5000]``.
Prints a table and writes ``benchmarks/results/extraction.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np

# Running ``python benchmarks/extraction.py`` puts benchmarks/ first on sys.path, where a sibling
# benchmark named ``sandbox.py`` would shadow the real ``sandbox`` package: drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

RESULTS = Path(__file__).resolve().parent / "results" / "extraction.json"
GOALS = {"speedup_vs_pyradiomics": 2.0, "scaling_2_workers": 1.7, "rss_growth_5000": 0.10}


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (Linux /proc)."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # a child that just exited
    return total


class RssSampler:
    """Samples the process-tree RSS every ``interval`` s in a thread; ``.samples`` = [(done, rss)]."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.samples: list[tuple[int, int]] = []
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append((self.done, _tree_rss_bytes(os.getpid())))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _items(folder: Path, repeat_to: int | None = None) -> list:
    import pandas as pd

    from scafe.extraction import WorkItem

    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str})
    rows = list(zip(manifest["id"], manifest["image"], manifest["mask"], strict=True))
    total = repeat_to or len(rows)
    return [WorkItem(f"{rows[k % len(rows)][0]}_{k}", str(folder / rows[k % len(rows)][1]),
                     str(folder / rows[k % len(rows)][2])) for k in range(total)]


def _burn(n: int) -> float:
    """Pure numpy CPU work (no I/O), seconds."""
    values = np.linspace(0.0, 1.0, 90_000).reshape(300, 300)
    start = time.perf_counter()
    for _ in range(n):
        values = np.sqrt(values + 1.0) * 0.999
    return time.perf_counter() - start


def cpu_scaling_ceiling(n: int = 2000) -> float:
    """What 2 processes of pure CPU work get over 1 on this machine right now (2.0 on 2 idle cores).

    The extraction scaling can be judged only against this: on a shared machine it is far below 2.
    """
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _burn(n)
    one = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        start = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        two = time.perf_counter() - start
    return 2.0 * one / two


def _solo_run(folder: str) -> float:
    """In a fresh process: the single-worker extraction of ``folder``, seconds (after a warm-up)."""
    from scafe.extraction import extract_items, library_specs

    specs, _ = library_specs(None)
    items = _items(Path(folder))
    extract_items(items[:2], specs, cache=False)
    start = time.perf_counter()
    extract_items(items, specs, workers=1, cache=False)
    return time.perf_counter() - start


def workload_scaling_ceiling(folder: Path) -> dict[str, float]:
    """What two *independent* single-worker extraction processes get over one, on this machine now.

    Nothing is shared between the two (own interpreter, fork server, children), so no engine
    design could scale this exact workload better; on the 2-core VM it measured far below the
    pure-numpy ceiling (memory traffic of image work competes where a tight loop does not).
    """
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as pool:
        one = pool.submit(_solo_run, str(folder)).result()
    with ProcessPoolExecutor(2) as pool:
        two = max(pool.map(_solo_run, [str(folder), str(folder)]))
    return {"ceiling": 2.0 * one / two, "seconds_one": one, "seconds_two_concurrent": two}


def bench_library(folder: Path, specs: list, workers: int) -> tuple[float, object]:
    from scafe.extraction import extract_items

    items = _items(folder)
    start = time.perf_counter()
    table = extract_items(items, specs, workers=workers, cache=False)
    return time.perf_counter() - start, table


def pyradiomics_extractor() -> object:
    """A configured ``RadiomicsFeatureExtractor`` (raises ImportError when PyRadiomics is missing)."""
    import logging

    from radiomics import featureextractor, logger

    logger.setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(force2D=True)
    extractor.disableAllFeatures()
    for family in ("shape2D", "firstorder", "glcm", "glszm"):
        extractor.enableFeatureClassByName(family)
    return extractor


def pyradiomics_one(extractor: object, item: object) -> int:
    """Read one image and mask, run PyRadiomics on the luminance image; return the feature count."""
    import SimpleITK as sitk

    from scafe.data.dataset import read_image, read_mask

    rgb = read_image(item.image_path).astype(np.float64)
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    mask = read_mask(item.mask_path).astype(np.uint8)
    result = extractor.execute(sitk.GetImageFromArray(gray[None]), sitk.GetImageFromArray(mask[None]))
    return sum(1 for key in result if key.startswith("original_"))


def bench_interleaved(folder: Path, specs: list, n_pyradiomics: int, chunk: int = 10) -> dict:
    """Library and PyRadiomics timed on alternating chunks of the same images.

    The machine is shared, so load drifts during a run; alternating 10-image chunks exposes both
    methods to the same drift. The library side is the hot path of ``extract`` (one runner set kept
    open, each image read once and streamed through every extractor).
    """
    from scafe.extraction.engine import RunnerSet, run_item

    try:
        radiomics = pyradiomics_extractor()
    except ImportError as exc:
        radiomics = None
        error = f"pyradiomics not importable: {exc}"
    by_sha = {s.sha256: s for s in specs}
    shas = list(by_sha)
    items = _items(folder)
    lib_s = rad_s = 0.0
    lib_n = rad_n = n_features = 0
    with RunnerSet(by_sha) as runners:
        run_item(runners, items[0], shas)  # start the children (not timed)
        for start in range(0, len(items), chunk):
            part = items[start:start + chunk]
            t0 = time.perf_counter()
            for item in part:
                cells = run_item(runners, item, shas)
                assert all(c[2] == "ok" for c in cells), cells
            lib_s += time.perf_counter() - t0
            lib_n += len(part)
            if radiomics is not None and rad_n < n_pyradiomics:
                t0 = time.perf_counter()
                for item in part[: n_pyradiomics - rad_n]:
                    n_features = pyradiomics_one(radiomics, item)
                    rad_n += 1
                rad_s += time.perf_counter() - t0
    out = {"library_seconds": lib_s, "library_images": lib_n}
    if radiomics is None:
        out["pyradiomics"] = {"error": error}
    else:
        out["pyradiomics"] = {"seconds": rad_s, "n": rad_n, "features": n_features}
    return out


def bench_rss(folder: Path, specs: list, stream: int) -> dict[str, float]:
    from scafe.extraction import extract_items

    items = _items(folder, repeat_to=stream)
    with RssSampler() as sampler:
        def progress(k: int) -> None:
            sampler.done += k

        start = time.perf_counter()
        extract_items(items, specs, workers=1, cache=False, on_image=progress)
        seconds = time.perf_counter() - start
    early = [rss for done, rss in sampler.samples if done >= 0.05 * stream]
    baseline = early[0] if early else sampler.samples[0][1]
    peak = max(rss for _, rss in sampler.samples)
    return {"rss_growth": (peak - baseline) / baseline, "rss_early_mb": baseline / 2**20,
            "rss_peak_mb": peak / 2**20, "seconds": seconds, "images": stream}


def main() -> None:
    """Run the benchmark, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="phantoms at 512 px (default 200)")
    parser.add_argument("--n-pyradiomics", type=int, default=200, help="images for PyRadiomics")
    parser.add_argument("--stream", type=int, default=5000, help="images streamed for RSS growth")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    from scafe.data.phantoms import cached_phantom_set
    from scafe.extraction import library_specs

    folder = Path(cached_phantom_set(args.n, args.seed, 512))
    specs, version = library_specs(None)
    # warm-up (not timed): starts the sandbox's fork server and fills the OS file cache
    from scafe.extraction import extract_items

    extract_items(_items(folder)[:2], specs, cache=False)
    load_start = os.getloadavg()
    ceiling_before = cpu_scaling_ceiling()
    t1, table = bench_library(folder, specs, workers=1)
    t2, table2 = bench_library(folder, specs, workers=2)
    ceiling_after = cpu_scaling_ceiling()
    workload = workload_scaling_ceiling(folder)
    identical = bool(np.array_equal(table.frame.to_numpy(), table2.frame.to_numpy(), equal_nan=True))
    paired = bench_interleaved(folder, specs, args.n_pyradiomics)
    radiomics = paired["pyradiomics"]
    rss = bench_rss(folder, specs, args.stream)
    lib_rate = paired["library_images"] / paired["library_seconds"]
    rad_rate = radiomics["n"] / radiomics["seconds"] if "seconds" in radiomics else None
    result = {
        "library_images_per_s": lib_rate,
        "pyradiomics_images_per_s": rad_rate,
        "speedup_vs_pyradiomics": lib_rate / rad_rate if rad_rate else None,
        "scaling_2_workers": t1 / t2,
        "rss_growth_5000": rss["rss_growth"],
        "goals": GOALS,
        "details": {
            "images": args.n, "size_px": 512, "seed": args.seed, "library_version": version,
            "extractors": [s.label for s in specs], "features": int(table.frame.shape[1]),
            "failed_cells": int(len(table.errors)), "seconds_1_worker": t1, "seconds_2_workers": t2,
            "two_workers_identical": identical, "pyradiomics": radiomics, "rss": rss,
            "library_end_to_end_images_per_s": args.n / t1, "interleaved": paired,
            "cpu_scaling_ceiling_before_after": [ceiling_before, ceiling_after],
            "workload_scaling_ceiling": workload,
            "load_average_start_end": [load_start, os.getloadavg()],
            "cpus": os.cpu_count(), "python": platform.python_version(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=float) + "\n")
    rows = [
        ("library_images_per_s", lib_rate, None),
        ("pyradiomics_images_per_s", rad_rate, None),
        ("speedup_vs_pyradiomics", result["speedup_vs_pyradiomics"], ">= 2"),
        ("scaling_2_workers", result["scaling_2_workers"], ">= 1.7"),
        ("  (2-process numpy ceiling)", (ceiling_before + ceiling_after) / 2, "2.0 if idle"),
        ("  (2 independent extractions)", workload["ceiling"], "the most any engine could get"),
        ("rss_growth_5000", rss["rss_growth"], "<= 0.10"),
    ]
    print(f"{'metric':28s} {'value':>10s}  goal")
    for name, value, goal in rows:
        shown = f"{value:10.3f}" if value is not None else f"{'n/a':>10s}"
        print(f"{name:28s} {shown}  {goal or ''}")
    print(f"({len(specs)} extractors, {table.frame.shape[1]} features, {args.n} images at 512 px; "
          f"PyRadiomics: {radiomics.get('features', radiomics.get('error'))} features on "
          f"{radiomics.get('n', 0)} images; RSS {rss['rss_early_mb']:.0f} -> peak "
          f"{rss['rss_peak_mb']:.0f} MB over {args.stream} images) -> {RESULTS}")


if __name__ == "__main__":
    main()
