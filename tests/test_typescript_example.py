"""examples/typescript, the typed client: GraphQL Code Generator makes its types
from schema.graphql, `tsc` (strict) checks and compiles it, and the compiled
script runs against the real server with an API token.

The npm packages are pinned by examples/typescript/package-lock.json and
installed by scripts/test.sh (`npm ci`). Each test works on a copy of the
example (node_modules linked), so the checkout is never written to; the
generated types are not committed: codegen makes them from the schema of this
checkout on every run, so they cannot be out of date.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.helpers.instance import Instance, fresh, seeded_password, serving

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("FRONTDESK_TEST_DATABASE_URL")),
    reason="uses its own SQLite installation; runs in the SQLite run only",
)
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "typescript"
SCHEMA = ROOT / "schema.graphql"
TIMEOUT = 180


def _workspace(directory: Path, schema: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the example's sources and configuration, its node_modules
    linked; the environment that points codegen at `schema`."""
    node = shutil.which("node")
    assert node, "node is missing: scripts/test.sh installs it (apt-get install nodejs npm)"
    assert (EXAMPLE / "node_modules" / ".bin" / "graphql-codegen").exists(), (
        f"the example's packages are not installed: run `npm ci` in {EXAMPLE} (scripts/test.sh does)"
    )
    work = directory / "typescript"
    work.mkdir(parents=True)
    for name in ("package.json", "tsconfig.json", "codegen.ts"):
        shutil.copy(EXAMPLE / name, work / name)
    shutil.copytree(EXAMPLE / "src", work / "src", ignore=shutil.ignore_patterns("gql"))
    (work / "node_modules").symlink_to(EXAMPLE / "node_modules")
    return work, {**os.environ, "FRONTDESK_SCHEMA": str(schema), "NO_COLOR": "1"}


def _tool(work: Path, env: dict[str, str], tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - the example's own pinned tools, fixed arguments
        [str(work / "node_modules" / ".bin" / tool), *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _codegen(work: Path, env: dict[str, str]) -> None:
    done = _tool(work, env, "graphql-codegen", "--config", "codegen.ts")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example typed from this checkout's schema, checked and compiled."""
    work, env = _workspace(tmp_path_factory.mktemp("ts"), SCHEMA)
    _codegen(work, env)
    checked = _tool(work, env, "tsc", "--noEmit")
    assert checked.returncode == 0, "tsc --noEmit (strict) failed:\n" + checked.stdout
    compiled = _tool(work, env, "tsc")
    assert compiled.returncode == 0, compiled.stdout
    return work


def test_the_types_generated_from_the_schema_compile_under_strict_tsc(built: Path) -> None:
    assert '"strict": true' in (EXAMPLE / "tsconfig.json").read_text()
    generated = (built / "src" / "gql" / "graphql.ts").read_text()
    # One result and one variables type per operation of the script, typed documents for each.
    for operation in ("TokenOrganisationQuery", "CustomersQuery", "CreateCustomerMutation",
                      "InviteAdminMutation", "SearchMembersQuery"):  # fmt: skip
        assert f"export type {operation} =" in generated
        assert f"export type {operation}Variables =" in generated
    assert "TypedDocumentString<InviteAdminMutation, InviteAdminMutationVariables>" in generated
    # The enums the server sends, as the schema lists them.
    roles = re.search(r"^enum Role \{(.*?)\}", SCHEMA.read_text(), re.M | re.S)
    assert roles
    union = re.search(r"export type Role =(.*?);", generated, re.S)
    assert union
    assert sorted(re.findall(r"'(\w+)'", union.group(1))) == sorted(roles.group(1).split())
    assert (built / "dist" / "reseller.js").is_file()


def test_an_incompatible_schema_change_fails_the_type_check(tmp_path: Path) -> None:
    """Changes the documents still validate against (so codegen succeeds) but
    the script's code no longer fits: tsc must refuse each of them."""
    schema = SCHEMA.read_text()
    changes = [
        # A field that may now be null.
        ("  organisation: Organisation!\n  user: User!\n", "  organisation: Organisation!\n  user: User\n"),
        # A renamed input field.
        ("  email: String!\n  role: Role!\n  firstName: String = null\n",
         "  email: String!\n  role: Role!\n  givenName: String = null\n"),
        # An enum value gone.
        ("enum Role {\n  OWNER\n  ADMIN\n", "enum Role {\n  OWNER\n"),
    ]  # fmt: skip
    for old, new in changes:
        assert schema.count(old) == 1, old
        schema = schema.replace(old, new)
    changed = tmp_path / "changed.graphql"
    changed.write_text(schema)
    work, env = _workspace(tmp_path, changed)
    _codegen(work, env)
    checked = _tool(work, env, "tsc", "--noEmit")
    assert checked.returncode != 0
    errors = checked.stdout
    assert re.search(
        r"src/reseller\.ts\(\d+,\d+\): error TS18047: 'm\.user' is possibly 'null'", errors
    ), errors
    assert re.search(
        r"src/reseller\.ts\(\d+,\d+\): error TS2353: .*'firstName' does not exist in type 'InviteUserInput'",
        errors,
    ), errors
    assert re.search(
        r"src/reseller\.ts\(\d+,\d+\): error TS2322: Type '\"ADMIN\"' is not assignable to type 'Role'",
        errors,
    ), errors


def _call(base: str, query: str, token: str, **variables: object) -> dict:
    body = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert "errors" not in body, body
    [payload] = body["data"].values()
    return payload


def _login(base: str, email: str, password: str) -> str:
    body = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
            "variables": {"e": email, "p": password},
        },
        timeout=10,
    ).json()
    return body["data"]["login"]["token"]


