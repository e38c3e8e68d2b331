"""UKCloud's "My Calls Admin" level: ADMIN ticket access without any members
permission lists the organisation's people (names and ticket access, nothing
more) and sets their ticket access."""

from __future__ import annotations

from server.accounts.models import Membership, MembershipStatus
from server.core.permissions import Role, TicketAccess
from tests.helpers.fixtures import add_person, gid

LIST = """query($org: ID!, $search: String, $first: Int, $after: String) {
  ticketAccessMembers(organisationId: $org, search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { membershipId firstName lastName displayName ticketAccess } } }"""
SET = """mutation($id: ID!, $access: TicketAccess!) {
  setTicketAccess(input: {membershipId: $id, ticketAccess: $access}) {
    membership { ticketAccess } errors { code } } }"""
MEMBERS = "query($org: ID!) { members(organisationId: $org) { totalCount } }"


async def _my_calls_admin(tree) -> str:
    """acme.member with ADMIN ticket access: the My Calls Admin."""
    membership = tree["acme.member"].membership
    membership.ticket_access = TicketAccess.ADMIN
    await membership.save()
    return tree["acme.member"].email


async def test_my_calls_admin_lists_names_and_ticket_access_and_sets_it(tree, sign_in):
    org = gid("Organisation", tree.acme.id)
    caller = await add_person(tree.acme, "carol.caller@acme.example.com", Role.MEMBER)
    await add_person(
        tree.acme, "pending@acme.example.com", Role.MEMBER, status=MembershipStatus.INVITED
    )
    await add_person(
        tree.acme, "gone@acme.example.com", Role.MEMBER, status=MembershipStatus.DISABLED
    )
    client = await sign_in(await _my_calls_admin(tree))
    assert await client.error_code(MEMBERS, {"org": org}) == "FORBIDDEN"

    listed = (await client.data(LIST, {"org": org}))["ticketAccessMembers"]
    # The active people only, by their names, never their addresses.
    assert listed["totalCount"] == 4
    rows = {row["displayName"]: row for row in listed["nodes"]}
    assert set(rows) == {"Owner Test", "Admin Test", "Member Test", "Carol.Caller Test"}
    assert rows["Carol.Caller Test"] == {
        "membershipId": caller.membership_id,
        "firstName": "Carol.Caller",
        "lastName": "Test",
        "displayName": "Carol.Caller Test",
        "ticketAccess": "OWN",
    }
    assert "@" not in str(listed)

    payload = await client.ok(SET, {"id": caller.membership_id, "access": "ACCOUNT"})
    assert payload["membership"] == {"ticketAccess": "ACCOUNT"}
    assert (await Membership.get(id=caller.membership.id)).ticket_access is TicketAccess.ACCOUNT


async def test_search_finds_words_of_the_name_and_pages(tree, sign_in):
    org = gid("Organisation", tree.acme.id)
    await add_person(tree.acme, "ann.smithers@acme.example.com", Role.MEMBER)
    client = await sign_in(await _my_calls_admin(tree))

    async def names(search: str) -> list[str]:
        data = await client.data(LIST, {"org": org, "search": search})
        return sorted(row["displayName"] for row in data["ticketAccessMembers"]["nodes"])

    assert await names("smith") == ["Ann.Smithers Test"]
    assert await names("ann.smithers test") == ["Ann.Smithers Test"]
    assert await names("MIN") == ["Admin Test"]
    assert await names("acme.example.com") == []  # addresses are not searched
    assert await client.error_code(LIST, {"org": org, "search": "x\x00"}) == "INVALID"
    page = (await client.data(LIST, {"org": org, "first": 2}))["ticketAccessMembers"]
    assert len(page["nodes"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = await client.data(LIST, {"org": org, "after": page["pageInfo"]["endCursor"]})
    assert len(rest["ticketAccessMembers"]["nodes"]) == 2


async def test_only_ticket_administrators_list(tree, sign_in):
    org = gid("Organisation", tree.acme.id)
    # Account tickets are not enough; a plain member neither.
    membership = tree["acme.member"].membership
    membership.ticket_access = TicketAccess.ACCOUNT
    await membership.save()
    member = await sign_in(tree["acme.member"].email)
    assert await member.error_code(LIST, {"org": org}) == "FORBIDDEN"
    # Another customer is out of reach altogether.
    globex_admin = await sign_in(tree["globex.admin"].email)
    assert await globex_admin.error_code(LIST, {"org": org}) == "NOT_FOUND"
    # Owners hold ADMIN ticket access whatever their grant; so does the reseller above.
    owner = tree["acme.owner"].membership
    owner.ticket_access = TicketAccess.NONE
    await owner.save()
    for email in (tree["acme.owner"].email, tree["reseller.admin"].email):
        client = await sign_in(email)
        assert (await client.data(LIST, {"org": org}))["ticketAccessMembers"]["totalCount"] == 3


async def test_ticket_reporters_are_named_to_the_my_calls_admin(tree, sign_in):
    org = gid("Organisation", tree.acme.id)
    reporter = await sign_in(tree["acme.owner"].email)
    await reporter.ok(
        """mutation($org: ID!) { createTicket(input: {organisationId: $org, type: INCIDENT,
        subject: "No dial tone"}) { ticket { id } errors { code } } }""",
        {"org": org},
    )
    client = await sign_in(await _my_calls_admin(tree))
    data = await client.data(
        "query($org: ID!) { tickets(organisationId: $org) { nodes { reporterName reporter { id } } } }",
        {"org": org},
    )
    # The name, not the person (their address and memberships stay the members admins').
    assert data["tickets"]["nodes"] == [{"reporterName": "Owner Test", "reporter": None}]
