"""The shared input segment: read-only for the child, same results as payloads, robust to
size changes and child restarts."""

from __future__ import annotations

import mmap
import os
import socket

import numpy as np
import pytest

from sandbox import ExtractorRunner, Limits, Outcome, TransportError, transport

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="needs memfd (Linux)")

SUMS = '''"""Checksums of the inputs (test fixture)."""
import numpy as np


def extract(image, mask):
    weights = np.arange(1, image.shape[1] + 1, dtype=np.float64)
    return {"image_sum": float(image.sum(dtype=np.int64)), "mask_sum": float(np.count_nonzero(mask)),
            "image_weighted": float((image[..., 1].astype(np.float64) * weights).sum()),
            "height": float(image.shape[0]), "width": float(image.shape[1])}
'''

WRITER = '''"""Tries to write its inputs (test fixture; setflags is refused statically)."""
import numpy as np


def extract(image, mask):
    hits = 0.0
    try:
        image[0, 0, 0] = 7
        hits = hits + 1.0
    except ValueError:
        pass
    try:
        np.add(image, 1, out=image)
        hits = hits + 1.0
    except ValueError:
        pass
    try:
        mask[0, 0] = True
        hits = hits + 1.0
    except ValueError:
        pass
    return {"hits": hits}
'''

SLOW_IF_WIDE = '''"""Loops forever on images wider than 100 px (test fixture)."""
import numpy as np


def extract(image, mask):
    n = int(image.shape[1])
    while n > 100:
        n = n + 1
    return {"image_sum": float(image.sum(dtype=np.int64))}
'''


def _pair(h: int, w: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8), rng.random((h, w)) > 0.5


def _expected(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    weights = np.arange(1, image.shape[1] + 1, dtype=np.float64)
    return {"image_sum": float(image.sum(dtype=np.int64)), "mask_sum": float(np.count_nonzero(mask)),
            "image_weighted": float((image[..., 1].astype(np.float64) * weights).sum()),
            "height": float(image.shape[0]), "width": float(image.shape[1])}


def test_readonly_descriptor_cannot_write_map_writable_or_resize() -> None:
    shared = transport.SharedInput(1 << 16)
    try:
        shared.write((np.full(10, 5, np.uint8),))
        fd = shared.readonly_fd()
        try:
            with pytest.raises(PermissionError):
                mmap.mmap(fd, 1 << 16, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            with pytest.raises(OSError):
                os.write(fd, b"x")
            with pytest.raises(OSError):
                os.ftruncate(fd, 1)
            view = mmap.mmap(fd, 1 << 16, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
            assert view[:10] == bytes([5] * 10)
            with pytest.raises(TypeError):
                view[0] = 1
            view.close()
        finally:
            os.close(fd)
        # sealed: not even the host can resize it
        with pytest.raises(PermissionError):
            os.ftruncate(shared.fd, 1 << 17)
    finally:
        shared.close()


def test_results_equal_payload_transport_across_size_changes() -> None:
    sizes = [(40, 30), (512, 512), (40, 30), (700, 1100), (3, 5), (512, 512)]
    pairs = [_pair(h, w, k) for k, (h, w) in enumerate(sizes)]
    with ExtractorRunner(SUMS) as shared, ExtractorRunner(SUMS, limits=Limits(shared_input=False)) as plain:
        for image, mask in pairs:
            a, b = shared.run(image, mask), plain.run(image, mask)
            assert a.ok, a
            assert b.ok, b
            assert a.features == b.features == _expected(image, mask)
        assert shared._shared is not None
        assert plain._shared is None
        assert shared._shared.size >= 700 * 1100 * 4


def test_non_contiguous_and_checked_inputs_through_the_segment() -> None:
    image, mask = _pair(64, 48, 3)
    with ExtractorRunner(SUMS) as runner:
        got = runner.run(image, mask, noncontiguous=True, check_inputs=True)
    assert got.ok, got
    assert got.features == _expected(image, mask)
    assert not got.inputs_modified


def test_child_cannot_write_the_shared_inputs() -> None:
    image, mask = _pair(32, 32, 4)
    before = image.copy()
    with ExtractorRunner(WRITER) as runner:
        for _ in range(2):
            got = runner.run(image, mask, check_inputs=True)
            assert got.ok, got
            assert got.features == {"hits": 0.0}
            assert not got.inputs_modified
            assert runner._shared is not None
            assert bytes(runner._shared.map[: image.nbytes]) == before.tobytes()
    assert np.array_equal(image, before)


def test_new_child_after_a_timeout_maps_the_segment_again() -> None:
    small, wide = _pair(20, 50, 5), _pair(20, 200, 6)
    with ExtractorRunner(SLOW_IF_WIDE, limits=Limits(per_image_seconds=3.0, startup_seconds=300.0)) as runner:
        first = runner.run(*small)
        assert first.ok
        assert runner.run(*wide).outcome is Outcome.timeout
        again = runner.run(*small)  # a fresh child: it must be handed the segment again
        assert again.ok, again
        assert again.features == first.features


def test_frame_with_too_many_descriptors_is_refused() -> None:
    a, b = socket.socketpair()
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    try:
        transport.send_frame(a, {"op": "run"}, fds=(r1, r2))
        before = len(os.listdir("/proc/self/fd"))
        with pytest.raises(TransportError):
            transport.recv_frame_fds(b, max_fds=1)
        assert len(os.listdir("/proc/self/fd")) <= before  # whatever arrived was closed
    finally:
        for fd in (r1, w1, r2, w2):
            os.close(fd)
        a.close()
        b.close()


def test_payload_frames_still_work_with_the_fd_aware_receiver() -> None:
    a, b = socket.socketpair()
    try:
        image, mask = _pair(4, 6, 7)
        transport.send_frame(a, {"image": transport.array_meta(image), "mask": transport.array_meta(mask)},
                             (image, mask))
        header, payload, fds = transport.recv_frame_fds(b, max_fds=1)
        assert fds == []
        got = transport.decode_array(header["image"], payload, 0)
        assert np.array_equal(got, image)
    finally:
        a.close()
        b.close()
