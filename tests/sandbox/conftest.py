"""Fixtures of the sandbox tests: a small image/mask pair and a listening socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import numpy as np
import pytest

from tests.sandbox.helpers import small_pair


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    """A small image/mask pair."""
    return small_pair()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 that must never be connected to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()
