"""Framing on the host/child socket: a small JSON header plus raw bytes; never pickle.

Frame layout: ``!II`` (header length, payload length), then the UTF-8 JSON header, then the
payload. Arrays travel as raw C-order bytes with ``{"shape", "dtype"}`` in the header; only
``uint8`` images and ``bool`` masks are accepted. Results are JSON ``str -> float`` maps that the
host re-validates (:func:`validate_features`), so a hostile child can at worst send a wrong
number, never an object.

Shared input segment (Linux): instead of the payload, the host may write the image and mask into
a sealed ``memfd`` (:class:`SharedInput`) and pass the child, once, a descriptor of it reopened
**read-only** (``SCM_RIGHTS`` on the first frame that needs it; header ``shm_new``). The child
maps it ``PROT_READ`` and closes the descriptor at once; a read-only descriptor cannot be mapped
writable, written, truncated or grown, so the host's segment stays the host's. Each frame says
``"shm": true`` and the arrays' offsets are the same as in a payload. This saves the two socket
copies per image and child (the host writes the segment once per call).
"""

from __future__ import annotations

import array
import json
import math
import mmap
import os
import re
import socket
import struct
from typing import Any

import numpy as np

from sandbox import policy
from sandbox.errors import TransportError

_PREFIX = struct.Struct("!II")
MAX_HEADER_BYTES = 1_000_000
MAX_PAYLOAD_BYTES = 256 * 1024 * 1024  # a 2048x1536x3 image is 9.4 MB; 8K x 8K RGB is 192 MB
_ARRAY_DTYPES = {"|u1": np.uint8, "|b1": np.bool_}


