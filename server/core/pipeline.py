"""Parsing, validation and error masking for every operation, as ONE schema extension.

Strawberry instantiates every schema extension per request and dispatches each
of its hooks through a context manager; five small extensions (token limit,
parser cache, validation rules, validation cache, error masking) cost more per
request than resolving a small query (BENCHMARKS.md). This one does the work
of all five:

* parse with graphql-core's token limit, once per distinct document text;
* validate with the schema's rules plus ours, once per distinct document
  text (the cache key is the text: hashing the parsed AST, as Strawberry's
  ValidationCache does, walks the whole tree on every request);
* mask unexpected errors like `MaskErrors(should_mask_error=...)`.

Both caches are LRU-bounded, and documents longer than `MAX_CACHED_DOCUMENT`
characters are never cached, so odd or hostile documents cannot fill memory.
Variables and operation names do not enter validation, so one entry serves
every request with the same text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import MaskErrors
from strawberry.schema.schema import validate_document

MAX_CACHED_DOCUMENT = 20_000


class _LRU:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.entries: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self.entries[key] = value
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)


class DocumentCache:
    """Parsed documents and their validation errors, by document text."""

    def __init__(self, *, max_tokens: int, maxsize: int = 256) -> None:
        self.max_tokens = max_tokens
        self.documents = _LRU(maxsize)
        self.validations = _LRU(maxsize)

    def parse(self, query: str) -> DocumentNode:
        document = self.documents.get(query)
        if document is None:
            document = parse(query, max_tokens=self.max_tokens)  # raises GraphQLError
            if len(query) <= MAX_CACHED_DOCUMENT:
                self.documents.put(query, document)
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        key = (id(schema), rules, query)
        cached = self.validations.get(key) if query is not None else None
        if cached is not None and cached[0] is document:
            return cached[1]
        errors = validate_document(schema, document, rules)  # Strawberry's rules added
        if query is not None and len(query) <= MAX_CACHED_DOCUMENT:
            # The document is kept with the errors: a hit must be for that very object.
            self.validations.put(key, (document, errors))
        return errors


class RequestPipeline(MaskErrors):
    """Use as a factory: `lambda: RequestPipeline(cache, rules, should_mask_error=...)`."""

    def __init__(
        self,
        cache: DocumentCache,
        rules: Callable[[], Sequence[type[ASTValidationRule]]],
        *,
        should_mask_error: Callable[[GraphQLError], bool],
    ) -> None:
        super().__init__(should_mask_error=should_mask_error)
        self.cache = cache
        self.rules = rules

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = self.cache.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            rules = tuple(context.validation_rules) + tuple(self.rules())
            context.pre_execution_errors = self.cache.validate(
                context.schema._schema, context.query, context.graphql_document, rules
            )
        yield
