"""Incremental extraction cache: one sqlite file in ``scafe.paths.cache_dir()``.

Key: ``(input_key, extractor_sha256)`` where ``input_key`` is the sha256 of the image bytes
followed by the mask bytes (file contents for datasets on disk, raw array bytes with shape and
dtype for in-memory arrays). Value: the outcome and the feature dict as JSON. Only results that
are a deterministic function of the inputs are stored (``ok``, ``failed``, ``invalid_output``);
``timeout``, ``resource_limit`` and ``crashed`` may depend on machine load and are retried.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np

from scafe.paths import cache_dir

CACHEABLE_OUTCOMES = frozenset({"ok", "failed", "invalid_output"})
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    input_key TEXT NOT NULL,
    extractor_sha TEXT NOT NULL,
    outcome TEXT NOT NULL,
    features TEXT,
    reason TEXT,
    PRIMARY KEY (input_key, extractor_sha)
)
"""


def file_pair_key(image_path: str | Path, mask_path: str | Path) -> str:
    """sha256 over the image file bytes then the mask file bytes (streamed, 1 MiB blocks)."""
    digest = hashlib.sha256()
    for path in (image_path, mask_path):
        digest.update(b"\x00file\x00")
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def array_pair_key(image: np.ndarray, mask: np.ndarray) -> str:
    """sha256 over shape, dtype and bytes of the image then the mask."""
    digest = hashlib.sha256()
    for arr in (image, mask):
        arr = np.ascontiguousarray(arr)
        digest.update(f"\x00array\x00{arr.shape}{arr.dtype.str}".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


class ExtractionCache:
    """Thread-safe sqlite store of per-(input, extractor) results."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / "extraction.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # check_same_thread=False + our lock: one connection shared by the worker threads.
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")  # concurrent readers in other processes
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get_many(self, input_keys: list[str], extractor_sha: str) -> dict[str, tuple[str, Any, str]]:
        """``{input_key: (outcome, features or None, reason)}`` for the keys that are stored."""
        found: dict[str, tuple[str, Any, str]] = {}
        with self._lock:
            for start in range(0, len(input_keys), 500):  # sqlite parameter limit
                chunk = input_keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT input_key, outcome, features, reason FROM cells "
                    f"WHERE extractor_sha = ? AND input_key IN ({marks})", [extractor_sha, *chunk])
                for key, outcome, features, reason in rows:
                    found[key] = (outcome, json.loads(features) if features else None, reason or "")
        return found

    def put_many(self, rows: list[tuple[str, str, str, dict[str, float] | None, str]]) -> None:
        """Store ``(input_key, extractor_sha, outcome, features, reason)`` rows that are cacheable."""
        keep = [(k, s, o, json.dumps(f) if f is not None else None, r)
                for k, s, o, f, r in rows if o in CACHEABLE_OUTCOMES]
        if not keep:
            return
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?)", keep)
            self._db.commit()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ExtractionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
