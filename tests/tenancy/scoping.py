"""Shared by tests/tenancy/test_foreign_objects.py, tests/tenancy/test_who_sees_what.py, tests/tenancy/test_customers_and_suspension.py: Tenancy: what a member of one organisation can see and do elsewhere in the tree."""

from __future__ import annotations

from typing import Any

from server.accounts.models import Membership, User
from server.audit.models import AuditEvent
from server.auth.models import Passkey, Session
from server.invitations.models import Invitation
from server.mail.models import OutboxMail
from server.tenancy.models import Organisation
from tests.helpers.fixtures import GraphQLClient, gid

# A primary key no row has (and small enough for a PostgreSQL integer column).
MISSING_PK = 2_000_000_000

ORGANISATION = """
query Organisation($id: ID!) {
  organisation(id: $id) { name status parent { name } }
}"""
ORGANISATIONS = """
query Organisations {
  organisations { totalCount nodes { name kind status } }
}"""
MEMBERS = """
query Members($org: ID!, $descendants: Boolean! = false, $search: String, $role: Role,
              $status: MembershipStatus) {
  members(organisationId: $org, includeDescendants: $descendants, search: $search,
          role: $role, status: $status) {
    totalCount
    nodes { role status user { email } organisation { name } }
  }
}"""
INVITATIONS = """
query Invitations($org: ID!) {
  invitations(organisationId: $org) { totalCount nodes { email } }
}"""
AUDIT_EVENTS = """
query AuditEvents($org: ID!, $descendants: Boolean! = false) {
  auditEvents(organisationId: $org, includeDescendants: $descendants) {
    totalCount nodes { action }
  }
}"""
NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id }
}"""
VIEWER = """
query Viewer {
  viewer { user { email } memberships { role organisation { name } } }
}"""
MEMBERSHIPS_OF_MEMBERS = """
query MembershipsOfMembers($org: ID!, $search: String) {
  members(organisationId: $org, search: $search) {
    nodes { user { email memberships { role organisation { name } } } }
  }
}"""
USER_MEMBERSHIPS = """
query UserMemberships($id: ID!) {
  node(id: $id) { ... on User { email memberships { role organisation { name } } } }
}"""

# Mutations naming a membership: each would succeed on a plain MEMBER for an
# administrator of the member's organisation.
MEMBERSHIP_MUTATIONS = {
    "changeRole": """
      mutation ChangeRole($id: ID!) {
        changeRole(input: {membershipId: $id, role: VIEWER}) {
          errors { field code message } membership { role }
        }
      }""",
    "setFeatureAccess": """
      mutation SetFeatureAccess($id: ID!) {
        setFeatureAccess(input: {membershipId: $id, restrictRecordingDeletion: true}) {
          errors { field code message } membership { restrictRecordingDeletion }
        }
      }""",
    "disableMember": """
      mutation DisableMember($id: ID!) {
        disableMember(input: {membershipId: $id}) {
          errors { field code message } membership { status }
        }
      }""",
    "removeMember": """
      mutation RemoveMember($id: ID!) {
        removeMember(input: {membershipId: $id}) {
          errors { field code message } removedMembershipId
        }
      }""",
    "deleteUser": """
      mutation DeleteUser($id: ID!) {
        deleteUser(input: {membershipId: $id}) {
          errors { field code message } removedMembershipId
        }
      }""",
}
INVITE_USER = """
mutation InviteUser($org: ID!, $email: String! = "newcomer@example.com", $role: Role! = MEMBER) {
  inviteUser(input: {organisationId: $org, email: $email, role: $role}) {
    errors { field code message } invitation { email }
  }
}"""
CREATE_USER = """
mutation CreateUser($org: ID!) {
  createUser(input: {organisationId: $org, email: "created@example.com", role: MEMBER,
                     password: "a perfectly fine passphrase"}) {
    errors { field code message } membership { role }
  }
}"""
UPDATE_ORGANISATION = """
mutation UpdateOrganisation($org: ID!) {
  updateOrganisation(input: {organisationId: $org, name: "Renamed"}) {
    errors { field code message } organisation { name }
  }
}"""
CREATE_ORGANISATION = """
mutation CreateOrganisation($parent: ID!, $name: String! = "Initech",
                            $kind: OrganisationKind! = CUSTOMER) {
  createOrganisation(input: {parentId: $parent, name: $name, kind: $kind}) {
    errors { field code message } organisation { name kind status parent { name } }
  }
}"""
SUSPEND = """
mutation Suspend($org: ID!) {
  suspendOrganisation(input: {organisationId: $org}) {
    errors { field code message } organisation { name status }
  }
}"""
REACTIVATE = """
mutation Reactivate($org: ID!) {
  reactivateOrganisation(input: {organisationId: $org}) {
    errors { field code message } organisation { name status }
  }
}"""
INVITATION_MUTATIONS = {
    "resendInvitation": """
      mutation Resend($id: ID!) {
        resendInvitation(input: {invitationId: $id}) {
          errors { field code message } invitation { id }
        }
      }""",
    "revokeInvitation": """
      mutation Revoke($id: ID!) {
        revokeInvitation(input: {invitationId: $id}) {
          errors { field code message } invitation { id }
        }
      }""",
}
LOGIN_DOC = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { field code message } }
}"""
LOGOUT = "mutation Logout { logout { ok errors { code } } }"
UPDATE_PROFILE = """
mutation UpdateProfile { updateProfile(input: {firstName: "Mallory"}) { errors { code } } }"""


# --- helpers ----------------------------------------------------------------------------


def org_id(organisation: Organisation) -> str:
    return gid("Organisation", organisation.id)


def missing_org_id() -> str:
    return gid("Organisation", MISSING_PK)


async def snapshot() -> dict[str, Any]:
    """Every row a breach of tenancy could change (taken after signing in)."""
    return {
        "organisations": await Organisation.all().order_by("id").values(),
        "users": await User.all().order_by("id").values(),
        "memberships": await Membership.all().order_by("id").values(),
        "invitations": await Invitation.all().order_by("id").values(),
        "sessions": await Session.all().order_by("id").values("id", "user_id"),
        "passkeys": await Passkey.all().order_by("id").values(),
        "outbox": await OutboxMail.all().count(),
        "audit": await AuditEvent.all().count(),
    }


async def payload_of(client: GraphQLClient, document: str, variables: dict[str, Any]) -> Any:
    """The single payload of a mutation answered without GraphQL errors."""
    data = await client.data(document, variables)
    [payload] = data.values()
    return payload


def names(connection: dict[str, Any]) -> set[str]:
    return {node["name"] for node in connection["nodes"]}


def emails(connection: dict[str, Any]) -> list[str]:
    return sorted(node["user"]["email"] for node in connection["nodes"])


async def invite(client: GraphQLClient, organisation: Organisation, email: str) -> Invitation:
    await client.ok(INVITE_USER, {"org": org_id(organisation), "email": email})
    return await Invitation.get(email=email)
