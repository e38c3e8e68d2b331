"""The checked-in schema.graphql is the schema the server serves, and every
field that is not deliberately public declares its guard in the SDL."""

from __future__ import annotations

from pathlib import Path

from graphql import ObjectTypeDefinitionNode, parse

from server.__main__ import main
from server.schema import printed_schema

ROOT = Path(__file__).resolve().parent.parent
CHECKED_IN = ROOT / "schema.graphql"
GUARDS = {"requires", "authenticated"}
PUBLIC_MUTATIONS = {
    "login",
    "requestPasswordReset",
    "resetPassword",
    "verifyTwoFactor",
    "sendTwoFactorEmail",
    "beginPasskeySignIn",  # a sign-in without a password
    "signInWithPasskey",
    "beginPasskeyTwoFactor",  # the second step of a log-in: the challenge is the proof
    "verifyTwoFactorPasskey",
    "confirmInvitation",
    "confirmEmailChange",  # the token mailed to the new address is the proof
    "confirmSenderAddress",
}
PUBLIC_QUERIES = {"viewer", "node", "signInBrand", "invitationPreview"}


def _directives_by_field(type_name: str) -> dict[str, set[str]]:
    document = parse(printed_schema())
    [definition] = [
        node
        for node in document.definitions
        if isinstance(node, ObjectTypeDefinitionNode) and node.name.value == type_name
    ]
    return {
        field.name.value: {directive.name.value for directive in field.directives or ()}
        for field in definition.fields or ()
    }


def test_checked_in_schema_is_current():
    assert printed_schema() == CHECKED_IN.read_text(), (
        "schema.graphql is out of date with the code: run `make schema` and commit the result."
    )


def test_every_mutation_but_the_public_ones_is_guarded():
    fields = _directives_by_field("Mutation")
    assert fields.keys() >= PUBLIC_MUTATIONS
    unguarded = {name for name, directives in fields.items() if not directives & GUARDS}
    assert unguarded == PUBLIC_MUTATIONS, (
        f"guard these mutations with requires() or authenticated(): "
        f"{sorted(unguarded - PUBLIC_MUTATIONS)}; public ones guarded: "
        f"{sorted(PUBLIC_MUTATIONS - unguarded)}"
    )


def test_every_query_but_the_public_ones_is_guarded():
    fields = _directives_by_field("Query")
    assert fields.keys() >= PUBLIC_QUERIES
    unguarded = {name for name, directives in fields.items() if not directives & GUARDS}
    assert unguarded == PUBLIC_QUERIES, (
        f"guard these queries with requires() or authenticated(): "
        f"{sorted(unguarded - PUBLIC_QUERIES)}; public ones guarded: "
        f"{sorted(PUBLIC_QUERIES - unguarded)}"
    )


def test_export_schema_command_writes_the_printed_schema(tmp_path, capsys):
    output = tmp_path / "exported.graphql"
    main(["export-schema", "--output", str(output)])
    assert output.read_text() == printed_schema()
    assert str(output) in capsys.readouterr().out
