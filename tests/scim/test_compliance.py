"""scim2-tester (the RFC 7643/7644 checks of python-scim) against the real
server (`frontdesk serve`) on this run's database, with a live SCIM token.

The checker fills a User with random values from the resource model. Our
userName is the person's sign-in address, so the model it is given (the
server's own, see server/scim/resources.py) carries fresh addresses as the
`examples` scim2-tester takes values from; everything else it generates.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import httpx2
from pydantic import Field
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import CaseExact, Required, ScimProvider, Uniqueness
from scim2_tester import CheckResult, Status, check_server

import server
from server.accounts.models import Membership
from server.scim import resources
from server.scim.models import ScimToken
from tests.helpers.instance import Instance, serving
from tests.scim.helpers import create_scim_token

# `python -m server` in the served instance runs this checkout's code (a worktree's too).
SOURCE = str(Path(server.__file__).resolve().parents[1])
PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAILED = {Status.ERROR, Status.CRITICAL, Status.DEVIATION}
# The checks that fail on purpose, by title and attribute, with why (README, "SCIM provisioning").
REFUSED = {
    ("check_remove_attribute", "active"): "a membership is always enabled or disabled: "
    "removing `active` leaves it as it is, and the answer still says which",
}


class _FreshAddresses(list[str]):
    """An `examples` list that holds one address, a new one each time it is read."""

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: Any) -> Any:
        return f"{uuid.uuid4().hex}@example.com"


class User(resources.User):
    user_name: Annotated[str | None, Uniqueness.server, Required.true, CaseExact.false] = Field(
        None, examples=_FreshAddresses()
    )


def _run_checks(base: str, secret: str) -> list[CheckResult]:
    http = httpx2.Client(
        base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )
    with http:
        client = SyncSCIMClient(http, provider=ScimProvider(models=[User]))
        return check_server(client)


def _key(result: CheckResult) -> tuple[str | None, str | None]:
    data = result.data if isinstance(result.data, dict) else {}
    return result.title, data.get("urn")


def _line(result: CheckResult) -> str:
    return f"{result.status.name} {result.resource_type or ''} {result.title}: {result.reason}"


async def test_scim2_tester_passes_every_check(database, tree, sign_in, tmp_path) -> None:
    admin = await sign_in(tree["acme.admin"].email)
    secret = (await create_scim_token(admin, tree.acme.id))["secret"]
    before = await Membership.filter(organisation_id=tree.globex.id).count()
    with serving(
        Instance(tmp_path, extra_env={"FRONTDESK_DATABASE_URL": database, "PYTHONPATH": SOURCE})
    ) as base:
        results = await asyncio.to_thread(_run_checks, base, secret)
    counts = Counter(r.status.name for r in results)
    print(f"\nscim2-tester: {len(results)} checks: {dict(counts)}")
    for result in results:
        print(" ", _line(result))
    refused = {_key(r) for r in results if r.status in FAILED and _key(r) in REFUSED}
    failed = [_line(r) for r in results if r.status in FAILED and _key(r) not in REFUSED]
    assert not failed, "scim2-tester failures:\n" + "\n".join(failed)
    assert refused == set(REFUSED), "a refused check passes now: update REFUSED and the README"
    assert not [r for r in results if r.status is Status.SKIPPED]
    assert sum(r.status in PASSED for r in results) >= 20, "fewer checks passed than expected"
    # The tester cleaned up after itself, and never touched another organisation.
    assert await Membership.filter(organisation_id=tree.globex.id).count() == before
    assert (await ScimToken.get(organisation_id=tree.acme.id)).last_used_at is not None
