"""The fast path's execution levers (see schema/fastpath/__init__.py for when they are used).

Imported only when the fast path is on: this module imports private symbols of graphql-core
(`graphql.execution.execute.get_field_def`), Strawberry (`strawberry.schema.schema`, the
extensions runner, the schema converter's type map) and strawberry-django.

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

import hashlib
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import cache
from operator import attrgetter
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    located_error,
    parse,
)
from graphql.execution.execute import get_field_def
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.relay import GlobalID, Node
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.lazy_type import LazyType
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.relay.utils import resolve_model_id

DOCUMENT_CACHE_SIZE = 256


class _Phase:
    """One lifecycle phase: the extensions' hooks as nested `with` blocks, the first outermost.

    Strawberry's semantics (contextlib.ExitStack's: an exception is thrown into each hook,
    innermost first, and one may swallow it from the hooks outside it), without the context
    manager Strawberry builds per hook and request. tests/perf/test_extension_runner.py compares.
    """

    __slots__ = ("hooks", "started")

    def __init__(self, hooks: list[Callable[[], Iterator[None]]]) -> None:
        self.hooks = hooks
        self.started: list[Iterator[None]] = []

    def __enter__(self) -> None:
        # A hook failing here leaves the hooks entered before it unfinished (closed when collected),
        # exactly as Strawberry's runner does.
        for hook in self.hooks:
            generator = hook()
            try:
                next(generator)
            except StopIteration:
                raise RuntimeError("A schema extension hook did not yield.") from None
            self.started.append(generator)

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> bool:
        return self._unwind(exc)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> bool:
        return self.__exit__(exc_type, exc, traceback)

    def _unwind(self, original: BaseException | None) -> bool:
        error = original
        while self.started:
            generator = self.started.pop()
            try:
                if error is None:
                    next(generator)
                else:
                    generator.throw(error)
            except StopIteration:
                error = None  # finished, or swallowed the exception
            except BaseException as raised:  # noqa: BLE001 - handed on to the outer hooks, then raised
                error = raised
            else:
                error = RuntimeError("A schema extension hook yielded twice.")
        if error is not None and error is not original:
            raise error
        # Strawberry's runner never suppresses: an exception a hook swallowed still leaves the block.
        return False


_PHASES = ("on_operation", "on_parse", "on_validate", "on_execute")


@cache
def _lifecycle_hooks(extension_class: type) -> tuple[str, ...] | None:
    """The lifecycle hooks `extension_class` overrides, or None if one is not a generator function."""
    hooks = tuple(name for name in _PHASES if getattr(extension_class, name) is not getattr(SchemaExtension, name))
    if all(inspect.isgeneratorfunction(getattr(extension_class, name)) for name in hooks):
        return hooks
    return None


class LeanExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's runner, minus its per-request preparation of every hook.

    Per request and phase, Strawberry probes each extension's hook (signature inspection) and
    wraps it in a fresh `contextlib.contextmanager`: for our seven extensions, 28 probes and 10
    wrappers, a third of the cost of `{ me { id } }` (issue 7). Here the probing is done once per
    extension class. Any extension with a hook that is not a plain generator (async, callable)
    gets Strawberry's own runner.
    """

    def __init__(self, execution_context: Any, extensions: list[SchemaExtension] | None = None) -> None:
        super().__init__(execution_context=execution_context, extensions=extensions)
        hooks = [_lifecycle_hooks(type(extension)) for extension in self.extensions]
        self.hooks = None if None in hooks else list(zip(self.extensions, hooks, strict=True))

    def _phase(self, name: str) -> _Phase:
        return _Phase([getattr(extension, name) for extension, names in self.hooks if name in names])

    def operation(self) -> Any:
        return super().operation() if self.hooks is None else self._phase("on_operation")

    def parsing(self) -> Any:
        return super().parsing() if self.hooks is None else self._phase("on_parse")

    def validation(self) -> Any:
        return super().validation() if self.hooks is None else self._phase("on_validate")

    def executing(self) -> Any:
        return super().executing() if self.hooks is None else self._phase("on_execute")

    def get_extensions_results_sync(self) -> dict[str, Any]:
        # Strawberry inspects every extension's get_results per request; most keep the default {}.
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if type(extension).get_results is not SchemaExtension.get_results:
                if inspect.iscoroutinefunction(extension.get_results):
                    raise RuntimeError("Cannot use async extension hook during sync execution")
                data.update(extension.get_results())
        return data


