"""Set-up data from the command line: the first owner, and the demo tree."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.accounts.models import Membership, MembershipStatus, User, UserStatus
from server.contacts import demo as contacts_demo
from server.core import clock
from server.core.errors import DomainError
from server.core.passwords import check_policy, hash_password, personal_words
from server.core.permissions import DEFAULT_TICKET_ACCESS, Role
from server.core.validation import normalise_email
from server.organisations import service as organisations
from server.telephony import demo as telephony_demo
from server.tenancy.models import Organisation, OrganisationKind
from server.tickets import demo as tickets_demo

DEMO_OWNER = "owner@provider.example.com"

# (organisation, kind, parent, [(email, role)])
DEMO_TREE = [
    (
        "Frontdesk Cloud",
        OrganisationKind.PROVIDER,
        None,
        [
            (DEMO_OWNER, Role.OWNER),
            ("support@provider.example.com", Role.ADMIN),
        ],
    ),
    (
        "Northwind Hosting",
        OrganisationKind.RESELLER,
        "Frontdesk Cloud",
        [
            ("owner@northwind.example.com", Role.OWNER),
            ("admin@northwind.example.com", Role.ADMIN),
            ("member@northwind.example.com", Role.MEMBER),
        ],
    ),
    (
        "Acme Ltd",
        OrganisationKind.CUSTOMER,
        "Northwind Hosting",
        [
            ("owner@acme.example.com", Role.OWNER),
            ("admin@acme.example.com", Role.ADMIN),
            ("alice@acme.example.com", Role.MEMBER),
            ("bob@acme.example.com", Role.MEMBER),
            ("viewer@acme.example.com", Role.VIEWER),
        ],
    ),
    (
        "Globex GmbH",
        OrganisationKind.CUSTOMER,
        "Northwind Hosting",
        [
            ("owner@globex.example.com", Role.OWNER),
            ("admin@globex.example.com", Role.ADMIN),
            ("carol@globex.example.com", Role.MEMBER),
            ("dave@globex.example.com", Role.SUPPORT_ONLY),
        ],
    ),
]


async def _add_member(
    organisation: Organisation, email: str, role: Role, password_hash: str
) -> None:
    local = email.split("@")[0]
    user, _ = await User.get_or_create(
        email=email,
        defaults={
            "first_name": local.title(),
            "last_name": organisation.name.split()[0],
            "status": UserStatus.ACTIVE,
            "password_hash": password_hash,
        },
    )
    await Membership.get_or_create(
        organisation=organisation,
        user=user,
        defaults={
            "role": role,
            "status": MembershipStatus.ACTIVE,
            "ticket_access": DEFAULT_TICKET_ACCESS[role],
        },
    )


async def seed_demo(password: str) -> bool:
    """Create the demo tree (idempotent); every demo user gets `password`.
    Returns False when the tree already existed (passwords are renewed)."""
    password_hash = await hash_password(password)
    emails = [email for *_, members in DEMO_TREE for email, _ in members]
    if await Organisation.exists(name=DEMO_TREE[0][0], parent_id=None):
        await User.filter(email__in=emails).update(password_hash=password_hash)
        return False
    async with in_transaction():
        created: dict[str, Organisation] = {}
        for name, kind, parent, members in DEMO_TREE:
            if parent is None:
                organisation = await organisations.create_root(name, kind)
            else:
                organisation = await organisations.create_child(
                    actor=None, parent=created[parent], name=name, kind=kind
                )
            created[name] = organisation
            for email, role in members:
                await _add_member(organisation, email, role, password_hash)
        # Feature grants need a first log-in; the demo users count as having logged in.
        await User.filter(email__in=emails).update(last_login_at=clock.now())
        # Contacts, tickets, extensions and calls of the demo tree.
        for demo in (contacts_demo, tickets_demo, telephony_demo):
            await demo.seed(created)
    return True


async def create_admin(*, email: str, password: str, organisation_name: str) -> str:
    """The first owner of the provider (created too when there is none)."""
    try:
        address = normalise_email(email)
        words = personal_words(email=address, organisation_names=[organisation_name])
        check_policy(password, user_inputs=words)
    except DomainError as error:
        raise SystemExit(f"create-admin: {error.field}: {error.message}") from None
    password_hash = await hash_password(password)
    async with in_transaction():
        root = await Organisation.filter(parent_id=None).order_by("id").first()
        if root is None:
            root = await organisations.create_root(organisation_name)
        if await User.exists(email=address):
            raise SystemExit(f"create-admin: {address} already exists.")
        user = await User.create(
            email=address, status=UserStatus.ACTIVE, password_hash=password_hash
        )
        await Membership.create(
            organisation=root,
            user=user,
            role=Role.OWNER,
            status=MembershipStatus.ACTIVE,
            ticket_access=DEFAULT_TICKET_ACCESS[Role.OWNER],
        )
    return address
