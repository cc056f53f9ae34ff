"""Running every active extractor on every image, through the sandbox, locally or on Dask.

Work is split by image: a *runner set* (one ``sandbox.ExtractorRunner`` per extractor version,
each its own jailed child) streams its share of the images through every extractor. Locally,
``workers`` threads each own a runner set (the threads mostly wait on the children, so the GIL
is not the bottleneck); on Dask, each task builds a runner set inside the Dask worker, so the
jail applies there too, and runs one chunk of images. Either way the cells are the same
deterministic function of (image, mask, extractor source), so both paths give identical tables.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Outcomes after which a runner's child is replaced before the next image (it may be dead).
RESTART_OUTCOMES = frozenset({"timeout", "crashed", "resource_limit"})


@dataclass(frozen=True)
class ExtractorSpec:
    """One active library entry, as extraction needs it (plain data: travels to Dask workers)."""

    name: str
    version: int
    sha256: str
    source: str
    outputs: tuple[str, ...]
    scale: str = ""
    item: str = ""
    item_name: str = ""

    @property
    def label(self) -> str:
        """``name@vK`` as shown in error reports."""
        return f"{self.name}@v{self.version}"


@dataclass
class WorkItem:
    """One image to extract: from files (``image_path``/``mask_path``) or in-memory arrays."""

    id: str
    image_path: str | None = None
    mask_path: str | None = None
    image: np.ndarray | None = None
    mask: np.ndarray | None = None
    loader: Callable[[], tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)
    #: bit depth of 16-bit images for a worker elsewhere (8..16, None = auto; "setting": this process's
    #: SCAFE_BIT_DEPTH); set by :meth:`for_transport`, so a remote Dask worker decodes as the host does
    bit_depth: int | None | str = "setting"

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(image uint8 (H,W,3), mask bool (H,W))``."""
        if self.image is not None and self.mask is not None:
            return self.image, self.mask
        if self.loader is not None:
            return self.loader()
        from scafe.extraction.decode import read_image_fast, read_mask_fast

        if self.image_path is None or self.mask_path is None:
            raise ValueError(f"work item {self.id!r} has neither arrays nor both file paths")
        # same arrays (and errors) as scafe.data.dataset.read_image/read_mask, faster for PNG
        return read_image_fast(self.image_path, bit_depth=self.bit_depth), read_mask_fast(self.mask_path)

    def for_transport(self) -> WorkItem:
        """A copy without the loader closure (Dask workers re-read from the paths, with this
        process's bit-depth setting: a worker's own environment may differ)."""
        from scafe.data.images import bit_depth_setting

        depth = bit_depth_setting() if self.bit_depth == "setting" else self.bit_depth
        return WorkItem(self.id, self.image_path, self.mask_path, self.image, self.mask, bit_depth=depth)


#: One finished cell: (image id, extractor sha256, outcome, features or None, reason).
Cell = tuple[str, str, str, dict[str, float] | None, str]


class RunnerSet:
    """Lazily started runners, one per extractor version; close with ``close()`` or ``with``."""

    def __init__(self, specs: dict[str, ExtractorSpec], limits: Any = None) -> None:
        self.specs = specs
        self.limits = limits
        self._runners: dict[str, Any] = {}

    def run(self, sha: str, image: np.ndarray, mask: np.ndarray) -> tuple[str, dict[str, float] | None, str]:
        """Run one extractor on one image; return ``(outcome, features, reason)``."""
        from sandbox import ExtractorRunner

        runner = self._runners.get(sha)
        if runner is None:
            runner = ExtractorRunner(self.specs[sha].source, limits=self.limits)
            runner.__enter__()
            self._runners[sha] = runner
        try:
            result = runner.run(image, mask)
        except Exception as exc:  # a runner that cannot even start: report the cell, keep going
            self._drop(sha)
            return "crashed", None, f"{type(exc).__name__}: {exc}"
        outcome = str(getattr(result.outcome, "value", result.outcome))
        if outcome in RESTART_OUTCOMES:
            self._drop(sha)
        reason = (result.error or "").strip()
        if result.line:
            reason = f"line {result.line}: {reason}"
        return outcome, result.features if outcome == "ok" else None, reason[:2000]

    def _drop(self, sha: str) -> None:
        runner = self._runners.pop(sha, None)
        if runner is not None:
            try:
                runner.__exit__(None, None, None)
            except Exception:  # already dead: nothing to clean up
                pass

    def close(self) -> None:
        """Stop every child."""
        for sha in list(self._runners):
            self._drop(sha)

    def __enter__(self) -> RunnerSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_item(runners: RunnerSet, item: WorkItem, shas: Iterable[str]) -> list[Cell]:
    """Load one image and run the given extractors on it; a load failure fails every cell."""
    try:
        image, mask = item.load()
    except Exception as exc:  # unreadable file: every cell of this image fails with the reason
        return [(item.id, sha, "failed", None, f"could not load image/mask: {exc}") for sha in shas]
    cells = [(item.id, sha, *runners.run(sha, image, mask)) for sha in shas]
    if cells and all(c[2] in _DEATH_OUTCOMES for c in cells):
        return [(*c[:4], c[4] + _death_hint(image, len(cells))) for c in cells]
    return cells


