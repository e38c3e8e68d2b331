"""What /scim/v2/ serves, as scim2-models resources: a User restricted to the
attributes Frontdesk keeps, and the three discovery documents built from it.

Attributes a client sends that are not here (displayName, emails, phone
numbers, the enterprise extension, …) are accepted and dropped (the policy
below), as identity providers send their whole default mapping.
"""

from __future__ import annotations

from typing import Annotated

from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Filter,
    Patch,
    Required,
    Resource,
    ResourceType,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

# The most resources one list answer holds (ServiceProviderConfig.filter.maxResults).
MAX_RESULTS = 200
DEFAULT_COUNT = 100


class Name(ComplexAttribute):
    """The person's names (`formatted` and the rest are not kept)."""

    family_name: str | None = None
    """The family name (`lastName` in Frontdesk)."""

    given_name: str | None = None
    """The given name (`firstName` in Frontdesk)."""


class User(Resource):  # type: ignore[type-arg]  # no extension: Resource's parameter stays open
    """A member of the token's organisation. `id` is the membership's."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true, CaseExact.false] = None
    """The sign-in email address, unique across Frontdesk."""

    name: Name | None = None
    """The person's names."""

    active: bool | None = None
    """False: the membership is disabled (sessions end, sign-in to this organisation refused)."""


# Entra ID writes `"op": "Replace"`, removes with a value and patches
# `emails[type eq "work"].value` on resources that have none; all clients send
# attributes we do not keep.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

USER_RESOURCE_TYPE = ResourceType.from_resource(User)
USER_SCHEMA: Schema = User.to_schema()

SERVICE_PROVIDER_CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="SCIM token",
            description="A SCIM token of the organisation (fdscim_…), sent as "
            "`Authorization: Bearer fdscim_…`; created in the admin app or with "
            "the createScimToken mutation.",
            primary=True,
        )
    ],
)
