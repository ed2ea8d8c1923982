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
from asyncio import gather
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
from graphql.execution.execute import ExecutionContext as GraphQLExecutionContext
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.relay import GlobalID, Node
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.lazy_type import LazyType
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.relay.utils import resolve_model_id

from schema.pagination import MAX_PAGE_SIZE, ForwardConnectionExtension

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


# How PlainFieldExecutionContext.execute_fields gets one field's value (its compiled step).
_LEAF = 4  # a bare reader of a scalar or enum, serialized in place
_READ = 0  # a bare reader (install_plain_resolvers): side-effect free, so a refusal re-runs the field
_DIRECT = 1  # a @direct_resolver function called with one resolve info per field and request
_PAGE = 2  # a nested connection's prefetched page (schema/fastpath/connections.py)
_OTHER = 3  # graphql-core's execute_field


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a compiled walk over fields that only read their source.

    Per request, each selection set (graphql-core hands the same collected-fields mapping for
    every object of a list) is compiled once into steps: for a plain field (a resolver from
    `install_plain_resolvers` that carries `read`, no arguments, no resolver middleware) the
    value is read in place and completed directly (a scalar serialized, an object or a list of
    objects walked with its own compiled steps): no Path, resolve info, argument coercion or
    completion dispatch per value. A `direct_resolver` is called with one resolve info per field
    and request; a nested connection whose page the optimizer prefetched (only `first`, within
    the cap) is taken from the prefetch cache without Strawberry's resolver chain. A null, an
    exception while reading, a value a scalar or `is_type_of` refuses: graphql-core's own path
    completes (or, for a bare reader, runs) the field again and reports it exactly as before.
    Errors below an object are located and propagated the way graphql-core's `execute_field` and
    `complete_list_value` do. tests/perf/test_plain_fields.py compares both paths.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.plain_fields_allowed = manager is None or not getattr(manager, "middlewares", None)
        self._steps: dict[tuple[Any, int], tuple[dict, list]] = {}

    def execute_fields(self, parent_type, source_value, path, fields):
        if not self.plain_fields_allowed:
            return super().execute_fields(parent_type, source_value, path, fields)
        key = (parent_type, id(fields))
        compiled = self._steps.get(key)
        if compiled is None or compiled[0] is not fields:
            compiled = (fields, [self._compile_step(parent_type, name, nodes) for name, nodes in fields.items()])
            self._steps[key] = compiled  # holds `fields`, so its id is not reused while cached
        results = {}
        awaitable_fields = []
        type_name = parent_type.name
        for step in compiled[1]:
            name, field_nodes, kind, field_def, get, plan, _, _ = step
            if kind is _LEAF:  # the common case: a column or property, serialized in place
                try:
                    value = get(source_value)
                    serialized = None if value is None else plan(value)
                except Exception:  # noqa: BLE001 - graphql-core's path runs it again and reports it
                    serialized = None
                if serialized is not None:
                    results[name] = serialized
                    continue
                result = GraphQLExecutionContext.execute_field(
                    self, parent_type, source_value, field_nodes, Path(path, name, type_name)
                )
            elif kind is _READ:
                try:
                    value = get(source_value)
                except Exception:  # noqa: BLE001 - graphql-core's path runs it again and reports it
                    value = None
                if value is not None:
                    field_path = Path(path, name, type_name)
                    completed = self._complete_plainly(step, value, field_path)
                    if completed is not Undefined:
                        results[name] = completed
                        continue
                result = GraphQLExecutionContext.execute_field(
                    self, parent_type, source_value, field_nodes, Path(path, name, type_name)
                )
            elif kind is _OTHER:
                result = GraphQLExecutionContext.execute_field(
                    self, parent_type, source_value, field_nodes, Path(path, name, type_name)
                )
            else:
                result = self._execute_resolved(step, parent_type, source_value, Path(path, name, type_name))
            if result is not Undefined:
                results[name] = result
                if self.is_awaitable(result):
                    awaitable_fields.append(name)
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:  # as graphql-core's execute_fields
            values = await gather(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, values, strict=True))
            return results

        return get_results()

    def _compile_step(self, parent_type, name, field_nodes) -> list:
        field_def = get_field_def(self.schema, parent_type, field_nodes[0])
        # The last two: a direct resolver's info, and the sub-fields of an object (graphql-core's collect_subfields).
        step = [name, field_nodes, _OTHER, field_def, None, None, None, None]
        if field_def is None:
            return step
        resolve = field_def.resolve
        plan = getattr(resolve, "plan", None)
        if plan is not None and not field_nodes[0].arguments:
            if plan[0] == "leaf":
                step[2:6] = [_LEAF, field_def, resolve.read, plan[1]]
            else:
                step[2:6] = [_READ, field_def, resolve.read, plan]
        elif getattr(resolve, "direct_function", None) is not None and not field_nodes[0].arguments:
            step[2:6] = [_DIRECT, field_def, resolve.direct_function, _plan(field_def.type)]
        else:
            page = self._prefetched_page(field_def, field_nodes)
            if page is not None:
                step[2:6] = [_PAGE, field_def, page, _plan(field_def.type)]
        return step

    def _prefetched_page(self, field_def, field_nodes) -> Callable | None:
        """A connection field's page reader, when ForwardConnectionExtension would take the short cut."""
        field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        extensions = getattr(field, "extensions", None)
        if not extensions or len(extensions) != 1 or field.permission_classes:
            return None
        extension = extensions[0]
        # Set only for a field without a resolver of its own (install_prefetched_pages).
        page = getattr(extension, "prefetched_page", None)
        if page is None or not isinstance(extension, ForwardConnectionExtension):
            return None
        try:
            arguments = get_argument_values(field_def, field_nodes[0], self.variable_values)
        except Exception:  # noqa: BLE001 - graphql-core's path reports it
            return None
        first = arguments.get("first")
        others = [value for argument, value in arguments.items() if argument != "first"]
        if any(value is not None for value in others) or (first is not None and not 0 <= first <= MAX_PAGE_SIZE):
            return None  # `after`, or a `first` the extension refuses: its own path
        return page

    def _execute_resolved(self, step, parent_type, source, path):
        """A direct resolver's or a prefetched page's field, completed as graphql-core's execute_field does."""
        name, field_nodes, kind, field_def, get, plan, _, _ = step
        info = None
        try:
            if kind is _DIRECT:
                info = step[6]
                if info is None:
                    info = step[6] = self.build_resolve_info(field_def, field_nodes, parent_type, path)
                value = get(source, info)
            else:
                value = get(source)
                if value is None:  # not prefetched after all: Strawberry's resolver chain
                    return GraphQLExecutionContext.execute_field(self, parent_type, source, field_nodes, path)
            if value is not None and plan is not None:
                if plan[0] == "leaf":
                    try:
                        serialized = plan[1](value)
                    except Exception:  # noqa: BLE001 - graphql-core's completion reports it
                        serialized = None
                    if serialized is not None:
                        return serialized
                else:
                    completed = self._complete_plainly(step, value, path)
                    if completed is not Undefined:
                        return completed
            info = self.build_resolve_info(field_def, field_nodes, parent_type, path)
            return self.complete_value(field_def.type, field_nodes, info, path, value)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core's execute_field
            self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), field_def.type, path)
            return None

    def _complete_plainly(self, step, value, path):
        """An object or a list of objects completed directly, or Undefined for graphql-core's completion."""
        _, field_nodes, _, field_def, _, plan, _, sub_field_nodes = step
        kind = plan[0]
        if kind == "leaf":
            return Undefined
        if sub_field_nodes is None:
            sub_field_nodes = step[7] = self.collect_subfields(plan[1], field_nodes)
        if kind == "object":
            object_type = plan[1]
            if not self._is_type_of(object_type, value):
                return Undefined
            try:
                return self.execute_fields(object_type, value, path, sub_field_nodes)
            except Exception as raw_error:  # noqa: BLE001 - a non-null child failed: as graphql-core does
                self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), field_def.type, path)
                return None
        object_type, item_type = plan[1], plan[2]
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            return Undefined
        if not all(item is not None and self._is_type_of(object_type, item) for item in value):
            return Undefined
        completed = []
        try:
            for index, item in enumerate(value):
                item_path = Path(path, index, None)
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

    resolve.direct_function = function  # PlainFieldExecutionContext calls it without this wrapper
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
