"""The fast path: speed-ups that reach into private Strawberry, strawberry-django and graphql-core code.

Measured with bench/ (README, "Performance"): per-field overhead, not SQL, is what separates a
GraphQL response from a hand-written view. The levers that pay all depend on framework internals,
so they live here, and only here (STYLE.md rule 9):

- `execution.LeanSchema`: Strawberry's schema-extension runner without its per-request hook
  probing (subclasses `strawberry.extensions.runner.SchemaExtensionsRunner`).
- `execution.QueryOptimizer`: strawberry-django's optimizer without its per-field middleware.
- `execution.DocumentCache`: parse and validate each distinct read once (Strawberry's
  `strawberry.schema.schema.validate_document`, the execution context's `pre_execution_errors`).
- `execution.PlainFieldExecutionContext` and `install_plain_resolvers`: bare `getattr`
  resolvers and in-place completion for plain attribute fields (graphql-core's private
  `get_field_def`, `execute_field`, `execute_fields`; Strawberry's schema converter type map).
- `connections`: nested connections built straight from the optimizer's prefetched page
  (Django's `_prefetched_objects_cache` / `_result_cache`, strawberry-django's row numbers).

All of that is used only when the setting GRAPHQL_FAST_PATH is on (the default) AND the
installed versions are the ones the suite tests (TESTED_VERSIONS). Otherwise `build_schema`
returns stock Strawberry (strawberry.Schema, the stock DjangoOptimizerExtension, graphql-core's
execution context, no plain resolvers, no document cache) and says why, once, in the log.
This module itself imports public APIs only, and imports the private-reaching modules only
when the fast path is used, so an upgrade of any of the three cannot break on import.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import metadata
from typing import Any

import strawberry
from django.conf import settings
from strawberry_django.optimizer import DjangoOptimizerExtension

logger = logging.getLogger(__name__)

# (major, minor) of each distribution the fast path was written and tested against.
TESTED_VERSIONS: dict[str, tuple[int, int]] = {
    "strawberry-graphql": (0, 327),
    "strawberry-graphql-django": (0, 91),
    "graphql-core": (3, 2),
}


def installed_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for distribution in TESTED_VERSIONS:
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[distribution] = None
    return versions


def _major_minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None  # "0.327" is fine; "3.3.0a1" has major/minor too; garbage is not tested


def decide(*, wanted: bool, versions: Mapping[str, str | None]) -> tuple[bool, str | None]:
    """Whether to use the fast path, and when not although it is wanted, why (for the log)."""
    if not wanted:
        return False, None
    untested = [
        f"{distribution} {versions.get(distribution) or 'not installed'} (tested: {'.'.join(map(str, tested))}.x)"
        for distribution, tested in TESTED_VERSIONS.items()
        if _major_minor(versions.get(distribution) or "") != tested
    ]
    if untested:
        return False, "GraphQL fast path off, stock Strawberry used: untested " + ", ".join(untested)
    return True, None


@cache
def active() -> bool:
    """The decision for this process, logged once when the versions turn a wanted fast path off."""
    use, reason = decide(wanted=getattr(settings, "GRAPHQL_FAST_PATH", True), versions=installed_versions())
    if reason:
        logger.warning(reason)
    return use


def direct_resolver(function: Callable) -> Callable:
    """Mark a `(root, info)` field resolver as safe to call straight from graphql-core.

    On the stock path the mark changes nothing: Strawberry calls the resolver as usual. The fast
    path calls it with graphql-core's info instead of Strawberry's, so only for resolvers that
    use nothing of the info but `.context.request` (and hand it to schema/audit/reads.py, which
    takes either), have no arguments, and raise nothing the error formatting must see through
    Strawberry (they still reach it through graphql-core).
    """
    function.direct = True
    return function


def build_schema(
    *,
    query: type,
    mutation: type | None = None,
    extensions: Sequence[Any],
    **options: Any,
) -> strawberry.Schema:
    """The Schema, fast or stock (see the module docstring).

    `extensions` name the stock DjangoOptimizerExtension; the fast path swaps it for its
    QueryOptimizer and appends its DocumentCache (last: after DocumentLimits, the request-level
    parse options, limits and introspection policy).
    """
    if not active():
        return strawberry.Schema(query=query, mutation=mutation, extensions=list(extensions), **options)
    from schema.fastpath.connections import install_prefetched_pages
    from schema.fastpath.execution import (
        DocumentCache,
        LeanSchema,
        PlainFieldExecutionContext,
        QueryOptimizer,
        install_plain_resolvers,
    )

    fast_extensions = [QueryOptimizer if each is DjangoOptimizerExtension else each for each in extensions]
    schema = LeanSchema(
        query=query,
        mutation=mutation,
        extensions=[*fast_extensions, DocumentCache],
        execution_context_class=PlainFieldExecutionContext,
        **options,
    )
    install_plain_resolvers(schema)
    install_prefetched_pages(schema)
    return schema
