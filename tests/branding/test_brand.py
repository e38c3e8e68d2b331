"""A reseller's brand through the API: inheritance down the tree, the host name
a sign-in page is reached by, who may set a brand, and bad input."""

from __future__ import annotations

import pytest

from server.audit.models import AuditEvent
from server.branding.models import OrganisationBrand
from tests.branding.queries import (
    SET_BRAND,
    SETTINGS,
    SIGN_IN_BRAND,
    brand_input,
    brand_of,
    by_field,
    set_brand,
    settings_of,
)
from tests.helpers.fixtures import gid


async def test_customers_inherit_from_the_nearest_organisation_that_sets_a_value(tree, sign_in):
    provider = await sign_in(tree["provider.owner"].email)
    await set_brand(
        provider,
        tree.provider.id,
        portalName="Sangoma Portal",
        colour="#112233",
        supportContact="support@sangoma.example",
    )
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(reseller, tree.reseller.id, portalName="Northwind Cloud", language="de")
    acme = await sign_in(tree["acme.owner"].email)
    await set_brand(acme, tree.acme.id, colour="#AA0000")

    brand = await brand_of(acme, tree.acme.id)
    assert brand["effective"] == {
        "portalName": "Northwind Cloud",
        "senderName": None,
        "senderAddress": None,
        "supportContact": "support@sangoma.example",
        "logoUrl": None,
        "colour": "#aa0000",
        "language": "de",
    }
    values = by_field(brand)
    assert values["COLOUR"] == {
        "field": "COLOUR",
        "value": "#aa0000",
        "setHere": True,
        "inheritedFrom": None,
    }
    assert values["PORTAL_NAME"]["inheritedFrom"] == "Reseller"
    assert values["SUPPORT_CONTACT"]["inheritedFrom"] == "Provider"
    assert values["LOGO_URL"] == {
        "field": "LOGO_URL",
        "value": None,
        "setHere": False,
        "inheritedFrom": None,
    }

    # Globex overrides nothing: the reseller's name, the provider's colour.
    globex = await sign_in(tree["globex.member"].email)
    effective = (await brand_of(globex, tree.globex.id))["effective"]
    assert (effective["portalName"], effective["colour"]) == ("Northwind Cloud", "#112233")

    # Clearing Acme's colour makes it inherit the provider's again.
    await set_brand(acme, tree.acme.id, colour="")
    values = by_field(await brand_of(acme, tree.acme.id))
    assert values["COLOUR"]["value"] == "#112233"
    assert values["COLOUR"]["inheritedFrom"] == "Provider"
    assert (await settings_of(acme, tree.acme.id))["colour"] is None


async def test_an_organisation_without_brand_shows_the_server_default(tree, sign_in):
    member = await sign_in(tree["acme.member"].email)
    brand = await brand_of(member, tree.acme.id)
    assert brand["effective"]["portalName"] == "Frontdesk"
    assert all(not value["setHere"] for value in brand["values"])


async def test_changes_are_audited_with_before_and_after(tree, sign_in):
    reseller = await sign_in(tree["reseller.owner"].email)
    await set_brand(reseller, tree.reseller.id, portalName="Northwind Cloud")
    await set_brand(reseller, tree.reseller.id, portalName="Northwind", colour="#000000")
    events = await AuditEvent.filter(action="organisation.brand_changed").order_by("id")
    assert [e.details for e in events] == [
        {"before": {"portalName": None}, "after": {"portalName": "Northwind Cloud"}},
        {
            "before": {"portalName": "Northwind Cloud", "colour": None},
            "after": {"portalName": "Northwind", "colour": "#000000"},
        },
    ]
    # The same values again change nothing and record nothing.
    await set_brand(reseller, tree.reseller.id, portalName="Northwind")
    assert await AuditEvent.filter(action="organisation.brand_changed").count() == 2


async def test_the_sign_in_page_shows_the_brand_of_its_host_name(tree, sign_in, anonymous):
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(
        reseller,
        tree.reseller.id,
        portalName="Northwind Cloud",
        logoUrl="https://cdn.northwind.example/logo.svg",
        hostName=" Portal.Northwind.Example. ",
    )
    assert (await settings_of(reseller, tree.reseller.id))["hostName"] == "portal.northwind.example"

    body = await anonymous(SIGN_IN_BRAND, host="portal.northwind.example:443")
    assert body["data"]["signInBrand"] == {
        "portalName": "Northwind Cloud",
        "supportContact": None,
        "logoUrl": "https://cdn.northwind.example/logo.svg",
        "colour": None,
        "language": None,
    }
    # The server's own name, an unknown one and garbage get the default brand.
    for host in ("portal.example.test", "other.example", "[::1]:8000", "bad host"):
        body = await anonymous(SIGN_IN_BRAND, host=host)
        assert body["data"]["signInBrand"]["portalName"] == "Frontdesk", host

    # A customer reached by its own host name shows what it inherits.
    acme = await sign_in(tree["acme.admin"].email)
    await set_brand(acme, tree.acme.id, hostName="acme.portal.example", colour="#00aa00")
    body = await anonymous(SIGN_IN_BRAND, host="ACME.portal.example")
    assert body["data"]["signInBrand"]["portalName"] == "Northwind Cloud"
    assert body["data"]["signInBrand"]["colour"] == "#00aa00"


