"""Fresh browser profiles on the local stack, as separate people would have them."""

from __future__ import annotations

from typing import Literal

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

# Headless and quiet: no sandbox (containers), no calls home, no QUIC.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}
# Generous for a loaded CI machine; a hang still fails instead of blocking.
DEFAULT_TIMEOUT_MS = 20_000


class Browsing:
    """Opens fresh browser profiles (own localStorage, so own clientId) on the stack."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.page_errors: list[str] = []

    def open(
        self,
        path: str = "/",
        viewport: ViewportSize | None = None,
        locale: str = "en-US",
        color_scheme: Literal["light", "dark"] = "light",
        bypass_csp: bool = False,
    ) -> Page:
        """``bypass_csp``: only to inject a testing script (axe-core) the page's CSP would refuse."""
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport or DESKTOP,
            locale=locale,
            color_scheme=color_scheme,
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.goto(path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
