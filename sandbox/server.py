"""The host's client of the pre-imported fork server (no numpy import: the CLI starts it first).

One server process per host process (restarted after a host ``fork`` or when it died). It is
started with ``python -I`` and an environment holding only thread-count settings, so the host's
``OPENAI_API_KEY`` and everything else in its environment never reach a jailed child.
:meth:`ForkServer.prefetch` lets a caller ask for module imports without waiting, so the server
imports scipy/skimage while the host is still importing its own modules.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Any

from sandbox.errors import ServerError

# ``-I`` ignores PYTHONPATH and the user site; put this sandbox package's parent first on
# sys.path so the server runs the same code as the host, installed or not.
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from sandbox.worker import server_main; server_main(int(sys.argv[2]))"

_SERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


class ForkServer:
    """Client of one pre-imported fork server process (one per host process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        host_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        debug = os.environ.get("SCAFE_SANDBOX_DEBUG") == "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _PACKAGE_PARENT, str(server_end.fileno())],
            env=dict(_SERVER_ENV),  # no API keys, no proxies, nothing of the host's environment
            pass_fds=(server_end.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if debug else subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            start_new_session=True,
        )
        server_end.close()
        self.ctrl = host_end
        self.pid = os.getpid()
        self.pending = 0  # prefetch replies not read yet

    def prefetch(self, modules: list[str] | set[str]) -> None:
        """Ask the server to import ``modules`` now; the reply is collected by the next request."""
        data = json.dumps({"op": "preload", "modules": sorted(modules)}).encode()
        with self.lock:
            try:
                self.ctrl.send(data)
                self.pending += 1
            except OSError:
                pass  # a dead server is noticed (and replaced) by the next request

    def request(self, message: dict[str, Any], fd: int | None = None) -> dict[str, Any]:
        """Send one control message (optionally passing ``fd``) and return the reply."""
        data = json.dumps(message, ensure_ascii=False).encode()  # UTF-8: a 64 KB source stays ~64 KB
        with self.lock:
            try:
                while self.pending:  # replies to prefetches come first, in order
                    self.pending -= 1
                    self.ctrl.recv(1 << 16)
                if fd is None:
                    self.ctrl.send(data)
                else:
                    socket.send_fds(self.ctrl, [data], [fd])
                reply = self.ctrl.recv(1 << 16)
            except OSError as exc:
                raise ServerError(f"sandbox fork server is gone ({exc}); it is restarted on the next runner") from exc
        if not reply:
            raise ServerError("sandbox fork server closed its socket; see SCAFE_SANDBOX_DEBUG=1 for its stderr")
        return json.loads(reply)

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.proc.poll() is None

    def shutdown(self) -> None:
        """Stop the server (its children notice EOF on their own sockets)."""
        try:
            self.ctrl.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


_server: ForkServer | None = None
_server_lock = threading.Lock()


def fork_server() -> ForkServer:
    """The fork server of this host process, started on first use (and after a host fork)."""
    global _server
    with _server_lock:
        if _server is None or _server.pid != os.getpid() or not _server.alive():
            if _server is not None and _server.pid == os.getpid():
                _server.shutdown()  # a dead server: close our socket end and reap the process
            _server = ForkServer()
        return _server


@atexit.register
def _stop_server() -> None:
    if _server is not None and _server.pid == os.getpid():
        _server.shutdown()


