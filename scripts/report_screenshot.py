"""Build a small evaluation report and screenshot it in headless Chromium (selenium + chromium-driver).

Usage::

    python scripts/report_screenshot.py [--out docs/screenshots] [--n 48] [--size 96] [--html REPORT]

Without ``--html`` it renders two reports from scratch (about a minute on 2 cores): a phantom set
mixing family A and family B (the committed library, oracle and nuisance-only references, held-out
test set), and the same images as a *user* dataset (latent/nuisance/family columns dropped, a
``fitzpatrick`` and a ``group_site`` column added, cross-validated). With ``--html`` it only
screenshots that file. It writes ``<prefix>_<part>.png`` for the top of the page and for the sections
of :data:`SHOTS` (fewer for the user-data report), and fails (exit 1) when one of the sections
:data:`REQUIRED` is missing or not visible.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's scafe, also when run as `python scripts/...`

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "apt-get install -y chromium chromium-driver"
REQUIRED = ("calibration", "thresholds", "subgroups", "provenance", "glossary")
SHOTS = ("roc", "calibration", "thresholds", "subgroups", "distributions", "provenance")


def chromium_missing() -> str | None:
    """Why a headless Chromium cannot be driven here (with the install hint), or None."""
    if not Path(CHROMIUM).is_file() or not Path(CHROMEDRIVER).is_file():
        return f"Chromium or chromedriver is not installed ({INSTALL_HINT})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


def driver(width: int = 1400, height: int = 1000):
    """A headless Chromium WebDriver with a throw-away profile (caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def section_state(drv, anchor: str) -> dict:
    """Presence, visibility, size, heading and image count of ``<section id=anchor>``."""
    from selenium.common.exceptions import NoSuchElementException
    from selenium.webdriver.common.by import By

    try:
        el = drv.find_element(By.ID, anchor)
    except NoSuchElementException:
        return {"present": False, "visible": False}
    drv.execute_script("arguments[0].scrollIntoView(true);", el)
    images = el.find_elements(By.CSS_SELECTOR, "img")
    loaded = drv.execute_script("return Array.from(arguments[0].querySelectorAll('img'))"
                                ".every(i => i.complete && i.naturalWidth > 0);", el)
    return {"present": True, "visible": el.is_displayed(), "width": el.size["width"], "height": el.size["height"],
            "heading": el.find_element(By.TAG_NAME, "h2").text, "images": len(images), "images_loaded": bool(loaded),
            "text": el.text}


def screenshot(html: Path, out: Path, prefix: str = "report", shots: tuple[str, ...] = SHOTS) -> dict[str, dict]:
    """Screenshot the page top and each section of ``shots``; return every required section's state."""
    out.mkdir(parents=True, exist_ok=True)
    drv = driver()
    try:
        drv.get(Path(html).resolve().as_uri())
        from selenium.common.exceptions import NoSuchElementException
        from selenium.webdriver.common.by import By

        states = {a: section_state(drv, a) for a in REQUIRED}
        # a window as tall as the page: element screenshots are cropped to the viewport otherwise
        size = drv.get_window_size()
        full = int(drv.execute_script("return document.documentElement.scrollHeight"))
        drv.set_window_size(size["width"], min(full + 200, 20000))
        for anchor in shots:
            try:
                drv.find_element(By.ID, anchor).screenshot(str(out / f"{prefix}_{anchor}.png"))
            except NoSuchElementException:
                continue
        drv.set_window_size(size["width"], size["height"])
        drv.execute_script("window.scrollTo(0, 0);")
        drv.save_screenshot(str(out / f"{prefix}_top.png"))
    finally:
        drv.quit()
    return states


def _merged_phantoms(work: Path, n: int, size: int) -> tuple[Path, Path]:
    """A pool and a test manifest, each half family A and half family B (absolute paths)."""
    from scafe.data.phantoms import generate_phantoms

    def merged(name: str, seed: int) -> Path:
        frames = []
        for family in ("a", "b"):
            folder = work / f"{name}_{family}"
            manifest = generate_phantoms(folder, n=n // 2, seed=seed, size=size, family=family, workers=2)
            frame = pd.read_csv(manifest)
            frame["id"] = f"{family}-" + frame["id"].astype(str)
            for col in ("image", "mask", "wound", "distractors"):
                if col in frame.columns:
                    frame[col] = [str((folder / v).resolve()) if isinstance(v, str) and v else v for v in frame[col]]
            frames.append(frame)
        path = work / f"{name}.csv"
        pd.concat(frames, ignore_index=True).to_csv(path, index=False)
        return path

    return merged("pool", 11), merged("test", 12)


def _as_user_data(manifest: Path, out: Path) -> Path:
    """The same images as a user would list them: no ground truth, a Fitzpatrick type and a site."""
    frame = pd.read_csv(manifest)
    ita = frame["nuisance_ita"].to_numpy()
    fitz = pd.cut(ita, [-999, -30, 10, 28, 41, 55, 999], labels=["VI", "V", "IV", "III", "II", "I"]).astype(str)
    keep = [c for c in frame.columns if not c.startswith(("latent_", "nuisance_")) and c != "family"]
    user = frame[keep].copy()
    user["fitzpatrick"] = fitz
    user["group_site"] = ["clinic <b>north</b>" if i % 2 else "clinic south" for i in range(len(user))]
    user.to_csv(out, index=False)
    return out


def build_reports(out_html: Path, n: int, size: int) -> list[Path]:
    """Render the phantom report and the user-data report (HTML + metrics.json) into the folder ``out_html``."""
    from scafe.evaluation import evaluate
    from scafe.report import write_report

    out_html.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scafe-report-shot-"))
    try:
        pool, test = _merged_phantoms(work, n, size)
        methods = ["library+xgboost", "oracle", "nuisance-only", "radiomics+mrmr+xgboost"]
        run = evaluate(pool, test, sizes=[12, 24], repeats=3, methods=methods)
        run.write_metrics(out_html / "phantoms_metrics.json")
        first = write_report(run, out_html / "phantoms.html")
        user = _as_user_data(pool, work / "user.csv")
        run_u = evaluate(user, None, sizes=[16], repeats=2, folds=3, methods=methods, subgroups=["group_site"])
        run_u.write_metrics(out_html / "user_metrics.json")
        second = write_report(run_u, out_html / "user.html")
        return [first, second]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="Folder for the PNGs.")
    parser.add_argument("--html", type=Path, help="Screenshot this report instead of building two.")
    parser.add_argument("--n", type=int, default=48, help="Phantoms per set (half family A, half family B).")
    parser.add_argument("--size", type=int, default=96, help="Phantom size in px.")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="scafe-report-html-") as tmp:
        if args.html:
            pages = [(args.html, "report", SHOTS)]
        else:
            built = build_reports(Path(tmp), args.n, args.size)
            pages = [(built[0], "report_phantoms", SHOTS),
                     (built[1], "report_user", ("calibration", "subgroups", "provenance"))]
        bad = check_pages(pages, args.out)
    if bad:
        print(f"error: sections missing or invisible: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


def check_pages(pages: list[tuple[Path, str, tuple[str, ...]]], out: Path) -> list[str]:
    """Screenshot every page; print each required section's state; return the missing/invisible ones."""
    bad = []
    for html, prefix, shots in pages:
        states = screenshot(html, out, prefix, shots)
        for anchor, state in states.items():
            ok = state["present"] and state["visible"] and state.get("height", 0) > 50
            print(f"{prefix:18s} {anchor:12s} {'visible' if ok else 'MISSING'} "
                  f"{state.get('width', 0)}x{state.get('height', 0)} px, {state.get('images', 0)} images")
            if not ok:
                bad.append(f"{prefix}#{anchor}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
