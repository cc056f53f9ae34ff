"""Regenerate the README's screenshots of ``scafe studio`` into docs/screenshots/.

    python scripts/studio_screenshots.py [--out docs/screenshots] [--n 48]

Works on temp copies of prompts/ and feature_library/ (the repository's files are never edited),
renders n phantoms (seed 0, 256 px), extracts their features with the committed library, trains a
model on them, then drives headless Chromium (Debian's chromium + chromium-driver, through
Selenium) over every page. The grades on the grading page are the phantoms' own VSS vascularity
scores (their ground truth), entered through the page like a clinician would; they are not a
clinician's grades.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "screenshots"


def _driver(profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1400,900",
                "--force-device-scale-factor=1"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _wait(condition: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception:  # not rendered yet
            pass
        time.sleep(0.2)
    raise TimeoutError("page did not reach the expected state")


def _shot(driver: Any, path: Path, height: int | None = None) -> None:
    """Screenshot at 1400 px wide and the page's height (capped), after images loaded."""
    driver.execute_script("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    _wait(lambda: driver.execute_script(
        "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"), 120)
    driver.execute_script("window.scrollTo(0, 0)")
    full = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1400, min(height or full, 1800))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 900)
    print(f"wrote {path}")


def _prepare(tmp: Path, n: int) -> tuple[Path, Path, Path]:
    from scafe.classifier import ScarClassifier
    from scafe.data.dataset import load_dataset
    from scafe.data.phantoms import generate_phantoms
    from scafe.extraction import extract
    from scafe.library import Library

    root = tmp / "project"
    root.mkdir()
    shutil.copytree(REPO / "prompts", root / "prompts")
    shutil.copytree(REPO / "feature_library", root / "feature_library")
    data = generate_phantoms(tmp / "phantoms", n=n, seed=0, size=256).parent
    dataset = load_dataset(data)
    table = extract(dataset, library=Library.open(root / "feature_library"), progress=False)
    model = ScarClassifier().fit(table.frame, [c.label for c in dataset.cases], feature_meta=table.meta["features"],
                                 library_version=table.meta["library_version"])
    return root, data, model.save(tmp / "model")


def main() -> None:
    """Render every page and save one PNG per page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--n", type=int, default=48)
    args = parser.parse_args()
    from selenium.webdriver.common.by import By

    from scafe.studio import StudioConfig, create_app
    from scafe.studio.server import BackgroundServer

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scafe-shots-") as tmpdir:
        tmp = Path(tmpdir)
        root, data, model = _prepare(tmp, args.n)
        app = create_app(StudioConfig(root=root, data=data, model=model, token=TOKEN))
        studio = app.app.state.studio
        studio.wait_loaded(600)
        driver = _driver(str(tmp / "chromium"))
        try:
            with BackgroundServer(app) as server:
                url = server.url
                driver.get(f"{url}/?token={TOKEN}")
                _shot(driver, args.out / "overview.png")
                driver.get(f"{url}/criteria")
                _shot(driver, args.out / "criteria.png")

                # the editor: a typo flagged with the CLI's message, then a form edit with its diff
                driver.get(f"{url}/criteria/vss/vascularity")
                _wait(lambda: driver.find_element(By.ID, "prompt").text not in ("", "loading…"))
                original = (root / "prompts/criteria/vss.yaml").read_text()
                driver.find_element(By.CSS_SELECTOR, '.tab[data-tab="yaml"]').click()
                driver.execute_script(
                    "const t = document.getElementById('yaml'); t.value = arguments[0];"
                    "t.dispatchEvent(new Event('input', {bubbles: true}));",
                    original.replace('      direction: "+"', '      directon: "+"', 1))
                _wait(lambda: "did you mean" in driver.find_element(By.ID, "problems").text)
                _shot(driver, args.out / "criteria-editor-typo.png", height=1100)
                driver.execute_script(
                    "const t = document.getElementById('yaml'); t.value = arguments[0];"
                    "t.dispatchEvent(new Event('input', {bubbles: true}));", original)
                _wait(lambda: driver.find_element(By.ID, "status").text == "valid")
                driver.find_element(By.CSS_SELECTOR, '.tab[data-tab="form"]').click()
                driver.find_element(By.ID, "f-definition").send_keys(" Telangiectasia counts as vascularity.")
                _wait(lambda: "Telangiectasia" in driver.find_element(By.ID, "diff").text)
                _wait(lambda: driver.find_element(By.ID, "save").get_attribute("disabled") is None)
                _shot(driver, args.out / "criteria-editor.png", height=1500)
                driver.find_element(By.ID, "save").click()
                _wait(lambda: "Saved" in driver.find_element(By.ID, "saved").text)

                # stale extractors: re-run the item's criterion tests, show the results with accept
                driver.get(f"{url}/stale")
                group = next(g for g in driver.find_elements(By.CSS_SELECTOR, ".stale-group")
                             if "vss/vascularity" in g.find_element(By.TAG_NAME, "h2").text)
                driver.execute_script("arguments[0].scrollIntoView()", group)
                group.find_element(By.CSS_SELECTOR, ".run-tests").click()
                _wait(lambda: group.find_element(By.CSS_SELECTOR, 'tr[data-label="vss_vascularity@v3"]'), 600)
                driver.execute_script("window.scrollTo(0, 0)")
                _shot(driver, args.out / "stale.png", height=1100)

                driver.get(f"{url}/extractors/vss/vascularity?show=vss_vascularity@v3&a=2&b=3")
                _shot(driver, args.out / "extractors.png")

                column = next(c for c, m in studio.cases.meta["features"].items() if m["item"] == "vascularity")
                driver.get(f"{url}/cases?sort={column}&order=desc")
                _shot(driver, args.out / "cases.png", height=1100)
                case = studio.cases.frame[column].idxmax()
                driver.get(f"{url}/cases/{case}?near=vss/vascularity")
                _shot(driver, args.out / "case.png")

                driver.get(f"{url}/grading/vss/vascularity")
                truth = studio.cases.dataset.frame.set_index("id")["vss_vascularity"]
                for card in driver.find_elements(By.CSS_SELECTOR, ".gradecard")[:16]:
                    grade = str(int(float(truth[card.get_attribute("data-case")])))
                    card.find_element(By.CSS_SELECTOR, f'input[value="{grade}"]').click()
                _wait(lambda: driver.find_element(By.ID, "graded").text == "16")
                _shot(driver, args.out / "grading.png", height=1100)

                driver.get(f"{url}/judge/{case}")
                _shot(driver, args.out / "judge.png")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
