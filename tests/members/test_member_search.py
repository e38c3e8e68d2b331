"""members(search:) finds what the list shows (issue 15, Sangoma; issue 16 item 2):
any part of the full name as displayed, the email, the phone numbers and the
organisation's name, ignoring case and accents, several words in any order,
best matches first, and never a row or a field the viewer cannot see."""

from __future__ import annotations

from typing import Any

import pytest

from server import db
from server.accounts.models import Membership, MembershipStatus, User
from server.core.pagination import paginate
from server.core.permissions import Role
from server.core.search import search_words
from server.members import service
from server.members.search import member_rank_tiers, search_members
from tests.conftest import DATABASE_URL
from tests.helpers.fixtures import GraphQLClient, Tree, add_person, gid

MEMBERS = """
query Members($org: ID!, $search: String, $descendants: Boolean! = false,
              $first: Int, $after: String) {
  members(organisationId: $org, search: $search, includeDescendants: $descendants,
          first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { status user { email displayName } organisation { name } }
  }
}"""

UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) { errors { code } user { displayName } }
}"""

UPDATE_ORGANISATION = """
mutation($input: UpdateOrganisationInput!) {
  updateOrganisation(input: $input) { errors { code } }
}"""


async def _person(tree: Tree, organisation: Any, email: str, first: str, last: str, **more: str):
    person = await add_person(organisation, email, Role.MEMBER)
    await User.filter(id=person.user.id).update(first_name=first, last_name=last, **more)
    return person


async def _emails(
    client: GraphQLClient, organisation: Any, search: str | None, descendants: bool = True
) -> list[str]:
    data = await client.data(
        MEMBERS,
        {"org": gid("Organisation", organisation.id), "search": search, "descendants": descendants},
    )
    return [node["user"]["email"] for node in data["members"]["nodes"]]


async def test_full_name_fragments_case_and_accents(tree, sign_in):
    await _person(tree, tree.acme, "jm@acme.example.com", "José", "Müller-Ávila")
    await _person(tree, tree.globex, "plain@globex.example.com", "Jose", "Muller")
    await _person(tree, tree.globex, "marjorie@globex.example.com", "Marjorie", "Keen")
    admin = await sign_in(tree["reseller.admin"].email)
    both = ["jm@acme.example.com", "plain@globex.example.com"]
    # The exact full name first, then the name it begins.
    assert await _emails(admin, tree.reseller, "José Müller") == both[::-1]
    assert await _emails(admin, tree.reseller, "jose muller") == both[::-1]  # accents off
    assert await _emails(admin, tree.reseller, "JOSÉ") == both  # case and accents on it
    assert await _emails(admin, tree.reseller, "üller") == both  # from the middle
    assert await _emails(admin, tree.reseller, "ller-ávi") == ["jm@acme.example.com"]
    assert await _emails(admin, tree.reseller, "muller jose") == both  # any order
    # No transliteration (README, "Search"): ü is u, not ue.
    assert await _emails(admin, tree.reseller, "Mueller") == []
    # The displayed full name of the fixture's people: "Member Test".
    assert "member@acme.example.com" in await _emails(admin, tree.reseller, "Member Test")


async def test_organisation_name_email_and_phone(tree, sign_in):
    await _person(
        tree, tree.acme, "dora@acme.example.com", "Dora", "Diaz", office_phone="+44 20 7946 0018"
    )
    admin = await sign_in(tree["reseller.admin"].email)
    acme_people = await _emails(admin, tree.reseller, "acme")
    assert "dora@acme.example.com" in acme_people
    assert all(email.endswith("@acme.example.com") for email in acme_people)
    assert await _emails(admin, tree.reseller, "dora acme") == ["dora@acme.example.com"]
    assert await _emails(admin, tree.reseller, "dora globex") == []  # every word narrows
    assert await _emails(admin, tree.reseller, "ra@acme.exa") == ["dora@acme.example.com"]
    assert await _emails(admin, tree.reseller, "7946 0018") == ["dora@acme.example.com"]
    assert await _emails(admin, tree.reseller, "+442079460018") == ["dora@acme.example.com"]


async def test_best_matches_first_and_paging_through_a_search(tree, sign_in):
    # Created worst first, so that the order cannot come from the ids.
    await _person(tree, tree.acme, "x1@acme.example.com", "Joanne", "Bann")  # inside a word
    await _person(tree, tree.acme, "x2@acme.example.com", "Annabel", "Jones")  # a prefix
    await _person(tree, tree.acme, "x3@acme.example.com", "Ann", "")  # the whole name
    admin = await sign_in(tree["acme.admin"].email)
    assert await _emails(admin, tree.acme, "ann", descendants=False) == [
        "x3@acme.example.com",
        "x2@acme.example.com",
        "x1@acme.example.com",
    ]
    # One at a time through the cursors, while a new prefix match arrives.
    seen: list[str] = []
    after = None
    while True:
        data = await admin.data(
            MEMBERS,
            {"org": gid("Organisation", tree.acme.id), "search": "ann", "first": 1, "after": after},
        )
        page = data["members"]
        seen += [node["user"]["email"] for node in page["nodes"]]
        if len(seen) == 1:
            await _person(tree, tree.acme, "x4@acme.example.com", "Annette", "Ray")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [
        "x3@acme.example.com",
        "x2@acme.example.com",
        "x4@acme.example.com",
        "x1@acme.example.com",
    ]
    # A plain list's cursor does not page a search (and the other way round).
    plain = await admin.data(MEMBERS, {"org": gid("Organisation", tree.acme.id), "first": 1})
    cursor = plain["members"]["pageInfo"]["endCursor"]
    code = await admin.error_code(
        MEMBERS, {"org": gid("Organisation", tree.acme.id), "search": "ann", "after": cursor}
    )
    assert code == "INVALID"


async def test_search_never_reaches_what_the_viewer_cannot_see(tree, sign_in):
    await _person(tree, tree.globex, "gina@globex.example.com", "Gina", "Secretname")
    hidden = await add_person(
        tree.acme, "pending@acme.example.com", Role.MEMBER, status=MembershipStatus.INVITED
    )
    await User.filter(id=hidden.user.id).update(first_name="Hiddenfirst", last_name="Hiddenlast")
    acme_admin = await sign_in(tree["acme.admin"].email)
    assert await _emails(acme_admin, tree.acme, "secretname") == []
    assert await _emails(acme_admin, tree.acme, "globex") == []
    assert await _emails(acme_admin, tree.acme, "gina") == []
    # The pending member's row shows the address only: the name does not match...
    assert await _emails(acme_admin, tree.acme, "hiddenfirst") == []
    assert await _emails(acme_admin, tree.acme, "pending hiddenlast") == []
    # ...the address does, and the row still shows no name.
    data = await acme_admin.data(
        MEMBERS, {"org": gid("Organisation", tree.acme.id), "search": "pending@"}
    )
    [node] = data["members"]["nodes"]
    assert node["status"] == "INVITED"
    assert node["user"]["displayName"] == "pending@acme.example.com"
    # Search from the reseller's members finds none of its customers' people
    # without includeDescendants.
    reseller_admin = await sign_in(tree["reseller.admin"].email)
    assert await _emails(reseller_admin, tree.reseller, "gina", descendants=False) == []


async def test_short_words_match_the_start_of_a_word(tree, sign_in):
    await _person(tree, tree.acme, "a1@acme.example.com", "Jo", "Major")
    await _person(tree, tree.acme, "a2@acme.example.com", "Marjorie", "Keen")
    admin = await sign_in(tree["acme.admin"].email)
    assert await _emails(admin, tree.acme, "jo") == ["a1@acme.example.com"]
    assert await _emails(admin, tree.acme, "ma") == ["a1@acme.example.com", "a2@acme.example.com"]
    assert await _emails(admin, tree.acme, "m keen") == ["a2@acme.example.com"]


async def test_bad_searches_are_refused_or_match_literally(tree, sign_in):
    await _person(tree, tree.acme, "abc@acme.example.com", "Abc", "Quote'Name")
    admin = await sign_in(tree["acme.admin"].email)
    # LIKE and FTS5 syntax in a search is plain text.
    for search in ("a_c", "%", "a%c", '"', "ab*", "NEAR(abc)", "\\", "abc OR x", "'; --"):
        assert await _emails(admin, tree.acme, search) == [], search
    assert await _emails(admin, tree.acme, "quote'name") == ["abc@acme.example.com"]
    org = gid("Organisation", tree.acme.id)
    too_many = " ".join(f"word{i}" for i in range(9))
    assert await admin.error_code(MEMBERS, {"org": org, "search": too_many}) == "INVALID"
    assert await admin.error_code(MEMBERS, {"org": org, "search": "a\x00b"}) == "INVALID"
    assert await admin.error_code(MEMBERS, {"org": org, "search": "x" * 201}) == "TOO_LONG"
    # Blank is no search.
    assert len(await _emails(admin, tree.acme, "   ")) == 4


async def test_found_by_new_text_after_an_edit_and_gone_when_deleted(tree, sign_in):
    await _person(tree, tree.acme, "eve@acme.example.com", "Eve", "Oldname")
    eve = await sign_in("eve@acme.example.com")
    await eve.ok(UPDATE_PROFILE, {"input": {"lastName": "Néwname"}})
    admin = await sign_in(tree["reseller.admin"].email)
    assert await _emails(admin, tree.reseller, "oldname") == []
    assert await _emails(admin, tree.reseller, "newname") == ["eve@acme.example.com"]
    # The organisation's new name finds its people.
    assert await _emails(admin, tree.reseller, "zebraf") == []
    await admin.ok(
        UPDATE_ORGANISATION,
        {"input": {"organisationId": gid("Organisation", tree.acme.id), "name": "Zebrafirm"}},
    )
    assert "eve@acme.example.com" in await _emails(admin, tree.reseller, "zebraf")
    # A deleted person's text leaves the index, even if the next person reuses the id.
    await User.filter(email="eve@acme.example.com").delete()
    assert await _emails(admin, tree.reseller, "newname") == []
    await _person(tree, tree.acme, "fay@acme.example.com", "Fay", "Other")
    assert await _emails(admin, tree.reseller, "newname") == []
    assert await _emails(admin, tree.reseller, "fay other") == ["fay@acme.example.com"]


async def test_what_a_row_shows_follows_its_status_and_organisation(tree, sign_in):
    """The searchable text is the row's (PostgreSQL keeps it on the membership):
    an accepted invitation shows, and so matches, the name; a moved membership
    matches its new organisation's name."""
    pending = await add_person(
        tree.acme, "quentin@acme.example.com", Role.MEMBER, status=MembershipStatus.INVITED
    )
    await User.filter(id=pending.user.id).update(first_name="Quentin", last_name="Newbie")
    admin = await sign_in(tree["reseller.admin"].email)
    assert await _emails(admin, tree.reseller, "newbie") == []
    await Membership.filter(id=pending.membership.id).update(status=MembershipStatus.ACTIVE)
    assert await _emails(admin, tree.reseller, "newbie") == ["quentin@acme.example.com"]
    assert await _emails(admin, tree.reseller, "newbie globex") == []
    await Membership.filter(id=pending.membership.id).update(organisation_id=tree.globex.id)
    assert await _emails(admin, tree.reseller, "newbie globex") == ["quentin@acme.example.com"]


