"""Host side: limits, typed outcomes, the fork-server client and :class:`ExtractorRunner`.

One :class:`ExtractorRunner` owns one jailed child serving one extractor version. Per image the
host sends raw array bytes and waits at most ``Limits.per_image_seconds``; past that it kills the
child's whole process group (the child is a session leader) and reports ``timeout``. A child that
dies is replaced by a fresh fork on the next call. Nothing a child sends is unpickled.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from sandbox import policy, transport
from sandbox.errors import (
    InputError,
    LayerUnavailable,
    SandboxConfigError,
    ServerError,
    TransportError,
)
from sandbox.server import _SERVER_ENV, ForkServer, fork_server  # noqa: F401 - re-exported
from sandbox.static import StaticResult, check_source


class Outcome(StrEnum):
    """What happened to one run of untrusted code."""

    ok = "ok"
    rejected = "rejected"
    failed = "failed"
    timeout = "timeout"
    resource_limit = "resource_limit"
    crashed = "crashed"
    invalid_output = "invalid_output"


REQUIRE_ENV = "SCAFE_SANDBOX_REQUIRE_LAYERS"
#: Larger inputs travel as a socket payload (a kept segment of that size per runner is too much).
SHARED_INPUT_MAX_BYTES = 64 * 1024 * 1024
_SHARED_INPUT_STEP = 1024 * 1024  # segment sizes are rounded up to this


def required_layers_from_env() -> tuple[str, ...]:
    """Layers named in ``SCAFE_SANDBOX_REQUIRE_LAYERS`` (``all`` means every layer)."""
    raw = os.environ.get(REQUIRE_ENV, "").strip()
    if raw.lower() == "all":
        return tuple(policy.LAYERS)
    return tuple(name.strip() for name in raw.split(",") if name.strip())


@dataclass(frozen=True)
class Limits:
    """Resource limits of one extractor child.

    Parameters
    ----------
    per_image_seconds : float
        Wall-clock deadline for one ``extract`` call including transfer (s); past it the child's
        process group is killed (outcome ``timeout``).
    total_seconds : float
        CPU-time budget of one child (s, ``RLIMIT_CPU``; outcome ``resource_limit``). A runner
        replaces its child with a fresh fork once half of it is used, so a long extraction
        never hits the limit by accumulation; only a runaway call does. ``validate`` also uses
        it as the wall-clock budget of the whole battery.
    memory_mb : int
        Address space a child may add on top of the pre-imported libraries (MiB, ``RLIMIT_AS``).
    startup_seconds : float
        Deadline for forking, hardening and executing the module body (s).
    require_layers : tuple of str
        Layers from ``sandbox.policy.LAYERS`` that must be active, else :class:`LayerUnavailable`.
        Defaults to the comma-separated ``SCAFE_SANDBOX_REQUIRE_LAYERS`` environment variable
        (``all`` = every layer), so CI can demand e.g. ``seccomp,landlock`` for every command.
    shared_input : bool
        Pass images through a shared segment the child maps read-only (``sandbox.transport``),
        where the platform has ``memfd`` and ``/proc`` and the arrays are at most
        ``SHARED_INPUT_MAX_BYTES``; otherwise (or when False) as a socket payload.
    """

    per_image_seconds: float = 10.0
    total_seconds: float = 300.0
    memory_mb: int = 2048
    startup_seconds: float = 20.0
    require_layers: tuple[str, ...] = field(default_factory=lambda: required_layers_from_env())
    shared_input: bool = True

    def __post_init__(self) -> None:
        for name in ("per_image_seconds", "total_seconds", "memory_mb", "startup_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise SandboxConfigError(f"Limits.{name} must be a positive number; got {value!r}")
        unknown = [layer for layer in self.require_layers if layer not in policy.LAYERS]
        if unknown:
            raise SandboxConfigError(
                f"Limits.require_layers (or {REQUIRE_ENV}) has unknown layers {unknown}; "
                f"known: {', '.join(policy.LAYERS)}"
            )


@dataclass
class RunResult:
    """Typed result of one extractor call (``features`` only when ``outcome`` is ``ok``)."""

    outcome: Outcome
    features: dict[str, float] | None = None
    error: str | None = None
    line: int | None = None
    seconds: float = 0.0
    inputs_modified: bool = False

    @property
    def ok(self) -> bool:
        """True when the call returned valid features."""
        return self.outcome is Outcome.ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data


@functools.lru_cache(maxsize=64)
def _check_text(source: str) -> StaticResult:
    return check_source(source)


def _checked(source: Any) -> StaticResult:
    """``check_source(source)``, remembered per exact ``str`` text (a pure function of it): a
    runner set per worker thread, or a restarted extraction, does not re-parse the same
    sources. Each caller gets its own copy."""
    if type(source) is not str:
        return check_source(source)
    hit = _check_text(source)
    return StaticResult(ok=hit.ok, line=hit.line, reason=hit.reason, modules=set(hit.modules))


def _check_pair(image: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InputError(f"image must be an (H, W, 3) uint8 RGB array; got {got}. Convert it first (scafe.data.read_image)")
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != image.shape[:2]:
        got = f"{mask.dtype} {mask.shape}" if isinstance(mask, np.ndarray) else type(mask).__name__
        raise InputError(f"mask must be an (H, W) bool array matching the image {image.shape[:2]}; got {got}")
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)


class ExtractorRunner:
    """Run one extractor source over many images in one jailed child.

    Use as a context manager. Not thread-safe: one runner per thread. ``layers`` holds the
    child's layer status after start; ``start_ms`` the fork-to-ready time.
    """

    def __init__(self, source: str, *, limits: Limits | None = None) -> None:
        self.source = source
        self.limits = limits or Limits()
        self.static: StaticResult = _checked(source)
        self.layers: dict[str, dict[str, Any]] | None = None
        self.start_ms: float | None = None
        self.last_child_cpu_seconds: float | None = None  # receive + extract CPU of the last call
        self._pid: int | None = None
        self._sock: socket.socket | None = None
        self._server: ForkServer | None = None  # the server that forked the current child
        self._child_cpu = 0.0  # CPU seconds the current child has used serving requests
        self._startup_failure: RunResult | None = None
        self._shared: transport.SharedInput | None = None  # input segment (host side)
        self._shared_pid: int | None = None  # the child that has mapped it
        self._shared_ok = bool(self.limits.shared_input) and hasattr(os, "memfd_create")

    def __enter__(self) -> ExtractorRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # a runner dropped without close(): do not leave its child waiting on a dead socket
        try:
            if self._pid is not None:
                self._kill()
        except Exception:  # noqa: BLE001 - interpreter shutdown; the child exits on EOF anyway
            pass

    def start(self) -> None:
        """Fork the child (no-op when the source was rejected or a child is running)."""
        if not self.static.ok or self._sock is not None or self._startup_failure is not None:
            return
        server = fork_server()
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        t0 = time.perf_counter()
        try:
            reply = server.request(
                {"op": "spawn", "source": self.source, "modules": sorted(self.static.modules),
                 "memory_mb": self.limits.memory_mb, "cpu_seconds": self.limits.total_seconds,
                 "require_layers": list(self.limits.require_layers)},
                fd=child_end.fileno(),
            )
        finally:
            child_end.close()
        if "pid" not in reply:
            host_end.close()
            raise ServerError(f"fork server refused to spawn: {reply.get('error')}")
        self._pid, self._sock, self._server = int(reply["pid"]), host_end, server
        self._child_cpu = 0.0
        ready = self._receive(self.limits.startup_seconds, "start-up")
        self.start_ms = (time.perf_counter() - t0) * 1000.0
        if isinstance(ready, RunResult):
            self._startup_failure = ready
            return
        self.layers = ready.get("layers")
        if ready.get("status") == "layer_missing":
            self._kill()
            details = {n: self.layers[n]["detail"] for n in ready["missing"]} if self.layers else {}
            raise LayerUnavailable(
                f"required sandbox layers are not active on this machine: {details}; "
                "run 'scafe sandbox info' and drop them from require_layers or fix the host"
            )
        if ready.get("status") != "ready":
            self._startup_failure = self._result_from_reply(ready, 0.0)
            self._kill()

    def run(self, image: np.ndarray, mask: np.ndarray, *, noncontiguous: bool = False,
            check_inputs: bool = False) -> RunResult:
        """Run ``extract(image, mask)`` in the child; see :class:`RunResult`."""
        image, mask = _check_pair(image, mask)
        if not self.static.ok:
            return RunResult(Outcome.rejected, error=self.static.reason, line=self.static.line)
        if self._startup_failure is not None:
            return RunResult(**{**self._startup_failure.__dict__})
        if self._sock is not None and self._child_cpu > 0.5 * self.limits.total_seconds:
            self.close()  # recycle: a fresh fork gets a fresh RLIMIT_CPU budget
        if self._sock is None:
            self.start()
            if self._startup_failure is not None:
                return RunResult(**{**self._startup_failure.__dict__})
        header = {"op": "run", "image": transport.array_meta(image), "mask": transport.array_meta(mask),
                  "noncontiguous": noncontiguous, "check_inputs": check_inputs}
        t0 = time.perf_counter()
        assert self._sock is not None  # start() either set it or recorded a start-up failure
        try:
            if not self._send_shared(header, image, mask):
                transport.send_frame(self._sock, header, (image, mask))
        except OSError:
            pass  # the child died; _receive reports why
        reply = self._receive(self.limits.per_image_seconds, "image")
        elapsed = time.perf_counter() - t0
        if isinstance(reply, RunResult):
            reply.seconds = elapsed
            return reply
        cpu = reply.get("cpu_seconds")
        self.last_child_cpu_seconds = float(cpu) if isinstance(cpu, int | float) else None
        self._child_cpu += self.last_child_cpu_seconds or 0.0
        return self._result_from_reply(reply, float(reply.get("seconds", elapsed)))

    def run_many(self, pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[RunResult]:
        """Run over ``(image, mask)`` pairs in order, one result per pair."""
        for image, mask in pairs:
            yield self.run(image, mask)

    def close(self) -> None:
        """Stop the child and reap it."""
        if self._sock is not None:
            try:
                transport.send_frame(self._sock, {"op": "close"})
            except OSError:
                pass
        self._kill(grace=0.5)
        if self._shared is not None:
            shared, self._shared, self._shared_pid = self._shared, None, None
            shared.close()

    # ------------------------------------------------------------------ shared input segment
    def _send_shared(self, header: dict[str, Any], image: np.ndarray, mask: np.ndarray) -> bool:
        """Send a run frame whose arrays are in the shared segment; False: use a payload."""
        need = int(image.nbytes) + int(mask.nbytes)
        if not self._shared_ok or need > SHARED_INPUT_MAX_BYTES:
            return False
        if self._shared is None or self._shared.size < need:
            size = -(-need // _SHARED_INPUT_STEP) * _SHARED_INPUT_STEP
            try:
                fresh = transport.SharedInput(size)
            except OSError:  # no memfd/sealing here: payloads from now on
                self._shared_ok = False
                return False
            if self._shared is not None:
                self._shared.close()
            self._shared, self._shared_pid = fresh, None
        readonly = None
        if self._shared_pid != self._pid:  # this child has not mapped this segment yet
            try:
                readonly = self._shared.readonly_fd()
            except OSError:  # no /proc: payloads from now on
                self._shared_ok = False
                return False
        assert self._sock is not None
        # the previous call has returned (or its child was killed): nobody reads the segment now
        self._shared.write((image, mask))
        header = {**header, "shm": True, "shm_size": self._shared.size}
        try:
            if readonly is None:
                transport.send_frame(self._sock, header)
            else:
                transport.send_frame(self._sock, {**header, "shm_new": True}, fds=(readonly,))
                self._shared_pid = self._pid
        finally:
            if readonly is not None:
                os.close(readonly)
        return True

    # ------------------------------------------------------------------ internals
    def _receive(self, seconds: float, what: str) -> dict[str, Any] | RunResult:
        assert self._sock is not None
        self._sock.settimeout(seconds)
        try:
            header, _ = transport.recv_frame(self._sock, max_header=policy.MAX_REPLY_BYTES, max_payload=0)
            return header
        except TimeoutError:
            self._kill()
            return RunResult(Outcome.timeout, error=f"no result within the {what} deadline of {seconds:g} s; "
                             "the process group was killed (make the code faster or vectorise it)")
        except TransportError as exc:
            self._kill()
            return RunResult(Outcome.invalid_output, error=f"reply rejected by the host: {exc}")
        except (EOFError, OSError):
            self._wait_exit(2.0)  # let it finish dying so its real exit status is reaped
            status = self._kill()
            return self._death_result(status)

    def _death_result(self, status: dict[str, Any]) -> RunResult:
        sig = int(status.get("signal") or 0)
        if sig == signal.SIGXCPU:
            return RunResult(Outcome.resource_limit, error=f"the child exceeded its CPU budget of "
                             f"{self.limits.total_seconds:g} s (SIGXCPU)")
        if sig == signal.SIGKILL:
            return RunResult(Outcome.resource_limit, error=f"the child was killed (SIGKILL): its CPU hard limit "
                             f"({self.limits.total_seconds:g} s + 1) or the kernel's out-of-memory killer")
        if sig == signal.SIGXFSZ:
            return RunResult(Outcome.resource_limit, error="the child tried to write a file (file size limit 0)")
        name = signal.Signals(sig).name if sig else f"exit code {status.get('exitcode')}"
        return RunResult(Outcome.crashed, error=f"the child died without a result ({name})")

    def _result_from_reply(self, reply: dict[str, Any], seconds: float) -> RunResult:
        status = reply.get("status")
        line = reply.get("line") if isinstance(reply.get("line"), int) else None
        error = str(reply.get("error"))[:4000] if reply.get("error") is not None else None
        if status == "ok":
            features, problem = transport.validate_features(reply.get("features"))
            if problem:
                return RunResult(Outcome.invalid_output, error=problem, seconds=seconds)
            return RunResult(Outcome.ok, features=features, seconds=seconds,
                             inputs_modified=bool(reply.get("inputs_modified")))
        try:
            outcome = Outcome(str(status))
        except ValueError:
            return RunResult(Outcome.invalid_output, error=f"unknown reply status {status!r}", seconds=seconds)
        return RunResult(outcome, error=error, line=line, seconds=seconds)

    def _wait_exit(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self._pid is not None and time.monotonic() < deadline:
            try:
                with open(f"/proc/{self._pid}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                        return
            except (OSError, IndexError):
                return
            time.sleep(0.005)

    def _kill(self, grace: float = 0.0) -> dict[str, Any]:
        pid, sock = self._pid, self._sock
        self._pid, self._sock = None, None
        self._shared_pid = None  # a later child (even one with a reused pid) must map it anew
        if sock is not None and grace:
            sock.settimeout(grace)
            try:
                sock.recv(1)  # EOF once the child has exited on 'close'
            except OSError:
                pass
        if sock is not None:
            sock.close()
        if pid is None:
            return {}
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
                break
            except ProcessLookupError:
                continue
            except PermissionError:
                break
        server, self._server = self._server, None
        if server is None or not server.alive():
            return {}  # its server is gone and took the child with it (parent-death signal)
        try:
            return server.request({"op": "reap", "pid": pid})
        except ServerError:
            return {}
