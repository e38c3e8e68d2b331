"""The `Organisation` GraphQL type as the domains below `organisations/` name it.

The type lives in server/organisations/types.py, above accounts, audit and
invitations (its `members` and `invitations` fields use them); lower domains
refer to it lazily, so that nothing below imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from server.organisations.types import OrganisationType

OrganisationRef = Annotated["OrganisationType", strawberry.lazy("server.organisations.types")]
