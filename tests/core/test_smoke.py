from tests.helpers.fixtures import gid


async def test_login_viewer_and_members(tree, sign_in):
    client = await sign_in("owner@acme.example.com")
    data = await client.data(
        """query($org: ID!) {
          viewer { user { email } memberships { role organisation { name viewerPermissions } } }
          members(organisationId: $org) { totalCount nodes { role user { email } organisation { name } } }
        }""",
        {"org": gid("Organisation", tree.acme.id)},
    )
    assert data["viewer"]["user"]["email"] == "owner@acme.example.com"
    assert data["members"]["totalCount"] == 3
