"""LeanSchema runs schema extensions exactly as strawberry.Schema does (schema/fastpath/execution.py).

Differential: the same extensions on the same tiny schema, once under each, must leave the same
trace of hook calls (order, nesting, exceptions seen) and give the same result.
"""

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from tests.perf.fastpath_modes import VERSIONS_TESTED, skip_module_unless_versions_tested

if not VERSIONS_TESTED:
    pytest.skip(skip_module_unless_versions_tested, allow_module_level=True)

from schema.fastpath.execution import LeanSchema  # noqa: E402 - only where it can import


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


def recording(name: str, trace: list, *, fail_in: str | None = None, swallow: bool = False):
    """An extension class whose four hooks append to `trace`; it may raise before yielding, or swallow."""

    def hook(phase: str):
        def generator(self):
            trace.append(f"{name}.{phase} enter")
            if fail_in == phase:
                raise ValueError(f"{name} failed in {phase}")
            try:
                yield
            except Exception as error:
                trace.append(f"{name}.{phase} saw {error}")
                if not swallow:
                    raise
            else:
                trace.append(f"{name}.{phase} exit")

        return generator

    return type(name, (SchemaExtension,), {phase: hook(phase) for phase in
                                           ("on_operation", "on_parse", "on_validate", "on_execute")})


def run(schema_class, configure) -> tuple[list, object]:
    trace: list = []
    schema = schema_class(query=Query, extensions=configure(trace))
    try:
        result = schema.execute_sync("{ hello }")
        outcome = (result.data, [error.message for error in result.errors or []])
    except Exception as error:  # noqa: BLE001 - compared between the two
        outcome = repr(error)
    return trace, outcome


CASES = {
    "plain": lambda trace: [recording("A", trace), recording("B", trace), recording("C", trace)],
    "inner fails before yield": lambda trace: [recording("A", trace), recording("B", trace, fail_in="on_execute")],
    "outer fails before yield": lambda trace: [recording("A", trace, fail_in="on_validate"), recording("B", trace)],
    "inner swallows what the outer raised": lambda trace: [
        recording("A", trace),
        recording("B", trace, swallow=True),
        recording("C", trace, fail_in="on_parse"),
    ],
}


@pytest.mark.parametrize("case", list(CASES))
def test_hooks_run_as_under_strawberrys_runner(case):
    # given
    configure = CASES[case]

    # when
    expected_trace, expected_outcome = run(strawberry.Schema, configure)
    trace, outcome = run(LeanSchema, configure)

    # then
    assert trace == expected_trace
    assert outcome == expected_outcome
    assert len(trace) > 4


def test_the_plain_case_nests_the_first_extension_outermost():
    # when
    trace, outcome = run(LeanSchema, CASES["plain"])

    # then
    assert outcome == ({"hello": "world"}, [])
    assert trace[:3] == ["A.on_operation enter", "B.on_operation enter", "C.on_operation enter"]
    assert trace[-3:] == ["C.on_operation exit", "B.on_operation exit", "A.on_operation exit"]