async def test_rank_by_rank_pages_list_what_ranking_every_match_lists(tree, database):
    """PostgreSQL reads a search's page rank by rank (members/search.py,
    `member_rank_tiers`); paged two at a time it lists exactly what ranking every
    match at once lists, pending invitations (ranked by their email) included."""
    if not db.is_postgres(DATABASE_URL):
        pytest.skip("SQLite ranks every match: there is no second way to compare")
    await _person(tree, tree.acme, "ann@acme.example.com", "Ann", "")  # whole name
    await _person(tree, tree.globex, "a.lee@globex.example.com", "Ann", "Lee")  # name starts
    await _person(tree, tree.acme, "lee.ann@acme.example.com", "Lee", "Annick")  # last name
    await _person(tree, tree.globex, "jo@globex.example.com", "Joanne", "Bann")  # inside
    await add_person(
        tree.acme, "ann.t@acme.example.com", Role.MEMBER, status=MembershipStatus.INVITED
    )
    await add_person(
        tree.globex, "ann", Role.MEMBER, status=MembershipStatus.INVITED
    )  # the whole email
    below = Membership.filter(organisation__path__startswith=tree.reseller.path)
    for search in ("ann", "ann lee", "lee", "an", "annick lee", "globex ann", "nobody"):
        words = search_words(search)
        found = search_members(below, words)
        everything = await paginate(found, first=100, after=None)
        expected = [edge.node.id for edge in everything.edges]
        tiers = member_rank_tiers(below, found, words)
        assert tiers is not None
        seen: list[int] = []
        after = None
        while True:
            page = await paginate(found, first=2, after=after, tiers=tiers)
            seen += [edge.node.id for edge in page.edges]
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor
        assert seen == expected, search
        assert [edge.cursor for edge in everything.edges][:2] == [
            edge.cursor for edge in (await paginate(found, first=2, after=None, tiers=tiers)).edges
        ], search


