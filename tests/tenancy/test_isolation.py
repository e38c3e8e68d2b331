"""Tenant isolation, proven by property (issue 5, item 5).

Hypothesis draws random worlds (tests/tenancy/world.py): a tree of 3–10
organisations (a provider, resellers, customers; some suspended, some
requiring a second factor), 2–7 people with 1–3 memberships each of random
role, status, ticket access and canImpersonate grant, API tokens with random
permission sets (active, revoked or expired; their creators' rights may be
less than the token was given), invitations, contacts, tickets with comments,
extensions with calls, audit events, webhook endpoints with the deliveries
those events queued, and other people's sessions. The caller is person 0,
signed in by `login`, or their API token, or an impersonation of them by
someone else reaching a random subtree. A pure-Python model of the documented
rules (the Model class; never the server's Actor) says what that caller may
see and do; the real ASGI app, over HTTP, must agree:

1. Nothing out of reach appears in any answer below: every object with an id
   belongs to an organisation the caller sees (their own memberships, a
   support desk's tickets and the caller's own user being the documented
   exceptions), every person shown has a membership there, and every webhook
   payload shown names an organisation the caller sees.
2. `viewer`: memberships and awaitingTwoFactor exactly as the rules say;
   `viewer.user.memberships` the caller's own plus those under MEMBERS_VIEW.
3. `organisations` lists exactly the organisations with ORGANISATION_VIEW.
4. `organisation(id:)` for every organisation: null without an error out of
   reach, FORBIDDEN when seen without ORGANISATION_VIEW, otherwise `parent`
   only if seen, `children` exactly those seen, `viewerPermissions` exact.
5. `node(id:)` for every organisation, membership, user, invitation, audit
   event, API token, contact, ticket, ticket comment, extension, call record,
   webhook endpoint (with its deliveries), webhook delivery and session is
   non-null exactly when the rules say so; likewise `ticket(id:)`.
6. Connections: `members` (with and without includeDescendants),
   `invitations`, `auditEvents` and `tickets` (with descendants), `apiTokens`,
   `contacts`, `extensions`, `callRecords`, `webhookEndpoints` answer
   NOT_FOUND out of reach, FORBIDDEN without the permission, otherwise
   exactly the expected rows and totalCount; `ownExtensions`,
   `ownCallRecords`, and the nested `Organisation.members` (with each
   member's `user.memberships`) and `Organisation.invitations` likewise.
7. `GET /audit/export.csv` answers 401 / 404 / 403 / exactly the rows.
8. Every mutation taking an id (MUTATIONS; the two meta-tests below fail when
   the schema grows one that is not listed) aimed at an object out of reach
   answers NOT_FOUND; aimed at a seen object without the permission,
   FORBIDDEN; `@notForApiTokens` / `@notWhileImpersonating` ones refuse
   tokens / impersonations outright; a foreign member's id smuggled into a
   permitted createExtension / assignExtension is NOT_FOUND; and afterwards
   every row of every table is unchanged.
9. A caller that cannot act (refused log-in, revoked or expired token,
   disabled creator or impersonator) sees nothing and changes nothing.
10. Independent of the caller: each audited change queued one webhook
   delivery for each endpoint of its organisation and of its ancestors, and
   none for anyone else (a reseller hears its customers, never its parent or
   a sibling).

Requests that end in an error cost one request each (a failing non-null root
field nulls the whole answer), so per example a sample of them is made: of
the refused connections, of the permitted ones without includeDescendants,
of the mutations per kind and of the FORBIDDEN mutations (see the *_SAMPLE
constants); the sample is drawn by Hypothesis, so a failure replays.

Two bugs it found (an API token or an impersonation showing the person's
memberships beyond its subtree) are fixed; the tests at the end of this
module keep them fixed. TOLERATED (the model's `tolerate`) can name a known
bug the property lets pass while it is being fixed: none now.

Settings: FRONTDESK_HYPOTHESIS_EXAMPLES (default 40) examples, no deadline,
derandomised (the same examples every run, no example database);
FRONTDESK_HYPOTHESIS_SEED=<int> explores other, random examples;
FRONTDESK_HYPOTHESIS_SHRINK=1 shrinks a failure (minutes). A failure lists
the world (organisations, people, tokens, caller) and every disagreement.
"""

from __future__ import annotations

import dataclasses
import os
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, event, given, seed, settings

