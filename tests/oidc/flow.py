"""The code flow driven over HTTP against the real app: a browser's cookie jar
(the http fixture's) and a relying party's requests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.helpers.fixtures import PASSWORD
from tests.oidc.helpers import RP, create_client

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, session: COOKIE}) { errors { code } } }"""


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def browser_sign_in(http: httpx.AsyncClient, email: str) -> None:
    answer = await http.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}}
    )
    assert answer.json()["data"]["login"]["errors"] == []


async def registered(admin: Any, org_id: int, **extra: Any) -> tuple[str, str | None]:
    created = await create_client(admin, org_id, **extra)
    return created["oidcClient"]["clientId"], created["clientSecret"]


def authorize_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "redirect_uri": RP,
        "response_type": "code",
        "scope": "openid email profile frontdesk",
        "state": "st4te",
        "nonce": "n0nce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def authorize(http: httpx.AsyncClient, params: dict[str, str]) -> httpx.Response:
    return await http.get("/oidc/authorize", params=params)


async def code_for(http: httpx.AsyncClient, params: dict[str, str]) -> str:
    answer = await authorize(http, params)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(RP + "?"), location
    found = query_of(location)
    assert found["state"] == params["state"] and found["iss"] == "https://portal.example.test"
    return found["code"]


async def exchange(
    http: httpx.AsyncClient,
    client_id: str,
    secret: str | None,
    code: str,
    verifier: str,
    *,
    redirect_uri: str = RP,
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier:
        data["code_verifier"] = verifier
    auth = (client_id, secret) if secret else None
    if not secret:
        data["client_id"] = client_id
    return await http.post("/oidc/token", data=data, auth=auth)
