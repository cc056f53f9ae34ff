"""The fork server and the jailed child (started by ``sandbox.server`` with ``python -I``).

The host starts this server once (empty environment, ``-I``); it pre-imports numpy and builds
module proxies on demand, then forks one child per extractor version. Protocol on the control
socket (``SOCK_SEQPACKET``, one JSON message each way):

* ``{"op": "spawn", "source", "modules", "memory_mb", "cpu_seconds"}`` + one passed fd (the
  child's end of a fresh stream socket) -> ``{"pid": N}``;
* ``{"op": "reap", "pid": N}`` -> ``{"pid", "exitcode", "signal"}`` (waits for that child);
* ``{"op": "preload", "modules"}`` -> ``{"ok": true}`` (import ahead of a spawn).

The child applies :func:`sandbox.jail.harden`, compiles and executes the module body with the
restricted globals, reports ``ready`` with its layer status, then answers ``run`` frames until
``close`` or EOF. Untrusted code never runs in the server.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
import types
import zlib
from typing import Any

import numpy as np

from sandbox import jail, policy, transport
from sandbox.guards import (
    EXTRACTOR_FILENAME,
    VIOLATIONS,
    ImportRefused,
    PolicyViolation,
    restricted_globals,
)
from sandbox.proxies import preload
from sandbox.static import restricted_compile

_SCALAR_TYPES = frozenset(
    {float, int, np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
     np.uint64, np.uint32, np.uint16, np.uint8}
)


def _error_reply(exc: BaseException) -> dict[str, Any]:
    """Classify an exception raised by extractor code into an outcome reply (never raises)."""
    try:
        return _classify(exc)
    except Exception as inner:  # noqa: BLE001 - e.g. str() of a 10**5-digit int in the message
        return {"status": "failed", "error": f"{type(exc).__name__} (message unprintable: {type(inner).__name__})",
                "line": None}


def _classify(exc: BaseException) -> dict[str, Any]:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == EXTRACTOR_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    if VIOLATIONS:
        vline, reason = VIOLATIONS[0]
        return {"status": "rejected", "error": reason, "line": vline or line}
    if isinstance(exc, PolicyViolation | ImportRefused):
        return {"status": "rejected", "error": str(exc), "line": line}
    if isinstance(exc, MemoryError):
        return {"status": "resource_limit", "error": f"memory limit reached (MemoryError: {exc})", "line": line}
    if isinstance(exc, RecursionError):
        return {"status": "resource_limit", "error": f"recursion limit reached: {exc}", "line": line}
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename == EXTRACTOR_FILENAME] or frames[-1:]
    text = "".join(traceback.format_list(ours)) + "".join(traceback.format_exception_only(type(exc), exc))
    return {"status": "failed", "error": text[-4000:], "line": line}


def _plain_features(result: object) -> tuple[dict[str, float] | None, str | None]:
    """Copy an extractor's return value into plain floats without running any of its code.

    Exact type checks only: a dict/str/float *subclass* could run code in ``__eq__``,
    ``__hash__`` or ``__float__``.
    """
    if type(result) is not dict:
        return None, f"extract() must return a plain dict of str -> float, got {type(result).__name__}"
    if len(result) > policy.MAX_OUTPUT_KEYS:
        return None, f"extract() returned {len(result)} keys; the limit is {policy.MAX_OUTPUT_KEYS}"
    out: dict[str, float] = {}
    for key, value in dict.items(result):
        if type(key) is not str:
            return None, f"feature keys must be plain str, got {type(key).__name__}"
        if type(value) not in _SCALAR_TYPES:
            hint = " (convert with float(...))" if isinstance(value, np.generic | np.ndarray) else ""
            return None, f"value of {key[:64]!r} must be a float, got {type(value).__name__}{hint}"
        try:
            out[key] = float(value)
        except OverflowError:  # a huge Python int
            return None, f"value of {key[:64]!r} does not fit in a float"
    return out, None


def _serve(sock: socket.socket, extract: types.FunctionType) -> None:
    shared: Any = None  # read-only mapping of the host's input segment (see sandbox.transport)
    while True:
        cpu_start = time.process_time()  # does not advance while blocked waiting for a request
        try:
            header, payload, fds = transport.recv_frame_fds(sock, max_fds=1)
        except EOFError:
            return
        if header.get("op") != "run":
            for fd in fds:
                os.close(fd)
            return
        if fds:  # a new segment: map it read-only, close the descriptor (extractor code never sees it)
            shared = transport.map_readonly(fds[0], int(header["shm_size"]))
        source = shared if header.get("shm") else payload
        if source is None:
            transport.send_frame(sock, {"status": "failed", "error": "host protocol error: no input segment",
                                        "line": None})
            return
        noncontig = bool(header.get("noncontiguous"))
        image = transport.decode_array(header["image"], source, 0, noncontiguous=noncontig)
        mask = transport.decode_array(header["mask"], source, header["image"]["nbytes"], noncontiguous=noncontig)
        del source
        check = bool(header.get("check_inputs"))
        before = (zlib.crc32(image.tobytes()), zlib.crc32(mask.tobytes())) if check else None
        VIOLATIONS.clear()
        start = time.perf_counter()
        try:
            result = extract(image, mask)
            reply: dict[str, Any] = {"status": "ok"}
        except BaseException as exc:  # noqa: BLE001 - every failure of untrusted code is an outcome
            reply = _error_reply(exc)
            result = None
        seconds = time.perf_counter() - start
        if reply["status"] == "ok":
            if VIOLATIONS:  # refused access that the extractor caught and ignored
                reply = {"status": "rejected", "error": VIOLATIONS[0][1], "line": VIOLATIONS[0][0]}
            else:
                features, problem = _plain_features(result)
                reply = {"status": "ok", "features": features} if problem is None else {
                    "status": "invalid_output", "error": problem}
        if check and reply["status"] == "ok":
            after = (zlib.crc32(image.tobytes()), zlib.crc32(mask.tobytes()))
            reply["inputs_modified"] = after != before
        reply["seconds"] = seconds
        reply["cpu_seconds"] = time.process_time() - cpu_start
        del result
        transport.send_frame(sock, reply)


def child_main(fd: int, request: dict[str, Any]) -> None:
    """Entry point of a freshly forked child: harden, load the extractor, serve requests."""
    layers = jail.harden(fd, memory_mb=int(request["memory_mb"]), cpu_seconds=float(request["cpu_seconds"]))
    layers["static_policy"] = (True, "AST allowlist, size/nesting caps, ASCII identifiers (checked by host)")
    layers["restricted_python"] = (True, "RestrictedPython compile + own guards, module proxies")
    sock = socket.socket(fileno=fd)
    status = {name: {"active": bool(ok), "detail": detail} for name, (ok, detail) in layers.items()}
    missing = [name for name in request.get("require_layers", []) if not status.get(name, {}).get("active")]
    if missing:
        transport.send_frame(sock, {"status": "layer_missing", "missing": missing, "layers": status})
        return
    try:
        code = restricted_compile(request["source"])
    except SyntaxError as exc:
        transport.send_frame(sock, {"status": "rejected", "error": str(exc), "line": exc.lineno, "layers": status})
        return
    namespace = restricted_globals()
    try:
        exec(code, namespace)  # the module body: imports and function definitions
    except BaseException as exc:  # noqa: BLE001
        transport.send_frame(sock, {**_error_reply(exc), "layers": status})
        return
    extract = namespace.get("extract")
    if type(extract) is not types.FunctionType:
        transport.send_frame(sock, {"status": "failed", "error": "the module defines no function 'extract(image, mask)'",
                                    "line": None, "layers": status})
        return
    transport.send_frame(sock, {"status": "ready", "layers": status})
    _serve(sock, extract)


def server_main(ctrl_fd: int) -> None:
    """Serve spawn/reap requests on ``ctrl_fd`` until the host closes it."""
    ctrl = socket.socket(fileno=ctrl_fd)
    preload(["numpy", "math"])
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(ctrl, 1 << 20, 1)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        if request.get("op") == "spawn" and len(fds) == 1:
            reply = _spawn(ctrl, fds[0], request)
        elif request.get("op") == "reap":
            reply = _reap(int(request["pid"]))
        elif request.get("op") == "preload":
            try:
                preload(request.get("modules", []))
                reply = {"ok": True}
            except ImportError as exc:
                reply = {"error": str(exc)}
        else:
            for fd in fds:
                os.close(fd)
            reply = {"error": f"unknown request {request.get('op')!r}"}
        ctrl.send(json.dumps(reply).encode())


def _spawn(ctrl: socket.socket, fd: int, request: dict[str, Any]) -> dict[str, Any]:
    try:
        preload(request.get("modules", []))
    except ImportError as exc:
        os.close(fd)
        return {"error": f"cannot import allowed module: {exc}"}
    pid = os.fork()
    if pid == 0:  # child: never returns into the server loop
        code = 0
        try:
            ctrl.close()
            child_main(fd, request)
        except BaseException:  # noqa: BLE001 - last resort, the host sees EOF and 'crashed'
            code = 70
        os._exit(code)
    os.close(fd)
    return {"pid": pid}


def _reap(pid: int) -> dict[str, Any]:
    """Wait for one child. Children are reaped only when their host asks, so a dead child stays
    a zombie until then and its pid cannot be reused under the host's kill()."""
    try:
        _, raw = os.waitpid(pid, 0)
    except ChildProcessError:
        return {"pid": pid, "exitcode": None, "signal": 0}
    return {"pid": pid, "exitcode": os.waitstatus_to_exitcode(raw),
            "signal": os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else 0}


if __name__ == "__main__":
    server_main(int(sys.argv[1]))
