"""Every `extensions.code` the API can answer has a readable sentence in the web app (web/src/errors.ts).

A code added to users.errors.ErrorCode without one fails here (the app would show "Unexpected error").
"""

import re

from tests.web.conftest import BASE_DIR
from users.errors import ErrorCode

ERRORS_TS = BASE_DIR / "web" / "src" / "errors.ts"


def app_messages() -> dict[str, str]:
    source = ERRORS_TS.read_text()
    table = source[source.index("const MESSAGES") : source.index("};", source.index("const MESSAGES"))]
    return dict(re.findall(r'^\s+([A-Z_]+): "([^"]+)",$', table, flags=re.MULTILINE))


def test_every_error_code_has_a_readable_message():
    messages = app_messages()
    missing = sorted(code.value for code in ErrorCode if code.value not in messages)
    assert missing == []
    # and none of them is the bare code
    assert all(code not in text for code, text in messages.items())
