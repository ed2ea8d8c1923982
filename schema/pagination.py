"""Relay connections as the contract has them: `first`/`after` only, `first` capped at 100."""

import uuid
from functools import lru_cache
from typing import Any

import strawberry_django
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.fields.related_descriptors import ReverseManyToOneDescriptor
from strawberry import relay
from strawberry.relay.types import PREFIX as CURSOR_PREFIX
from strawberry.types import Info
from strawberry.types.base import StrawberryContainer
from strawberry_django.fields.field import StrawberryDjangoConnectionExtension
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay.list_connection import DjangoListConnection

# 100 per the contract; only the benchmarks raise it (bench/settings.py), to fetch 1,000 rows at once.
MAX_PAGE_SIZE = getattr(settings, "GRAPHQL_MAX_PAGE_SIZE", 100)


class ForwardConnectionExtension(StrawberryDjangoConnectionExtension):
    """Forward pagination only, with `first` checked before anything is loaded."""

    def apply(self, field) -> None:
        # The default resolver only reads the relation (`getattr(root, name).all()`); a resolver of
        # the field's own may do anything, so those fields never take the prefetched short cut.
        self.reads_relation = field.base_resolver is None
        self.relation_name = field.django_name or field.python_name
        self.field = field
        super().apply(field)
        field.arguments = [arg for arg in field.arguments if arg.python_name not in {"before", "last"}]
        self.edge_class = None
        if self.reads_relation and _plain_connection(self.connection_type):
            type_def = self.connection_type.__strawberry_definition__
            edge_type = type_def.get_field("edges").resolve_type(type_definition=type_def)
            while isinstance(edge_type, StrawberryContainer):
                edge_type = edge_type.of_type
            if (
                edge_type.resolve_edge.__func__ is relay.Edge.resolve_edge.__func__
                and edge_type.CURSOR_PREFIX == CURSOR_PREFIX
            ):
                self.edge_class = edge_type

    def resolve(self, next_, source, info: Info, *, after: str | None = None, first: int | None = None, **kwargs):
        if first is not None and not 0 <= first <= MAX_PAGE_SIZE:
            raise ValidationError({"first": [f"Must be between 0 and {MAX_PAGE_SIZE}."]})
        if after is not None:
            try:
                cursor_offset(after)
            except Exception as error:  # noqa: BLE001 - any undecodable cursor is bad input
                raise ValidationError({"after": ["Not a valid cursor."]}) from error
        # `root` is the default resolver's own argument (the record again); any other means filters.
        # Only as the innermost extension: any other in the chain (inner ones run inside `next_`) must run.
        if (
            source is not None
            and self.edge_class is not None
            and kwargs.keys() <= {"root"}
            and self.field.extensions[0] is self
        ):
            page = self._prefetched_page(source)
            if page is not None:
                return page
        return super().resolve(next_, source, info, after=after, first=first, **kwargs)

    def _prefetched_page(self, source: Any) -> Any:
        """The connection built straight from the optimizer's prefetched page, or None.

        When the optimizer has prefetched the relation, the cache holds exactly the rows of
        the requested page (`first`/`after` applied in SQL by a window function), each with its
        row number and the total count. strawberry-django's own path gets there through the
        resolver chain, a related manager per record, and
        DjangoListConnection.resolve_optimized_connection_by_prefetch; this builds the same
        object (edges, cursors, page info, `nodes` for totalCount) without them.
        tests/perf/test_prefetched_connection.py compares both paths.
        """
        descriptor = getattr(type(source), self.relation_name, None)
        if type(descriptor) is not ReverseManyToOneDescriptor:
            return None
        try:
            nodes = source._prefetched_objects_cache[descriptor.field.remote_field.cache_name]
        except (AttributeError, KeyError):
            return None
        if not isinstance(nodes, QuerySet) or nodes._result_cache is None:
            return None
        if not get_queryset_config(nodes).optimized_by_prefetching:
            return None
        rows = nodes._result_cache
        edge_class = self.edge_class
        try:
            edges = [edge_class(cursor=_cursor(row._strawberry_row_number - 1), node=row) for row in rows]
            has_next_page = rows[-1]._strawberry_row_number < rows[-1]._strawberry_total_count if rows else False
        except AttributeError:
            return None  # not paginated by the optimizer: strawberry-django's path (and its warning)
        connection = self.connection_type(
            edges=edges,
            page_info=relay.PageInfo(
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
                has_previous_page=rows[0]._strawberry_row_number > 1 if rows else False,
                has_next_page=has_next_page,
            ),
        )
        connection.nodes = nodes
        return connection


def _plain_connection(connection_type: Any) -> bool:
    """A DjangoListConnection whose nodes and edges are built the stock way."""
    return (
        isinstance(connection_type, type)
        and issubclass(connection_type, DjangoListConnection)
        and connection_type.resolve_node.__func__ is relay.ListConnection.resolve_node.__func__
        and connection_type.resolve_connection.__func__ is DjangoListConnection.resolve_connection.__func__
        and connection_type.resolve_optimized_connection_by_prefetch.__func__
        is DjangoListConnection.resolve_optimized_connection_by_prefetch.__func__
    )


@lru_cache(maxsize=1024)
def _cursor(offset: int) -> str:
    return relay.to_base64(CURSOR_PREFIX, offset)


# Far beyond any list here, far below the 64-bit OFFSET a database accepts.
MAX_CURSOR_OFFSET = 2**31


def cursor_offset(cursor: str) -> int:
    """The offset in a connection cursor (`arrayconnection:<n>`); ValueError for anything else.

    Strawberry would turn a negative, non-numeric or huge offset into a server error.
    """
    prefix, offset = relay.from_base64(cursor)
    if prefix != CURSOR_PREFIX or not (offset.isascii() and offset.isdigit()) or int(offset) > MAX_CURSOR_OFFSET:
        raise ValueError("not a cursor of this API")
    return int(offset)


def connection(*args: Any, **kwargs: Any) -> Any:
    """strawberry_django.connection with forward-only, capped pagination."""
    field = strawberry_django.connection(*args, max_results=MAX_PAGE_SIZE, **kwargs)
    field.extensions = [
        ForwardConnectionExtension(max_results=MAX_PAGE_SIZE)
        if isinstance(extension, StrawberryDjangoConnectionExtension)
        else extension
        for extension in field.extensions
    ]
    return field


def decode_global_id(value: str, *, expected_type: str, field: str, pk_type: type = uuid.UUID) -> Any:
    """The primary key behind a global ID of `expected_type`; BAD_USER_INPUT when malformed."""
    try:
        global_id = relay.GlobalID.from_id(value)
        if global_id.type_name != expected_type:
            raise ValueError(global_id.type_name)
        return pk_type(global_id.node_id)
    except (ValueError, TypeError) as error:
        raise ValidationError({field: [f"Not a valid {expected_type} ID."]}) from error