async def test_every_way_to_read_a_subtree_reads_the_same_rows(tree):
    """A small subtree is read through its organisations, a large one (PostgreSQL)
    from the memberships' own paths, and a large one's search counted from the
    GIN index over the path's segments (members/service.py): the same rows."""
    if not db.is_postgres(DATABASE_URL):
        pytest.skip("SQLite reads every subtree through its organisations")
    # Matches in every organisation, and one just outside the reseller's subtree.
    for organisation in (tree.provider, tree.reseller, tree.acme, tree.globex):
        for n in range(3):
            await _person(
                tree, organisation, f"s{n}@{organisation.id}.example.com", "Sofia", f"N{n}"
            )
    words = search_words("sofia")
    for organisation in (tree.provider, tree.reseller, tree.acme, tree.globex):
        forms = (
            service.members_of_organisations_below(organisation),
            service.members_by_own_path_below(organisation),
            service.members_below_by_index(organisation),
        )
        below = [sorted(await form.values_list("id", flat=True)) for form in forms]
        assert below[0] == below[1] == below[2] and below[0], organisation.name
        found = [
            sorted(await search_members(form, words).values_list("id", flat=True)) for form in forms
        ]
        assert found[0] == found[1] == found[2] and len(found[0]) >= 3, organisation.name
    assert not service.large_subtree(tree.reseller)  # a few people: through its organisations


