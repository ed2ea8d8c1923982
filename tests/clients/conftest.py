"""Real JavaScript clients (clients/js/): node, and the locked npm packages installed once."""

import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parents[2] / "clients" / "js"
NPM_CI_TIMEOUT = 600  # a cold install from the registry; later runs find node_modules in place


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def installed() -> bool:
    """node_modules matches package-lock.json (npm writes its copy of the lock there on install)."""
    copy = JS_DIR / "node_modules" / ".package-lock.json"
    return copy.exists() and copy.stat().st_mtime >= (JS_DIR / "package-lock.json").stat().st_mtime


@pytest.fixture(scope="session", autouse=True)
def js_packages():
    """`npm ci` (exactly the lockfile, quiet) when node_modules is missing or older than the lock."""
    if not node_available() or installed():
        return
    completed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=NPM_CI_TIMEOUT,
    )
    assert completed.returncode == 0, f"npm ci failed:\n{completed.stdout[-2000:]}{completed.stderr[-4000:]}"
