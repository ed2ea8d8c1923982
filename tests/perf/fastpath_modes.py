"""When the fast path's own tests can run (schema/fastpath/__init__.py decides for the live schema).

Differential tests of the fast path's parts build their own schemas, so they run whenever the
installed framework versions are the tested ones, the setting on or off; on other versions the
parts may not even import, and the test modules skip before importing them. Tests that look
for the fast path in the live schema need it on.
"""

import pytest

from schema import fastpath

VERSIONS_TESTED, UNTESTED_REASON = fastpath.decide(wanted=True, versions=fastpath.installed_versions())

skip_module_unless_versions_tested = (
    "the fast path's parts are tested only on the framework versions it supports: " + (UNTESTED_REASON or "")
)

requires_fast_path = pytest.mark.skipif(
    not fastpath.active(),
    reason="the live schema runs stock Strawberry (GRAPHQL_FAST_PATH=0, or untested framework versions)",
)
