import warnings, random, dataclasses
import pytest
from tests.api.test_tenancy_properties import check_world, TOLERATED
from tests.helpers.tenancy import worlds
from server.core.actor import Actor
from server.api_tokens.service import TokenActor
from server.accounts import service as account_service
from server.accounts import types as account_types
from server.webhooks import events as webhook_events
from server.organisations.models import Organisation

def _examples(n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [dataclasses.replace(worlds().example(), sampler=random.Random(i)) for i in range(n)]

WORLDS = _examples(30)

def see_siblings(self, organisation):
    return True

def token_ignores_grant(self, organisation):
    if not self._in_scope(organisation):
        return frozenset()
    return Actor.permissions_in(self, organisation)

def token_ignores_scope(self, organisation):
    return Actor.can_see(self, organisation)

orig_members = account_service.members_visible_to
def members_no_filter(actor, *, organisation, include_descendants=False, **kw):
    from server.accounts.models import Membership
    if include_descendants:
        return Membership.filter(organisation__path__startswith=organisation.path)
    return orig_members(actor, organisation=organisation, **kw)

def is_within_sloppy(self, other_path):
    # a classic: prefix without the trailing slash ("/1/2" matches "/1/23/")
    return self.path.startswith(other_path.rstrip("/"))

async def may_view_user_always(info, user):
    return True

def delegating_includes_member(self):
    pass

MUTANTS = {
    "can_see_all": (Actor, "can_see", see_siblings),
    "token_ignores_grant": (TokenActor, "permissions_in", token_ignores_grant),
    "token_ignores_scope": (TokenActor, "can_see", token_ignores_scope),
    "members_below_unfiltered": (account_service, "members_visible_to", members_no_filter),
    "user_always_visible": (account_types, "may_view_user", may_view_user_always),
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
            first = first or failures[:1]
    print(f"\n{mutant}: caught in {caught}/{len(WORLDS)} worlds; e.g. {first}"[:300])

async def test_fanout_mutant(http, monkeypatch):
    orig = webhook_events.enqueue_for
    async def enqueue_to_root(event):
        # also notify endpoints of the whole tree (siblings included)
        from server.webhooks.models import WebhookEndpoint
        orig_filter = WebhookEndpoint.filter
        def wide(*a, **k):
            k.pop("organisation_id__in", None)
            return orig_filter(*a, **k)
        monkeypatch.setattr(WebhookEndpoint, "filter", wide)
        try:
            await orig(event)
        finally:
            monkeypatch.setattr(WebhookEndpoint, "filter", orig_filter)
    monkeypatch.setattr(webhook_events, "enqueue_for", enqueue_to_root)
    import server.audit.service as audit_service
    monkeypatch.setattr(audit_service, "enqueue_webhooks", enqueue_to_root)
    caught = sum([1 for w in WORLDS if await check_world(http, w, tolerate=TOLERATED)])
    print(f"\nfanout: caught in {caught}/{len(WORLDS)}")

async def test_baseline(http):
    bad = 0
    for w in WORLDS:
        if await check_world(http, w, tolerate=TOLERATED):
            bad += 1
    print(f"\nbaseline failures: {bad}/{len(WORLDS)}")
