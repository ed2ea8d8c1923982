"""graphql-codegen from the committed SDL over the clients' operations, type-checked by `tsc --strict`.

A change of schema.graphql that breaks clients/operations/*.graphql (a removed field, a changed
argument type) or the typed code using them (clients/js/src/) fails here, as it would in an SPA's
build. clients/js/src/worklist.ts also holds lines that must not compile (`@ts-expect-error`), so
types that decayed to `any` fail too.
"""

import subprocess

import pytest

from tests.clients.conftest import JS_DIR, node_available

pytestmark = pytest.mark.skipif(not node_available(), reason="needs node and npm on PATH (the JS client tests)")


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=JS_DIR, capture_output=True, text=True, timeout=300)


def test_codegen_from_the_committed_schema_type_checks_strictly():
    # when the types are generated from schema.graphql and clients/operations/
    generated = run("node_modules/.bin/graphql-codegen", "--config", "codegen.ts", "--silent")
    # then generation succeeds and the TypeScript using them compiles under --strict
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert (JS_DIR / "src" / "gql" / "graphql.ts").exists()
    checked = run("node_modules/.bin/tsc", "--strict", "--noEmit", "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