from server.accounts.models import Membership
from server.core import clock
from server.core.actor import Actor
from server.core.permissions import Role
from tests.helpers.fixtures import GraphQLClient, add_person, gid
from tests.tenancy.build import build, empty_database
from tests.tenancy.checks import Check
from tests.tenancy.model import Model
from tests.tenancy.operations import COVERED_QUERIES, EXEMPT_MUTATIONS, LISTINGS, MUTATIONS, REF
from tests.tenancy.world import (
    KNOWN_BUGS,
    Caller,
    MembershipSpec,
    OrgSpec,
    TokenSpec,
    World,
    worlds,
)

TOLERATED: frozenset[str] = frozenset()
EXAMPLES = int(os.environ.get("FRONTDESK_HYPOTHESIS_EXAMPLES", "40"))
_SEED = os.environ.get("FRONTDESK_HYPOTHESIS_SEED")
_SHRINK = os.environ.get("FRONTDESK_HYPOTHESIS_SHRINK", "") not in ("", "0")

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=_SEED is None,
    database=None,
    # Shrinking a failure takes minutes here (a second per example): opt in to it.
    phases=[p for p in Phase if p is not Phase.shrink or _SHRINK],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _seeded(test: Any) -> Any:
    return seed(int(_SEED))(test) if _SEED else test


async def check_world(
    http: httpx.AsyncClient, world: World, *, tolerate: frozenset[str] = frozenset()
) -> list[str]:
    await empty_database()
    built = await build(world)
    check = Check(http, built, Model(world, tolerate=tolerate))
    await check.run()
    return check.failures


def describe_caller(world: World) -> str:
    """For `--hypothesis-show-statistics`: who called, and how much they could see."""
    model = Model(world, tolerate=TOLERATED)
    if not model.valid:
        return f"{world.caller.kind} that cannot act"
    hidden = len(world.orgs) - len(model.visible)
    sees = "nothing" if not model.visible else "everything" if not hidden else "a part"
    return f"{world.caller.kind} seeing {sees}"


@SETTINGS
@_seeded
@given(world=worlds())
async def test_nothing_outside_the_callers_scope_is_readable_or_changeable(
    http: httpx.AsyncClient, world: World
) -> None:
    event(describe_caller(world))
    failures = await check_world(http, world, tolerate=TOLERATED)
    assert not failures, "\n".join([world.describe(), *failures])


# --- the property covers the whole schema ----------------------------------------------------


def _schema() -> Any:
    from server.schema import build_schema

    return build_schema()._schema


def _has_id_argument(field: Any) -> bool:
    from graphql import GraphQLInputObjectType, get_named_type

    for argument in field.args.values():
        named = get_named_type(argument.type)
        if named.name == "ID":
            return True
        if isinstance(named, GraphQLInputObjectType) and any(
            get_named_type(f.type).name == "ID" for f in named.fields.values()
        ):
            return True
    return False


def test_every_mutation_taking_an_id_is_probed() -> None:
    schema = _schema()
    probed = {mutation.name for mutation in MUTATIONS}
    missing = [
        name
        for name, field in schema.mutation_type.fields.items()
        if _has_id_argument(field) and name not in probed and name not in EXEMPT_MUTATIONS
    ]
    assert not missing, (
        f"mutations taking an id that the tenancy property does not try: {missing}; "
        "add them to MUTATIONS in tests/tenancy/operations.py"
    )
    assert probed <= set(schema.mutation_type.fields), probed - set(schema.mutation_type.fields)


def test_every_query_taking_an_id_is_probed() -> None:
    schema = _schema()
    missing = [
        name
        for name, field in schema.query_type.fields.items()
        if _has_id_argument(field)
        and name not in COVERED_QUERIES
        and name not in {listing.field.split("(")[0] for listing in LISTINGS}
    ]
    assert not missing, (
        f"queries taking an id that the tenancy property does not try: {missing}; "
        "add them to COVERED_QUERIES or LISTINGS in tests/tenancy/operations.py"
    )


# --- known bugs, shrunk to their smallest worlds ------------------------------------------

ORGANISATIONS_SHOWN = f"""query($id: ID!) {{
  viewer {{
    memberships {{ organisation {{ name }} }}
    user {{ memberships {{ organisation {{ name }} }} }}
  }}
  node(id: $id) {{ {REF} ... on Membership {{ organisation {{ name }} }} }}
}}"""
CREATE_TOKEN = """mutation($org: ID!, $expires: DateTime!) {
  createApiToken(input: {organisationId: $org, name: "CRM", expiresAt: $expires,
                         permissions: [ORGANISATION_VIEW, MEMBERS_VIEW]}) {
    secret errors { code } } }"""
