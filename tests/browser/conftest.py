"""A real Chromium (Debian's package) driving the page served by the real local stack.
Every test here is marked ``browser``: ``-m "not browser"`` runs the rest without Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from model.mnist_data import as_png, load_split
from tests.browser.browsing import CHROMIUM_ARGS, Browsing
from tests.support.local_stack import running_stack

BROWSER_TESTS = Path(__file__).resolve().parent


# Before pytest's own hook deselects by marker; a conftest's hook sees every item of the run.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "The browser tests need Debian's Chromium on PATH (`apt-get install chromium`); "
            "`chromium` was not found. They are never skipped."
        )
    return path


@pytest.fixture(scope="session")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_stack(tmp_path_factory.mktemp("local-stack-data")) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browsing(browser: Browser, stack_url: str) -> Iterator[Browsing]:
    session = Browsing(browser, stack_url)
    yield session
    session.close()
    assert session.page_errors == [], f"uncaught errors in the page: {session.page_errors}"


@pytest.fixture
def page(browsing: Browsing) -> Page:
    return browsing.open()


@pytest.fixture(scope="session")
def mnist_seven(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first MNIST test digit (a 7) as a person's PNG upload."""
    images, labels = load_split("test")
    assert labels[0] == 7
    path = tmp_path_factory.mktemp("uploads") / "seven.png"
    path.write_bytes(as_png(images[0]))
    return path
