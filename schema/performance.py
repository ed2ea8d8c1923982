"""Execution cost: what the schema does per request and per field, kept to what pays.

Measured with bench/ (see README, "Performance"): per-field overhead, not SQL, is what
separates a GraphQL response from a hand-written view. Three levers live here:

- `QueryOptimizer`: strawberry-django's optimizer without its `resolve` hook. The hook
  wraps *every* field of every response as graphql-core middleware, only to optimize
  querysets that resolvers return raw; ours never do (lists are strawberry-django
  connections, whose `get_queryset` runs the optimizer itself).
- `DocumentCache`: parsed documents and successful validations kept per query text, so a
  client's repeated queries are parsed and validated once. Runs after DocumentLimits
  (parse options, limits and introspection policy stay per request) and stays out of
  error paths: a document that fails to parse or validate is handled as if uncached.
- `install_plain_resolvers`: fields that only read an attribute (a column, a to-one
  relation the optimizer already loaded, a model property, a connection's edges/node)
  get a bare `getattr` as their graphql-core resolver instead of Strawberry's wrapper
  chain (Info object, argument conversion, extension chain, strawberry-django's cache
  probing). Root fields, fields with a resolver, arguments, field extensions or
  permissions, to-many relations and types with a `get_queryset` keep the full path.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from graphql import GraphQLEnumType, GraphQLError, GraphQLNonNull, GraphQLScalarType, Undefined, parse
from graphql.execution.execute import get_field_def
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.lazy_type import LazyType
from strawberry_django.optimizer import DjangoOptimizerExtension

DOCUMENT_CACHE_SIZE = 256


class QueryOptimizer(DjangoOptimizerExtension):
    """The optimizer, minus the per-field middleware (see the module docstring)."""

    resolve = SchemaExtension.resolve  # Strawberry installs middleware only for overridden `resolve`


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parse(query: str, **options: Any):
    return parse(query, **options)


class _ValidDocuments:
    """Query texts (with their rule set) that passed validation; bounded, oldest dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: tuple) -> bool:
        return key in self._keys

    def add(self, key: tuple) -> None:
        with self._lock:
            self._keys[key] = None
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)


_valid_documents = _ValidDocuments(DOCUMENT_CACHE_SIZE)


class DocumentCache(SchemaExtension):
    """Parse and validate each distinct query text once (list it after DocumentLimits)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            try:
                context.graphql_document = _parse(context.query, **context.parse_options)
            except GraphQLError:
                pass  # Strawberry parses it again and reports the error through every extension
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None and context.query:
            key = (context.query, tuple(context.validation_rules))
            if key in _valid_documents:
                context.pre_execution_errors = []  # Strawberry skips validation it is told is done
            else:
                from strawberry.schema.schema import validate_document

                rules = tuple(context.validation_rules)
                errors = validate_document(context.schema._schema, context.graphql_document, rules)
                context.pre_execution_errors = errors
                if not errors:
                    _valid_documents.add(key)
        yield


def _leaf_serializer(type_: Any) -> Callable | None:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_.serialize if isinstance(type_, GraphQLScalarType | GraphQLEnumType) else None


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a short cut for scalar fields that only read an attribute.

    For such a field (resolver from `install_plain_resolvers`, no arguments, no resolver
    middleware) the value is read and serialized in place: no resolve info, no argument
    coercion, no completion dispatch. Anything unusual (null, an exception, a value the scalar
    refuses) goes through graphql-core's own path, which reports it exactly as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.plain_fields_allowed = manager is None or not getattr(manager, "middlewares", None)

    def execute_field(self, parent_type, source, field_nodes, path):
        if self.plain_fields_allowed:
            field_def = get_field_def(self.schema, parent_type, field_nodes[0])
            attname = getattr(field_def.resolve, "plain_attribute", None) if field_def is not None else None
            if attname is not None and not field_nodes[0].arguments:
                serialize = _leaf_serializer(field_def.type)
                if serialize is not None:
                    try:
                        value = getattr(source, attname)
                        if value is not None:
                            serialized = serialize(value)
                            if serialized is not None and serialized is not Undefined:
                                return serialized
                    except Exception:  # noqa: BLE001, S110 - graphql-core's path below reports it
                        pass
        return super().execute_field(parent_type, source, field_nodes, path)


def direct_resolver(function: Callable) -> Callable:
    """Mark a `(root, info)` field resolver as safe to call straight from graphql-core.

    Only for resolvers that take exactly the source object and the info (graphql-core's info
    has the same `.context.request`), have no arguments, and raise nothing the error
    formatting must see through Strawberry (they still reach it through graphql-core).
    """
    function.direct = True
    return function


def _attribute_resolver(attname: str) -> Callable:
    def resolve(root: Any, info: Any, **_: Any) -> Any:
        return getattr(root, attname)

    resolve.plain_attribute = attname  # lets PlainFieldExecutionContext skip even this call
    return resolve


def _optional_attribute_resolver(attname: str) -> Callable:
    def resolve(root: Any, info: Any, **_: Any) -> Any:
        try:
            return getattr(root, attname)
        except ObjectDoesNotExist:
            return None

    return resolve


def _direct_call(function: Callable) -> Callable:
    def resolve(root: Any, info: Any, **_: Any) -> Any:
        return function(root, info)

    return resolve


def _named_type(type_: Any) -> Any:
    while isinstance(type_, StrawberryOptional | StrawberryList):
        type_ = type_.of_type
    if isinstance(type_, LazyType):
        type_ = type_.resolve_type()
    return type_


def _scopes_rows(type_: Any) -> bool:
    """True for a strawberry-django type whose rows are filtered by its own get_queryset."""
    return callable(getattr(_named_type(type_), "get_queryset", None))


def _plain_resolver(field: Any, model: Any) -> Callable | None:
    if field.extensions or field.permission_classes or field.arguments:
        return None
    if field.base_resolver is not None:
        function = field.base_resolver.wrapped_func
        return _direct_call(function) if getattr(function, "direct", False) else None
    attname = getattr(field, "django_name", None) or field.python_name
    if model is None:  # a plain Strawberry type: Connection, Edge, PageInfo, payloads
        return _attribute_resolver(attname)
    descriptor = getattr(model, attname, None)
    if isinstance(descriptor, FileDescriptor):
        return None
    if isinstance(descriptor, DeferredAttribute | property):
        return _attribute_resolver(attname)
    if isinstance(descriptor, ForwardManyToOneDescriptor) and not _scopes_rows(field.type):
        if isinstance(field.type, StrawberryOptional):
            return _optional_attribute_resolver(attname)
        return _attribute_resolver(attname)
    return None  # reverse and to-many relations, anything unusual: the full path


def install_plain_resolvers(schema: Any) -> list[str]:
    """Give plain attribute fields a bare resolver (see the module docstring); returns their names."""
    roots = (schema.query, schema.mutation, schema.subscription)
    root_names = {root.__strawberry_definition__.name for root in roots if root is not None}
    installed = []
    for name, entry in schema.schema_converter.type_map.items():
        definition = getattr(entry, "definition", None)
        if not isinstance(definition, StrawberryObjectDefinition) or name in root_names:
            continue
        if definition.is_interface or definition.is_input:
            continue
        django_definition = getattr(definition.origin, "__strawberry_django_definition__", None)
        model = getattr(django_definition, "model", None)
        graphql_fields = entry.implementation.fields
        for field in definition.fields:
            resolver = _plain_resolver(field, model)
            if resolver is None:
                continue
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            graphql_fields[graphql_name].resolve = resolver
            installed.append(f"{name}.{graphql_name}")
    return installed
