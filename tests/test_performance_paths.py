"""The fast paths added for the benchmarks (BENCHMARKS.md) give the same answers
as the slow ones: prepared statements, subtree filters, the MIME writer, the
document cache, lazily made loaders and the scale seed. No timings here: the
benchmarks print figures, tests check behaviour."""

from __future__ import annotations

import email
import email.policy
import gc
import uuid

import pytest
import strawberry
from graphql import parse, specified_rules
from tortoise import connections
from tortoise.transactions import in_transaction

from server import db
from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.auth.models import Session
from server.auth.types import IDENTITY_FIELDS
from server.core import clock
from server.core.actor import Actor
from server.core.loaders import Loaders, now_or_later
from server.core.lookahead import selected_below
from server.core.passwords import verify_password
from server.core.permissions import Role, TicketAccess
from server.core.pipeline import (
    MAX_CACHED_DOCUMENT,
    DocumentCache,
    is_awaitable,
    selected_coordinates,
)
from server.core.prepared import PreparedSelect, PreparedUpdate
from server.core.principals import PersonSession
from server.core.subtree import subtree
from server.mail.models import MailStatus, OutboxMail
from server.mail.transport import build_message, wire_message
from server.schema import build_schema
from server.seed_scale import SCALE_PROVIDER, seed_scale
from server.settings import get_settings
from server.tenancy.models import Organisation, OrganisationKind
from tests.helpers.fixtures import gid


async def _organisation(path: str, name: str) -> Organisation:
    return await Organisation.create(name=name, kind=OrganisationKind.CUSTOMER, path=path)


# --- subtree filters ---------------------------------------------------------------------


async def test_subtree_is_exactly_the_paths_below() -> None:
    paths = ["/1/", "/1/4/", "/1/4/9/", "/1/40/", "/1/40/7/", "/1/5/", "/14/", "/1/4"]
    for i, path in enumerate(paths):
        await _organisation(path, f"org {i}")
    for root in ("/1/", "/1/4/", "/1/40/", "/14/", "/9/"):
        found = {o.path for o in await Organisation.filter(subtree(root))}
        assert found == {p for p in paths if p.startswith(root)}, root
        # Through a relation, as the members query uses it.
        assert {o.path for o in await Organisation.filter(subtree(root, ""))} == found


# --- prepared statements -------------------------------------------------------------------


async def test_prepared_select_matches_the_queryset() -> None:
    organisations = [await _organisation(f"/{i}/", f"org {i}") for i in range(1, 6)]
    prepared = PreparedSelect(Organisation, lambda ids: Organisation.filter(id__in=ids))
    for size in (1, 3, 5, 3):  # one shape per list length, reused
        ids = [o.id for o in organisations[:size]]
        got = sorted(o.id for o in await prepared.fetch(ids))
        assert got == sorted(o.id for o in await Organisation.filter(id__in=ids))
    assert await prepared.fetch([999_999]) == []


async def test_prepared_select_keeps_select_related_and_transactions() -> None:
    organisation = await _organisation("/1/", "Acme")
    user = await User.create(email="ada@example.test", status=UserStatus.ACTIVE)
    await Membership.create(
        organisation=organisation, user=user, role=Role.OWNER, status=MembershipStatus.ACTIVE
    )
    prepared = PreparedSelect(
        Membership,
        lambda user_id, status: Membership.filter(user_id=user_id, status=status).select_related(
            "organisation"
        ),
    )
    # An enum argument cannot carry a marker: that query runs unprepared, same answers.
    [found] = await prepared.fetch(user.id, "ACTIVE")
    assert found.organisation.name == "Acme" and found.role is Role.OWNER
    assert await prepared.fetch(user.id, "DISABLED") == []
    # Inside a transaction the prepared select sees the transaction's own writes.
    async with in_transaction():
        other = await User.create(email="bob@example.test", status=UserStatus.ACTIVE)
        await Membership.create(
            organisation=organisation, user=other, role=Role.MEMBER, status=MembershipStatus.ACTIVE
        )
        [inside] = await prepared.fetch(other.id, "ACTIVE")
        assert inside.user_id == other.id