async def test_a_host_name_belongs_to_one_organisation(tree, sign_in):
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(reseller, tree.reseller.id, hostName="portal.northwind.example")
    acme = await sign_in(tree["acme.admin"].email)
    for host in ("portal.northwind.example", "PORTAL.northwind.example.", "portal.example.test"):
        errors = (await acme.data(SET_BRAND, brand_input(tree.acme.id, hostName=host)))["setBrand"][
            "errors"
        ]
        assert errors == [
            {
                "field": "hostName",
                "code": "HOST_NAME_TAKEN",
                "message": "This host name already belongs to another organisation's portal.",
            }
        ], host
    assert await OrganisationBrand.filter(organisation_id=tree.acme.id).count() == 0
    # Setting one's own host name again is no conflict.
    await set_brand(reseller, tree.reseller.id, hostName="portal.northwind.example")


BAD_INPUT = [
    ("colour", "red", "INVALID"),
    ("colour", "#12345", "INVALID"),
    ("colour", "#gggggg", "INVALID"),
    ("logoUrl", "http://cdn.example.com/logo.png", "INVALID"),
    ("logoUrl", "javascript:alert(1)", "INVALID"),
    ("logoUrl", "https://user:secret@cdn.example.com/logo.png", "INVALID"),
    ("logoUrl", "https://cdn.example.com/" + "a" * 500, "TOO_LONG"),
    ("hostName", "not a host", "INVALID"),
    ("hostName", "https://portal.example.com/", "INVALID"),
    ("hostName", "localhost", "INVALID"),
    ("hostName", "10.0.0.1", "INVALID"),
    ("hostName", "-bad.example.com", "INVALID"),
    ("hostName", "a" * 64 + ".example.com", "INVALID"),
    ("language", "fr", "INVALID"),
    ("portalName", "P" * 61, "TOO_LONG"),
    ("senderName", "Evil\r\nBcc: victim@example.com", "INVALID"),
    ("senderName", "S" * 61, "TOO_LONG"),
    ("supportContact", "x" * 201, "TOO_LONG"),
    ("senderAddress", "not-an-address", "INVALID_EMAIL"),
    ("senderAddress", "a@b.example\r\nBcc: x@example.com", "INVALID_EMAIL"),
]


@pytest.mark.parametrize(("field", "value", "code"), BAD_INPUT)
async def test_bad_input_is_refused_and_changes_nothing(tree, sign_in, field, value, code):
    reseller = await sign_in(tree["reseller.owner"].email)
    await set_brand(reseller, tree.reseller.id, portalName="Northwind Cloud", colour="#123456")
    before = await settings_of(reseller, tree.reseller.id)
    # A good value next to the bad one is not stored either.
    good = {"colour": "#654321"} if field != "colour" else {"portalName": "Changed"}
    variables = brand_input(tree.reseller.id, **good, **{field: value})
    payload = (await reseller.data(SET_BRAND, variables))["setBrand"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["errors"][0]["message"]
    assert await settings_of(reseller, tree.reseller.id) == before
    assert await AuditEvent.filter(action="organisation.brand_changed").count() == 1


async def test_only_owners_and_admins_set_a_brand_and_never_above_themselves(tree, sign_in):
    member = await sign_in(tree["reseller.member"].email)
    assert (
        await member.error_code(SET_BRAND, brand_input(tree.reseller.id, portalName="Mine"))
        == "FORBIDDEN"
    )
    body = await member(SETTINGS, {"id": gid("Organisation", tree.reseller.id)})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # A customer's admin cannot reach its reseller's brand: it looks like nothing at all.
    acme = await sign_in(tree["acme.admin"].email)
    payload = (await acme.data(SET_BRAND, brand_input(tree.reseller.id, portalName="Acme!")))[
        "setBrand"
    ]
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    # Nor another customer's.
    payload = (await acme.data(SET_BRAND, brand_input(tree.globex.id, portalName="Acme!")))[
        "setBrand"
    ]
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert await OrganisationBrand.all().count() == 0

    # The reseller's admin administers its customers, their brand included.
    reseller = await sign_in(tree["reseller.admin"].email)
    await set_brand(reseller, tree.acme.id, portalName="Acme Phones")
    assert (await brand_of(acme, tree.acme.id))["effective"]["portalName"] == "Acme Phones"
