"""/scim/v2/: the SCIM 2.0 protocol (RFC 7644) over the provisioning service.

Every answer is `application/scim+json`; every refusal a SCIM Error with its
status and, where RFC 7644 §3.12 has one, its `scimType`. The discovery
documents describe the server only and need no token; `/Users` needs a SCIM
token (`Authorization: Bearer fdscim_…`) and acts in its organisation alone.
Groups are not served: roles are set in Frontdesk, not by the identity
provider (README, "SCIM provisioning"), so `/Groups` answers 501.
"""

from __future__ import annotations

from typing import Any

import orjson
from scim2_models import (
    Context,
    ForbiddenException,
    InvalidValueException,
    Meta,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    ResponseParameters,
    SearchRequest,
    UnauthorizedException,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.accounts.models import Membership, MembershipStatus
from server.core.actor import Actor
from server.core.permissions import Permission
from server.http import request_meta
from server.scim import provisioning
from server.scim.filters import membership_filter
from server.scim.resources import (
    DEFAULT_COUNT,
    MAX_RESULTS,
    POLICY,
    SERVICE_PROVIDER_CONFIG,
    USER_RESOURCE_TYPE,
    USER_SCHEMA,
    Name,
    User,
)
from server.scim.responses import (
    SCIM_JSON,
    Handler,
    by_method,
    list_body,
    scim_endpoint,
    scim_response,
)
from server.scim.tokens import actor_for_scim_token
from server.settings import Settings
from server.tenancy.models import Organisation

MAX_START_INDEX = 2**31
_BODY_TYPES = frozenset({SCIM_JSON, "application/json"})


class ScimApi:
    """The endpoints, with the settings they build URLs from."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.public_url.rstrip("/") + "/scim/v2"

    # --- helpers ---------------------------------------------------------------

    async def _actor(self, request: Request, permission: Permission) -> tuple[Actor, Organisation]:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        actor = None
        if scheme.lower() == "bearer" and credentials.strip():
            actor = await actor_for_scim_token(
                credentials.strip(), request_meta(request, self.settings)
            )
        if actor is None or actor.scim_token is None:
            raise UnauthorizedException(
                detail="Send a valid SCIM token: Authorization: Bearer fdscim_…"
            )
        organisation = actor.scim_token.organisation
        if not actor.can(permission, organisation):
            raise ForbiddenException(
                detail="The token's creator may no longer manage this organisation's members."
            )
        return actor, organisation

    @staticmethod
    async def _body(request: Request) -> Any:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _BODY_TYPES:
            raise InvalidValueException(detail=f"Send the body as {SCIM_JSON}.")
        try:
            return orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise InvalidValueException(detail="The body is not JSON.") from None

    def _resource(self, membership: Membership) -> User:
        user = membership.user
        names = Name(given_name=user.first_name or None, family_name=user.last_name or None)
        return User(
            id=str(membership.id),
            external_id=membership.scim_external_id,
            user_name=user.email,
            name=names if names.given_name or names.family_name else None,
            active=membership.status is not MembershipStatus.DISABLED,
            meta=Meta(
                resource_type="User",
                created=membership.created_at,
                last_modified=max(membership.updated_at, user.updated_at),
                location=f"{self.base}/Users/{membership.id}",
            ),
        )

    @staticmethod
    def _parameters(request: Request) -> ResponseParameters[User]:
        given = {
            key: request.query_params[name]
            for name, key in (
                ("attributes", "attributes"),
                ("excludedAttributes", "excluded_attributes"),
            )
            if name in request.query_params
        }
        return ResponseParameters[User].model_validate(given)

    def _user_answer(
        self, request: Request, membership: Membership, context: Context, status: int = 200
    ) -> Response:
        resource = self._resource(membership)
        body = resource.model_dump(scim_ctx=context, response_parameters=self._parameters(request))
        headers = {"location": f"{self.base}/Users/{membership.id}"} if status == 201 else None
        return scim_response(body, status, headers)

    @staticmethod
    def _wanted(resource: User) -> provisioning.Wanted:
        return provisioning.Wanted(
            user_name=resource.user_name or "",
            given_name=resource.name.given_name if resource.name else None,
            family_name=resource.name.family_name if resource.name else None,
            active=resource.active,
            external_id=resource.external_id,
        )

    @staticmethod
    async def _member(organisation: Organisation, request: Request) -> Membership:
        found = await provisioning.member(organisation, request.path_params["id"])
        if found is None:
            raise NotFoundException(detail="No such user in this organisation.")
        return found

    # --- discovery ---------------------------------------------------------------

    async def service_provider_config(self, request: Request) -> Response:
        config = SERVICE_PROVIDER_CONFIG.model_copy(
            update={
                "meta": Meta(
                    resource_type="ServiceProviderConfig",
                    location=f"{self.base}/ServiceProviderConfig",
                )
            }  # fmt: skip
        )
        return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))

    @staticmethod
    def _listed(resources: list[dict[str, Any]]) -> Response:
        return scim_response(list_body(resources, total=len(resources), start_index=1))

    def _resource_type(self) -> Any:
        location = f"{self.base}/ResourceTypes/User"
        meta = Meta(resource_type="ResourceType", location=location)
        return USER_RESOURCE_TYPE.model_copy(update={"meta": meta})

    def _schema(self) -> Any:
        location = f"{self.base}/Schemas/{USER_SCHEMA.id}"
        return USER_SCHEMA.model_copy(
            update={"meta": Meta(resource_type="Schema", location=location)}
        )

    async def resource_types(self, request: Request) -> Response:
        dumped = self._resource_type().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        return self._listed([dumped])

    async def resource_type(self, request: Request) -> Response:
        if request.path_params["id"] != "User":
            raise NotFoundException(detail="The only resource type is User.")
        return scim_response(
            self._resource_type().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        )

    async def schemas(self, request: Request) -> Response:
        return self._listed([self._schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)])

    async def schema(self, request: Request) -> Response:
        if request.path_params["id"] != USER_SCHEMA.id:
            raise NotFoundException(detail=f"The only schema is {USER_SCHEMA.id}.")
        return scim_response(self._schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))

    # --- users -------------------------------------------------------------------

    async def list_users(self, request: Request) -> Response:
        _, organisation = await self._actor(request, Permission.MEMBERS_VIEW)
        query = request.query_params
        return await self._search(
            organisation,
            filter_text=query.get("filter"),
            start_index=_integer(query.get("startIndex"), "startIndex", default=1),
            count=_integer(query.get("count"), "count", default=DEFAULT_COUNT),
            parameters=self._parameters(request),
        )

    async def search_users(self, request: Request) -> Response:
        """POST /Users/.search: the query of a GET in a SearchRequest body."""
        _, organisation = await self._actor(request, Permission.MEMBERS_VIEW)
        search = SearchRequest[User].model_validate(
            await self._body(request), scim_ctx=Context.SEARCH_REQUEST, scim_policy=POLICY
        )
        parameters = ResponseParameters[User](
            attributes=search.attributes, excluded_attributes=search.excluded_attributes
        )
        return await self._search(
            organisation,
            filter_text=str(search.filter) if search.filter is not None else None,
            start_index=search.start_index or 1,
            count=search.count if search.count is not None else DEFAULT_COUNT,
            parameters=parameters,
        )

    async def _search(
        self,
        organisation: Organisation,
        *,
        filter_text: str | None,
        start_index: int,
        count: int,
        parameters: ResponseParameters[User],
    ) -> Response:
        # (startIndex past any organisation's size: an empty page, not a database overflow)
        start_index, count = (
            min(max(start_index, 1), MAX_START_INDEX),
            min(max(count, 0), MAX_RESULTS),
        )
        where = membership_filter(filter_text) if filter_text else None
        found = provisioning.people_of(organisation, where)
        total = await found.count()
        page = await found.offset(start_index - 1).limit(count) if count else []
        resources = [
            self._resource(m).model_dump(
                scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=parameters
            )
            for m in page
        ]
        return scim_response(list_body(resources, total=total, start_index=start_index))

    async def get_user(self, request: Request) -> Response:
        _, organisation = await self._actor(request, Permission.MEMBERS_VIEW)
        membership = await self._member(organisation, request)
        return self._user_answer(request, membership, Context.RESOURCE_QUERY_RESPONSE)

    async def create_user(self, request: Request) -> Response:
        actor, organisation = await self._actor(request, Permission.MEMBERS_MANAGE)
        body = await self._body(request)
        resource = User.model_validate(
            body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
        )
        membership = await provisioning.create(
            actor=actor, organisation=organisation, wanted=self._wanted(resource)
        )
        return self._user_answer(request, membership, Context.RESOURCE_CREATION_RESPONSE, 201)

    async def replace_user(self, request: Request) -> Response:
        actor, organisation = await self._actor(request, Permission.MEMBERS_MANAGE)
        membership = await self._member(organisation, request)
        body = await self._body(request)
        resource = User.model_validate(
            body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
        )
        resource.replace(self._resource(membership))  # read-only ones kept, id checked
        membership = await provisioning.replace(
            actor=actor, membership=membership, wanted=self._wanted(resource)
        )
        return self._user_answer(request, membership, Context.RESOURCE_REPLACEMENT_RESPONSE)

    async def patch_user(self, request: Request) -> Response:
        actor, organisation = await self._actor(request, Permission.MEMBERS_MANAGE)
        membership = await self._member(organisation, request)
        body = await self._body(request)
        patch = PatchOp[User].model_validate(
            body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
        resource = self._resource(membership)
        if patch.patch(resource, POLICY):
            membership = await provisioning.replace(
                actor=actor, membership=membership, wanted=self._wanted(resource)
            )
        return self._user_answer(request, membership, Context.RESOURCE_PATCH_RESPONSE)

    async def delete_user(self, request: Request) -> Response:
        actor, organisation = await self._actor(request, Permission.MEMBERS_MANAGE)
        membership = await self._member(organisation, request)
        await provisioning.delete(actor=actor, membership=membership)
        return Response(status_code=204)

    async def groups(self, request: Request) -> Response:
        raise NotImplementedException(
            detail="Groups are not supported: roles are given in Frontdesk. Turn group "
            "provisioning off in the identity provider."
        )

    async def unknown(self, request: Request) -> Response:
        raise NotFoundException(detail="No such SCIM endpoint.")


def _integer(value: str | None, name: str, *, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidValueException(detail=f"{name} must be an integer.") from None


def scim_routes(settings: Settings) -> list[BaseRoute]:
    """The routes to mount at /scim/v2."""
    api = ScimApi(settings)
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    paths: list[tuple[str, dict[str, Handler]]] = [
        ("/ServiceProviderConfig", {"GET": api.service_provider_config}),
        ("/ResourceTypes", {"GET": api.resource_types}),
        ("/ResourceTypes/{id}", {"GET": api.resource_type}),
        ("/Schemas", {"GET": api.schemas}),
        ("/Schemas/{id:path}", {"GET": api.schema}),
        ("/Users", {"GET": api.list_users, "POST": api.create_user}),
        ("/Users/.search", {"POST": api.search_users}),
        # Every resource type at once: Users are the only one.
        ("/.search", {"POST": api.search_users}),
        (
            "/Users/{id}",
            {
                "GET": api.get_user,
                "PUT": api.replace_user,
                "PATCH": api.patch_user,
                "DELETE": api.delete_user,
            },
        ),
    ]
    routes: list[BaseRoute] = [
        Route(path, scim_endpoint(by_method(handlers)), methods=every) for path, handlers in paths
    ]
    routes += [
        Route("/Groups", scim_endpoint(api.groups), methods=every),
        Route("/Groups/{rest:path}", scim_endpoint(api.groups), methods=every),
        Route("/{rest:path}", scim_endpoint(api.unknown), methods=every),
    ]
    return routes