async def test_prepared_update_is_conditional_like_the_queryset() -> None:
    now = clock.now()
    mail = await OutboxMail.create(
        kind="x", message_id=f"<{uuid.uuid4().hex}@example.test>", recipient="a@example.test",
        subject="s", text_body="t", html_body="h", status=MailStatus.SENDING,
        next_attempt_at=now, claimed_until=now, created_at=now,
    )  # fmt: skip
    mark = PreparedUpdate(
        OutboxMail,
        lambda mail_id, lease, sent_at: OutboxMail.filter(
            id=mail_id, status=MailStatus.SENDING, claimed_until=lease
        ).update(status=MailStatus.SENT, claimed_until=None, sent_at=sent_at),
    )
    assert await mark.execute(mail.id, clock.now(), now) == 0  # not our lease
    assert await mark.execute(mail.id, now, now) == 1
    row = await OutboxMail.get(id=mail.id)
    assert row.status == MailStatus.SENT and row.claimed_until is None and row.sent_at == now
    assert await mark.execute(mail.id, now, now) == 0  # only once


def test_prepared_arguments_are_plain_values() -> None:
    prepared = PreparedSelect(
        Organisation, lambda flag: Organisation.filter(require_two_factor=flag)
    )
    with pytest.raises(TypeError):
        prepared._prepare(None, [True])  # type: ignore[arg-type]
    # Arguments that a field refuses as markers leave the query unprepared.
    by_kind = PreparedSelect(Organisation, lambda kind: Organisation.filter(kind=kind))
    assert by_kind._prepare(Organisation._meta.db, ["CUSTOMER"]) is None


# --- the MIME writer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "text", "html"),
    [
        ("Welcome", "Hello\nSecond line\n", "<p>Hello</p>"),
        (
            "Grüße, Zoë — über " * 8,
            ".leading dot\ntrailing   \ntab\there\n= sign =3D\r\nCRLF\rCR\n" + "x" * 300,
            "<p>" + "é" * 400 + "</p>",
        ),
        ("No end of line", "no newline", ""),
    ],
)
def test_wire_message_is_the_same_mail(subject: str, text: str, html: str) -> None:
    settings = get_settings()
    mail = OutboxMail(
        kind="x", message_id=f"<{uuid.uuid4().hex}@example.test>", recipient="ada@example.test",
        subject=subject[:255], text_body=text, html_body=html, created_at=clock.now(),
    )  # fmt: skip
    sender, recipient, data = wire_message(mail, settings)  # type: ignore[misc]
    assert recipient == mail.recipient and sender == email.utils.parseaddr(settings.mail_from)[1]
    assert data.isascii() and all(len(line) <= 998 for line in data.split(b"\r\n"))
    fast = email.message_from_bytes(data, policy=email.policy.default)
    slow = email.message_from_bytes(
        build_message(mail, settings).as_bytes(), policy=email.policy.default
    )
    assert not fast.defects
    for header in ("From", "To", "Message-ID", "Date", "Auto-Submitted"):
        assert str(fast[header]) == str(slow[header])
    assert str(fast["Subject"]) == mail.subject
    for kind in ("plain", "html"):
        got = fast.get_body(preferencelist=(kind,)).get_content()
        want = slow.get_body(preferencelist=(kind,)).get_content()
        assert got.replace("\r\n", "\n").rstrip("\n") == want.replace("\r\n", "\n").rstrip("\n")


def test_wire_message_leaves_non_ascii_addresses_to_the_email_package() -> None:
    mail = OutboxMail(
        kind="x", message_id="<1@example.test>", recipient="zoë@example.test",
        subject="s", text_body="t", html_body="h", created_at=clock.now(),
    )  # fmt: skip
    assert wire_message(mail, get_settings()) is None


