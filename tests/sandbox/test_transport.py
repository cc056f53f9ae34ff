"""Host/child framing: caps, malformed frames, result validation; the static checker never crashes."""

from __future__ import annotations

import socket
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import ExtractorRunner, TransportError, check_source, transport


@pytest.fixture
def pipe():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_frame_round_trip_with_arrays(pipe) -> None:
    a, b = pipe
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    mask = np.array([[True, False, True], [False, True, False]])
    header = {"image": transport.array_meta(image), "mask": transport.array_meta(mask)}
    transport.send_frame(a, header, (image, mask))
    got, payload = transport.recv_frame(b)
    img = transport.decode_array(got["image"], payload, 0)
    msk = transport.decode_array(got["mask"], payload, got["image"]["nbytes"], noncontiguous=True)
    assert np.array_equal(img, image)
    assert np.array_equal(msk, mask)
    assert not img.flags.writeable
    assert not msk.flags.c_contiguous


def test_oversized_and_malformed_frames_are_refused(pipe) -> None:
    a, b = pipe
    a.sendall(struct.pack("!II", 10, 5_000_000))
    with pytest.raises(TransportError, match="too large"):
        transport.recv_frame(b, max_payload=1000)
    a.sendall(struct.pack("!II", 5, 0) + b"[1,2]")
    with pytest.raises(TransportError, match="JSON object"):
        transport.recv_frame(b)
    a.sendall(struct.pack("!II", 4, 0) + b"\xff\xfe{}")
    with pytest.raises(TransportError, match="malformed"):
        transport.recv_frame(b)


def test_unsupported_array_dtype_is_refused() -> None:
    with pytest.raises(TransportError, match="unsupported"):
        transport.decode_array({"shape": [2, 2], "dtype": "<f8"}, bytearray(32), 0)


@pytest.mark.parametrize(("features", "reason"), [
    ([1.0], "dict"),
    ({}, "empty"),
    ({"a": "1"}, "float"),
    ({"a": True}, "float"),
    ({"a": [1.0]}, "float"),
    ({"\u0394E": 1.0}, "ASCII"),
    ({"2d_area": 1.0}, "starting with a letter"),
    ({"**": 1.0}, "starting with a letter"),
    ({"deltaA": 1.0, "delta_a": 2.0}, "both become 'delta_a'"),
    ({"x" * 100: 1.0}, "at most"),
    ({f"k{i}": 1.0 for i in range(100)}, "limit"),
])
def test_host_validates_reply_features(features: object, reason: str) -> None:
    out, problem = transport.validate_features(features)
    assert out is None
    assert reason in problem


@pytest.mark.parametrize("key", ["deltaA", "DeltaA", "delta-a", "Delta A", "DELTA_A", "delta_a"])
def test_host_accepts_any_case_style_and_stores_snake_case(key: str) -> None:
    out, problem = transport.validate_features({key: 1.5, "LBPEntropy": 2.0})
    assert problem is None
    assert out == {"delta_a": 1.5, "lbp_entropy": 2.0}


def test_host_accepts_nan_and_ints() -> None:
    out, problem = transport.validate_features({"a": float("nan"), "b": 3})
    assert problem is None
    assert out["b"] == 3.0
    assert type(out["b"]) is float


def test_function_level_import_works_and_values_are_exact(pair) -> None:
    source = ('"""Function-level import."""\n\ndef extract(image, mask):\n    import numpy as np\n'
              '    from scipy import ndimage\n    return {"n": float(ndimage.sum(mask)), "m": float(np.mean(image))}\n')
    with ExtractorRunner(source) as runner:
        result = runner.run(*pair)
    assert result.ok, result
    assert result.features == {"n": float(pair[1].sum()), "m": float(np.mean(pair[0]))}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_checker_never_crashes_on_arbitrary_text(text: str) -> None:
    result = check_source(text)
    assert result.ok or result.reason


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["(", ")", "[", "]", "{", "}", "-", "+", "not ", "lambda:", "1", "x", ".", "_",
                                 "if ", " else ", "\n", "    ", ":", "*", "**", "'", '"', "\\", "#", "\u202e"]),
                max_size=300))
def test_checker_never_crashes_on_token_soup(parts: list[str]) -> None:
    result = check_source("".join(parts))
    assert result.ok or result.reason
