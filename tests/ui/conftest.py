"""Browser tests drive the system Chromium (Debian's ``chromium``) through Playwright; no
browser is ever downloaded. ``make test`` installs Chromium with apt-get where it can."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.api.harness import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# `make screenshots` points this at docs/screenshots; otherwise they go to a temporary
# directory, so a test run does not rewrite tracked files.
SCREENSHOTS_ENV = "BRIDGE_SCREENSHOTS_DIR"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module. Playwright's sync API runs its own event loop in this
    thread, so it is stopped when the module ends, before any asyncio test runs."""
    if not CHROMIUM.exists():
        how = "apt-get install -y chromium" if shutil.which("apt-get") else "a Chromium package"
        pytest.skip(f"no Chromium at {CHROMIUM} (install it with {how}; make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as live:
        yield live


@pytest.fixture
def screenshot(tmp_path: Path) -> Any:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")

    def take(page: Page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 0

    return take