class LeanSchema(Schema):
    """strawberry.Schema with LeanExtensionsRunner."""

    def create_extensions_runner(
        self, execution_context: Any, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return LeanExtensionsRunner(execution_context=execution_context, extensions=extensions)


class QueryOptimizer(DjangoOptimizerExtension):
    """The optimizer, minus the per-field middleware (see the module docstring)."""

    resolve = SchemaExtension.resolve  # Strawberry installs middleware only for overridden `resolve`


def _digest(query: str) -> str:
    # Caches are keyed by a digest: a query text may quote a password or PHI in a literal.
    return hashlib.sha256(query.encode()).hexdigest()


class _BoundedCache:
    """A bounded mapping, oldest dropped first, safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        return self._items.get(key)

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def put(self, key: Any, value: Any = True) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_parsed_documents = _BoundedCache(DOCUMENT_CACHE_SIZE)
_valid_documents = _BoundedCache(DOCUMENT_CACHE_SIZE)


def _reads_only(document: DocumentNode) -> bool:
    return all(
        definition.operation == OperationType.QUERY
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )


def _parse(query: str, **options: Any) -> DocumentNode:
    """Parse once per distinct read; mutations (passwords, PHI in their literals) are never kept."""
    key = (_digest(query), tuple(sorted(options.items())))
    document = _parsed_documents.get(key)
    if document is None:
        document = parse(query, **options)
        if _reads_only(document):
            _parsed_documents.put(key, document)
    return document


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
            key = (_digest(context.query), tuple(context.validation_rules))
            if key in _valid_documents:
                context.pre_execution_errors = []  # Strawberry skips validation it is told is done
            else:
                from strawberry.schema.schema import validate_document

                rules = tuple(context.validation_rules)
                errors = validate_document(context.schema._schema, context.graphql_document, rules)
                context.pre_execution_errors = errors
                if not errors:
                    _valid_documents.put(key)
        yield


def _plan(type_: Any) -> tuple | None:
    """How PlainFieldExecutionContext completes a value of `type_`, or None for graphql-core's way."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return ("leaf", type_.serialize)
    if isinstance(type_, GraphQLObjectType):
        return ("object", type_)
    if isinstance(type_, GraphQLList):
        item_type = type_.of_type
        if isinstance(item_type, GraphQLNonNull) and isinstance(item_type.of_type, GraphQLObjectType):
            return ("objects", item_type.of_type, item_type)
    return None  # interfaces, unions, nullable items, nested lists


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a short cut for fields that only read their source.

    For such a field (a resolver from `install_plain_resolvers` that carries `read`, no
    arguments, no resolver middleware) the value is read in place and completed directly: a
    scalar serialized, an object or a list of objects handed straight to `execute_fields`. No
    resolve info, no argument coercion, no completion dispatch per value. A null, an exception
    while reading, a value a scalar or `is_type_of` refuses: graphql-core's own path runs the
    field again and reports it exactly as before. Errors below an object are located and
    propagated the way graphql-core's `execute_field` and `complete_list_value` do.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.plain_fields_allowed = manager is None or not getattr(manager, "middlewares", None)

    def execute_field(self, parent_type, source, field_nodes, path):
        if self.plain_fields_allowed:
            field_def = get_field_def(self.schema, parent_type, field_nodes[0])
            plan = getattr(field_def.resolve, "plan", None) if field_def is not None else None
            if plan is not None and not field_nodes[0].arguments:
                completed = self._complete_plainly(plan, field_def.resolve.read, source, field_def, field_nodes, path)
                if completed is not Undefined:
                    return completed
        return super().execute_field(parent_type, source, field_nodes, path)

    def _complete_plainly(self, plan, read, source, field_def, field_nodes, path):
        try:
            value = read(source)
        except Exception:  # noqa: BLE001 - graphql-core's path runs it again and reports it
            return Undefined
        if value is None:
            return Undefined
        kind = plan[0]
        if kind == "leaf":
            try:
                serialized = plan[1](value)
            except Exception:  # noqa: BLE001
                return Undefined
            return Undefined if serialized is None else serialized
        if kind == "object":
            object_type = plan[1]
            if not self._is_type_of(object_type, value):
                return Undefined
            try:
                return self.execute_fields(object_type, value, path, self.collect_subfields(object_type, field_nodes))
            except Exception as raw_error:  # noqa: BLE001 - a non-null child failed: as graphql-core does
                self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), field_def.type, path)
                return None
        object_type, item_type = plan[1], plan[2]
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            return Undefined
        if not all(item is not None and self._is_type_of(object_type, item) for item in value):
            return Undefined
        sub_field_nodes = self.collect_subfields(object_type, field_nodes)
        completed = []
        try:
            for index, item in enumerate(value):
                item_path = path.add_key(index, None)
                try:
                    completed.append(self.execute_fields(object_type, item, item_path, sub_field_nodes))
                except Exception as raw_error:  # noqa: BLE001 - as complete_list_value does
                    error = located_error(raw_error, field_nodes, item_path.as_list())
                    self.handle_field_error(error, item_type, item_path)
                    completed.append(None)
        except Exception as raw_error:  # noqa: BLE001 - a non-null item failed: the list fails
            self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), field_def.type, path)
            return None
        return completed

    @staticmethod
    def _is_type_of(object_type, value) -> bool:
        if object_type.is_type_of is None:
            return True
        try:
            return bool(object_type.is_type_of(value, None))
        except Exception:  # noqa: BLE001 - one that needs the resolve info: take graphql-core's path
            return False