def send_frame(sock: socket.socket, header: dict[str, Any], payloads: tuple[Any, ...] = (),
               fds: tuple[int, ...] = ()) -> None:
    """Send one frame; ``payloads`` are buffers concatenated after the header; ``fds`` are
    passed with the frame's first bytes (``SCM_RIGHTS``)."""
    head = json.dumps(header, separators=(",", ":"), allow_nan=True).encode()
    views = [memoryview(p).cast("B") for p in payloads]
    total = sum(v.nbytes for v in views)
    first = _PREFIX.pack(len(head), total) + head
    if fds:
        sent = sock.sendmsg([first], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        if sent < len(first):
            sock.sendall(first[sent:])
    else:
        sock.sendall(first)
    for view in views:
        sock.sendall(view)


def _recv_exact(sock: socket.socket, size: int) -> bytearray:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise EOFError("peer closed the connection")
        got += n
    return buf


def recv_frame(
    sock: socket.socket, *, max_header: int = MAX_HEADER_BYTES, max_payload: int = MAX_PAYLOAD_BYTES
) -> tuple[dict[str, Any], bytearray]:
    """Receive one frame; raise :class:`TransportError` on caps or malformed JSON, EOFError on EOF."""
    head_len, payload_len = _PREFIX.unpack(bytes(_recv_exact(sock, _PREFIX.size)))
    return _recv_rest(sock, head_len, payload_len, max_header, max_payload)


def recv_frame_fds(
    sock: socket.socket, *, max_fds: int = 1, max_header: int = MAX_HEADER_BYTES,
    max_payload: int = MAX_PAYLOAD_BYTES,
) -> tuple[dict[str, Any], bytearray, list[int]]:
    """:func:`recv_frame` that also accepts up to ``max_fds`` passed descriptors (the caller
    owns and must close them); more than that, or a truncated control message, is an error."""
    msg, fds, flags, _ = socket.recv_fds(sock, _PREFIX.size, max_fds)
    try:
        if not msg:
            raise EOFError("peer closed the connection")
        if flags & socket.MSG_CTRUNC:
            raise TransportError("too many descriptors passed with a frame")
        prefix = bytes(msg) + (bytes(_recv_exact(sock, _PREFIX.size - len(msg))) if len(msg) < _PREFIX.size else b"")
        head_len, payload_len = _PREFIX.unpack(prefix)
        header, payload = _recv_rest(sock, head_len, payload_len, max_header, max_payload)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return header, payload, list(fds)


def _recv_rest(sock: socket.socket, head_len: int, payload_len: int, max_header: int,
               max_payload: int) -> tuple[dict[str, Any], bytearray]:
    if head_len > max_header or payload_len > max_payload:
        raise TransportError(
            f"frame too large (header {head_len} B, payload {payload_len} B; caps {max_header}/{max_payload})"
        )
    try:
        header = json.loads(bytes(_recv_exact(sock, head_len)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransportError(f"malformed frame header: {exc}") from None
    if not isinstance(header, dict):
        raise TransportError(f"frame header must be a JSON object, got {type(header).__name__}")
    payload = _recv_exact(sock, payload_len) if payload_len else bytearray()
    return header, payload


def array_meta(arr: np.ndarray) -> dict[str, Any]:
    """Header entry describing ``arr`` (sent as C-order bytes)."""
    return {"shape": list(arr.shape), "dtype": arr.dtype.str, "nbytes": int(arr.nbytes)}


def decode_array(meta: dict[str, Any], payload: bytearray | mmap.mmap, offset: int, *,
                 noncontiguous: bool = False) -> np.ndarray:
    """Rebuild a read-only array from ``payload[offset:]`` as described by ``meta``.

    With ``noncontiguous`` the values are the same but the array is a strided view (every
    other column of a wider buffer), which is how the battery tests non-contiguous inputs.
    """
    dtype = _ARRAY_DTYPES.get(str(meta.get("dtype")))
    shape = tuple(int(s) for s in meta.get("shape", ()))
    if dtype is None or not 2 <= len(shape) <= 3:
        raise TransportError(f"unsupported array {meta!r}; expected uint8 image or bool mask")
    count = math.prod(shape)
    arr: np.ndarray = np.frombuffer(payload, dtype=dtype, count=count, offset=offset).reshape(shape)
    if noncontiguous:
        wide: np.ndarray = np.zeros((shape[0], shape[1] * 2, *shape[2:]), dtype=dtype)
        wide[:, ::2] = arr
        arr = wide[:, ::2]
    arr.flags.writeable = False  # "inputs unmodified" is enforced, not just checked
    return arr


_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def normalise_key(key: str) -> str:
    """An output key in any case style -> its snake_case form (``''`` when nothing usable is left).

    ``deltaA``, ``DeltaA``, ``delta-a``, ``Delta A`` and ``DELTA_A`` all become ``delta_a``;
    ``LBPEntropy`` becomes ``lbp_entropy``. Keys are stored and namespaced in this form, so
    the feature table, the library and the criterion tests see one spelling.
    """
    text = _CAMEL_ACRONYM.sub(r"\1_\2", _CAMEL_LOWER_UPPER.sub(r"\1_\2", key))
    return _SEPARATORS.sub("_", text).strip("_").lower()


def validate_features(obj: Any) -> tuple[dict[str, float] | None, str | None]:
    """Check a decoded reply's ``features``: a ``str -> float`` map within the caps.

    Keys are accepted in any ASCII case style and normalised to snake_case
    (:func:`normalise_key`); two keys that normalise alike are refused.
    Returns ``(features, None)`` or ``(None, reason)``.
    """
    if not isinstance(obj, dict):
        return None, f"extract() must return a dict of str -> float, got {type(obj).__name__}"
    if not obj:
        return None, "extract() returned an empty dict; return at least one feature"
    if len(obj) > policy.MAX_OUTPUT_KEYS:
        return None, f"extract() returned {len(obj)} keys; the limit is {policy.MAX_OUTPUT_KEYS}"
    out: dict[str, float] = {}
    seen: dict[str, str] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not key or len(key) > policy.MAX_KEY_LENGTH:
            return None, f"feature key {key!r} must be a non-empty str of at most {policy.MAX_KEY_LENGTH} chars"
        name = normalise_key(key) if key.isascii() else ""
        if not name or not name[0].isalpha():
            return None, (f"feature key {key!r} must be ASCII words starting with a letter "
                          "(any case style; stored as snake_case, e.g. 'rim_delta_a')")
        if name in out:
            return None, f"feature keys {seen[name]!r} and {key!r} both become {name!r}; rename one"
        if type(value) not in (float, int) or isinstance(value, bool):
            return None, f"value of {key!r} must be a float, got {type(value).__name__}"
        seen[name] = key
        out[name] = float(value)
    return out, None


class SharedInput:
    """Host side of the shared input segment: a sealed ``memfd`` mapped read-write here only.

    ``readonly_fd()`` returns a fresh descriptor of it opened ``O_RDONLY`` (via
    ``/proc/self/fd``) for the child; the caller closes it after passing it. Raises ``OSError``
    where memfd or ``/proc`` is unavailable (the runner then sends payloads).
    """

    def __init__(self, size: int) -> None:
        import fcntl

        self.size = int(size)
        self.fd = os.memfd_create("scafe-sandbox-input", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.ftruncate(self.fd, self.size)
            # fixed size from now on, for the host too (a shrink would SIGBUS the host's copy)
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
            self.map = mmap.mmap(self.fd, self.size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(self.fd)
            raise

    def readonly_fd(self) -> int:
        """A new read-only descriptor of the segment (close it after sending)."""
        return os.open(f"/proc/self/fd/{self.fd}", os.O_RDONLY | os.O_CLOEXEC)

    def write(self, arrays: tuple[np.ndarray, ...]) -> None:
        """Copy C-contiguous ``arrays`` back to back from offset 0 (as a payload would be)."""
        offset = 0
        for arr in arrays:
            n = int(arr.nbytes)
            target: np.ndarray = np.frombuffer(self.map, dtype=np.uint8, count=n, offset=offset)
            np.copyto(target, np.ascontiguousarray(arr).reshape(-1).view(np.uint8))
            del target  # no export may outlive the call: close() must be able to unmap
            offset += n

    def close(self) -> None:
        """Unmap and close (the child's own mapping stays valid until it exits)."""
        try:
            self.map.close()
        finally:
            os.close(self.fd)


def map_readonly(fd: int, size: int) -> mmap.mmap:
    """Child side: map a passed segment read-only and close its descriptor."""
    try:
        return mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    finally:
        os.close(fd)
