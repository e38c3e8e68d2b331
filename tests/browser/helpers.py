"""What the browser tests do over and over: open pages, sign in, check
accessibility, save screenshots, and fail on any console error (a CSP
violation shows up there too)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.helpers.live_server import ARTIFACTS, ROOT

expect.set_options(timeout=10_000)

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
_AXE = Axe()


class App:
    def __init__(self, browser: Browser, server: Server, *, name: str) -> None:
        self.browser = browser
        self.server = server
        self.name = re.sub(r"[^\w.-]+", "_", name)
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, *, phone: bool = False, locale: str = "en-GB") -> Page:
        """A fresh browser profile (its own cookies) at the app's origin; `locale`
        is the language the browser prefers (navigator.languages, Accept-Language)."""
        context = self.browser.new_context(
            base_url=self.server.url,
            locale=locale,
            viewport=PHONE if phone else LAPTOP,
            is_mobile=phone,
            has_touch=phone,
            reduced_motion="reduce",
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: message.type == "error" and self.errors.append(message.text),
        )
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        assert not self.errors, f"errors in the browser console: {self.errors}"

    # --- flows ---------------------------------------------------------------

    def sign_in(self, page: Page, email: str, password: str | None = None) -> None:
        page.goto("/admin/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password or self.server.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    def sign_out(self, page: Page) -> None:
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to Frontdesk")).to_be_visible()

    def open_section(self, page: Page, name: str) -> None:
        """Follow a main navigation link (on phones, open the menu first)."""
        toggle = page.get_by_role("button", name="Menu")
        if toggle.is_visible():
            toggle.click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()

    # --- evidence ------------------------------------------------------------

    def shot(self, page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{self.name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def doc_shot(self, page: Page, name: str) -> None:
        """With FRONTDESK_DOCS_SCREENSHOTS=1, refresh docs/screenshots/NAME.png
        (the visible part of the page only, to keep the README light)."""
        if os.environ.get("FRONTDESK_DOCS_SCREENSHOTS") == "1":
            page.mouse.move(0, 0)
            page.wait_for_timeout(300)
            page.screenshot(path=str(ROOT / "docs" / "screenshots" / f"{name}.png"))

    def shoot_all(self, name: str) -> None:
        for number, context in enumerate(self.contexts, start=1):
            for page in context.pages:
                self.shot(page, f"{name}-{number}")

    def check_a11y(self, page: Page, screen: str) -> None:
        """axe-core finds no serious or critical violation on this screen."""
        page.wait_for_load_state("networkidle")
        results = _AXE.run(page)
        bad = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        detail = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in bad
        )
        assert not bad, f"accessibility violations on {screen}:\n{detail}"
        self.shot(page, screen)


def totp_code(secret: str, *, ahead: int = 0) -> str:
    """The app's code now, or `ahead` steps later (the server accepts ±1 step
    and refuses a step it has seen, so a second code in a row uses the next)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * ahead)


def qr_code_shown(page: Page) -> None:
    """The enrolment's QR code is on screen and really decoded as an image."""
    image = page.get_by_role("img", name=re.compile("QR code"))
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code did not load"


def secret_on(page: Page) -> str:
    """The TOTP key the enrolment step shows for typing in by hand."""
    key = page.locator("[data-secret]")
    expect(key).to_be_visible()
    return key.get_attribute("data-secret") or ""
