"""The OS layer on its own: raw (unrestricted) Python in a hardened child still cannot escape.

These tests bypass the static and RestrictedPython layers on purpose: they fork, call
``sandbox.jail.harden`` and then try what a policy bypass would try.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import numpy as np
import pytest

from sandbox import jail, layers_info

HEADER = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


def _probe_in_jail(tmp_path: Path, parent_pid: int) -> dict:
    """Fork, harden, try escapes; return what happened (child writes JSON on a pipe)."""
    parent_pgid = os.getpgid(parent_pid)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        results: dict = {}
        try:
            layers = jail.harden(write_fd, memory_mb=256, cpu_seconds=10)
            results["layers"] = {k: v[0] for k, v in layers.items()}

            def attempt(name, fn):
                try:
                    fn()
                    results[name] = "allowed"
                except BaseException as exc:  # noqa: BLE001
                    results[name] = type(exc).__name__

            attempt("write_file", lambda: open(tmp_path / "escape.txt", "w").write("x"))
            attempt("read_etc", lambda: open("/etc/hostname").read())
            attempt("read_numpy_source", lambda: open(np.__file__).read(10))
            import socket

            attempt("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            attempt("unix_socket", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            attempt("fork", os.fork)
            attempt("exec", lambda: os.execv("/bin/true", ["true"]))
            attempt("kill_parent", lambda: os.kill(parent_pid, 0))
            attempt("kill_parent_group", lambda: os.killpg(parent_pgid, signal.SIGTERM))
            attempt("kill_everyone", lambda: os.kill(-1, 0))
            attempt("kill_self", lambda: os.kill(os.getpid(), 0))
            attempt("alloc_10gb", lambda: bytearray(10 * 1024**3))
            attempt("raise_rlimit", lambda: __import__("resource").setrlimit(
                __import__("resource").RLIMIT_FSIZE, (1 << 30, 1 << 30)))
            attempt("mkdir", lambda: os.mkdir(tmp_path / "d"))
            attempt("unlink", lambda: os.unlink(np.__file__))
            attempt("thread", lambda: __import__("threading").Thread(target=lambda: None).start())
            results["env"] = dict(os.environ)
            attempt("list_cwd", lambda: os.listdir("."))
        except BaseException as exc:  # noqa: BLE001
            results["crash"] = repr(exc)
        os.write(write_fd, json.dumps(results).encode())
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks))


@pytest.fixture(scope="module")
def active() -> dict[str, bool]:
    """Which layers this machine supports."""
    return {name: layer["active"] for name, layer in layers_info()["layers"].items()}


def test_raw_python_in_jail_cannot_escape(tmp_path: Path, active: dict[str, bool],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    got = _probe_in_jail(tmp_path, os.getpid())
    assert "crash" not in got, got
    assert got["env"] == {}
    assert got["alloc_10gb"] == "MemoryError"
    assert got["write_file"] != "allowed"
    assert got["mkdir"] != "allowed"
    assert got["unlink"] != "allowed"
    assert not list(tmp_path.iterdir())
    assert got["read_numpy_source"] == "allowed"  # lazy imports keep working
    if active["landlock"]:
        assert got["read_etc"] == "PermissionError"
    if active["seccomp"]:
        for name in ("socket", "unix_socket", "fork", "exec", "kill_parent", "kill_parent_group", "kill_everyone"):
            assert got[name] == "PermissionError", (name, got[name])
        assert got["raise_rlimit"] == "ValueError"  # Python's wording of EPERM from prlimit64
        assert got["kill_self"] == "allowed"
        assert got["thread"] == "allowed"  # threads are clone(CLONE_THREAD): allowed by design


@pytest.mark.skipif(not HEADER.exists(), reason="kernel headers not installed")
def test_syscall_numbers_match_the_kernel_header() -> None:
    table = dict(re.findall(r"#define __NR_(\w+) (\d+)", HEADER.read_text()))
    for name, number in jail.SYSCALLS.items():
        assert int(table[name]) == number, name


def test_seccomp_program_is_well_formed() -> None:
    prog = jail.seccomp_program(1234)
    assert len(prog) < 4096  # BPF_MAXINSNS
    for index, (code, jt, jf, _k) in enumerate(prog):
        if code & 0x07 == 0x05:  # jumps stay inside the program
            assert index + 1 + max(jt, jf) < len(prog)
    assert prog[-1] == (0x06, 0, 0, 0x7FFF0000)  # default: allow
