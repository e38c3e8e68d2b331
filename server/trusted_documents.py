"""Trusted documents: the admin app's operations, known to the server ahead of
time (``static/admin/documents.json``, written by ``frontdesk export-documents``
from ``static/admin/js``, see server/admin_documents.py).

A request names one by ``"documentId": "sha256:<hex>"`` in place of ``query``
(the GraphQL over HTTP Trusted Documents convention); the server runs the text
the manifest holds for it. With ``FRONTDESK_TRUSTED_DOCUMENTS=enforce`` only
requests that carry a bearer credential may send other documents — a person's
bearer session or an API token not created as `restrictedToTrustedDocuments` —;
everything else (the admin app's cookie sessions, requests with no credential
such as sign-in, restricted tokens) runs manifest documents only, by id or by
their exact text.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import orjson
from graphql import GraphQLError

from server.core.context import Context
from server.core.principals import ApiTokenGrant

MANIFEST = Path(__file__).resolve().parent.parent / "static" / "admin" / "documents.json"
PREFIX = "sha256:"
_DOCUMENT_ID = re.compile(r"^sha256:[0-9a-f]{64}$")

NOT_FOUND = "TRUSTED_DOCUMENT_NOT_FOUND"
REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"


def document_id(text: str) -> str:
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()


def valid_document_id(value: str) -> bool:
    return _DOCUMENT_ID.match(value) is not None


class Manifest:
    """The trusted documents by id. The texts are kept as loaded: every request
    naming one runs that very string, so the pipeline's caches (keyed by the
    text) find it without hashing or comparing it again."""

    def __init__(self, documents: dict[str, str]) -> None:
        self.by_id = {PREFIX + digest: text for digest, text in documents.items()}

    def __len__(self) -> int:
        return len(self.by_id)

    def text(self, document_id: str) -> str | None:
        return self.by_id.get(document_id)

    def trusts(self, text: str) -> str | None:
        """The manifest's own copy of `text`, if it holds that exact document."""
        known = self.by_id.get(document_id(text))
        return known if known == text else None


@cache
def load_manifest(path: Path = MANIFEST) -> Manifest:
    """The manifest, read once per process (empty if the file is missing)."""
    if not path.is_file():
        return Manifest({})
    documents: dict[str, str] = orjson.loads(path.read_bytes())
    return Manifest(documents)


def may_send_any_document(context: Context) -> bool:
    """Whether enforcement lets this request send a document of its own: only a
    bearer credential that worked, and for an API token, one not restricted."""
    actor = context.actor
    if actor is None or context.via_cookie:
        return False
    principal = actor.principal
    if isinstance(principal, ApiTokenGrant):
        return not principal.token.restricted_to_trusted_documents
    return True


def unknown_document(document_id: str) -> GraphQLError:
    return GraphQLError(
        f"No trusted document has the id {document_id}: this server's manifest "
        "(static/admin/documents.json) lacks it. Send the document as `query`, or its "
        "id from the manifest of the version running.",
        extensions={"code": NOT_FOUND},
    )


def document_required() -> GraphQLError:
    return GraphQLError(
        "This server runs only trusted documents (the admin app's, listed in "
        "static/admin/documents.json) for requests without a bearer token: send a "
        '`documentId` ("sha256:<hex>") from the manifest, or authenticate with an API '
        "token that is not restricted to trusted documents.",
        extensions={"code": REQUIRED},
    )