def test_wire_message_refuses_header_injection() -> None:
    mail = OutboxMail(
        kind="x", message_id="<1@example.test>", recipient="a@example.test",
        subject="Hi\r\nBcc: eve@example.test", text_body="t", html_body="h",
        created_at=clock.now(),
    )  # fmt: skip
    with pytest.raises(ValueError, match="control characters"):
        wire_message(mail, get_settings())


# --- the document cache -----------------------------------------------------------------


def test_document_cache_parses_and_validates_once_per_text() -> None:
    schema = build_schema()._schema
    cache = DocumentCache(max_tokens=50, maxsize=2)
    query = "{ viewer { user { email } } }"
    document = cache.parse(query)
    assert cache.parse(query) is document
    rules = tuple(specified_rules)
    assert cache.validate(schema, query, document, rules) == []
    assert cache.validations.get((id(schema), rules, query))[0] is document
    assert cache.validate(schema, "{ nope }", parse("{ nope }"), rules)  # errors
    with pytest.raises(Exception, match="tokens"):
        cache.parse("{ " + "a " * 60 + "}")
    long_query = "{ viewer { user { email } } }" + " " * MAX_CACHED_DOCUMENT
    cache.parse(long_query)
    assert cache.documents.get(long_query) is None  # too long to keep


def _coordinates(query: str) -> frozenset[str]:
    schema = build_schema()._schema
    document = parse(query)
    return selected_coordinates(schema, document, document.definitions[-1])


def test_selected_fields_are_found_through_fragments() -> None:
    found = _coordinates(
        """
        fragment Me on User { email ...Name }
        fragment Name on User { firstName ...Me }
        query($id: ID!) {
          viewer { user { ...Me } }
          node(id: $id) { __typename ... on Organisation { name } }
        }"""
    )
    assert found == {
        "Query.viewer",
        "Viewer.user",
        "User.email",
        "User.firstName",
        "Query.node",
        "Organisation.name",
    }


def test_identity_fields_exist() -> None:
    """A renamed field would silently take the viewer query off the cheap path;
    any field not listed loads the memberships first."""
    schema = build_schema()._schema
    for coordinate in IDENTITY_FIELDS:
        type_name, field_name = coordinate.split(".")
        assert field_name in schema.get_type(type_name).fields, coordinate  # type: ignore[union-attr]
    assert _coordinates("{ viewer { user { id email } } }") <= IDENTITY_FIELDS
    assert not _coordinates("{ viewer { memberships { role } } }") <= IDENTITY_FIELDS
    assert not _coordinates("{ viewer { user { memberships { role } } } }") <= IDENTITY_FIELDS


async def test_memberships_used_before_they_are_loaded_raise() -> None:
    user = await User.create(email="lazy@example.com", first_name="L", last_name="Z")
    calls = []

    async def load() -> tuple[list[Membership], list[Membership]]:
        calls.append(1)
        return [], []

    session = await Session.create(
        token_hash="0" * 64,
        user=user,
        created_at=clock.now(),
        last_seen_at=clock.now(),
        authenticated_at=clock.now(),
        expires_at=clock.now(),
    )
    actor = Actor(user=user, principal=PersonSession(session), load=load)
    organisation = await _organisation("/1/", "Acme")
    with pytest.raises(RuntimeError, match="before load_memberships"):
        actor.can_see(organisation)
    with pytest.raises(RuntimeError):
        _ = actor.memberships
    assert await actor.load_memberships() is actor
    await actor.load_memberships()
    assert calls == [1]  # once
    assert actor.memberships == [] and not actor.can_see(organisation)


def test_rows_are_values_not_awaitables() -> None:
    """Tortoise models define `__await__`; graphql-core must not spend a task on
    each row a resolver returns (a page of 50 members returned 100 of them)."""

    async def coroutine() -> None:
        return None

    pending = coroutine()
    assert is_awaitable(pending)
    pending.close()
    assert not is_awaitable(User(email="row@example.com"))
    assert not is_awaitable("text") and not is_awaitable([User()])


