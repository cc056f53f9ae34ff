"""Serving a studio: a bound socket (port 0 = any free port) and uvicorn, in the foreground
(``scafe studio``) or on a thread (tests, screenshots, the benchmark)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from scafe.errors import UsageError


def bind(address: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``address:port``; ``UsageError`` when it cannot bind."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: the response head and body go out at once instead of the
    # body waiting ~40 ms for the client's delayed ACK (Nagle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"Cannot listen on {address}:{port} ({exc.strerror}); pick another --port.") from None
    return sock


def uvicorn_server(app: Any) -> Any:
    """A quiet uvicorn server for ``app`` (no access log: URLs may carry the token)."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))


class BackgroundServer:
    """``with BackgroundServer(app) as s: s.url`` serves ``app`` on a free 127.0.0.1 port in a thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sock = bind("127.0.0.1", 0)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn_server(app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name="studio-server")

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.server.started:
            raise RuntimeError("uvicorn did not start within 60 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
