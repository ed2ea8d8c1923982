"""The reference web app in headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium; no browser is downloaded) against real gunicorn processes on a seeded database."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.conftest import node_available  # noqa: F401 - re-exported for test_build
from tests.ops.sites import fresh_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
BASE_DIR = Path(__file__).resolve().parents[2]
MANIFEST = BASE_DIR / "clients" / "trusted-documents.json"
# A phone's viewport and a desk's: the README's screenshots are taken at both.
PHONE = (390, 844)
DESK = (1280, 900)


def chromium_available() -> bool:
    return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))


needs_chromium = pytest.mark.skipif(
    not chromium_available(),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """gunicorn in trusted-documents mode: every document the app sends must be in the committed
    manifest, which build_trusted_documents validated against the schema."""
    with fresh_site(
        "sqlite",
        tmp_path_factory.mktemp("web"),
        TRUSTED_DOCUMENTS_ONLY="1",
        TRUSTED_DOCUMENTS_MANIFEST=str(MANIFEST),
    ) as site:
        yield site


@pytest.fixture
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={DESK[0]},{DESK[1]}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where each role's main screen goes: WEB_SCREENSHOTS_DIR (docs/screenshots/ for the README),
    else a temporary directory (a test run leaves the tree as it was)."""
    chosen = os.environ.get("WEB_SCREENSHOTS_DIR")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
