import warnings, random, dataclasses, time, collections
from tests.api.test_tenancy_properties import Check, TOLERATED
from tests.helpers.tenancy import worlds, build, empty_database, Model, snapshot

def _examples(n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [dataclasses.replace(worlds().example(), sampler=random.Random(i)) for i in range(n)]

WORLDS = _examples(20)

async def test_timing(http):
    totals = collections.Counter()
    requests = 0
    orig = http.post
    orig_get = http.get
    count = [0]
    async def post(*a, **k):
        count[0] += 1
        return await orig(*a, **k)
    async def get(*a, **k):
        count[0] += 1
        return await orig_get(*a, **k)
    http.post = post
    http.get = get
    for w in WORLDS:
        t = time.perf_counter(); await empty_database(); totals["empty"] += time.perf_counter() - t
        t = time.perf_counter(); built = await build(w); totals["build"] += time.perf_counter() - t
        c = Check(http, built, Model(w, tolerate=TOLERATED))
        t = time.perf_counter(); await c.connect(); await c.call("{ viewer { user { id } } }", "x"); totals["connect"] += time.perf_counter() - t
        if not c.model.valid:
            continue
        for name in ["check_viewer", "check_organisations", "check_lookups", "check_listings", "check_export"]:
            t = time.perf_counter(); await getattr(c, name)(); totals[name] += time.perf_counter() - t
        t = time.perf_counter(); await snapshot(); totals["snapshot"] += time.perf_counter() - t
        t = time.perf_counter(); await c.check_mutations(); totals["mutations"] += time.perf_counter() - t
    print()
    for k, v in totals.items():
        print(f"{k:20s} {v:6.2f}s")
    print("requests", count[0])
