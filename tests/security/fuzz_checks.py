"""Schemathesis checks for the fuzz run (loaded through SCHEMATHESIS_HOOKS by fuzz_graphql.py).

Schemathesis' own `not_a_server_error` counts every GraphQL error that has a `path` as a server
failure, so FORBIDDEN or NOT_FOUND from a resolver, the answers the access rules require,
would all fail. Ours fails on what the issue asks about: a 5xx, an INTERNAL error (an
unexpected exception), a response without an error code, or anything that looks like a leak.
"""

import json

import schemathesis

LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages", "django.db.utils", "psycopg")


@schemathesis.check
def no_server_error_and_no_leak(ctx, response, case):
    assert response.status_code < 500, f"HTTP {response.status_code}"
    text = response.content.decode("utf-8", errors="replace")
    for marker in LEAK_MARKERS:
        assert marker not in text, f"the response leaks {marker!r}"
    try:
        body = json.loads(text)
    except ValueError:
        raise AssertionError("the response is not JSON") from None
    assert isinstance(body, dict), "the response is not a JSON object"
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code, f"an error without extensions.code: {error.get('message')!r}"
        assert code != "INTERNAL", f"INTERNAL error (request {error['extensions'].get('requestId')})"
