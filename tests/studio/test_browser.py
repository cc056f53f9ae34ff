"""End to end in a real browser (Debian's Chromium through Selenium and chromium-driver).

The server is uvicorn in a thread on a free 127.0.0.1 port, serving a temp copy of prompts/ and
feature_library/. Skips with the install hint where Chromium, its driver or Selenium is missing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scafe.studio import StudioConfig

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "browser-token-456"
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver; pip install -e '.[test]'"


def _browser_missing() -> str:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return f"Chromium or chromium-driver is not installed ({INSTALL})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"selenium is not installed ({INSTALL})"
    return ""


pytestmark = pytest.mark.skipif(bool(_browser_missing()), reason=_browser_missing() or "browser available")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium with a fresh profile, closed after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="scafe-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition: Callable[[], Any], timeout: float = 120.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns a truthy value (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # element not there yet
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} ({last})")


def set_textarea(driver: Any, element_id: str, text: str) -> None:
    """Replace a textarea's text and fire ``input`` as typing would (a whole file by keystrokes is slow)."""
    driver.execute_script(
        "const t = document.getElementById(arguments[0]); t.value = arguments[1];"
        "t.dispatchEvent(new Event('input', {bubbles: true}));", element_id, text)


def text_of(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_token_edit_save_stale_grade_and_explain(browser: Any, live_server: Any, studio_root: Path,
                                                 phantom_data: Path, model_dir: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    data = tmp_path / "data"
    shutil.copytree(phantom_data, data)
    config = StudioConfig(root=studio_root, data=data, model=model_dir, token=TOKEN)
    with live_server(config) as server:
        # refused without the token, admitted with it (then by cookie)
        browser.get(server.url + "/criteria")
        assert "Access token needed" in browser.page_source
        browser.get(f"{server.url}/?token={TOKEN}")
        wait_for(lambda: "Overview" in browser.find_element(By.TAG_NAME, "h1").text, what="overview")
        assert "token=" not in browser.current_url

        # a typo in the YAML -> the CLI's message; fix it; change the definition in the form; save
        path = studio_root / "prompts/criteria/vss.yaml"
        original = path.read_text()
        comments = [ln for ln in original.splitlines() if ln.lstrip().startswith("#")]
        browser.get(server.url + "/criteria/vss/vascularity")
        wait_for(lambda: text_of(browser, "#prompt") not in ("", "loading…"), what="prompt preview")
        browser.find_element(By.CSS_SELECTOR, '.tab[data-tab="yaml"]').click()
        set_textarea(browser, "yaml", original.replace('    definition: "Presence', '    defintion: "Presence', 1))
        wait_for(lambda: "did you mean 'definition'" in text_of(browser, "#problems"), what="typo message")
        assert "vss.yaml:12" in text_of(browser, "#problems")
        assert browser.find_element(By.ID, "save").get_attribute("disabled") is not None
        set_textarea(browser, "yaml", original)
        wait_for(lambda: text_of(browser, "#status") == "valid", what="valid again")
        browser.find_element(By.CSS_SELECTOR, '.tab[data-tab="form"]').click()
        definition = browser.find_element(By.ID, "f-definition")
        definition.send_keys(" Telangiectasia counts as vascularity.")
        wait_for(lambda: "Telangiectasia counts" in text_of(browser, "#prompt"), what="prompt re-rendered")
        wait_for(lambda: "Telangiectasia" in text_of(browser, "#diff"), what="diff")
        save = browser.find_element(By.ID, "save")
        wait_for(lambda: save.get_attribute("disabled") is None, what="save enabled")
        save.click()
        wait_for(lambda: "Saved vss.yaml" in text_of(browser, "#saved"), what="saved")
        after = path.read_text()
        assert "Telangiectasia counts as vascularity." in after
        assert [ln for ln in after.splitlines() if ln.lstrip().startswith("#")] == comments
        wait_for(lambda: "stale" in text_of(browser, "#item-extractors"), what="stale mark")

        # grade 5 cases and see the correlation
        browser.get(server.url + "/grading/vss/vascularity")
        cards = browser.find_elements(By.CSS_SELECTOR, ".gradecard")[:5]
        for card, grade in zip(cards, ["0", "1", "2", "3", "1"], strict=True):
            card.find_element(By.CSS_SELECTOR, f'input[value="{grade}"]').click()
        wait_for(lambda: text_of(browser, "#graded") == "5", what="5 grades")
        rho = wait_for(lambda: [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#agreement td.rho")
                                if c.text != "n/a"], what="a correlation")
        assert -1.0 <= float(rho[0]) <= 1.0
        assert len((data / "grades.csv").read_text().strip().splitlines()) == 6

        # open a case's explanation from the gallery
        browser.get(server.url + "/cases?sort=p_keloid")
        browser.find_element(By.CSS_SELECTOR, "#gallery a.card").click()
        wait_for(lambda: "p(keloid) =" in text_of(browser, "#explanation"), what="explanation")
        assert browser.find_elements(By.CSS_SELECTOR, "#explanation table.shap tr")


def test_an_outside_edit_reloads_the_page(browser: Any, live_server: Any, studio_root: Path) -> None:
    from selenium.webdriver.common.by import By

    config = StudioConfig(root=studio_root, token=TOKEN)
    with live_server(config) as server:
        browser.get(f"{server.url}/criteria/vss/height?token={TOKEN}")
        wait_for(lambda: text_of(browser, "#status") == "valid", what="page ready")
        path = studio_root / "prompts/criteria/vss.yaml"
        path.write_text(path.read_text().replace("name: Height", "name: Height of the scar", 1))
        wait_for(lambda: "changed=1" in browser.current_url, what="reload")
        assert "changed outside the studio" in text_of(browser, "#notice")
        assert browser.find_element(By.ID, "f-name").get_attribute("value") == "Height of the scar"


@pytest.mark.slow
def test_rerun_criterion_tests_and_accept(browser: Any, live_server: Any, studio_root: Path) -> None:
    from selenium.webdriver.common.by import By

    from scafe.library import Library

    path = studio_root / "prompts/criteria/vss.yaml"
    path.write_text(path.read_text().replace("Presence of blood vessels", "Presence of visible blood vessels", 1))
    config = StudioConfig(root=studio_root, token=TOKEN)
    with live_server(config) as server:
        browser.get(f"{server.url}/stale?token={TOKEN}")
        group = next(g for g in browser.find_elements(By.CSS_SELECTOR, ".stale-group")
                     if "vss/vascularity" in g.find_element(By.TAG_NAME, "h2").text)
        group.find_element(By.CSS_SELECTOR, ".run-tests").click()
        wait_for(lambda: group.find_element(By.CSS_SELECTOR, ".job progress").get_attribute("value") not in (None, ""),
                 what="progress bar")
        row = wait_for(lambda: group.find_element(By.CSS_SELECTOR, 'tr[data-label="vss_vascularity@v5"]'),
                       timeout=400, what="test results")
        assert "passed" in row.text
        row.find_element(By.CSS_SELECTOR, "button.accept").click()
        wait_for(lambda: "accepted" in row.text, timeout=120, what="accepted")
    states = {r.label: r.state for r in Library.open(studio_root / "feature_library",
                                                     criteria_dir=studio_root / "prompts/criteria").status()}
    assert states["vss_vascularity@v5"] == "active"
