"""``atomic_write`` from many threads at once: every write lands whole, none fails, nothing is left over.

The engineer evaluates items in parallel threads, and two of them may write the same cache file
at once (a fresh clone's first run did: the second thread's temp file had been renamed away).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scafe.library.store import atomic_write


def test_concurrent_writers_of_one_path(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "set.npz"
    payloads = [bytes([i]) * 200_000 for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda data: atomic_write(target, data), payloads))
    assert target.read_bytes() in payloads
    assert sorted(p.name for p in target.parent.iterdir()) == ["set.npz"]
