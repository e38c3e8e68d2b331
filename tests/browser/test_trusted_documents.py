"""The admin app under FRONTDESK_TRUSTED_DOCUMENTS=enforce (the browser suite's
server runs so): it signs in and lists people sending each operation by its
trusted-document id, and its cookie session cannot run any other document."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Request, expect

from tests.browser.helpers import App

FREE = "{ viewer { user { email } } }"


def test_the_app_signs_in_and_lists_people_by_document_id_only(app: App) -> None:
    page = app.page()
    sent: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            sent.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    app.sign_in(page, "owner@northwind.example.com")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="owner@northwind.example.com")).to_be_visible()
    app.open_section(page, "Customers")
    expect(page.get_by_role("heading", name="Customers of Northwind Hosting")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("link", name="Acme Ltd")).to_be_visible()

    assert len(sent) >= 4  # sign-in, the viewer, the organisation, the lists
    assert all("query" not in body and body["documentId"].startswith("sha256:") for body in sent)

    # The signed-in page itself may not run a document of its own.
    answer = page.evaluate(
        """async (query) => {
            const response = await fetch("/graphql", {
              method: "POST", credentials: "same-origin",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ query }),
            });
            return response.json();
        }""",
        FREE,
    )
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
