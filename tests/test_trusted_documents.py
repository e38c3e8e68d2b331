"""The checked-in trusted-documents manifest (static/admin/documents.json) is
what the admin app's modules send, every document in it runs against the
schema, a document the collection cannot know exactly stops it, and the
manifest's documents stay in the pipeline's caches."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from graphql import parse, validate

from server.__main__ import main
from server.admin_documents import MANIFEST, DocumentError, collect, manifest_text
from server.app import FrontdeskGraphQL
from server.schema import build_schema
from server.settings import get_settings
from server.trusted_documents import load_manifest

COMMAND = "run `make documents` (frontdesk export-documents) and commit static/admin/documents.json"


def test_checked_in_manifest_is_current():
    assert MANIFEST.read_text(encoding="utf-8") == manifest_text(collect()), (
        f"The admin app's GraphQL documents changed: {COMMAND}."
    )


def test_every_document_is_keyed_by_its_sha256_and_validates_against_the_schema():
    documents = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert len(documents) >= 80  # the app's screens; far fewer means the collection broke
    schema = build_schema()._schema
    for digest, text in documents.items():
        assert digest == hashlib.sha256(text.encode()).hexdigest()
        errors = validate(schema, parse(text))
        assert not errors, f"an admin app document no longer fits the schema: {errors}\n{text}"


def test_constants_are_put_in_place_as_the_browser_does(tmp_path: Path):
    js = tmp_path / "js"
    (js / "screens").mkdir(parents=True)
    (js / "api.js").write_text('export const USER_ERROR = "errors { code }";\n')
    (js / "screens" / "a.js").write_text(
        'import { gql, USER_ERROR as ERR } from "../api.js";\n'
        "const PAGE = 50;\n"
        "const FIELDS = `id name`;\n"
        "const LIST = `query List {\n  things(first: ${PAGE}) { ${FIELDS} }\n}`;\n"
        'gql("{ viewer { id } }");\n'
        "mutate(`mutation Go { go { ok ${ERR} } }`);\n"
        't("{m} min {s} s");\n'  # a message, not a document
    )
    texts = set(collect(js).values())
    assert texts == {
        "query List {\n  things(first: 50) { id name }\n}",
        "{ viewer { id } }",
        "mutation Go { go { ok errors { code } } }",
    }


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("const f = pick();\nmutate(`mutation { ${f}(x: 1) { ok } }`);", "${f} is not a constant"),
        ("mutate(`mutation { go(x: ${a.b}) { ok } }`);", "${a.b} is computed when the app runs"),
        ("gql(`query Broken { viewer { `);", "not a GraphQL document"),
    ],
)
def test_a_document_known_only_at_run_time_stops_the_collection_with_its_place(
    tmp_path: Path, source: str, complaint: str
):
    js = tmp_path / "js"
    js.mkdir()
    (js / "screen.js").write_text("\n" + source + "\n")
    with pytest.raises(DocumentError) as refused:
        collect(js)
    assert str(refused.value).startswith("js/screen.js:")
    assert complaint in str(refused.value)


def test_export_documents_command_writes_the_manifest(tmp_path: Path, capsys):
    output = tmp_path / "documents.json"
    main(["export-documents", "--output", str(output)])
    assert output.read_text(encoding="utf-8") == manifest_text(collect())
    assert str(output) in capsys.readouterr().out


def test_trusted_documents_stay_cached_whatever_else_comes():
    pipeline = FrontdeskGraphQL(get_settings()).pipeline
    cache = pipeline.documents
    rules = pipeline.policy.validation_rules()
    trusted = next(iter(load_manifest().by_id.values()))
    document = cache.parse(trusted)
    assert not cache.validate(pipeline.schema, trusted, document, rules)
    for n in range(cache.documents.maxsize + 10):  # more than the LRU holds
        other = f"query Other{n} {{ __typename }}"
        cache.validate(pipeline.schema, other, cache.parse(other), rules)
    assert "query Other0 { __typename }" not in cache.documents.entries  # pushed out
    assert cache.parse(trusted) is document  # still the one parsed first
    assert trusted in cache.documents.kept
    assert not any(text.startswith("query Other") for text in cache.documents.kept)