@strawberry.type
class _Item:
    a: int
    b: int


@strawberry.type
class _Page:
    nodes: list[_Item]


_SEEN: dict[str, set[str]] = {}


@strawberry.type
class _LookaheadQuery:
    @strawberry.field
    def page(self, info: strawberry.Info) -> _Page:
        _SEEN["names"] = selected_below(info, ["nodes"], ["edges", "node"])
        return _Page(nodes=[])


def test_selected_below_looks_under_the_current_field() -> None:
    result = strawberry.Schema(_LookaheadQuery).execute_sync(
        "fragment B on Item { b } { page { nodes { a ...B } } }"
    )
    assert result.errors is None
    assert _SEEN["names"] == {"a", "b"}


# --- loaders ------------------------------------------------------------------------------


async def test_loaders_are_made_on_first_use_and_share_results() -> None:
    loaders = Loaders()
    assert not loaders._made
    organisation = await _organisation("/1/", "Acme")
    assert loaders.organisation is loaders.organisation
    pending = now_or_later(loaders.organisation, organisation.id)
    assert (await pending).id == organisation.id  # a future the first time
    assert now_or_later(loaders.organisation, organisation.id).id == organisation.id  # then the row


# --- seed-scale ----------------------------------------------------------------------------


async def test_seed_scale_builds_the_tree_once() -> None:
    summary = await seed_scale("a-long-password-1", organisations=24, users=60, resellers=3)
    assert (summary.organisations, summary.users) == (24, 60)
    provider = await Organisation.get(name=SCALE_PROVIDER)
    assert await Organisation.filter(subtree(provider.path)).count() == 24
    resellers = await Organisation.filter(parent_id=provider.id).order_by("id")
    assert [r.kind for r in resellers] == [OrganisationKind.RESELLER] * 3
    for organisation in await Organisation.all():
        parent = await Organisation.get_or_none(id=organisation.parent_id or 0)
        expected = f"{parent.path if parent else '/'}{organisation.id}/"
        assert organisation.path == expected
    assert await Membership.filter(role=Role.OWNER).count() == 24
    # Rows written column by column read back as the models': given values and defaults.
    owner = await User.get(email=summary.reseller_owner)
    assert owner.status is UserStatus.ACTIVE and owner.title == "" and owner.totp_last_step == 0
    assert (await verify_password(owner.password_hash, "a-long-password-1"))[0]
    membership = await Membership.get(user_id=owner.id)
    assert (membership.role, membership.ticket_access) == (Role.OWNER, TicketAccess.ADMIN)
    assert membership.organisation_id == resellers[0].id
    # New rows still get fresh ids after the explicit ones.
    extra = await _organisation("/x/", "after the seed")
    assert extra.id > max(o.id for o in await Organisation.exclude(id=extra.id))
    with pytest.raises(SystemExit):
        await seed_scale("a-long-password-1", organisations=24, users=60, resellers=3)


# --- what a request leaves behind ------------------------------------------------------------


async def test_a_request_is_freed_without_the_cyclic_collector(tree, sign_in) -> None:
    """graphql-core's executor refers to itself through bound methods; the
    pipeline breaks that cycle, so the request's context, actor and rows are
    freed as soon as the response is out instead of piling up for the cyclic
    collector (which then cost ~15 µs a request, BENCHMARKS.md)."""
    owner = await sign_in(tree["acme.owner"].email)
    queries = [
        ("{ viewer { user { id email } } }", None),
        (MEMBERS_PAGE, {"org": gid("Organisation", tree.acme.id), "first": 2}),
    ]
    for query, variables in queries:
        await owner.data(query, variables)  # warm-up: caches
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for query, variables in queries:
            await owner.data(query, variables)
        gc.collect()
        # (httpx, the test's client, leaves cycles of its own.)
        ours = ("server.", "graphql.", "strawberry.", "starlette.", "tortoise.")
        left = {
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if type(o).__module__.startswith(ours)
        }
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not left, left


