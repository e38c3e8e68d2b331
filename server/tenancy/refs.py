"""The `Organisation` GraphQL type as the domains below `organisations/` name it.

The type lives in server/organisations/types.py, above accounts, audit and
invitations (its `members` and `invitations` fields use them); lower domains
refer to it lazily, so that nothing below imports it. Fields of this type
resolve to the organisation's row (core/nodes.py, "Rows as nodes").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry

if TYPE_CHECKING:
    from server.organisations.types import OrganisationType
    from server.tenancy.models import Organisation

    OrganisationRef: TypeAlias = Organisation
else:
    OrganisationRef = Annotated["OrganisationType", strawberry.lazy("server.organisations.types")]