#: Outcomes where the child died or was killed instead of answering.
_DEATH_OUTCOMES = frozenset({"crashed", "resource_limit"})


def _death_hint(image: np.ndarray, n: int) -> str:
    """Why every extractor may have died on one image: most often its size against the memory limit."""
    height, width = image.shape[:2]
    every = "every extractor" if n > 1 else "the extractor"
    return (f"; {every} died on this image ({width}x{height} px, {image.nbytes / 2**20:.0f} MiB as RGB, "
            f"about {8 * image.nbytes / 2**20:.0f} MiB per float64 copy): it is probably too large for the "
            "sandbox's memory limit, so downscale it; SCAFE_MAX_PIXELS bounds the images scafe reads")


def run_chunk(items: list[WorkItem], todo: list[list[str]], specs: dict[str, ExtractorSpec],
              limits: Any = None) -> list[Cell]:
    """Run a chunk of images with a fresh runner set (the Dask task body)."""
    with RunnerSet(specs, limits) as runners:
        cells: list[Cell] = []
        for item, shas in zip(items, todo, strict=True):
            cells.extend(run_item(runners, item, shas))
        return cells


def run_local(items: list[WorkItem], todo: list[list[str]], specs: dict[str, ExtractorSpec], *,
              workers: int = 1, limits: Any = None) -> Iterator[list[Cell]]:
    """Yield the cells of each image (in completion order) using ``workers`` runner sets."""
    jobs: queue.Queue[int | None] = queue.Queue()
    done: queue.Queue[list[Cell] | BaseException] = queue.Queue()
    pending = [i for i, shas in enumerate(todo) if shas]
    for index in pending:
        jobs.put(index)
    n_threads = max(1, min(workers, len(pending)))
    for _ in range(n_threads):
        jobs.put(None)
    stop = threading.Event()

    def work() -> None:
        try:
            with RunnerSet(specs, limits) as runners:
                while not stop.is_set():
                    index = jobs.get()
                    if index is None:
                        return
                    done.put(run_item(runners, items[index], todo[index]))
        except BaseException as exc:  # surface to the caller instead of hanging it
            done.put(exc)

    threads = [threading.Thread(target=work, name=f"scafe-extract-{i}", daemon=True)
               for i in range(n_threads)]
    for thread in threads:
        thread.start()
    try:
        for _ in pending:
            got = done.get()
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def run_dask(items: list[WorkItem], todo: list[list[str]], specs: dict[str, ExtractorSpec], *,
             address: str, workers: int = 2, limits: Any = None,
             chunk_size: int | None = None) -> Iterator[list[Cell]]:
    """Yield cells chunk by chunk from a Dask cluster.

    ``address`` is ``"local"`` (start a ``LocalCluster`` of ``workers`` single-threaded worker
    processes, stopped afterwards) or a scheduler address ``tcp://host:port``. Dask workers must
    have scafe installed and see the image paths (shared storage) when the items are files.
    """
    try:
        import dask
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        from scafe.errors import ConfigError

        raise ConfigError("--dask needs the distributed scheduler: pip install 'scafe[dask]' "
                          f"(import failed: {exc}).") from exc
    pending = [i for i, shas in enumerate(todo) if shas]
    if not pending:
        return
    size = chunk_size or max(1, min(32, len(pending) // (4 * max(workers, 1)) or 1))
    chunks = [pending[i:i + size] for i in range(0, len(pending), size)]
    # Worker processes are daemonic by default and daemonic processes may not start children;
    # the sandbox must start its jailed child inside the worker, so turn that off.
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = (LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                dashboard_address=None, silence_logs=40)
                   if address == "local" else None)
        try:
            with Client(cluster if cluster is not None else address) as client:
                futures = [client.submit(run_chunk, [items[i].for_transport() for i in chunk],
                                         [todo[i] for i in chunk], specs, limits, pure=False)
                           for chunk in chunks]
                for future in as_completed(futures):
                    cells = future.result()
                    by_image: dict[str, list[Cell]] = {}
                    for cell in cells:
                        by_image.setdefault(cell[0], []).append(cell)
                    yield from by_image.values()
        finally:
            if cluster is not None:
                cluster.close()


def items_from_paths(rows: Iterable[tuple[str, Path | str, Path | str]]) -> list[WorkItem]:
    """``[(id, image_path, mask_path)]`` -> work items."""
    return [WorkItem(str(i), str(img), str(msk)) for i, img, msk in rows]