def _attribute_resolver(attname: str) -> Callable:
    def resolve(root: Any, info: Any, **_: Any) -> Any:
        return getattr(root, attname)

    resolve.read = attrgetter(attname)  # lets PlainFieldExecutionContext skip even this call
    return resolve


def _node_id_resolver(type_name: str, origin: Any, model: Any) -> Callable | None:
    """`id` of a strawberry-django Node: the GlobalID of the row's pk, as relay.Node._id makes it.

    Relay's own resolver re-derives the id attribute from type annotations on every call."""
    if getattr(origin.resolve_id, "__func__", None) is not resolve_model_id:
        return None  # the type resolves its ids itself
    id_attr = origin.resolve_id_attr()
    if id_attr == "pk":
        id_attr = model._meta.pk.attname

    def read(root: Any) -> GlobalID:
        try:
            node_id = root.__dict__[id_attr]
        except KeyError:
            node_id = getattr(root, id_attr)  # deferred: Django loads it, as django_getattr would
        return GlobalID(type_name=type_name, node_id=str(node_id))

    def resolve(root: Any, info: Any, **_: Any) -> Any:
        return read(root)

    resolve.read = read
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
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            if graphql_name == "id" and model is not None and issubclass(definition.origin, Node):
                resolver = _node_id_resolver(name, definition.origin, model)
            else:
                resolver = _plain_resolver(field, model)
            if resolver is None:
                continue
            graphql_field = graphql_fields[graphql_name]
            graphql_field.resolve = resolver
            if hasattr(resolver, "read"):
                resolver.plan = _plan(graphql_field.type)  # None: graphql-core completes it
            installed.append(f"{name}.{graphql_name}")
    return installed
