"""No screen scrolls sideways or cuts text off on a phone (360, 390 and 414 px
wide), for every profile of the demo seed (server/seed.py): each screen is
opened once and measured at each width (the viewport resized, one frame
waited), so the whole file stays quick."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import _FAILED, Server, _serve
from tests.browser.helpers import App
from tests.helpers.live_server import ARTIFACTS
from tests.helpers.smtp import SMTPServer

WIDTHS = (360, 390, 414)

# One person of each kind the seed has: provider, reseller and customer, each role.
PROFILES = [
    "owner@provider.example.com",
    "support@provider.example.com",
    "owner@northwind.example.com",
    "admin@northwind.example.com",
    "member@northwind.example.com",
    "owner@acme.example.com",
    "admin@acme.example.com",
    "alice@acme.example.com",
    "viewer@acme.example.com",
    "dave@globex.example.com",
]

# What is wrong with the page as it stands: it scrolls sideways, an element
# sticks out of the screen, or a box clips its text without saying so (an
# ellipsis with the full text in a title is fine; so are form fields, whose
# text scrolls inside them, and the visually hidden labels of screen readers).
MEASURE = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  const problems = [];
  if (doc.scrollWidth > width) problems.push(`the page is ${doc.scrollWidth}px wide`);
  const name = (el) => {
    const cls = typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    return `${el.tagName.toLowerCase()}${cls} "${(el.textContent || "").trim().slice(0, 40)}"`;
  };
  const hiddenForScreenReaders = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (s.clip !== "auto" || (node.offsetWidth <= 1 && s.overflow === "hidden")) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    if (["INPUT", "SELECT", "TEXTAREA", "OPTION", "SCRIPT", "STYLE", "DATALIST", "TEMPLATE"].includes(el.tagName)) continue;
    if (el.closest("dialog:not([open]), [hidden], details:not([open]) > :not(summary)")) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      if (!hiddenForScreenReaders(el)) problems.push(`${name(el)} reaches ${Math.round(box.left)}..${Math.round(box.right)}px`);
      continue;
    }
    const clips = ["hidden", "clip", "auto", "scroll"].includes(style.overflowX);
    if (clips && el.scrollWidth > el.clientWidth + 1 && !hiddenForScreenReaders(el)) {
      if (style.textOverflow === "ellipsis" && (el.title || el.closest("[title]"))) continue;
      const right = el.getBoundingClientRect().left + el.clientWidth;
      const culprit = [...el.querySelectorAll("*")].filter((c) => c.getBoundingClientRect().right > right + 0.5).pop();
      problems.push(`${name(el)} cuts its content: ${el.scrollWidth}px in ${el.clientWidth}px` + (culprit ? `, e.g. ${name(culprit)}` : ""));
    }
  }
  done([...new Set(problems)].slice(0, 12));
})))"""


def measure(page: Page, where: str) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found += [f"{where} at {width}px: {problem}" for problem in page.evaluate(MEASURE)]
    return found


def settled(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    expect(page.locator("main h1").first).to_be_visible()
    expect(page.locator(".loading-note")).to_have_count(0)


def screens(page: Page) -> list[tuple[str, str]]:
    """The main navigation's links (names and addresses), as this person sees them."""
    links = page.locator("nav#nav a").evaluate_all(
        "links => links.map((a) => [a.textContent.trim(), a.getAttribute('href')])"
    )
    assert links, "no navigation links"
    return [(name, href) for name, href in links]


@pytest.fixture(scope="module")
def seed_server(smtp: SMTPServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own, with the seed as seeded: the journeys change some of these
    people's passwords and second steps on the shared one."""
    yield from _serve(smtp, tmp_path_factory.mktemp("browser-widths"), "127.0.0.1")


@pytest.fixture
def app(browser: Any, seed_server: Server, request: pytest.FixtureRequest) -> Iterator[App]:
    portal = App(browser, seed_server, name=request.node.name)
    try:
        yield portal
        if request.node.stash.get(_FAILED, False):
            portal.shoot_all("failure")
    finally:
        portal.close()


@pytest.mark.parametrize("email", PROFILES)
def test_no_screen_scrolls_sideways_on_a_phone(app: App, email: str) -> None:
    page = app.page(phone=True)
    app.sign_in(page, email)
    settled(page)
    problems = measure(page, "the first screen")
    visited = []
    for name, href in screens(page):
        visited.append(name)
        app.open_section(page, name)
        expect(page).to_have_url(re.compile(re.escape(href) + r"(\?.*)?$"))
        settled(page)
        problems += measure(page, name)
        if href.endswith("/users"):
            # A person's page, from the first card of the list.
            page.locator("main table tbody a").first.click()
            settled(page)
            problems += measure(page, f"{name}: a person")
            visited.append("a person")
    assert "My account" in visited and "My activity" in visited, visited
    if problems:
        (ARTIFACTS / f"widths-{email}.txt").write_text("\n".join(problems))
    assert not problems, "\n".join(problems)
