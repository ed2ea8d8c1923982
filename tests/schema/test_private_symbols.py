"""Private Strawberry / graphql-core symbols stay in schema/fastpath/ and schema/internals.py.

STYLE.md rule 9: outside the switchable fast path, schema/ uses public APIs, and what has no
public API goes through the one adapter (schema/internals.py), so an upgrade that moves a
private symbol breaks in one known place. The scan reads the code (imports, attribute names,
string constants), not comments or docstrings, which may name the symbols they avoid.
"""

import ast
from pathlib import Path

import schema

SCHEMA_PACKAGE = Path(schema.__file__).parent
ALLOWED = {SCHEMA_PACKAGE / "internals.py"}
FAST_PATH = SCHEMA_PACKAGE / "fastpath"

PRIVATE_MODULES = (
    "graphql.execution.collect_fields",
    "graphql.execution.execute",
    "strawberry.relay.types",
    "strawberry.schema.schema",
    "strawberry.types.base",
    "strawberry_django.fields",
    "strawberry_django.utils",
)
PRIVATE_ATTRIBUTES = {"_raw_info", "_schema", "_strawberry_schema"}
PRIVATE_STRINGS = PRIVATE_ATTRIBUTES | {"strawberry-definition"}


def _is_private_module(name: str | None) -> bool:
    return name is not None and any(name == module or name.startswith(module + ".") for module in PRIVATE_MODULES)


def private_uses(source: str) -> list[str]:
    """Each private import, attribute access or getattr-style string in `source`, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and _is_private_module(node.module):
            found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {alias.name}" for alias in node.names if _is_private_module(alias.name)]
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in PRIVATE_STRINGS:
            found.append(f"{node.lineno}: {node.value!r}")
    return found


def test_the_scan_finds_each_kind_of_private_use():
    # given one line of each kind the rule forbids
    source = "\n".join(
        [
            "from strawberry.relay.types import PREFIX",
            "import graphql.execution.execute",
            "raw = info._raw_info",
            "full = schema._schema",
            'raw = getattr(info, "_raw_info", info)',
            'definition = field.extensions.get("strawberry-definition")',
            '"""A docstring may name strawberry.types.base and _raw_info."""',
            "from graphql.execution import get_directive_values",
        ]
    )

    # when
    found = private_uses(source)

    # then the six uses are reported by line, the docstring and the public import are not
    assert [use.split(":")[0] for use in found] == ["1", "2", "3", "4", "5", "6"]


def test_schema_outside_the_fast_path_and_the_adapter_uses_no_private_symbols():
    # given every module of schema/ but the fast path and the adapter
    files = [
        path for path in sorted(SCHEMA_PACKAGE.rglob("*.py")) if path not in ALLOWED and FAST_PATH not in path.parents
    ]

    # when
    found = {
        str(path.relative_to(SCHEMA_PACKAGE.parent)): uses
        for path in files
        if (uses := private_uses(path.read_text(encoding="utf-8")))
    }

    # then it scanned the package (views, limits, the audit walk) and found nothing
    scanned = {str(path.relative_to(SCHEMA_PACKAGE)) for path in files}
    assert {"views.py", "limits.py", "persisted.py", "pagination.py", "audit/reads.py", "audit/phi.py"} <= scanned
    assert len(files) > 20
    assert found == {}, f"private Strawberry/graphql-core symbols outside schema/internals.py: {found}"


def test_the_adapter_and_the_fast_path_are_where_the_private_symbols_are():
    # given the two places the rule allows
    adapter = private_uses((SCHEMA_PACKAGE / "internals.py").read_text(encoding="utf-8"))
    fast_path = [use for path in FAST_PATH.rglob("*.py") for use in private_uses(path.read_text(encoding="utf-8"))]

    # then both hold some (the scan would see them: the empty answer above is not a blind one)
    assert adapter
    assert fast_path
