"""docs/clients.md keeps up with the code it documents."""

import re
from pathlib import Path

from users.errors import ErrorCode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "clients.md").read_text()


def test_the_error_code_table_lists_every_code_the_api_answers_with():
    # given the rows of the table in docs/clients.md
    documented = re.findall(r"^\| `([A-Z_]+)` \|", DOC, flags=re.MULTILINE)
    # then each code of the one enum has exactly one row, and the table names no other
    assert sorted(documented) == sorted(code.value for code in ErrorCode)
