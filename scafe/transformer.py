"""``FeatureLibraryTransformer``: the feature library as a scikit-learn transformer.

Lets the library sit in a ``Pipeline`` before an ``XGBClassifier``::

    pipe = make_pipeline(FeatureLibraryTransformer(), XGBClassifier())
    pipe.fit(train_pairs, y)          # train_pairs: [(image, mask), ...] or [Case, ...]
    pipe.predict(test_pairs)

Every extractor runs in the sandbox (``scafe.extraction``); a failed cell is NaN, which
XGBoost handles natively. The transformer is stateless in the learning sense: ``fit`` only pins
the active library entries (names, versions, sha256) so that ``transform`` later extracts
exactly the features the downstream model was trained on, even if the library changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from scafe.errors import UsageError


class FeatureLibraryTransformer(TransformerMixin, BaseEstimator):
    """Sandboxed feature-library extraction with scikit-learn conventions.

    ``transform`` maps ``n`` inputs to an ``(n, d)`` float array, ``d`` = number of outputs of
    the pinned extractors (:meth:`get_feature_names_out`); cell ``(i, j)`` is output ``j`` of its
    extractor on image ``i`` or NaN when that run failed.

    Parameters
    ----------
    library : str or Path or None, default=None
        Library directory; None uses ``scafe.paths.library_dir()``.
    extractors : list of str or None, default=None
        Names of active extractors to use; None uses every active one.
    workers : int, default=1
        Runner sets in parallel (threads, each with its own jailed children).
    cache : bool, default=True
        Reuse cell results from the extraction cache.

    Attributes
    ----------
    specs_ : list of ExtractorSpec
        The pinned extractor versions (name, version, sha256, source, outputs).
    library_version_ : str
        Library version id at ``fit`` time.
    feature_names_out_ : ndarray of str
        Output column names ``<extractor>.<key>`` (``scafe.extraction.table.column_name``), in order.
    n_features_out_ : int
        ``len(feature_names_out_)``.
    errors_ : pandas.DataFrame
        Failed cells of the last ``transform`` (``id, extractor, outcome, reason``).
    """

    def __init__(self, library: str | Path | None = None, extractors: Sequence[str] | None = None,
                 workers: int = 1, cache: bool = True) -> None:
        self.library = library
        self.extractors = extractors
        self.workers = workers
        self.cache = cache

    def fit(self, X: Any = None, y: Any = None) -> FeatureLibraryTransformer:
        """Validate the parameters and pin the active extractors; returns ``self``.

        ``X`` and ``y`` are accepted for Pipeline compatibility and not used: the features are
        defined by the criteria, not learned from data.
        """
        from scafe.extraction import library_specs
        from scafe.extraction.table import column_name

        if not isinstance(self.workers, int | np.integer) or self.workers < 1:
            raise UsageError("The 'workers' parameter of FeatureLibraryTransformer must be an int "
                             f">= 1; got {self.workers!r} instead.")
        specs, version = library_specs(self.library)
        if self.extractors is not None:
            wanted = list(self.extractors)
            known = {s.name for s in specs}
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise UsageError(f"The 'extractors' parameter of FeatureLibraryTransformer names "
                                 f"{unknown}, which are not active in the library; choose from "
                                 f"{sorted(known)}.")
            specs = [s for s in specs if s.name in wanted]
        if not specs:
            raise UsageError("FeatureLibraryTransformer found no active extractor in the library "
                             f"{self.library or '(default)'}; register or activate one first.")
        self.specs_ = specs
        self.library_version_ = version
        self.feature_names_out_ = np.array([column_name(s.name, k) for s in specs for k in s.outputs], dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Extract the pinned features; ``X`` is a sequence of ``(image, mask)`` or ``Case``."""
        check_is_fitted(self, "specs_")
        from scafe.extraction import extract_items

        items = _work_items(X)
        table = extract_items(items, self.specs_, library_version=self.library_version_,
                              workers=int(self.workers), cache=bool(self.cache))
        self.errors_ = table.errors
        return table.frame.to_numpy(dtype=float)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names ``<extractor>.<key>`` (the feature-table columns), as an object array."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn protocol
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # inputs are (image, mask) pairs, not a 2-D matrix
        tags.requires_fit = True
        return tags


def _work_items(X: Any) -> list[Any]:
    """(image, mask) pairs or Case objects -> ``WorkItem`` list (ids ``row0000`` or the Case id)."""
    from scafe.extraction import WorkItem

    if isinstance(X, np.ndarray) and X.ndim >= 2 and X.dtype != object:
        raise UsageError("FeatureLibraryTransformer.transform expects a sequence of (image, mask) "
                         f"pairs or Case objects; got a numeric array of shape {X.shape} instead.")
    items = []
    for i, entry in enumerate(X):
        if hasattr(entry, "load") and hasattr(entry, "id"):
            items.append(WorkItem(str(entry.id), str(getattr(entry, "image_path", "") or "") or None,
                                  str(getattr(entry, "mask_path", "") or "") or None,
                                  loader=entry.load))
            continue
        try:
            image, mask = entry
        except (TypeError, ValueError):
            raise UsageError(f"Input {i} of FeatureLibraryTransformer.transform is a "
                             f"{type(entry).__name__}; pass (image, mask) pairs or Case objects.") from None
        image = np.asarray(image)
        mask = np.asarray(mask).astype(bool, copy=False)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise UsageError(f"Input {i}: the image must be (H, W, 3) uint8 RGB; got shape "
                             f"{image.shape} dtype {image.dtype}. Convert with scafe.data.read_image.")
        if mask.shape != image.shape[:2]:
            raise UsageError(f"Input {i}: mask shape {mask.shape} differs from the image's "
                             f"{image.shape[:2]}; they must match.")
        items.append(WorkItem(f"row{i:05d}", image=image, mask=mask))
    return items
