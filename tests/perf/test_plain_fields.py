"""The plain-field short cut answers exactly like graphql-core's own path, errors included.

A small schema is executed twice: as Strawberry builds it, and with schema/fastpath/execution.py's
bare resolvers and PlainFieldExecutionContext. Data and errors (message and path) must match,
for the cases the short cut hands back to graphql-core: nulls in non-null positions, readers
that raise, scalars that refuse a value, lists with a null item. Fields with a `direct_resolver`
(called with one resolve info per field and request) are compared the same way: an object, a
null, a resolver that raises, a null where the type is non-null, an object whose field raises.
"""

from types import SimpleNamespace

import pytest
import strawberry

from tests.perf.fastpath_modes import VERSIONS_TESTED, skip_module_unless_versions_tested

if not VERSIONS_TESTED:
    pytest.skip(skip_module_unless_versions_tested, allow_module_level=True)

from schema.fastpath import direct_resolver  # noqa: E402
from schema.fastpath.execution import PlainFieldExecutionContext, install_plain_resolvers  # noqa: E402


@strawberry.type
class Leaf:
    name: str
    note: str | None = None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


NULL = object()  # a direct resolver's answer: None


def _answer(value):
    if isinstance(value, Exception):
        raise value
    return None if value is NULL else value


@direct_resolver
def _twig(root, info: strawberry.Info) -> Leaf | None:
    return _answer(root.twig_value)


@direct_resolver
def _stem(root, info: strawberry.Info) -> Leaf:
    return Leaf(name="stem") if root.stem_value is None else _answer(root.stem_value)


@strawberry.type
class Branch:
    title: str
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    count: int
    twig_value: strawberry.Private[object] = NULL
    stem_value: strawberry.Private[object] = None
    twig: Leaf | None = strawberry.field(resolver=_twig)
    stem: Leaf = strawberry.field(resolver=_stem)


class Broken:
    """Reads like a Leaf, but `name` raises."""

    note = None

    @property
    def name(self) -> str:
        raise ValueError("cannot read name")


def branches() -> list:
    return [
        Branch(
            title="ok",
            leaf=Leaf(name="a"),
            maybe_leaf=None,
            leaves=[Leaf(name="b"), Leaf(name="c")],
            count=2,
            twig_value=Leaf(name="t"),
            stem_value=Leaf(name="s"),
        ),
        Branch(title=None, leaf=Leaf(name="d"), maybe_leaf=Leaf(name="e"), leaves=[], count=0),  # null title
        Branch(title="x", leaf=Broken(), maybe_leaf=Broken(), leaves=[Leaf(name="f")], count=1),  # raising name
        Branch(title="y", leaf=Leaf(name="g"), maybe_leaf=None, leaves=[Leaf(name="h"), None], count=1),  # null item
        Branch(title="z", leaf=Leaf(name="i"), maybe_leaf=None, leaves=[], count="not a number"),  # bad scalar
        Branch(
            title="r",
            leaf=Leaf(name="j"),
            maybe_leaf=None,
            leaves=[],
            count=0,  # direct resolvers raise
            twig_value=ValueError("no twig"),
            stem_value=KeyError("no stem"),
        ),
        Branch(
            title="n",
            leaf=Leaf(name="k"),
            maybe_leaf=None,
            leaves=[],
            count=0,  # null in a non-null place
            twig_value=NULL,
            stem_value=NULL,
        ),
        Branch(
            title="b",
            leaf=Leaf(name="l"),
            maybe_leaf=None,
            leaves=[],
            count=0,  # their objects' field raises
            twig_value=Broken(),
            stem_value=Broken(),
        ),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self) -> list[Branch | None]:
        return self.data  # `self` is the root value: the branches of the case at hand


QUERY = """{ branches { title count leaf { name note shout } maybeLeaf { name } leaves { name note }
  twig { name } stem { name } } }"""


def build(*, plain: bool) -> strawberry.Schema:
    schema = strawberry.Schema(query=Query, execution_context_class=PlainFieldExecutionContext if plain else None)
    if plain:
        install_plain_resolvers(schema)
    return schema


def outcome(schema: strawberry.Schema, data: list) -> tuple:
    result = schema.execute_sync(QUERY, root_value=SimpleNamespace(data=data))
    return result.data, sorted((error.message, tuple(error.path)) for error in result.errors or ())


def test_the_short_cut_is_really_taken():
    # given the schema with bare resolvers
    installed = install_plain_resolvers(build(plain=False))
    # then the plain fields have them, the resolver field does not
    assert {"Branch.title", "Branch.leaf", "Branch.leaves", "Leaf.name", "Branch.twig", "Branch.stem"} <= set(installed)
    assert "Leaf.shout" not in installed


@pytest.mark.parametrize("index", range(8))
def test_plain_fields_answer_like_graphql_core(index):
    # given one branch of data at a time (each exercises one way back to graphql-core)
    data = [branches()[index]]
    # when the query runs with and without the short cut
    expected, fast = outcome(build(plain=False), data), outcome(build(plain=True), data)
    # then data and errors are the same
    assert fast == expected
    if index:
        assert expected[1] != []  # every case but the first produces an error to compare


def test_all_cases_at_once_answer_like_graphql_core():
    # given every case in one list (errors in one item must not disturb the others)
    data = branches()
    # when / then
    assert outcome(build(plain=True), data) == outcome(build(plain=False), data)
