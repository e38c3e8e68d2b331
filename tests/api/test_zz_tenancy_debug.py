import warnings, random, dataclasses
import pytest
from tests.api.test_tenancy_properties import check_world, TOLERATED
from tests.helpers.tenancy import worlds
from server.core.actor import Actor
from server.api_tokens.service import TokenActor
from server.accounts import types as account_types
from server.accounts import service as account_service
from server.core.permissions import Permission

def _examples(n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [dataclasses.replace(worlds().example(), sampler=random.Random(i)) for i in range(n)]

WORLDS = _examples(25)

def see_siblings(self, organisation):
    return True

def token_ignores_grant(self, organisation):
    if not self._in_scope(organisation):
        return frozenset()
    return Actor.permissions_in(self, organisation)

def token_ignores_scope(self, organisation):
    return Actor.can_see(self, organisation)

async def all_memberships(self, info):
    return await info.context.loaders.memberships_of_user.load(self.id)

orig_members = account_service.members_visible_to
def members_no_filter(actor, *, organisation, include_descendants=False, **kw):
    from server.accounts.models import Membership
    if include_descendants:
        return Membership.filter(organisation__path__startswith=organisation.path)
    return orig_members(actor, organisation=organisation, **kw)

MUTANTS = {
    "can_see_all": (Actor, "can_see", see_siblings),
    "token_ignores_grant": (TokenActor, "permissions_in", token_ignores_grant),
    "token_ignores_scope": (TokenActor, "can_see", token_ignores_scope),
    "members_below_unfiltered": (account_service, "members_visible_to", members_no_filter),
}

@pytest.mark.parametrize("mutant", list(MUTANTS))
async def test_mutant(http, monkeypatch, mutant):
    target, name, value = MUTANTS[mutant]
    monkeypatch.setattr(target, name, value)
    caught = 0
    first = None
    for w in WORLDS:
        failures = await check_world(http, w, tolerate=TOLERATED)
        if failures:
            caught += 1
            first = first or failures[:2]
    print(f"\n{mutant}: caught in {caught}/{len(WORLDS)} worlds; e.g. {first}")

async def test_baseline(http):
    bad = 0
    for w in WORLDS:
        if await check_world(http, w, tolerate=TOLERATED):
            bad += 1
    print(f"\nbaseline failures: {bad}/{len(WORLDS)}")
