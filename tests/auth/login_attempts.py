"""Run by test_lockout_across_processes in a separate Python process: N tokenAuth calls through
Django's full request stack against the database named by DATABASE_URL; prints the error codes."""

import json
import os
import sys


def main(username: str, password: str, times: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
    import django

    django.setup()
    from django.test import Client

    client = Client()
    query = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }"
    codes = []
    for _ in range(times):
        body = json.dumps({"query": query, "variables": {"u": username, "p": password}})
        answer = client.post("/graphql/", body, content_type="application/json").json()
        codes.append(answer["errors"][0]["extensions"]["code"] if answer.get("errors") else "OK")
    print(json.dumps(codes))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
