"""The first load (issue 19 point 9): the sign-in page in a handful of
requests; a returning browser loads none of the app's files again (they live
at versioned addresses, cached for good; index.html is revalidated); a screen
whose module does not load shows the offline page, whose Try again works."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import Page, Request, expect

from tests.browser.helpers import App

READY = "() => performance.getEntriesByName('frontdesk-ready').length > 0"
# What the page fetched besides the document and API calls, and how many bytes came
# over the network for each (0: from the browser's cache).
FILES = """() => performance.getEntriesByType('resource')
  .filter((e) => !e.name.endsWith('/graphql'))
  .map((e) => [new URL(e.name).pathname, e.transferSize])"""


def _recording(page: Page) -> list[Request]:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    return requests


def test_sign_in_page_is_few_requests_cold_and_none_warm(app: App) -> None:
    page = app.page(locale="de-DE")  # a catalogue to load too
    requests = _recording(page)
    page.goto("/admin/sign-in")
    expect(page.get_by_role("heading", name="Bei Frontdesk anmelden")).to_be_visible()
    page.wait_for_function(READY)
    page.wait_for_load_state("networkidle")
    paths = [r.url.removeprefix(app.server.url) for r in requests]
    assert len(requests) <= 6, paths
    assert not any("/screens/" in path for path in paths), paths  # bundled with the shell
    cold = dict(page.evaluate(FILES))
    assert any(path.endswith("/js/app.js") for path in cold), cold
    assert any(path.endswith("/locale/de.json") for path in cold), cold
    assert all(size > 0 for size in cold.values()), cold

    page.reload()
    expect(page.get_by_role("heading", name="Bei Frontdesk anmelden")).to_be_visible()
    page.wait_for_function(READY)
    page.wait_for_load_state("networkidle")
    warm = dict(page.evaluate(FILES))
    assert warm.keys() == cold.keys(), (cold, warm)
    assert all(size == 0 for size in warm.values()), f"fetched again: {warm}"


def test_cache_headers(app: App) -> None:
    def head(path: str) -> tuple[int, dict[str, str], bytes]:
        with urllib.request.urlopen(app.server.url + path, timeout=5) as answer:  # noqa: S310
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()

    _, headers, index = head("/admin/users")
    assert headers["cache-control"] == "no-cache" and headers["etag"]
    [bundle] = [part.split('"')[0] for part in index.decode().split('src="')[1:]]
    assert bundle.startswith("/admin/v/") and bundle.endswith("/js/app.js")
    for path in (
        bundle,
        bundle.replace("app.js", "screens/users.js"),
        bundle.replace("app.js", "api.js"),
    ):
        _, headers, _ = head(path)
        assert headers["cache-control"] == "public, max-age=31536000, immutable", path
    # Another version's address (a page open across a release) gets today's file, revalidated.
    _, headers, _ = head("/admin/v/0000000000000000/js/screens/users.js")
    assert headers["cache-control"] == "no-cache"
    _, headers, body = head(bundle.replace("js/app.js", "locale/de.json"))
    assert json.loads(body)["language"] == "de" and "immutable" in headers["cache-control"]
    # The plain source stays where it was.
    status, _, _ = head("/admin/js/main.js")
    assert status == 200


def test_a_screen_that_does_not_load_shows_the_offline_page_and_try_again_works(app: App) -> None:
    page = app.page()
    app.sign_in(page, "owner@northwind.example.com")
    page.route("**/js/screens/contacts.js*", lambda route: route.abort("internetdisconnected"))
    app.open_section(page, "Contacts")
    expect(page.get_by_role("heading", name="You seem to be offline")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("The server cannot be reached")
    app.check_a11y(page, "offline")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", name="You seem to be offline")).to_be_visible()

    page.unroute("**/js/screens/contacts.js*")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    # The failed loads are in the console; nothing else is.
    app.errors[:] = [e for e in app.errors if "contacts.js" not in e and "net::ERR" not in e]
