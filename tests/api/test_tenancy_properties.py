from datetime import timedelta
from server.api_tokens.models import ApiToken
from server.core import clock
from server.core.tokens import new_token
from server.core.permissions import Role
from tests.helpers.fixtures import gid, GraphQLClient, add_person

async def test_scratch(tree, sign_in, http):
    admin = tree["reseller.admin"]
    await add_person(tree.globex, admin.email, Role.MEMBER)
    raw, digest = new_token("fdt_")
    await ApiToken.create(organisation=tree.acme, name="t", token_hash=digest, hint=raw[:10], permissions=["MEMBERS_VIEW", "ORGANISATION_VIEW"], created_by=admin.user, created_at=clock.now(), expires_at=clock.now() + timedelta(days=3))
    token = GraphQLClient(http, raw)
    print(await token("{ viewer { memberships { id organisation { id name seats { used } } } user { id memberships { id role organisation { name } } } } }"))
    print(await token("query($id: ID!) { node(id: $id) { id ... on Membership { organisation { name } } } }", {"id": admin.membership_id}))
    print(await token("query($id: ID!) { organisation(id: $id) { name } }", {"id": gid("Organisation", tree.reseller.id)}))