def _run(built: Path, base: str, token: str, *args: str) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node
    return subprocess.run(  # noqa: S603 - the compiled example, fixed arguments
        [node, "dist/reseller.js", *args],
        cwd=built,
        env={**os.environ, "FRONTDESK_URL": base, "FRONTDESK_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _organisations(instance: Instance) -> list[tuple]:
    return instance.rows("SELECT id, name, kind, parent_id FROM organisation ORDER BY id")


def test_the_typescript_example_runs_end_to_end(
    built: Path, migrated: Path, tmp_path: Path
) -> None:
    instance = fresh(migrated, tmp_path)
    password = seeded_password(instance.ok("seed-demo"))
    [(reseller_pk,)] = instance.rows("SELECT id FROM organisation WHERE name = 'Northwind Hosting'")
    with serving(instance) as base:
        session = _login(base, "admin@northwind.example.com", password)
        reseller = _call(base, '{ organisations(search: "Northwind") { nodes { id } } }', session)[
            "nodes"
        ][0]["id"]
        created = _call(
            base,
            """mutation($org: ID!, $expires: DateTime!) { createApiToken(input: {organisationId: $org,
               name: "back office", expiresAt: $expires, permissions: [ORGANISATION_VIEW,
               CUSTOMERS_MANAGE, MEMBERS_VIEW, MEMBERS_MANAGE], privileged: true}) {
               secret errors { code message } } }""",
            session,
            org=reseller,
            expires=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        )
        assert created["errors"] == [], created
        token = created["secret"]

        first = _run(built, base, token, "Initech", "ada@initech.example.com", "Ada", "Lovelace")
        assert first.returncode == 0, first.stdout + first.stderr
        organisations = _organisations(instance)
        invitations = instance.count("invitation")

        # Again: the customer exists, the script stops before changing anything.
        again = _run(built, base, token, "initech", "bob@initech.example.com")
        assert again.returncode == 1, again.stdout + again.stderr
        assert "Initech is already a customer of Northwind Hosting; nothing changed" in again.stderr
        assert _organisations(instance) == organisations
        assert instance.count("invitation") == invitations

        # A token that may not manage customers: the server refuses, the script says so and fails.
        viewer_only = _call(
            base,
            """mutation($org: ID!, $expires: DateTime!) { createApiToken(input: {organisationId: $org,
               name: "read only", expiresAt: $expires, permissions: [ORGANISATION_VIEW,
               MEMBERS_VIEW]}) { secret errors { code message } } }""",
            session,
            org=reseller,
            expires=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
        )["secret"]
        refused = _run(built, base, viewer_only, "Hooli", "gavin@hooli.example.com")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "GraphQLRequestError: FORBIDDEN" in refused.stderr, refused.stderr
        assert _organisations(instance) == organisations

    out = first.stdout.splitlines()
    assert out[0] == 'API token "back office" of Northwind Hosting (RESELLER)'
    assert out[1] == "2 customers of Northwind Hosting:"
    assert out[2].startswith("  Acme Ltd  CUSTOMER  ACTIVE  ")
    assert out[3].startswith("  Globex GmbH  CUSTOMER  ACTIVE  ")
    assert out[4] == "created customer Initech (CUSTOMER) under Northwind Hosting"
    assert re.fullmatch(
        r"invited ada@initech\.example\.com as ADMIN of Initech \(PENDING until \d{4}-\d\d-\d\d\)",
        out[5],
    ), out[5]
    # The search finds the new customer's people only (by the organisation's name).
    assert out[6] == '1 found for "Initech" below Northwind Hosting:'
    assert out[7] == "  ada@initech.example.com  Ada Lovelace  ADMIN  INVITED  at Initech"
    assert len(out) == 8, first.stdout

    # What the server holds: the customer under the reseller, the invitation,
    # its mail, and the audit trail naming the token.
    [(customer_pk, _, kind, parent)] = [o for o in organisations if o[1] == "Initech"]
    assert (kind, parent) == ("CUSTOMER", reseller_pk)
    assert instance.rows(
        "SELECT m.role, m.status, u.first_name, u.last_name FROM membership m"
        " JOIN user u ON u.id = m.user_id WHERE m.organisation_id = ? AND u.email = ?",
        customer_pk,
        "ada@initech.example.com",
    ) == [("ADMIN", "INVITED", "Ada", "Lovelace")]
    assert instance.rows(
        "SELECT email FROM invitation WHERE organisation_id = ? AND accepted_at IS NULL"
        " AND revoked_at IS NULL",
        customer_pk,
    ) == [("ada@initech.example.com",)]
    assert instance.rows(
        "SELECT kind FROM outbox_mail WHERE recipient = 'ada@initech.example.com'"
    ) == [("invitation",)]
    audited = instance.rows(
        "SELECT action, api_token_label FROM audit_event WHERE organisation_id = ? ORDER BY id",
        customer_pk,
    )
    assert [action for action, _ in audited] == ["organisation.created", "invitation.created"], (
        audited
    )
    assert all(label.startswith("back office") for _, label in audited), audited