MEMBERS_PAGE = """
query($org: ID!, $first: Int!) {
  members(organisationId: $org, first: $first) { nodes { role user { email } } }
}"""


async def test_field_grouping_is_reused_only_when_variables_cannot_change_it(tree, sign_in) -> None:
    """The plan keeps graphql-core's grouping of the selected fields unless a
    directive could make it depend on the variables."""
    owner = await sign_in(tree["acme.owner"].email)
    organisation = gid("Organisation", tree.acme.id)
    for first in (1, 3, 2):  # one plan, other variables: other pages
        page = await owner.data(MEMBERS_PAGE, {"org": organisation, "first": first})
        assert len(page["members"]["nodes"]) == first
        assert set(page["members"]["nodes"][0]) == {"role", "user"}

    query = "query($with: Boolean!) { viewer { user { id email @include(if: $with) } } }"
    for with_email in (True, False, True):
        user = (await owner.data(query, {"with": with_email}))["viewer"]["user"]
        assert ("email" in user) is with_email


# --- resolvers called without Strawberry's wrapper -------------------------------------------


def _resolve(coordinate: str):  # type: ignore[no-untyped-def]
    type_name, field_name = coordinate.split(".")
    return build_schema()._schema.get_type(type_name).fields[field_name].resolve  # type: ignore[union-attr]


def test_only_plain_resolvers_are_called_directly() -> None:
    direct = ("Query.viewer", "User.id", "Organisation.id", "User.twoFactorEnabled")
    for coordinate in direct:
        assert _resolve(coordinate).__module__ == "server.core.resolvers", coordinate
    # Guarded (field extensions) or with arguments: Strawberry's wrapper stays.
    for coordinate in ("Query.sessions", "Query.members", "Organisation.members"):
        assert _resolve(coordinate).__module__.startswith("strawberry."), coordinate


async def test_direct_resolvers_answer_like_strawberrys(tree, sign_in) -> None:
    owner = await sign_in(tree["acme.owner"].email)
    data = await owner.data(
        """query($org: ID!) {
          viewer { user { id email twoFactorEnabled } memberships { id role organisation { id name } } }
          node(id: $org) { id ... on Organisation { name } }
        }""",
        {"org": gid("Organisation", tree.acme.id)},
    )
    person = tree["acme.owner"]
    assert data["viewer"]["user"] == {
        "id": gid("User", person.user.id),
        "email": person.email,
        "twoFactorEnabled": False,
    }
    assert data["viewer"]["memberships"] == [
        {
            "id": gid("Membership", person.membership.id),
            "role": "OWNER",
            "organisation": {"id": gid("Organisation", tree.acme.id), "name": "Acme"},
        }
    ]
    assert data["node"] == {"id": gid("Organisation", tree.acme.id), "name": "Acme"}


# --- pooled connections ------------------------------------------------------------------


@pytest.mark.skipif(
    not db.is_postgres(get_settings().database_url), reason="PostgreSQL's connection pool"
)
async def test_a_pooled_connection_goes_back_without_a_transaction_and_nothing_else() -> None:
    """The pool's reset (server/db.py) ends an open transaction and sends nothing
    when there is none: asyncpg's own reset was a round trip after every statement."""
    config = db.tortoise_config(get_settings().database_url)
    assert config["connections"]["default"]["credentials"]["reset"] is db.end_transaction_only
    async with connections.get("default").acquire_connection() as raw:
        await raw.execute("BEGIN")
        await raw.execute("SELECT 1")
        assert raw.is_in_transaction()
        await db.end_transaction_only(raw)
        assert not raw.is_in_transaction()
        # Outside a transaction it sends nothing: not even asyncpg's RESET ALL.
        await raw.execute("SET application_name = 'kept'")
        try:
            await db.end_transaction_only(raw)
            assert await raw.fetchval("SHOW application_name") == "kept"
        finally:
            await raw.execute("RESET application_name")
