"""Incremental extraction cache: one sqlite file in ``scafe.paths.cache_dir()``.

Key: ``(input_key, extractor_sha256)`` where ``input_key`` is the sha256 of the image bytes
followed by the mask bytes (file contents for datasets on disk, raw array bytes with shape and
dtype for in-memory arrays). Value: the outcome and the feature dict as JSON. Only results that
are a deterministic function of the inputs are stored (``ok``, ``failed``, ``invalid_output``);
``timeout``, ``resource_limit`` and ``crashed`` may depend on machine load and are retried.

Integrity: every row carries an HMAC-SHA256 over all of its fields, keyed by a random per-cache
key in ``extraction.key`` (mode 0600, beside the database). A row whose MAC does not match (a
cell edited in the sqlite file, a row copied from another cache) is a miss: it is recomputed,
overwritten, and counted in :attr:`ExtractionCache.rejected` (extraction warns about it). This
protects against edits of the database alone, not against someone who can also read the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np

from scafe.paths import cache_dir

CACHEABLE_OUTCOMES = frozenset({"ok", "failed", "invalid_output"})
KEY_NAME = "extraction.key"
# v2: rows carry a MAC; the old unprotected ``cells`` table is ignored (its rows are never trusted)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cells_v2 (
    input_key TEXT NOT NULL,
    extractor_sha TEXT NOT NULL,
    outcome TEXT NOT NULL,
    features TEXT,
    reason TEXT,
    mac TEXT NOT NULL,
    PRIMARY KEY (input_key, extractor_sha)
)
"""


def _cache_key(directory: Path) -> bytes:
    """The per-cache HMAC key, created (0600, exclusively) on first use."""
    path = directory / KEY_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
        path.unlink()  # truncated by a crash: start a new key (every old row becomes a miss)
        return _cache_key(directory)
    with os.fdopen(fd, "wb") as handle:
        key = secrets.token_bytes(32)
        handle.write(key)
    return key


def _mac(key: bytes, input_key: str, sha: str, outcome: str, features: str | None, reason: str | None) -> str:
    payload = json.dumps([input_key, sha, outcome, features, reason], separators=(",", ":"))
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def file_pair_key(image_path: str | Path, mask_path: str | Path) -> str:
    """sha256 over the image file bytes then the mask file bytes (streamed, 1 MiB blocks).

    An explicit ``SCAFE_BIT_DEPTH`` (``--bit-depth``) changes how 16-bit files become pixels, so
    it is part of the key; the default ``auto`` is a pure function of the bytes and adds nothing
    (keys of earlier caches stay valid).
    """
    from scafe.data.images import bit_depth_setting

    digest = hashlib.sha256()
    for path in (image_path, mask_path):
        digest.update(b"\x00file\x00")
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    depth = bit_depth_setting()
    if depth is not None:
        digest.update(f"\x00bit_depth={depth}".encode())
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
        self._key = _cache_key(self.path.parent)
        #: rows found but refused because their MAC did not match (treated as misses)
        self.rejected = 0
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
                    f"SELECT input_key, outcome, features, reason, mac FROM cells_v2 "
                    f"WHERE extractor_sha = ? AND input_key IN ({marks})", [extractor_sha, *chunk])
                for key, outcome, features, reason, mac in rows:
                    expected = _mac(self._key, key, extractor_sha, outcome, features, reason)
                    if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
                        self.rejected += 1
                        continue
                    try:
                        found[key] = (outcome, json.loads(features) if features else None, reason or "")
                    except ValueError:
                        self.rejected += 1
        return found

    def put_many(self, rows: list[tuple[str, str, str, dict[str, float] | None, str]]) -> None:
        """Store ``(input_key, extractor_sha, outcome, features, reason)`` rows that are cacheable."""
        keep = []
        for k, sha, o, f, r in rows:
            if o in CACHEABLE_OUTCOMES:
                text = json.dumps(f) if f is not None else None
                keep.append((k, sha, o, text, r, _mac(self._key, k, sha, o, text, r)))
        if not keep:
            return
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO cells_v2 VALUES (?, ?, ?, ?, ?, ?)", keep)
            self._db.commit()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ExtractionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
