"""Render a report HTML to a PNG with headless Chromium, to look at it as a browser shows it.

Usage::

    python scripts/render_report.py scafe-demo/report.html [-o report.png] [--width 1400] [--height 4000]

Needs Debian's ``chromium`` (``apt-get install -y chromium``) or ``chromium-browser`` /
``google-chrome`` on PATH. Runs with a throw-away profile and every background network feature
off, so it works offline and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of the first Chromium-like browser on PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def render(html: Path, png: Path, *, width: int = 1400, height: int = 4000, timeout: float = 120.0) -> Path:
    """Screenshot ``html`` into ``png``; raise ``RuntimeError`` with Chromium's stderr on failure."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError("No Chromium found on PATH; install it with `apt-get install -y chromium`.")
    html, png = Path(html).resolve(), Path(png).resolve()
    if not html.is_file():
        raise RuntimeError(f"{html} does not exist; run `scafe demo --out DIR` first.")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scafe-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
               f"--window-size={width},{height}", html.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"Chromium failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
    return png


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="The report HTML file.")
    parser.add_argument("-o", "--out", type=Path, help="PNG to write (default: next to the HTML).")
    parser.add_argument("--width", type=int, default=1400, help="Window width in CSS pixels.")
    parser.add_argument("--height", type=int, default=4000, help="Window height (the screenshot's length).")
    args = parser.parse_args(argv)
    out = args.out or args.html.with_suffix(".png")
    try:
        render(args.html, out, width=args.width, height=args.height)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
