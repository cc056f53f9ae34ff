"""Output that survives pipes and CI logs: no hard wrapping, whatever $COLUMNS says."""

from __future__ import annotations

import os
import subprocess
import sys


def _scafe(*args: str, columns: int = 40) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "scafe", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_long_error_message_is_one_line_in_a_narrow_pipe() -> None:
    name = "a" * 70
    out = _scafe("library", "show", name)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: no extractor named")
    assert name in lines[0]
    assert lines[0].endswith("to see the names")
