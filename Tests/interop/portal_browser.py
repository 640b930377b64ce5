"""A headless Chromium driven by selenium, for the portal tests; screenshots go to $SDC_ARTIFACTS/portal/ (by
default artifacts/portal/ in the repository), accessibility checks run axe-core in the page."""

import os
import shutil
from pathlib import Path

from axe_selenium_python import Axe

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO

ARTIFACTS = Path(os.environ.get("SDC_ARTIFACTS") or REPO / "artifacts") / "portal"


def chromium(download_dir: Path) -> webdriver.Chrome:
    """Debian's chromium with its chromedriver; fails (never skips) when either is missing."""
    binary = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    assert binary and driver, "chromium and chromium-driver are required (apt-get install chromium chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(download_dir), "download.prompt_for_download": False})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(60)
    # A click does not wait for the next page: lookups wait for their element instead.
    browser.implicitly_wait(20)
    return browser


def screenshot(browser: webdriver.Chrome, name: str, width: int = 1280) -> Path:
    """Keeps a full-page screenshot `width` pixels wide as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.set_window_size(width, 800)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, max(800, min(int(height) + 100, 8000)))
    assert browser.save_screenshot(str(path)), f"screenshot {path} not written"
    return path


def horizontal_overflow(browser: webdriver.Chrome, width: int) -> int:
    """Pixels by which the page is wider than a `width`-pixel viewport (0 when it fits: wide tables and timelines
    scroll inside their own boxes)."""
    browser.set_window_size(width, 900)
    inner = browser.execute_script("return window.innerWidth")
    return max(0, int(browser.execute_script("return document.documentElement.scrollWidth")) - int(inner))


def accessibility_violations(browser: webdriver.Chrome) -> list:
    """axe-core's violations of the page as loaded (WCAG 2 A and AA rules and best practices), each as
    `rule: impact: help (first offending elements)`."""
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    return [f"{v['id']}: {v['impact']}: {v['help']} ({[n['target'] for n in v['nodes'][:3]]})" for v in results["violations"]]


def sign_in(browser: webdriver.Chrome, url: str, key: str):
    browser.get(f"{url}/portal/sign-in")
    browser.find_element(By.ID, "api_key").send_keys(key)
    browser.find_element(By.ID, "sign-in-button").click()
    assert browser.find_element(By.CLASS_NAME, "who").text.startswith("Signed in as")


def click_and_wait(browser: webdriver.Chrome, element, url_part: str):
    """Clicks a link or button and waits until the browser is on a page whose URL contains `url_part`."""
    element.click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains(url_part))


def sign_out(browser: webdriver.Chrome):
    browser.find_element(By.ID, "sign-out").click()
    assert browser.find_element(By.ID, "sign-in-link")
