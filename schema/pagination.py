"""Relay connections as the contract has them: `first`/`after` only, `first` capped at 100."""

from typing import Any

import strawberry_django
from django.conf import settings
from django.core.exceptions import ValidationError
from strawberry import relay
from strawberry.types import Info

from schema.internals import StrawberryDjangoConnectionExtension

# "arrayconnection", the prefix of the cursors relay.Edge hands out.
CURSOR_PREFIX = relay.Edge.CURSOR_PREFIX

# 100 per the contract; only the benchmarks raise it (bench/settings.py), to fetch 1,000 rows at once.
MAX_PAGE_SIZE = getattr(settings, "GRAPHQL_MAX_PAGE_SIZE", 100)


class ForwardConnectionExtension(StrawberryDjangoConnectionExtension):
    """Forward pagination only, with `first` checked before anything is loaded."""

    # Set per field by the fast path (schema/fastpath/connections.py) when it is on: builds the
    # page from the optimizer's prefetch cache, or returns None for strawberry-django's own path.
    prefetched_page = None

    def apply(self, field) -> None:
        # Before strawberry-django installs its default resolver (which only reads the relation).
        self.has_own_resolver = field.base_resolver is not None
        super().apply(field)
        field.arguments = [arg for arg in field.arguments if arg.python_name not in {"before", "last"}]

    def resolve(self, next_, source, info: Info, *, after: str | None = None, first: int | None = None, **kwargs):
        if first is not None and not 0 <= first <= MAX_PAGE_SIZE:
            raise ValidationError({"first": [f"Must be between 0 and {MAX_PAGE_SIZE}."]})
        if after is not None:
            try:
                cursor_offset(after)
            except Exception as error:  # noqa: BLE001 - any undecodable cursor is bad input
                raise ValidationError({"after": ["Not a valid cursor."]}) from error
        # `root` is the default resolver's own argument (the record again); any other means filters.
        if source is not None and self.prefetched_page is not None and kwargs.keys() <= {"root"}:
            page = self.prefetched_page(source)
            if page is not None:
                return page
        return super().resolve(next_, source, info, after=after, first=first, **kwargs)


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