async def test_a_large_subtree_lists_and_counts_what_a_small_one_does(tree, sign_in, monkeypatch):
    """The same members queries with every subtree taken as large (PostgreSQL:
    the page from the memberships' own paths, a search's count from the index)."""
    await _person(tree, tree.acme, "ann@acme.example.com", "Ann", "")
    await _person(tree, tree.globex, "a.lee@globex.example.com", "Ann", "Lee")
    await _person(tree, tree.acme, "jo@acme.example.com", "Joanne", "Bann")
    await _person(tree, tree.provider, "ann@provider.example.com", "Ann", "")  # above it
    admin = await sign_in(tree["reseller.admin"].email)

    async def listed() -> list[tuple[int, list[str]]]:
        pages = []
        for search in (None, "ann", "globex ann", "nobody"):
            data = await admin.data(
                MEMBERS, {"org": gid("Organisation", tree.reseller.id), "search": search,
                          "descendants": True, "first": 100},
            )  # fmt: skip
            members = data["members"]
            pages.append((members["totalCount"], [n["user"]["email"] for n in members["nodes"]]))
        return pages

    small = await listed()
    assert small[1] == (3, ["ann@acme.example.com", "a.lee@globex.example.com",
                            "jo@acme.example.com"])  # fmt: skip
    monkeypatch.setattr(service, "SMALL_SUBTREE", -1)
    assert service.large_subtree(tree.reseller) == db.is_postgres(DATABASE_URL)
    assert await listed() == small
