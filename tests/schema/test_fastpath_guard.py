"""The fast path's switch and version guard (schema/fastpath/__init__.py).

Only on the framework versions the suite tests, and only with GRAPHQL_FAST_PATH on, does the
schema use the code that reaches into private internals; otherwise it is stock Strawberry, one
warning says why, and the private-reaching modules are never imported (so an upgrade of
Strawberry, strawberry-django or graphql-core cannot break on import).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schema import fastpath

TESTED = {"strawberry-graphql": "0.327.7", "strawberry-graphql-django": "0.91.0", "graphql-core": "3.2.14"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "distribution, version",
    [
        ("graphql-core", "3.3.0"),
        ("graphql-core", "3.3.0a7"),
        ("strawberry-graphql", "0.328.0"),
        ("strawberry-graphql", "1.327.0"),
        ("strawberry-graphql-django", "0.92.1"),
        ("strawberry-graphql-django", None),
        ("graphql-core", "garbage"),
    ],
)
def test_untested_versions_fall_back_to_stock_and_say_why(distribution, version):
    # given the tested versions but one
    versions = {**TESTED, distribution: version}
    # when the guard decides with the fast path wanted
    use, reason = fastpath.decide(wanted=True, versions=versions)
    # then it is stock Strawberry, and the reason names the package and what it found
    assert use is False
    assert distribution in reason
    assert (version or "not installed") in reason


@pytest.mark.parametrize("patch", ["3.2.0", "3.2.99"])
def test_any_patch_release_of_the_tested_versions_takes_the_fast_path(patch):
    # given a patch release of graphql-core other than the installed one
    versions = {**TESTED, "graphql-core": patch}
    # then the fast path is used, with nothing to say
    assert fastpath.decide(wanted=True, versions=versions) == (True, None)


def test_switched_off_it_is_stock_without_a_warning():
    # given the setting off, on the tested versions
    # then stock, and nothing to log: it is what was asked for
    assert fastpath.decide(wanted=False, versions=TESTED) == (False, None)


def test_the_installed_versions_are_the_tested_ones():
    # given this environment (requirements.txt pins them)
    # then the fast path would be used: a pin moved without the guard fails here first
    assert fastpath.decide(wanted=True, versions=fastpath.installed_versions()) == (True, None)


PROBE = """
import importlib.metadata, json, logging, sys
if len(sys.argv) > 1:  # pretend other versions are installed, before anything asks
    fake, real = json.loads(sys.argv[1]), importlib.metadata.version
    importlib.metadata.version = lambda name: fake[name] if name in fake else real(name)
import django
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s", force=True)
django.setup()
from schema import fastpath
from schema import schema
from schema.views import GraphQLView  # the whole request path, as a server imports it
schema.execute_sync("{ __typename }")
fastpath.active()
print(json.dumps({
    "schema": type(schema).__module__ + "." + type(schema).__name__,
    "private": sorted(name for name in sys.modules if name.startswith("schema.fastpath.")),
}))
"""


def probe(*, fast_path: str, versions: dict | None = None) -> tuple[dict, str]:
    """Import the schema in a fresh process; what it built, which modules it imported, its log."""
    env = {**os.environ, "GRAPHQL_FAST_PATH": fast_path, "DJANGO_SETTINGS_MODULE": "clinic.settings", "DEBUG": "1"}
    args = [sys.executable, "-c", PROBE] + ([json.dumps(versions)] if versions else [])
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_off_the_private_reaching_modules_are_never_imported():
    # when the schema is built and run with the setting off
    built, log = probe(fast_path="0")
    # then it is stock strawberry.Schema and no private-reaching module was imported, nor a warning logged
    assert built["schema"] == "strawberry.schema.schema.Schema"
    assert built["private"] == []
    assert "fast path" not in log


def test_on_untested_versions_it_falls_back_and_warns_once():
    # given a graphql-core the fast path was not tested with
    built, log = probe(fast_path="1", versions={**TESTED, "graphql-core": "3.3.0"})
    # then stock, nothing private imported, and one warning naming the version
    assert built["schema"] == "strawberry.schema.schema.Schema"
    assert built["private"] == []
    warnings = [line for line in log.splitlines() if "fast path off" in line]
    assert len(warnings) == 1
    assert "graphql-core 3.3.0" in warnings[0]


def test_on_the_tested_versions_it_is_the_fast_path():
    # when the schema is built with the setting on, on this environment's versions
    built, log = probe(fast_path="1")
    # then the lean schema with its parts, and no warning
    assert built["schema"] == "schema.fastpath.execution.LeanSchema"
    assert {"schema.fastpath.execution", "schema.fastpath.connections"} <= set(built["private"])
    assert "fast path off" not in log
