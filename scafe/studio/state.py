"""What a running studio holds: configuration, the library, the dataset and its feature table.

The dataset is read and its features extracted (``scafe.extraction.extract``, cached) on a
background thread started with the server, so the first page answers at once and the gallery
shows the extraction's progress; bad manifest rows are kept with their reasons
(``scafe.data.dataset.load_dataset(skip_bad=True)``) and listed on the gallery page.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe import paths
from scafe.studio.jobs import JobRunner


@dataclass
class StudioConfig:
    """How a studio was started (``scafe studio`` options)."""

    root: Path | None = None  # project root holding prompts/ and feature_library/
    data: Path | None = None  # dataset folder or manifest CSV
    model: Path | None = None  # model directory written by `scafe train`
    read_only: bool = False
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    allow_remote: bool = False  # True only with an explicit --host
    workers: int = 1


@dataclass
class CaseData:
    """The dataset and everything derived from it for the case pages."""

    dataset: Any  # scafe.data.dataset.Dataset
    frame: pd.DataFrame  # features, index id (columns opaque strings)
    meta: dict[str, Any]  # FeatureTable.meta
    errors: pd.DataFrame  # failed cells
    percentiles: pd.DataFrame  # same shape as frame: percentile 0..100 of each value in its column
    labels: pd.Series  # id -> label
    proba: pd.Series | None = None  # id -> p(keloid) when a model is loaded
    aligned: pd.DataFrame | None = None  # the frame aligned to the model's features
    model_note: str = ""


class Studio:
    """Shared state of one studio server (thread-safe where pages and jobs meet)."""

    def __init__(self, config: StudioConfig) -> None:
        self.config = config
        self.root = paths.project_root(config.root)
        self.jobs = JobRunner()
        self._lock = threading.Lock()
        self._cases: CaseData | None = None
        self.cases_error: str = ""
        self.cases_progress: tuple[int, int] = (0, 0)
        self.model: Any = None
        self.model_error = ""
        self._thumbs: dict[tuple[str, int], bytes] = {}
        self._loader: threading.Thread | None = None
        self._library: tuple[tuple[Any, ...], Any] | None = None
        self._status: tuple[tuple[Any, ...], list[Any]] | None = None

    # ------------------------------------------------------------------ paths and library

    @property
    def criteria_dir(self) -> Path:
        """``<root>/prompts/criteria``."""
        return paths.criteria_dir(self.root)

    def _files_key(self) -> tuple[Any, ...]:
        """Size and mtime of every file the library's state depends on (cheap: a few dozen stats)."""
        library_dir = paths.library_dir(self.root)
        files = [library_dir / "library.json", *sorted(self.criteria_dir.glob("*.yaml")),
                 *sorted((library_dir / "extractors").glob("*/v*.py"))]
        key: list[tuple[str, int | None, int | None]] = []
        for path in files:
            try:
                stat = path.stat()
                key.append((str(path), stat.st_mtime_ns, stat.st_size))
            except OSError:
                key.append((str(path), None, None))
        return tuple(key)

    def library(self) -> Any:
        """The feature library as on disk now (re-read whenever one of its files changed)."""
        from scafe.library import Library

        key = self._files_key()
        with self._lock:
            if self._library is not None and self._library[0] == key:
                return self._library[1]
        library = Library.open(paths.library_dir(self.root), criteria_dir=self.criteria_dir)
        with self._lock:
            self._library = (key, library)
        return library

    def status(self) -> list[Any]:
        """``Library.status()`` rows, recomputed whenever a library or criteria file changed."""
        key = self._files_key()
        with self._lock:
            if self._status is not None and self._status[0] == key:
                return list(self._status[1])
        rows = self.library().status()
        with self._lock:
            self._status = (key, rows)
        return list(rows)

    # ------------------------------------------------------------------ dataset and features

    def start_loading(self) -> None:
        """Load the model, the dataset and its features on a background thread."""
        if self.config.model is not None:
            self._load_model()
        if self.config.data is None or self._loader is not None:
            return
        self._loader = threading.Thread(target=self._load_cases, name="studio-dataset", daemon=True)
        self._loader.start()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until the dataset thread finished (tests, benchmarks); True when done."""
        if self._loader is not None:
            self._loader.join(timeout)
            return not self._loader.is_alive()
        return True

    def _load_model(self) -> None:
        from scafe.classifier import ScarClassifier
        from scafe.errors import ScafeError

        try:
            self.model = ScarClassifier.load(self.config.model)  # type: ignore[arg-type]
        except ScafeError as exc:
            self.model_error = str(exc)

    def _load_cases(self) -> None:
        from scafe.data.dataset import load_dataset
        from scafe.errors import ScafeError
        from scafe.extraction import WorkItem, extract_items, library_specs

        try:
            dataset = load_dataset(self.config.data, skip_bad=True)  # type: ignore[arg-type]
            if not dataset.cases:
                raise_empty(dataset)
            items = [WorkItem(str(c.id), str(c.image_path), str(c.mask_path), loader=c.load) for c in dataset.cases]
            specs, version = library_specs(self.library())
            total = len(items)
            self.cases_progress = (0, total)

            def advance(k: int) -> None:
                done, _ = self.cases_progress
                self.cases_progress = (done + k, total)

            table = extract_items(items, specs, library_version=version, workers=self.config.workers,
                                  on_image=advance)
            self.set_cases(dataset, table)
        except ScafeError as exc:
            self.cases_error = str(exc)
        except Exception as exc:  # the page must say what went wrong rather than hang on "loading"
            self.cases_error = f"{type(exc).__name__}: {exc}"

    def set_cases(self, dataset: Any, table: Any) -> None:
        """Install a dataset and its ``FeatureTable`` (also used by tests and benchmarks)."""
        frame = table.frame
        percentiles = frame.rank(pct=True, method="max") * 100.0
        labels = pd.Series({str(c.id): c.label for c in dataset.cases})
        data = CaseData(dataset=dataset, frame=frame, meta=dict(table.meta), errors=table.errors,
                        percentiles=percentiles, labels=labels)
        if self.model is not None:
            self._predict(data)
        with self._lock:
            self._cases = data

    def _predict(self, data: CaseData) -> None:
        from scafe.errors import ScafeError

        try:
            aligned, comp = self.model.align(data.frame, feature_meta=data.meta.get("features"),
                                             library_version=data.meta.get("library_version"),
                                             allow_missing=True)
        except ScafeError as exc:
            data.model_note = str(exc)
            return
        data.aligned = aligned
        data.proba = pd.Series(self.model.predict_proba(aligned)[:, 1], index=aligned.index)
        if not comp.ok:
            data.model_note = (f"the model's features {comp.missing + comp.changed} are missing or from another "
                               "extractor version here; they count as missing (NaN) in the predictions")

    @property
    def cases(self) -> CaseData | None:
        """The loaded dataset, or None while loading / without ``--data``."""
        with self._lock:
            return self._cases

    def thumbnail(self, case_id: str, size: int) -> bytes:
        """PNG of the case's photograph with the mask outline (``scafe.report.figures.case_thumbnail``)."""
        import base64

        from scafe.report.figures import case_thumbnail

        key = (case_id, size)
        cached = self._thumbs.get(key)
        if cached is not None:
            return cached
        data = self.cases
        case = _case(data, case_id)
        image, mask = case.load()
        uri = case_thumbnail(image, mask, size=size)
        png = base64.b64decode(uri.split(",", 1)[1])
        if len(self._thumbs) > 4000:
            self._thumbs.clear()
        self._thumbs[key] = png
        return png


def raise_empty(dataset: Any) -> None:
    """Every row of the dataset is bad: say so with the first reasons."""
    from scafe.errors import DataError

    reasons = "; ".join(f"row {b.row}: {b.reason}" for b in dataset.bad[:3])
    raise DataError(f"The dataset at {dataset.manifest} has no usable rows ({reasons}); run `scafe data check`.")


def _case(data: CaseData | None, case_id: str) -> Any:
    from scafe.errors import UsageError

    if data is None:
        raise UsageError("No dataset is loaded; start the studio with --data DIR_OR_MANIFEST.")
    for case in data.dataset.cases:
        if str(case.id) == case_id:
            return case
    raise UsageError(f"No case {case_id!r} in this dataset.")


def find_case(data: CaseData | None, case_id: str) -> Any:
    """The ``Case`` with ``case_id``; ``UsageError`` if there is none."""
    return _case(data, case_id)


def finite(values: Any) -> np.ndarray:
    """Float array of ``values`` with NaN where not finite."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.isfinite(arr), arr, np.nan)
