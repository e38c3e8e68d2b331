"""What trusted documents save per request: the admin app's documents sent by
id against the same documents sent as text, and against documents the server
does not trust (the baseline: what every request cost before), all measured in
the same run.

    python -m bench.trusted_documents [--rounds 7] [--repeat 200]

Bytes: the JSON body the admin app posts for each of its documents
(static/admin/documents.json), `{"query": text}` against
`{"documentId": "sha256:…"}` (variables add the same to both; the headers,
the same few hundred bytes to both, are left out).

Time: the server's work that differs, on the real endpoint object
(server/app.py) with the default engine: reading the body
(`_operation_request`), finding the text to run (`_document`: the manifest's
for an id; the request's own, or under `enforce` for a cookie session its
SHA-256 checked against the manifest), then parse, plan and validation
through the pipeline's caches (core/pipeline.py). "Untrusted" are the same
documents with a trailing space, so not in the manifest. Three situations:
warm caches (every request after the first); the LRU caches emptied before
each request (what 256 other documents sent in between do); and every cache
emptied (a new process's first request). Execution, authentication and the
response are the same in every column and left out.

Figures only: CPU time of this process (other tenants of the machine inflate
wall time far more), medians of `--rounds` rounds, the columns measured in
turns, of `--repeat` passes over all documents (a fiftieth of that when caches
are emptied).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import orjson

from server.app import FrontdeskGraphQL, _operation_request
from server.settings import get_settings
from server.trusted_documents import load_manifest

Handler = Callable[[bytes], None]


def _handler(graphql: FrontdeskGraphQL, *, lru: bool, everything: bool) -> Handler:
    """One request's differing work; `lru`/`everything`: empty those caches first."""
    pipeline = graphql.pipeline
    # Whose request it is matters only under enforce: a cookie session, no bearer token.
    context: Any = SimpleNamespace(actor=None, via_cookie=True)
    rules = pipeline.policy.validation_rules()
    caches = (pipeline.documents.documents, pipeline.documents.validations, pipeline.plans)

    def handle(body: bytes) -> None:
        for cache in caches:
            if lru or everything:
                cache.entries.clear()
            if everything:
                cache.kept.clear()
        query, document_id, _variables, operation_name, _extensions = _operation_request(body)
        text = graphql._document(query, document_id, context)
        assert isinstance(text, str), text
        document = pipeline.documents.parse(text)
        pipeline._plan(text, document, operation_name)
        errors = pipeline.documents.validate(pipeline.schema, text, document, rules)
        assert not errors, errors

    return handle


def _microseconds(handle: Handler, bodies: list[bytes], repeat: int) -> float:
    """Mean CPU µs per request over `repeat` passes through all `bodies`."""
    for body in bodies:
        handle(body)  # warm-up: caches filled, code paths loaded
    started = time.process_time()
    for _ in range(repeat):
        for body in bodies:
            handle(body)
    return (time.process_time() - started) / (repeat * len(bodies)) * 1e6


def _row(label: str, values: list[float], digits: int = 1) -> str:
    cells = "".join(f"{v:>12.{digits}f}" for v in values)
    return f"  {label:<50}{cells}{values[-1] / values[0]:>14.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    manifest = load_manifest()
    texts = list(manifest.by_id.values())
    columns = {
        "untrusted": [orjson.dumps({"query": t + " ", "variables": {}}) for t in texts],
        "text": [orjson.dumps({"query": t, "variables": {}}) for t in texts],
        "by id": [orjson.dumps({"documentId": i, "variables": {}}) for i in manifest.by_id],
    }
    header = "".join(f"{name:>12}" for name in columns) + f"{'by id / 1st':>14}"
    print(f"Trusted documents: the admin app's {len(texts)} documents\n")
    print(f"{'request body, bytes':<52}{header}")
    sizes = {name: [len(body) for body in bodies] for name, bodies in columns.items()}
    for label, pick in (("median", statistics.median), ("mean", statistics.fmean), ("max", max)):
        print(_row(label, [float(pick(s)) for s in sizes.values()], 0))
    print(_row("all documents once", [float(sum(s)) for s in sizes.values()], 0))

    settings = get_settings()
    allow = FrontdeskGraphQL(dataclasses.replace(settings, trusted_documents="allow"))
    enforce = FrontdeskGraphQL(dataclasses.replace(settings, trusted_documents="enforce"))
    print(f"\n{'server CPU µs per request (median)':<52}{header}")
    situations = (
        ("warm caches", False, False),
        ("LRU caches emptied by others", True, False),
        ("first request (all caches empty)", False, True),
    )
    for label, lru, everything in situations:
        for mode, graphql in (("allow", allow), ("enforce, cookie", enforce)):
            # Enforce refuses untrusted documents from a cookie session.
            names = list(columns) if mode == "allow" else ["text", "by id"]
            handle = _handler(graphql, lru=lru, everything=everything)
            repeat = max(1, args.repeat // 50) if lru or everything else args.repeat
            runs: dict[str, list[float]] = {name: [] for name in names}
            for _ in range(args.rounds):
                for name in names:
                    runs[name].append(_microseconds(handle, columns[name], repeat))
            medians = [statistics.median(runs[name]) for name in names]
            if mode != "allow":
                medians = [float("nan"), *medians]
                print(f"  {label + ', ' + mode:<50}{'':>12}"
                      + "".join(f"{v:>12.1f}" for v in medians[1:])
                      + f"{medians[2] / medians[1]:>14.2f}  (by id / text)")  # fmt: skip
            else:
                print(_row(f"{label}, {mode}", medians))


if __name__ == "__main__":
    main()
