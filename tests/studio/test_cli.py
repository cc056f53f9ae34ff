"""``scafe studio`` as a user starts it: prints a tokened 127.0.0.1 URL, refuses requests without it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _start(args: list[str], root: Path) -> tuple[subprocess.Popen[str], str, str]:
    env = {**os.environ, "SCAFE_ROOT": str(root), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "scafe", "studio", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the server printed its URL (or exited)
    match = re.search(r"(http://\S+)/\?token=(\S+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"no URL printed: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, match.group(1), match.group(2)


def _get(url: str, cookie: str | None = None, opener: urllib.request.OpenerDirector | None = None) -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    deadline = time.monotonic() + 300  # generous: uvicorn starts slowly on a loaded machine (issue 13 s1)
    while time.monotonic() < deadline:  # the socket is bound before the URL is printed; uvicorn may still be starting
        try:
            with (opener or urllib.request.build_opener()).open(request, timeout=120) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def _stop(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    return err


def test_studio_prints_a_loopback_url_with_a_token_and_refuses_without_it(studio_root: Path) -> None:
    proc, base, token = _start(["--read-only"], studio_root)
    try:
        assert base.startswith("http://127.0.0.1:")
        assert len(token) >= 24
        assert _get(base + "/criteria") == 403
        assert _get(base + "/criteria", cookie=f"scafe_studio={token}") == 200
        import http.cookiejar

        browser_like = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert _get(base + f"/criteria?token={token}", opener=browser_like) == 200  # redirect sets the cookie
        assert _get(base + "/stale", opener=browser_like) == 200
    finally:
        _stop(proc)


def test_studio_warns_when_told_to_listen_beyond_loopback(studio_root: Path) -> None:
    proc, base, token = _start(["--host", "0.0.0.0"], studio_root)
    try:
        assert _get(base + "/", cookie=f"scafe_studio={token}") == 200
    finally:
        err = _stop(proc)
    assert "warning" in err
    assert "0.0.0.0" in " ".join(err.split())


def test_studio_refuses_a_missing_dataset(studio_root: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "scafe", "studio", "--data", str(tmp_path / "nope")],
                            capture_output=True, text=True, env={**os.environ, "SCAFE_ROOT": str(studio_root)},
                            timeout=120)
    assert result.returncode == 2
    assert "does not exist" in " ".join((result.stderr + result.stdout).split())  # rich wraps at 80 columns


@pytest.mark.parametrize("flag", ["--help"])
def test_studio_help_names_the_options(flag: str) -> None:
    result = subprocess.run([sys.executable, "-m", "scafe", "studio", flag], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0
    for option in ("--data", "--model", "--port", "--read-only", "--host"):
        assert option in result.stdout
