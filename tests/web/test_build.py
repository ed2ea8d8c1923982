"""web/dist/ is committed (so `make run` and `make test` need no Node); this fails when it is stale.

The build (web/build.mjs) generates the operations' types from the committed schema.graphql with
graphql-codegen (which validates every operation against the schema), type-checks the app under
`tsc --strict`, then bundles it with esbuild. The rebuild into a temporary directory must equal
web/dist/ byte for byte: `cd web && npm ci && npm run build` after changing web/src/ or the
operations, and commit web/dist/. Skips without node and npm.
"""

import filecmp
import shutil
import subprocess

import pytest

from tests.web.conftest import BASE_DIR

WEB_DIR = BASE_DIR / "web"
NPM_CI_TIMEOUT = 600  # a cold install from the registry; later runs find node_modules in place

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs node and npm on PATH (the web app's build)",
)


def installed() -> bool:
    """node_modules matches package-lock.json (npm writes its copy of the lock there on install)."""
    copy = WEB_DIR / "node_modules" / ".package-lock.json"
    return copy.exists() and copy.stat().st_mtime >= (WEB_DIR / "package-lock.json").stat().st_mtime


@pytest.fixture(scope="module")
def web_packages():
    """`npm ci` (exactly the lockfile) when node_modules is missing or older than the lock."""
    if installed():
        return
    completed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=WEB_DIR,
        capture_output=True,
        text=True,
        timeout=NPM_CI_TIMEOUT,
    )
    assert completed.returncode == 0, f"npm ci failed:\n{completed.stdout[-2000:]}{completed.stderr[-4000:]}"


def test_the_committed_bundle_is_what_the_sources_build(web_packages, tmp_path):
    # when the app is built from web/src/, clients/operations/ and schema.graphql
    built = subprocess.run(
        ["node", "build.mjs", "--out", str(tmp_path)], cwd=WEB_DIR, capture_output=True, text=True, timeout=300
    )
    # then codegen, the strict type check and the bundle succeed
    assert built.returncode == 0, built.stdout + built.stderr
    # and they produce exactly the committed files
    names = sorted(path.name for path in (WEB_DIR / "dist").iterdir())
    assert names == sorted(path.name for path in tmp_path.iterdir()) == ["app.css", "app.js", "index.html"]
    _, different, missing = filecmp.cmpfiles(WEB_DIR / "dist", tmp_path, names, shallow=False)
    assert different == missing == [], "web/dist/ is stale: cd web && npm ci && npm run build, then commit web/dist/"
