"""The library internals the fast paths use (core/pipeline.py, resolvers.py,
prepared.py, subtree.py) and the stock engine's policy (core/policy.py) are
still there, in the shape used. tests/test_performance_paths.py checks that
the fast paths answer like the slow ones; this names what moved."""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from graphql import parse
from graphql.execution import collect_fields
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from strawberry import relay
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info
from tortoise.backends.base.executor import BaseExecutor
from tortoise.models import Model

from server.organisations.types import OrganisationType
from server.schema import build_schema
from server.tenancy.models import Organisation

PINNED = ("strawberry-graphql", "graphql-core", "tortoise-orm")
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def _internals() -> dict[str, Callable[[], object]]:
    """What core/pipeline.py, resolvers.py, prepared.py, subtree.py, policy.py and
    bulk.py use beyond each library's public API, and the shape they use it in."""
    schema = build_schema()
    executor = ExecutorThrowingOnIncremental.build(schema._schema, parse("{ __typename }"))
    viewer = schema._schema.query_type.fields["viewer"]  # type: ignore[union-attr]
    queryset = Organisation.filter(id=1).select_related("parent")
    db = Organisation._choose_db()
    context = ExecutionContext("{ a }", schema, (), provided_operation_name="A")
    return {
        "graphql-core Executor.build(schema, document, root_value, context_value, "
        "raw_variable_values, operation_name, …, is_awaitable, hide_suggestions, **custom_args)"
        " returning the executor or the variables' errors": lambda: (
            _parameters(ExecutorThrowingOnIncremental.build)[:6]
            == [
                "schema",
                "document",
                "root_value",
                "context_value",
                "raw_variable_values",
                "operation_name",
            ]  # fmt: skip
            and {"is_awaitable", "hide_suggestions", "custom_args"}
            <= set(_parameters(ExecutorThrowingOnIncremental.build))
            and isinstance(executor, ExecutorThrowingOnIncremental)
        ),
        "graphql-core Executor.execute_collected_root_fields(root_type, root_value, "
        "grouped_field_set, serially, new_defer_usages), overridden to reuse the grouping": lambda: (
            _parameters(ExecutorThrowingOnIncremental.execute_collected_root_fields)
            == [
                "self",
                "root_type",
                "root_value",
                "grouped_field_set",
                "serially",
                "new_defer_usages",
            ]  # fmt: skip
        ),
        "graphql-core collect_fields.GroupedFieldSet and DeferUsage": lambda: (
            collect_fields.GroupedFieldSet and collect_fields.DeferUsage
        ),
        "graphql-core Executor._relevant_sub_fields, the memo of sub-selections (a dict)": lambda: (
            isinstance(executor._relevant_sub_fields, dict)  # type: ignore[union-attr]
        ),
        "graphql-core Executor.async_helpers, cleared to break the executor's cycle": lambda: (
            "async_helpers" in vars(executor)
        ),
        "graphql-core Executor.execute_operation()": lambda: (
            _parameters(ExecutorThrowingOnIncremental.execute_operation)[0] == "self"
        ),
        "graphql-core Executor.build_resolve_info, replaced by Strawberry's": lambda: (
            _parameters(ExecutorThrowingOnIncremental.build_resolve_info)
            == _parameters(StrawberryGraphQLCoreExecutionContext.build_resolve_info)
        ),
        "strawberry schema.schema.validate_document(schema, document, validation_rules)": lambda: (
            _parameters(validate_document) == ["schema", "document", "validation_rules"]
        ),
        "strawberry execution.optimized_is_awaitable(value)": lambda: (
            _parameters(optimized_is_awaitable) == ["value"]
        ),
        "strawberry GraphQLCoreConverter.DEFINITION_BACKREF in each field's extensions": lambda: (
            isinstance(viewer.extensions[GraphQLCoreConverter.DEFINITION_BACKREF], StrawberryField)
        ),
        "strawberry StrawberryField.get_result, .base_resolver, .extensions, .arguments": lambda: (
            _parameters(StrawberryField.get_result) == ["self", "source", "info", "args", "kwargs"]
            and all(
                hasattr(viewer.extensions[GraphQLCoreConverter.DEFINITION_BACKREF], name)
                for name in ("base_resolver", "extensions", "arguments")
            )
        ),
        "strawberry StrawberryResolver.wrapped_func, self_/root_/parent_/info_parameter": lambda: (
            all(
                hasattr(
                    viewer.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].base_resolver, name
                )
                for name in (
                    "wrapped_func",
                    "self_parameter",
                    "root_parameter",
                    "parent_parameter",
                    "info_parameter",
                )  # fmt: skip
            )
        ),
        "strawberry relay.Node._id, resolve_id, resolve_typename (classmethods), "
        "resolve_id_attr()": lambda: (
            all(
                isinstance(relay.Node.__dict__[name], classmethod)
                for name in ("_id", "resolve_id", "resolve_typename")
            )
            and OrganisationType.resolve_id_attr() == "id"  # type: ignore[attr-defined]
        ),
        "strawberry Info(_raw_info, _field)": lambda: _parameters(Info) == ["_raw_info", "_field"],
        "strawberry ExecutionContext._provided_operation_name, parse_options, "
        "validation_rules (the stock engine's policy)": lambda: (
            context._provided_operation_name == "A"
            and isinstance(context.parse_options, dict)
            and isinstance(context.validation_rules, tuple)
        ),
        "strawberry schema.exceptions.CannotGetOperationTypeError(operation_name)": lambda: (
            CannotGetOperationTypeError("A").operation_name == "A"
        ),
        "tortoise-orm Model.__await__ (rows are values to graphql-core)": lambda: (
            "__await__" in vars(Model)
        ),
        "tortoise-orm Model._choose_db(for_write) and db.capabilities.dialect": lambda: (
            _parameters(Model._choose_db) == ["for_write"]
            and db.capabilities.dialect in {"sqlite", "postgres"}
        ),
        "tortoise-orm QuerySet._db, _make_query(), .query.get_parameterized_sql(), "
        "._select_related_idx": lambda: (
            setattr(queryset, "_db", db) is None
            and queryset._make_query() is None
            and isinstance(queryset.query.get_parameterized_sql()[0], str)
            and isinstance(queryset._select_related_idx, list)
        ),
        "tortoise-orm db.executor_class(model, db, select_related_idx)"
        ".execute_select(sql, values, custom_fields)": lambda: (
            issubclass(db.executor_class, BaseExecutor)
            and {"model", "db", "select_related_idx"} <= set(_parameters(BaseExecutor))
            and _parameters(BaseExecutor.execute_select)
            == ["self", "sql", "values", "custom_fields"]
        ),
        "tortoise-orm db.execute_query(query, values) → (rows changed, rows)": lambda: (
            _parameters(type(db).execute_query)[:3] == ["self", "query", "values"]
        ),
        # server/bulk.py (seed-scale): every column, its field, the table's name.
        "tortoise-orm Model._meta.fields_db_projection (field → column), fields_map, "
        "db_table, and Field.to_db_value(value, instance)": lambda: (
            Organisation._meta.fields_db_projection["parent_id"] == "parent_id"
            and Organisation._meta.fields_map["path"].to_db_value("/1/", None) == "/1/"
            and Organisation._meta.db_table == "organisation"
        ),
    }


async def test_the_library_internals_the_fast_paths_use_are_unchanged() -> None:
    """strawberry-graphql, graphql-core and tortoise-orm are pinned to exact
    versions because the fast paths use their internals. After an upgrade this
    fails naming each internal that moved, before anything fails less clearly
    (a prepared statement, say, would silently fall back to the slow path)."""
    pins = {
        requirement.split("[")[0].split("=")[0].strip(): requirement
        for requirement in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    }
    for package in PINNED:
        assert pins[package].endswith(f"=={metadata.version(package)}"), (
            f"{package} must be pinned to the installed version: {pins[package]}"
        )
    changed = []
    for name, check in _internals().items():
        try:
            holds = bool(check())
        except Exception as error:  # noqa: BLE001 - each failure is reported by name
            holds, name = False, f"{name} ({type(error).__name__}: {error})"
        if not holds:
            changed.append(name)
    assert not changed, "library internals used by the fast paths changed:\n  " + "\n  ".join(
        changed
    )
