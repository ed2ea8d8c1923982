"""STYLE.md rule 10: users/token_library.py is the one module that imports django-graphql-jwt."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "users" / "token_library.py"
SKIPPED_DIRECTORIES = {".venv", "node_modules", ".git", "__pycache__"}


def python_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*.py") if not SKIPPED_DIRECTORIES.intersection(path.relative_to(root).parts)]


def imports_library(path: Path, library: str = "graphql_jwt") -> bool:
    """Does the module import `library` (at any depth, anywhere in the file)? Strings do not count."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == library for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == library:
            return True
    return False


def test_only_the_adapter_imports_the_token_library():
    # given every Python module of the project (settings name the library's app in strings only)
    files = python_files(ROOT)

    # when we look for imports of graphql_jwt
    importers = [path.relative_to(ROOT).as_posix() for path in files if imports_library(path)]

    # then the adapter is the only one, and the walk did see it and the modules that use it
    assert importers == ["users/token_library.py"]
    seen = {path.relative_to(ROOT).as_posix() for path in files}
    assert {"users/tokens.py", "users/sessions.py", "users/models.py", "schema/auth.py", "tests/conftest.py"} <= seen


def test_the_walk_finds_an_import_hidden_inside_a_function(tmp_path):
    # given a module that imports the library lazily, and one that only names it in a string
    (tmp_path / "lazy.py").write_text("def token():\n    from graphql_jwt.shortcuts import get_token\n")
    (tmp_path / "plain.py").write_text("import graphql_jwt.utils as u\n")
    (tmp_path / "settings.py").write_text('INSTALLED_APPS = ["graphql_jwt.refresh_token"]\n')

    # when we check each
    found = {path.name for path in python_files(tmp_path) if imports_library(path)}

    # then both imports are caught and the string is not
    assert found == {"lazy.py", "plain.py"}
