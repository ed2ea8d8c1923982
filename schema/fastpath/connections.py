"""Nested connections built straight from the optimizer's prefetched page (fast path only).

Reaches into Django's prefetch cache (`_prefetched_objects_cache`, a QuerySet's `_result_cache`)
and strawberry-django's pagination internals (`get_queryset_config`, the `_strawberry_row_number`
and `_strawberry_total_count` it annotates rows with), so it lives here, behind the fast path's
setting and version guard. schema/pagination.ForwardConnectionExtension calls it when installed.
"""

from functools import lru_cache
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.related_descriptors import ReverseManyToOneDescriptor
from strawberry import relay
from strawberry.relay.types import PREFIX as CURSOR_PREFIX
from strawberry.types.base import StrawberryContainer, StrawberryObjectDefinition
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay.list_connection import DjangoListConnection

from schema.pagination import ForwardConnectionExtension


class PrefetchedPage:
    """One connection field's short cut: its page from the prefetch cache, or None.

    When the optimizer has prefetched the relation, the cache holds exactly the rows of the
    requested page (`first`/`after` applied in SQL by a window function), each with its row
    number and the total count. strawberry-django's own path gets there through the resolver
    chain, a related manager per record, and
    DjangoListConnection.resolve_optimized_connection_by_prefetch; this builds the same object
    (edges, cursors, page info, `nodes` for totalCount) without them.
    tests/perf/test_prefetched_connection.py compares both paths.
    """

    def __init__(self, *, relation_name: str, connection_type: type, edge_class: type) -> None:
        self.relation_name = relation_name
        self.connection_type = connection_type
        self.edge_class = edge_class

    def __call__(self, source: Any) -> Any:
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


def _stock_edge_class(connection_type: type) -> type | None:
    type_def = connection_type.__strawberry_definition__
    edge_type = type_def.get_field("edges").resolve_type(type_definition=type_def)
    while isinstance(edge_type, StrawberryContainer):
        edge_type = edge_type.of_type
    if edge_type.resolve_edge.__func__ is relay.Edge.resolve_edge.__func__ and edge_type.CURSOR_PREFIX == CURSOR_PREFIX:
        return edge_type
    return None


def _short_cut_for(field: Any, extension: ForwardConnectionExtension) -> PrefetchedPage | None:
    # The default resolver only reads the relation (`getattr(root, name).all()`); a resolver of the
    # field's own may do anything. And only as the innermost extension: any other in the chain
    # (inner ones run inside `next_`) must run.
    if extension.has_own_resolver or not field.extensions or field.extensions[0] is not extension:
        return None
    if not _plain_connection(extension.connection_type):
        return None
    edge_class = _stock_edge_class(extension.connection_type)
    if edge_class is None:
        return None
    return PrefetchedPage(
        relation_name=field.django_name or field.python_name,
        connection_type=extension.connection_type,
        edge_class=edge_class,
    )


def install_prefetched_pages(schema: Any) -> list[str]:
    """Give every eligible nested connection field its short cut; returns their names."""
    installed = []
    for name, entry in schema.schema_converter.type_map.items():
        definition = getattr(entry, "definition", None)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            for extension in field.extensions:
                if isinstance(extension, ForwardConnectionExtension):
                    extension.prefetched_page = _short_cut_for(field, extension)
                    if extension.prefetched_page is not None:
                        installed.append(f"{name}.{field.python_name}")
    return installed


@lru_cache(maxsize=1024)
def _cursor(offset: int) -> str:
    return relay.to_base64(CURSOR_PREFIX, offset)
