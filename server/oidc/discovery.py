"""What the provider publishes about itself: OpenID Connect Discovery 1.0."""

from __future__ import annotations

from typing import Any

from server.core.permissions import Permission
from server.oidc.keys import ALGORITHM
from server.settings import Settings

# Scopes for the person; `api:<PERMISSION>` scopes let access tokens call /graphql.
IDENTITY_SCOPES = ("openid", "profile", "email", "frontdesk", "offline_access")
API_SCOPE_PREFIX = "api:"
API_SCOPES = tuple(API_SCOPE_PREFIX + p.value for p in Permission)
CLAIMS = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "frontdesk",
)
# "Two-step": signed in with a password and a second factor.
ACR_TWO_FACTOR = "urn:frontdesk:acr:2fa"
ACR_PASSWORD = "urn:frontdesk:acr:pwd"  # noqa: S105 - a name, not a secret


# Client authentication at the token and revocation endpoints.
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
# private_key_jwt: what a client may sign its assertion with (server/oidc/assertions.py).
ASSERTION_ALGORITHMS = ("RS256", "PS256", "ES256", "Ed25519", "EdDSA")


def issuer(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def configuration(settings: Settings) -> dict[str, Any]:
    base = issuer(settings)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oidc/authorize",
        "token_endpoint": f"{base}/oidc/token",
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "jwks_uri": f"{base}/oidc/jwks",
        "end_session_endpoint": f"{base}/oidc/logout",
        "revocation_endpoint": f"{base}/oidc/revoke",
        "scopes_supported": [*IDENTITY_SCOPES, *API_SCOPES],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS),
        "acr_values_supported": [ACR_PASSWORD, ACR_TWO_FACTOR],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }
