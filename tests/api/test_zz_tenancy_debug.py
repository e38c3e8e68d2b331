from tests.api.test_tenancy_properties import check_world
from tests.helpers.tenancy import World, OrgSpec, MembershipSpec, Caller, build, empty_database
from server.audit.models import AuditEvent
from server.accounts.models import usable_memberships, User
from tests.helpers.fixtures import GraphQLClient, LOGIN, PASSWORD

async def test_debug(http):
    orgs = (OrgSpec(None, "PROVIDER"), OrgSpec(0, "RESELLER"), OrgSpec(1, "CUSTOMER"))
    w = World(orgs=orgs, people_active=(True, True), memberships=(MembershipSpec(0, 0, "OWNER"), MembershipSpec(1, 0, "OWNER")), tokens=(), invitations=(), contacts=(), tickets=(), extensions=(), other_sessions=(), caller=Caller("person", person=0))
    await empty_database()
    b = await build(w)
    print(await usable_memberships(b.users[0].id))
    print(await GraphQLClient(http)(LOGIN, {"email": b.users[0].email, "password": PASSWORD}))
    print(await AuditEvent.filter(action__startswith="auth").values("action", "details"))