IMPERSONATE = """mutation($id: ID!) {
  impersonateUser(input: {membershipId: $id, reason: "DND stuck on"}) { token errors { code } } }"""


def organisation_names(value: Any) -> set[str]:
    if isinstance(value, list):
        return {name for item in value for name in organisation_names(item)}
    if isinstance(value, dict):
        found = {value["organisation"]["name"]} if value.get("organisation") else set()
        return found | {name for item in value.values() for name in organisation_names(item)}
    return set()


async def test_an_api_token_shows_none_of_its_creators_memberships_beyond_its_subtree(
    tree, sign_in, http
):
    # The reseller's admin, also a member of Globex, makes a token for Acme only.
    admin = tree["reseller.admin"]
    await add_person(tree.globex, admin.email, Role.MEMBER)
    session = await sign_in(admin.email)
    expires = (clock.now() + timedelta(days=30)).isoformat()
    created = await session.ok(
        CREATE_TOKEN, {"org": gid("Organisation", tree.acme.id), "expires": expires}
    )
    token = GraphQLClient(http, created["secret"])
    # For the token, the reseller does not exist ...
    assert await token.data(
        "query($id: ID!) { organisation(id: $id) { name } }",
        {"id": gid("Organisation", tree.reseller.id)},
    ) == {"organisation": None}
    # ... yet it shows the creator's place there, and at Globex (a sibling of Acme).
    shown = await token.data(ORGANISATIONS_SHOWN, {"id": admin.membership_id})
    assert organisation_names(shown) <= {"Acme"}, organisation_names(shown)


async def test_an_impersonation_shows_none_of_the_members_memberships_beyond_the_admins_subtree(
    tree, sign_in, http
):
    # Acme's owner opens the portal of an Acme member who is also a member of Globex.
    owner, member = tree["acme.owner"], tree["acme.member"]
    elsewhere = await add_person(tree.globex, member.email, Role.MEMBER)
    await Membership.filter(id=owner.membership.id).update(can_impersonate=True)
    admin = await sign_in(owner.email)
    started = await admin.ok(IMPERSONATE, {"id": member.membership_id})
    acting = GraphQLClient(http, started["token"])
    shown = await acting.data(ORGANISATIONS_SHOWN, {"id": elsewhere.membership_id})
    # viewer.memberships rightly holds Acme only; the user's memberships and node() do not.
    assert organisation_names(shown["viewer"]["memberships"]) == {"Acme"}
    assert organisation_names(shown) <= {"Acme"}, organisation_names(shown)


def test_the_model_knows_what_the_property_tolerates() -> None:
    assert TOLERATED <= KNOWN_BUGS


# --- planted bugs: the property must catch them ---------------------------------------------

# Two customers of one reseller; person 0 owns the first, person 1 the second, and person 0
# has an API token on their customer. Nothing of person 1 is person 0's business.
_PLANTED = World(
    orgs=(
        OrgSpec(None, "PROVIDER"),
        OrgSpec(0, "RESELLER"),
        OrgSpec(1, "CUSTOMER"),
        OrgSpec(1, "CUSTOMER"),
    ),
    people_active=(True, True),
    memberships=(
        MembershipSpec(0, 2, "OWNER", ticket_access="ADMIN"),
        MembershipSpec(1, 3, "OWNER", ticket_access="ADMIN"),
    ),
    tokens=(TokenSpec(2, 0, frozenset({"ORGANISATION_VIEW"})),),
    invitations=(),
    contacts=(),
    tickets=(),
    extensions=(),
    other_sessions=(1,),
    caller=Caller("person"),
    sampler=random.Random(0),
)


def _leak_every_person(actor: Actor, user: Any, memberships: Any) -> bool:
    return True


def _tokens_see_themselves(actor: Actor) -> bool:
    return True


@pytest.mark.parametrize(
    ("caller", "target", "planted"),
    [
        # The decision module shows everyone to everyone.
        (Caller("person"), "may_view_person", _leak_every_person),
        # A token is treated as personal: its creator's account is reachable.
        (Caller("token"), "personal", property(_tokens_see_themselves)),
    ],
    ids=["person-sees-strangers", "token-reaches-the-person"],
)
async def test_the_property_catches_a_planted_leak(
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caller: Caller,
    target: str,
    planted: Any,
) -> None:
    world = dataclasses.replace(_PLANTED, caller=caller)
    assert not await check_world(http, world), "the unplanted world must pass"
    monkeypatch.setattr(Actor, target, planted)
    failures = await check_world(http, world)
    assert failures, f"the property missed a planted leak in Actor.{target}"
